"""Two-factor sign-in (TOTP, RFC 6238, through pyotp; accounts/totp.py).

Set-up seals a new secret (KMS, secretbox.py) as *pending* on the login; a
right code confirms it and hands out ten single-use recovery codes (only
their hashes are kept). With it on, a right password earns a 5-minute step
token good for nothing else; the code then spends a sign-in attempt first
(throttle.py, like a password) and one transaction uses the step up, moves
the login's last used time step on (conditioned: a code is good once),
starts the session and gives the attempts back: three DynamoDB calls.
"""
import time

from pynamodb.exceptions import DoesNotExist

from ..core import audit, config
from ..core.db import Tx, TxFailed
from ..core.maps import plain
from ..core.errors import ApiError
from . import credentials, events, passwords, secretbox, sessions, throttle, totp
from .models import Login, Token, User
from .permissions import FALLBACK_GROUP
from ..core.clock import iso

MFA_FIELDS = ("mfa_secret", "mfa_pending", "mfa_pending_until", "mfa_last_step", "recovery_codes")


def counted_group(user, school):
    """The user group a person counts in: an unknown one counts as the
    Teachers group whose rights it gets (so it can't dodge require_mfa_for)."""
    groups = plain(school.user_groups)
    return user.user_group if user.user_group in groups else FALLBACK_GROUP


def setup_required(user, school):
    """The school requires two factors of this person's user group, and they have none."""
    return bool(counted_group(user, school) in (school.require_mfa_for or []) and not user.mfa_enabled)


def bad_code(message=None):
    return ApiError("invalid_code", message or "That code is not right. Enter the current 6-digit code "
                    "from your authenticator app, or one of your recovery codes.")


def _match(sealed, school_id, user_id, code, now, last_step=None):
    """A CodeMatch for a TOTP code (newer than last_step) or a recovery
    code's hash (its use is then conditioned on the login still having it)."""
    code = code if isinstance(code, str) else ""
    if totp.looks_like_recovery_code(code):
        return totp.CodeMatch(recovery_hash=totp.recovery_hash(code))
    step = totp.matching_step(secretbox.unseal(sealed, school_id, user_id), code, now, last_step)
    return totp.CodeMatch(step=step) if step is not None else None


def _once(sealed, match):
    """The condition that makes a code good once: the secret still the one
    checked, the account not disabled, and a time step newer than the last
    used (or a recovery code still unused)."""
    still = (Login.mfa_secret == sealed) & (Login.disabled.does_not_exist() | (Login.disabled == False))  # noqa: E712
    if match.step is not None:
        return still & (Login.mfa_last_step.does_not_exist() | (Login.mfa_last_step < match.step))
    return still & Login.recovery_codes.contains(match.recovery_hash)


def _use_code(tx, email, sealed, match):
    """Stage the code's single use on the login."""
    action = Login.mfa_last_step.set(match.step) if match.step is not None \
        else Login.recovery_codes.delete({match.recovery_hash})
    tx.update("login", Login(email=email), [action], condition=_once(sealed, match))


# ---------------------------------------------------------------- set-up

def setup(caller, now=None):
    now = now or time.time()
    login = passwords.own_login(caller)
    if login.mfa_secret:
        raise ApiError("mfa_already_enabled", "Two-factor sign-in is already on. Turn it off first to "
                       "move it to another device.")
    secret = totp.new_secret()
    sealed = secretbox.seal(secret, caller.school_id, caller.user_id)
    Login(email=login.email).update(actions=[Login.mfa_pending.set(sealed),
                                             Login.mfa_pending_until.set(int(now) + config.MFA_SETUP_SECONDS)],
                                    condition=Login.user_id == caller.user_id)
    uri = totp.otpauth_uri(secret, caller.user.email, caller.school.name)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg(uri)}


def confirm(caller, code, now=None):
    now = now or time.time()
    login = passwords.own_login(caller)
    if login.mfa_secret:
        raise ApiError("mfa_already_enabled", "Two-factor sign-in is already on.")
    if not login.mfa_pending or (login.mfa_pending_until or 0) <= now:
        raise bad_code("Start the two-factor set-up again: it was not finished within 15 minutes.")
    step = totp.matching_step(secretbox.unseal(login.mfa_pending, caller.school_id, caller.user_id),
                              code if isinstance(code, str) else "", now)
    if step is None:
        raise bad_code("That code is not right. Enter the 6-digit code your authenticator app shows "
                       "for schoolroll now.")
    codes = totp.new_recovery_codes()
    tx = Tx()
    tx.update("login", Login(email=login.email), [
        Login.mfa_secret.set(login.mfa_pending), Login.mfa_pending.remove(), Login.mfa_pending_until.remove(),
        Login.mfa_last_step.set(step), Login.recovery_codes.set({totp.recovery_hash(c) for c in codes})],
        condition=Login.mfa_pending == login.mfa_pending)
    tx.update("user", caller.user, [User.mfa_enabled.set(True)], add_version_condition=False)
    audit.stage(tx, events.entry(caller.school_id, caller.user_id, "mfa_enabled", now))
    try:
        tx.commit()
    except TxFailed:
        raise bad_code("Two-factor set-up changed meanwhile (another tab?). Start it again.")
    return {"recovery_codes": codes}


