"""Sign-up, sign-in, tokens and email verification (DynamoDB work).

Uniqueness of an email is enforced by a conditional put of its ``Login``
record inside the sign-up transaction, never by a read-then-write.
"""
import time
from html import escape

from pynamodb.exceptions import DoesNotExist

from ..core import audit, config
from ..core.db import Tx, TxFailed, batch_get, new_id
from ..core.maps import plain
from ..core.errors import ApiError, validation_failed
from ..core.text import sort_keys
from ..membership import rules as group_rules
from ..membership import system as system_groups
from ..notify.outbox import new_message, register_renderer
from . import api_clients, credentials, events, links, mfa, passwords, sessions, sso, throttle
from .models import Login, School, Token, User
from .permissions import ADMIN_GROUP, Caller, effective_permissions, standard_user_groups


def _unauthorized(message="Sign in again: your session is missing, invalid or has ended."):
    return ApiError("unauthorized", message)


def sign_up(body, now=None):
    now = now or time.time()
    admin = body["admin"]
    email = credentials.normalise_email(admin["email"])
    problem = credentials.email_problem(email, "admin.email")
    weak = credentials.password_problem(admin["password"], email, admin["first_name"], admin["surname"],
                                        body["name"])
    if problem:
        raise validation_failed([problem])
    if weak:
        raise ApiError("weak_password", weak.message,
                       errors=[{"field": "admin.password", "code": "weak_password", "message": weak.message}])
    school_id, user_id = new_id(), new_id()
    school = School(school_id=school_id, name=body["name"].strip(),
                    user_groups=standard_user_groups(), admin_count=1, created_at=int(now))
    user = User(school_id=school_id, user_id=user_id, email=email,
                first_name=admin["first_name"].strip(), surname=admin["surname"].strip(),
                job_role="Administrator", user_group=ADMIN_GROUP, email_verified=False,
                status="active", created_at=int(now))
    user.sort_name, user.first_sort = sort_keys(user.first_name, user.surname, user_id)
    login = Login(email=email, school_id=school_id, user_id=user_id,
                  password_hash=credentials.hash_password(admin["password"]),
                  unverified_until=int(now) + config.SIGNUP_HOLD_SECONDS)
    verification = new_message("verify", school_id, user_id, email, now)
    tx = Tx()
    # free, or held by a sign-up that was never verified in time
    tx.put("login", login, condition=Login.email.does_not_exist() | (Login.unverified_until < int(now)))
    tx.put("school", school, condition=School.school_id.does_not_exist())
    tx.put("user", user, condition=User.user_id.does_not_exist())
    tx.put("verification", verification)
    tx.put("system groups", system_groups.new_item(school_id, group_rules.staff_deltas(+1)))
    try:
        tx.commit()
    except TxFailed as exc:
        if "login" in exc.failed:
            raise ApiError("email_taken", "That email address is already in use. Sign in instead, "
                           "or use another address.")
        raise
    return {"school_id": school_id, "user_id": user_id}


def log_in(body, source_ip=None, user_agent=None, now=None):
    """Sign in: spend an attempt from the email's and the address's budgets
    (throttle.py) before the password is checked, then one transaction puts
    the session and gives the budgets back. Three DynamoDB calls. With
    two-factor on, the right password earns a 5-minute step token instead
    (mfa.py), and the budgets wait for the code. A school that requires its
    identity provider refuses the password of staff without
    ``manage_settings`` (sso.py)."""
    now = now or time.time()
    email = credentials.normalise_email(body["email"])
    if not credentials.plausible_key(email):
        raise _unauthorized("Wrong email or password.")
    found = throttle.budgets(email, source_ip)
    throttle.spend(found, now)  # a refusal while locked out is not audited: its start was
    login = _login_of(email)
    stored = login.password_hash if login is not None else None
    # Unknown email and wrong password take the same path and time.
    if not credentials.verify_password(stored, body["password"]) or login is None:
        locked = throttle.failed(found, now)
        events.record(login, "login_failed", now)
        if locked:
            events.record(login, "locked_out", now)
        # at a school that requires its provider, a wrong password (or an unknown address at its
        # domain) is answered as a right one of its staff would be: no password oracle
        raise sso.required_after_failure(login, email) or _unauthorized("Wrong email or password.")
    if login.disabled:
        events.record(login, "login_refused", now)
        raise ApiError("account_disabled", "Your school has disabled this account. Ask your school's "
                       "admin if you think it should not be.")
    if login.mfa_secret:
        return _password_way_in(login, now, lambda check: mfa.start_step(login, now, check_password=check))
    return _password_way_in(login, now, lambda check: sessions.start(login, found, user_agent, now,
                                                                     check_password=check))


