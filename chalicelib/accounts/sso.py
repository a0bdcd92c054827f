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
import time
from dataclasses import dataclass

from pynamodb.exceptions import DeleteError, DoesNotExist

from ..core import audit, config
from ..core.clock import iso
from ..core.db import Tx, TxFailed, batch_get
from ..core.errors import ApiError
from ..core.maps import plain
from . import credentials, events, oidc, sessions, sso_config, sso_secrets, sso_settings
from .models import Login, School, Token, User
from .permissions import effective_permissions

COOKIE = "sr_sso"
COOKIE_PATH = "/api/auth/sso"


class Mode:
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


def start(school_key, mode=Mode.SIGN_IN, tester=None, login_hint=None, now=None):
    """Begin a sign-in for the school ``school_key`` names (id or domain)."""
    now = now or time.time()
    school = tester.school if tester is not None else sso_settings.school_for(school_key)
    settings = sso_config.Settings.of(school.sso) if school is not None else None
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
                "settings": {k: v for k, v in school.sso.items() if k not in ("updated_by",)}}).save()
    return Redirect(started.url, browser)


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
        detail = str(query.get("error_description") or query.get("error"))[:200]
        raise refused("sso_provider_error", f"The identity provider did not sign you in: {detail}")
    if not query.get("code"):
        raise refused("sso_state_invalid", "The identity provider sent no sign-in code back. Start again.")
    try:
        provider = oidc.discover(settings.issuer)
        secret = sso_secrets.get(state.school_id)
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
    code = _one_time(state, "sso_code", login.user_id, {"issuer": settings.issuer,
                                                        "client_id": settings.client_id}, now)
    return Redirect(f"{config.console_url()}/#sso={code}")


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
        login = Login.get(email)
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
    report = {"claims": sso_config.reported(claims), **outcome}
    code = _one_time(state, "sso_test", state.user_id, report, now)
    return Redirect(f"{config.console_url()}/#sso-test={code}")


# ---------------------------------------------------------------- exchange


def exchange(code, user_agent=None, now=None):
    """The console's one-time code, for a session (once, within 60 seconds)."""
    now = now or time.time()
    gone = refused("invalid_token", "That sign-in code has expired or was used already. Sign in again.")
    if not isinstance(code, str) or not 20 <= len(code) <= 200:
        raise gone
    record = _take(credentials.token_hash(code), "sso_code")
    if record is None or record.expires_at <= now:
        raise gone
    found = batch_get({"user": (User, {"school_id": record.school_id, "user_id": record.user_id}),
                       "school": (School, {"school_id": record.school_id})})
    user, school = found["user"], found["school"]
    settings = sso_config.Settings.of(school.sso) if school is not None else None
    if user is None or settings is None or (settings.issuer, settings.client_id) != \
            (record.data["issuer"], record.data["client_id"]):
        raise gone  # (the account went, or the school changed its provider meanwhile)
    if user.status == "disabled":
        raise refused("account_disabled", "Your school has disabled this account.")
    tx = Tx()
    token, expires = sessions.stage_new(tx, user.school_id, user.user_id, user_agent, now, via="sso")
    if user.status == "invited":  # the school's provider vouches for the address: no password needed
        tx.update("user", user, [User.status.set("active"), User.email_verified.set(True),
                                 User.token_generation.set((user.token_generation or 0) + 1)],
                  condition=User.status == "invited", add_version_condition=False)
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


def discover(email):
    """The way in of an address's domain: the school that signs it in through
    its provider, or None (the same for every address of a domain)."""
    domain = (email or "").strip().lower().rsplit("@", 1)[-1]
    if "." not in domain:
        return {"sso": None}
    school = sso_settings.school_for(domain)
    settings = sso_config.Settings.of(school.sso) if school is not None else None
    if settings is None or domain not in settings.allowed_domains:
        return {"sso": None}
    return {"sso": {"school_id": school.school_id, "school_name": school.name, "provider": settings.provider.value,
                    "label": f"Sign in with {settings.label}", "require": settings.require}}


def password_refused(login, now=None):
    """Password sign-in is off for this person: their school requires its
    provider and they are not one of those who keep a password way in
    (holders of ``manage_settings``, so a broken provider locks nobody out)."""
    found = batch_get({"user": (User, {"school_id": login.school_id, "user_id": login.user_id}),
                       "school": (School, {"school_id": login.school_id})})
    user, school = found["user"], found["school"]
    settings = sso_config.Settings.of(school.sso) if school is not None else None
    if settings is None or not settings.require or user is None:
        return None
    permissions, _known = effective_permissions(plain(school.user_groups), user.user_group)
    if "manage_settings" in permissions:
        return None
    return refused("sso_required", f"{school.name} signs its staff in with {settings.label}: use "
                   f"'Sign in with {settings.label}' instead of a password.", provider=settings.provider.value,
                   school_id=school.school_id)