def stage_off(tx, user, condition=None):
    """Turn two factors off for ``user`` in ``tx`` (their own choice, or a reset)."""
    condition = (Login.user_id == user.user_id) & condition if condition is not None else Login.user_id == user.user_id
    tx.update("login", Login(email=user.email), [getattr(Login, f).remove() for f in MFA_FIELDS],
              condition=condition)
    tx.update("user", user, [User.mfa_enabled.set(False)], add_version_condition=False)


def disable(caller, code, source_ip=None, now=None):
    """Turn it off with a current code (a stolen session alone can't): the
    code spends a sign-in attempt like a password would."""
    now = now or time.time()
    if counted_group(caller.user, caller.school) in (caller.school.require_mfa_for or []):
        raise ApiError("mfa_required_by_school", "Your school requires two-factor sign-in for your user "
                       "group, so it stays on. To move it to a new phone, ask an admin to reset it.")
    login = passwords.own_login(caller)
    if not login.mfa_secret:
        raise ApiError("mfa_not_enabled", "Two-factor sign-in is not on for your account.")
    found = throttle.budgets(login.email, source_ip)
    throttle.spend(found, now)
    match = _match(login.mfa_secret, caller.school_id, caller.user_id, code, now, login.mfa_last_step)
    if match is None or (match.recovery_hash and match.recovery_hash not in (login.recovery_codes or set())):
        throttle.failed(found, now)
        raise bad_code()
    tx = Tx()
    stage_off(tx, caller.user, condition=_once(login.mfa_secret, match))
    audit.stage(tx, events.entry(caller.school_id, caller.user_id, "mfa_disabled", now))
    throttle.stage_succeeded(tx, found)
    try:
        tx.commit()
    except TxFailed:
        throttle.failed(found, now)
        raise bad_code("That code was used already. Wait for the next code in your authenticator app.")
    return {"mfa_enabled": False}


# ---------------------------------------------------------------- sign-in

def start_step(login, now, check_password=False):
    """After the right password: a step token (5 minutes, one use) that only
    mfa/verify takes. ``check_password``: as sessions.start's."""
    token = credentials.new_token()
    expires = int(now) + config.MFA_STEP_SECONDS
    tx = Tx()
    tx.put_as_is("step", Token(token_hash=credentials.token_hash(token), kind="mfa", school_id=login.school_id,
                               user_id=login.user_id, email=login.email, mfa_secret=login.mfa_secret,
                               created_ms=sessions.now_ms(now), expires_at=expires, ttl=expires + 3600))
    if check_password:
        sessions.stage_password_allowed(tx, login.school_id)
    tx.commit()
    return {"mfa_required": True, "mfa_token": token, "expires_at": iso(expires)}


def _step_record(mfa_token, now):
    if not isinstance(mfa_token, str) or not (20 <= len(mfa_token) <= 200):
        raise ApiError("invalid_token", "Sign in again: this two-factor step is invalid.")
    try:
        record = Token.get(credentials.token_hash(mfa_token), consistent_read=True)
    except DoesNotExist:
        record = None
    if record is None or record.kind != "mfa" or record.expires_at <= now:
        raise ApiError("invalid_token", "Sign in again: this two-factor step has expired or was used.")
    return record


def _failed(record, found, now):
    """A wrong code: audited like a wrong password (and the lock-out it starts)."""
    locked = throttle.failed(found, now)
    audit.write(events.entry(record.school_id, record.user_id, "login_failed", now))
    if locked:
        audit.write(events.entry(record.school_id, record.user_id, "locked_out", now))


def verify(mfa_token, code, source_ip=None, user_agent=None, now=None):
    now = now or time.time()
    record = _step_record(mfa_token, now)
    found = throttle.budgets(record.email, source_ip)
    throttle.spend(found, now)
    match = _match(record.mfa_secret, record.school_id, record.user_id, code, now)
    if match is None:
        _failed(record, found, now)
        raise bad_code()
    tx = Tx()
    tx.delete("step", record, condition=Token.token_hash.exists())
    # a step earned before the account's sessions were all ended (a reset, a
    # disabling) ends with them
    tx.check("account", User, record.school_id, record.user_id,
             condition=(User.sessions_after.does_not_exist() | (User.sessions_after <= (record.created_ms or 0)))
             & (User.status != "disabled"))
    _use_code(tx, record.email, record.mfa_secret, match)
    if match.recovery_hash:
        audit.stage(tx, events.entry(record.school_id, record.user_id, "recovery_code_used", now), label="recovery")
    login = Login(email=record.email, school_id=record.school_id, user_id=record.user_id)
    try:
        return sessions.start(login, found, user_agent, now, tx=tx)
    except TxFailed as exc:
        if "step" in exc.failed or "account" in exc.failed:
            raise ApiError("invalid_token", "Sign in again: this two-factor step was used already, or the "
                           "account changed since.")
        _failed(record, found, now)
        raise bad_code("That code was used already, or is not one of your recovery codes. Wait for the "
                       "next code in your authenticator app.")