def _password_way_in(login, now, step):
    """Take the sign-in's next step if the school takes passwords (checked in
    the step's own transaction). If it requires its provider, only those who
    keep a password way in go on (sso.password_refused: asked only after a
    right password, so it tells a guesser nothing)."""
    try:
        return step(True)
    except TxFailed as exc:
        if sessions.PASSWORD_ALLOWED not in exc.failed:
            raise
    refused = sso.password_refused(login)
    if refused is not None:
        events.record(login, "login_refused", now)
        raise refused
    return step(False)


def _login_of(email):
    try:
        return Login.get(email, consistent_read=True)  # (a password reset just committed is seen)
    except DoesNotExist:
        return None



def bearer_token(request):
    header = (request.headers or {}).get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Send 'Authorization: Bearer <token>' (sign in to get a token).")
    return token.strip()


def authenticate(request, now=None):
    """The token authoriser: one BatchGetItem reads the token, the user and
    the school together (or an API client's token, its client and the
    school: api_clients.py). Missing, malformed, forged, expired, idle, revoked
    or of a disabled account -> 401. At most once a minute a session's idle
    clock is written on."""
    now = now or time.time()
    token = bearer_token(request)
    if api_clients.is_access_token(token):
        return api_clients.authenticate(token, _unauthorized, now)
    ids = credentials.token_ids(token)
    if ids is None:
        raise _unauthorized()
    school_id, user_id = ids
    hashed = credentials.token_hash(token)
    found = batch_get({
        "token": (Token, {"token_hash": hashed}),
        "user": (User, {"school_id": school_id, "user_id": user_id}),
        "school": (School, {"school_id": school_id}),
    })
    record, user, school = found["token"], found["user"], found["school"]
    if (record is None or record.school_id != school_id or record.user_id != user_id
            or user is None or school is None or not sessions.is_live(record, user, school, now)):
        raise _unauthorized()
    sessions.touch(record, now)
    # (a provider's sign-in: two factors were the provider's job)
    return Caller.for_user(school, user, session_id=record.session_id, session_hash=hashed,
                           mfa_setup_required=record.via != "sso" and mfa.setup_required(user, school))


def log_out(caller, request):
    token = bearer_token(request)
    tx = Tx()
    tx.delete("session", Token(token_hash=credentials.token_hash(token)), condition=Token.token_hash.exists())
    audit.stage(tx, events.entry(caller.school_id, caller.user_id, "logout"))
    try:
        tx.commit()
    except TxFailed:
        pass  # signed out already


def verify_email(token, now=None):
    now = now or time.time()
    record = links.usable_token(token, "verify", now)
    user = links.bound_user(record)
    tx = Tx()
    links.stage_used(tx, record)
    tx.update("user", user, [User.email_verified.set(True)], condition=links.bound_condition(record),
              add_version_condition=False)
    tx.update("login", Login(email=user.email), [Login.unverified_until.remove()],
              condition=Login.user_id == user.user_id)  # the address is theirs now: no longer free to take
    audit.stage(tx, events.entry(user.school_id, user.user_id, "email_verified", now))
    links.commit(tx)
    return {"email_verified": True}


