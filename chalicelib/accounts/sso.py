"""Sign-in through the school's identity provider (OpenID Connect, the
authorization-code flow with PKCE).

``start`` keeps the sign-in's state (nonce, PKCE verifier, the provider
settings it began with, and the hash of a cookie binding it to this
browser) and sends the browser to the provider. ``callback`` takes that
state exactly once, swaps the code for an ID token, checks it (oidc.py),
finds the staff member by email *in that school* and answers the console
a one-time code in the URL's fragment; ``exchange`` swaps that code, once
and within 60 seconds, for a session like a password sign-in's. No session
token ever sits in a URL, and sign-in makes no account.

DynamoDB and Secrets Manager calls: start 2 (the school, the state);
callback 4 (take the state, the secret, the login, the code); exchange 3."""
import re
import time
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import ClientError

from pynamodb.exceptions import DeleteError, DoesNotExist

from ..core import audit, config
from ..core.clock import iso
from ..core.db import Tx, TxFailed, batch_get
from ..core.errors import ApiError
from . import credentials, events, oidc, sessions, sso_config, sso_secrets, sso_settings
from .models import Login, School, Token, User
from .permissions import Caller

COOKIE = "sr_sso"
COOKIE_PATH = "/api/auth/sso"


class Mode(str, Enum):
    """What a round trip is for: a sign-in, or an admin's test of the settings."""
    SIGN_IN = "sign_in"
    TEST = "test"


@dataclass(frozen=True)
class Redirect:
    """Where the browser goes next, and the binding cookie to set (or clear)."""
    location: str
    cookie: str = None


def refused(reason, message, **extra):
    return ApiError(reason, message, **extra)


# ---------------------------------------------------------------- start


def start(school_key, mode=Mode.SIGN_IN, tester=None, login_hint=None, console=None, now=None):
    """Begin a sign-in for the school ``school_key`` names (id or domain).
    ``console``: a random value the console keeps (sessionStorage) and must
    show again to swap the code, so a sign-in someone else started (a link,
    a page that navigates the browser here) signs nobody in."""
    now = now or time.time()
    if tester is None and not _plausible(console):
        raise refused("sso_state_invalid", "Start signing in from the sign-in page (this link is not one "
                      "the sign-in page made).")
    school = tester.school if tester is not None else sso_settings.school_for(school_key)
    settings = sso_config.Settings.of_school(school)
    if settings is None:
        raise refused("sso_not_configured", "That school does not sign in with an identity provider here. "
                      "Sign in with your email and password.")
    try:
        provider = oidc.discover(settings.issuer)
    except oidc.OidcError as exc:
        raise refused("sso_provider_error", exc.message)
    started = oidc.start(provider, settings.client_id, login_hint=_hint(login_hint))
    browser = credentials.new_token()
    expires = int(now) + config.SSO_STATE_SECONDS
    Token(token_hash=credentials.token_hash(started.state), kind="sso_state", school_id=school.school_id,
          user_id=tester.user_id if tester is not None else "-", expires_at=expires, ttl=expires,
          data={"nonce": started.nonce, "verifier": started.code_verifier, "mode": mode,
                "browser": credentials.token_hash(browser),
                "console": credentials.token_hash(console) if console else None,
                "settings": {k: v for k, v in school.sso.items() if k not in ("updated_by",)}}).save()
    return Redirect(started.url, browser)


def _plausible(value):
    return isinstance(value, str) and 20 <= len(value) <= 200


def _hint(value):
    value = (value or "").strip()
    return value if 0 < len(value) <= 254 and "@" in value else None


# ---------------------------------------------------------------- callback


def callback(query, browser, now=None):
    """The provider's answer: a Redirect to the console (``#sso=<code>`` or,
    for a test, ``#sso-test=<code>``), or an ApiError saying why not."""
    now = now or time.time()
    state = _take_state(query.get("state"), browser, now)
    settings = sso_config.Settings.of(state.data["settings"])
    if query.get("error"):
        error = str(query.get("error"))
        error = error if re.fullmatch(r"[a-z_]{1,40}", error) else "an error"
        # (the provider's own words are not shown: a provider could put any message on our page)
        raise refused("sso_provider_error", f"The identity provider did not sign you in ({error}). Start "
                      "again, or ask your school's IT if it keeps happening.")
    if not query.get("code"):
        raise refused("sso_state_invalid", "The identity provider sent no sign-in code back. Start again.")
    try:
        provider = oidc.discover(settings.issuer)
        secret = _secret(state.school_id)
        if secret is None:
            raise oidc.OidcError("sso_provider_error", "The school's client secret is not set: ask the "
                                 "school's admin to save the identity provider again.")
        id_token = oidc.exchange(provider, settings.client_id, secret, query["code"], state.data["verifier"])
        claims = oidc.verify(provider, settings.client_id, id_token, state.data["nonce"], now)
    except oidc.OidcError as exc:
        raise refused(exc.reason, exc.message)
    email, refusal = sso_config.signed_in_email(settings, claims)
    if state.data.get("mode") == Mode.TEST:
        return _test_report(state, claims, email, refusal, now)
    if refusal:
        raise refused(refusal.reason, refusal.message)
    login = _staff_login(email, state.school_id)
    if login.disabled:
        events.record(login, "login_refused", now)
        raise refused("account_disabled", "Your school has disabled this account. Ask your school's admin "
                      "if you think it should not be.")
    code = _one_time(state, "sso_code", login.user_id, {"issuer": settings.issuer, "client_id": settings.client_id,
                                                        "email": email, "console": state.data.get("console")}, now)
    return Redirect(f"{config.console_url()}/#sso={code}")


def _secret(school_id):
    try:
        return sso_secrets.get(school_id)
    except ClientError as exc:
        raise oidc.OidcError("sso_provider_error", "The school's client secret could not be read right now "
                             f"({exc.response['Error']['Code']}). Try again in a minute.") from exc


def _take_state(state, browser, now):
    """The sign-in's state, deleted as it is read (a second callback with it
    finds nothing), and only for the browser that started it."""
    stale = refused("sso_state_invalid", "This sign-in has expired, was used already or was started in "
                    "another browser. Go back to the sign-in page and start again.")
    if not state or not isinstance(state, str) or len(state) > 200:
        raise stale
    record = _take(credentials.token_hash(state), "sso_state")
    if record is None or record.expires_at <= now or not browser or \
            credentials.token_hash(browser) != (record.data or {}).get("browser"):
        raise stale
    return record


def _take(token_hash, kind, school_id=None, user_id=None):
    """Delete a token of ``kind`` (and of that school and user, if given) and
    answer what it was (one call), or None: a token of another kind, school
    or person is left as it is."""
    condition = Token.kind == kind
    if school_id is not None:
        condition &= (Token.school_id == school_id) & (Token.user_id == user_id)
    try:
        reply = Token._get_connection().delete_item(token_hash, condition=condition, return_values="ALL_OLD")
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None  # (not there: taken already, or never)
        raise
    return Token.from_raw_data(reply["Attributes"]) if reply.get("Attributes") else None


def _staff_login(email, school_id):
    """The login of ``email`` if it is staff of ``school_id`` (a login is the
    one account an address has, service-wide)."""
    try:
        login = Login.get(email) if credentials.plausible_key(email) else None
    except DoesNotExist:
        login = None
    if login is None or login.school_id != school_id:
        raise refused("sso_not_staff", f"{email} is not a staff account at this school, so it can't sign in "
                      "here. Ask your school's admin to add you (signing in makes no account).")
    return login


def _one_time(state, kind, user_id, data, now):
    """A 60-second code the console swaps once, written in one transaction
    with the end of nothing else (the state is gone already)."""
    code = credentials.new_token()
    expires = int(now) + config.SSO_CODE_SECONDS
    Token(token_hash=credentials.token_hash(code), kind=kind, school_id=state.school_id, user_id=user_id,
          expires_at=expires, ttl=expires, data=data).save()
    return code


def _test_report(state, claims, email, refusal, now):
    """A test sign-in: what the ID token held and whether it would sign in,
    for the admin who started it (nobody is signed in)."""
    outcome = {"would_sign_in": False, "reason": refusal.reason if refusal else None,
               "message": refusal.message if refusal else None, "email": email}
    if refusal is None:
        try:
            login = _staff_login(email, state.school_id)
            outcome.update(would_sign_in=not login.disabled, reason="account_disabled" if login.disabled else None,
                           message="That account is disabled." if login.disabled else
                           f"{email} would be signed in as staff of this school.")
        except ApiError as exc:
            outcome.update(reason=exc.code, message=exc.message)
    report = {"claims": sso_config.reported(claims), **outcome}  # (each claim cut to 500 characters)
    code = _one_time(state, "sso_test", state.user_id, report, now)
    return Redirect(f"{config.console_url()}/#sso-test={code}")


# ---------------------------------------------------------------- exchange