def resend_verification(caller, now=None):
    now = now or time.time()
    if caller.email_verified:
        return {"queued": False, "email_verified": True}
    throttle.limit_resends(caller.user_id, now)
    new_message("verify", caller.school_id, caller.user_id, caller.user.email, now).save()
    return {"queued": True, "email_verified": False}


def me(caller):
    user, school = caller.user, caller.school
    groups = plain(school.user_groups)
    _perms, known = effective_permissions(groups, user.user_group)
    return {
        "user": {"id": user.user_id, "first_name": user.first_name, "surname": user.surname,
                 "email": user.email, "job_role": user.job_role},
        "school": {"id": school.school_id, "name": school.name, "timezone": school.timezone},
        "user_group": user.user_group,
        "user_group_known": known,
        "permissions": caller.permissions,
        "email_verified": bool(user.email_verified),
        "mfa_enabled": bool(user.mfa_enabled),
        "mfa_setup_required": caller.mfa_setup_required,
    }


@register_renderer("verify")
def render_verification(message, now=None):
    """Renders at send time, minting the token then: the raw token exists only
    in the email, never in the database."""
    now = now or time.time()
    token = links.issue(message, "verify", config.VERIFY_SECONDS, now)
    if token is None:
        return None
    link = f"{config.console_url()}/#action=verify&token={token}"
    text = ("Welcome to schoolroll.\n\n"
            f"Confirm your email address by opening this link within 24 hours:\n{link}\n\n"
            "Until you do, adding or importing pupils and staff is locked.\n"
            "If you did not sign up, ignore this email.\n")
    html = (f"<p>Welcome to schoolroll.</p><p>Confirm your email address by opening this link "
            f"within 24 hours:</p><p><a href=\"{link}\">{link}</a></p>"
            "<p>Until you do, adding or importing pupils and staff is locked.</p>")
    return {"subject": "Confirm your email address for schoolroll", "text": text, "html": html}


def accept_invitation(token, password, now=None):
    """Set an invited staff member's password; their email is verified by
    the fact that they opened the link. One transaction uses the link, sets
    the password and activates the account (moving its token generation on,
    so every other link it was sent dies too)."""
    now = now or time.time()
    record = links.usable_token(token, "invite", now)
    user = links.bound_user(record)
    if user.status != "invited":
        raise ApiError("invalid_token", "This invitation was already accepted. Sign in instead.")
    passwords.require_strong(password, user)
    tx = Tx()
    links.stage_used(tx, record)
    tx.update("login", Login(email=user.email), [Login.password_hash.set(credentials.hash_password(password))],
              condition=Login.user_id == user.user_id)
    tx.update("user", user, [User.status.set("active"), User.email_verified.set(True),
                             User.token_generation.set((user.token_generation or 0) + 1)],
              condition=links.bound_condition(record) & (User.status == "invited"), add_version_condition=False)
    audit.stage(tx, events.entry(user.school_id, user.user_id, "password_set", now))
    links.commit(tx)
    return {"email_verified": True}


@register_renderer("invite")
def render_invitation(message, now=None):
    now = now or time.time()
    try:
        school = School.get(message.school_id)
    except DoesNotExist:
        return None
    school_name = school.name
    # a school may shorten its invitations, never lengthen them past the service's limit
    seconds = min(config.INVITE_SECONDS, int(school.invite_hours or 72) * 3600)
    token = links.issue(message, "invite", seconds, now)
    if token is None:
        return None
    link = f"{config.console_url()}/#action=accept-invite&token={token}"
    hours = seconds // 3600
    text = (f"You have been invited to {school_name} on schoolroll.\n\n"
            f"Open this link within {hours} hours to choose your password:\n{link}\n")
    html = (f"<p>You have been invited to {escape(school_name)} on schoolroll.</p>"
            f"<p>Open this link within {hours} hours to choose your password:</p>"
            f"<p><a href=\"{link}\">{link}</a></p>")
    return {"subject": f"You're invited to {school_name} on schoolroll", "text": text, "html": html}