def exchange(code, console, user_agent=None, now=None):
    """The console's one-time code, for a session (once, within 60 seconds),
    only with the value the console started the sign-in with."""
    now = now or time.time()
    gone = refused("invalid_token", "That sign-in code has expired or was used already. Sign in again.")
    if not _plausible(code) or not _plausible(console):
        raise gone
    record = _take(credentials.token_hash(code), "sso_code")
    if record is None or record.expires_at <= now:
        raise gone
    if record.data.get("console") != credentials.token_hash(console):
        raise refused("invalid_token", "This sign-in was not started from this browser's sign-in page, so it "
                      "signs nobody in. Sign in again from the sign-in page.")
    found = batch_get({"user": (User, {"school_id": record.school_id, "user_id": record.user_id}),
                       "school": (School, {"school_id": record.school_id})})
    user, school = found["user"], found["school"]
    settings = sso_config.Settings.of_school(school)
    email_domain = str(record.data.get("email") or "@").rsplit("@", 1)[1]
    if user is None or settings is None or (settings.issuer, settings.client_id) != \
            (record.data["issuer"], record.data["client_id"]) or email_domain not in settings.allowed_domains:
        raise gone  # (the account went, or the school changed its provider or domains meanwhile)
    if user.status == "disabled":
        raise refused("account_disabled", "Your school has disabled this account.")
    tx = Tx()
    # (a disabling, or an "end every session", committed since this read still wins)
    still = User.sessions_after.does_not_exist() | (User.sessions_after <= sessions.now_ms(now))
    token, expires = sessions.stage_new(tx, user.school_id, user.user_id, user_agent, now, via="sso")
    if user.status == "invited":  # the school's provider vouches for the address: no password needed
        tx.update("account", user, [User.status.set("active"), User.email_verified.set(True),
                                    User.token_generation.set((user.token_generation or 0) + 1)],
                  condition=(User.status == "invited") & still, add_version_condition=False)
    else:
        tx.check("account", User, user.school_id, user.user_id, condition=(User.status != "disabled") & still)
    audit.stage(tx, audit.entry(audit.Actor(user.school_id, user.user_id), "login", "account", user.user_id,
                                None, None, now, changes={"via": "sso", "issuer": settings.issuer}))
    try:
        tx.commit()
    except TxFailed:
        raise gone
    return {"token": token, "expires_at": iso(expires)}


def test_result(caller, code, now=None):
    """A test sign-in's report, for the admin who ran it."""
    now = now or time.time()
    gone = refused("invalid_token", "That test sign-in's report has expired or was read already. Run it again.")
    if not isinstance(code, str) or not 20 <= len(code) <= 200:
        raise gone
    record = _take(credentials.token_hash(code), "sso_test", caller.school_id, caller.user_id)
    if record is None or record.expires_at <= now:
        raise gone
    return record.data


# ---------------------------------------------------------------- the sign-in screen


def discover(email=None, school_id=None):
    """The way in of an address's domain (the school whose provider signs it
    in, or None: the same for every address of a domain), or of a school by
    its id (the sign-in link a school gives staff at a domain it does not
    route)."""
    if school_id:
        school = sso_settings.school_for(school_id) if str(school_id).isalnum() else None
        domain = None
    else:
        domain = (email or "").strip().lower().rsplit("@", 1)[-1]
        school = sso_settings.school_for(domain) if "." in domain else None
    settings = sso_config.Settings.of_school(school)
    if settings is None or (domain is not None and domain not in settings.allowed_domains):
        return {"sso": None}
    return {"sso": {"school_id": school.school_id, "school_name": school.name, "provider": settings.provider.value,
                    "label": f"Sign in with {settings.label}", "require": settings.require}}


def required_after_failure(login, email):
    """The refusal a failed password gets from a school that requires its
    provider (its staff's, or an unknown address at a domain routed to it),
    as a right one of its staff would be refused: so the answer is no
    password oracle. None elsewhere. Read only after a failure."""
    if login is not None:
        school = sso_settings.school_for(login.school_id)
    else:
        school = sso_settings.school_for(email.rsplit("@", 1)[-1]) if "@" in email else None
    return _required(school)


def password_refused(login, now=None):
    """Password sign-in is off for this person: their school requires its
    provider and they are not one of those who keep a password way in
    (holders of ``manage_settings``, so a broken provider locks nobody out)."""
    found = batch_get({"user": (User, {"school_id": login.school_id, "user_id": login.user_id}),
                       "school": (School, {"school_id": login.school_id})})
    user, school = found["user"], found["school"]
    if user is None or school is None or Caller.for_user(school, user).has("manage_settings"):
        return None
    return _required(school)


def _required(school):
    """The 403 of a password at a school that requires its provider (None if it does not)."""
    settings = sso_config.Settings.of_school(school)
    if settings is None or not settings.require:
        return None
    return refused("sso_required", f"{school.name} signs its staff in with {settings.label}: use 'Sign in "
                   f"with {settings.label}'. (Its admins keep a password: if you are one, check it.)",
                   provider=settings.provider.value, school_id=school.school_id)
