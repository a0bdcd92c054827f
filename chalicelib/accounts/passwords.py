"""Forgotten and changed passwords.

Asking for a reset answers the same, known address or not (no account
enumeration); a known, enabled account gets a single-use link (30 minutes,
minted at send time, through the outbox). Using it sets the password, moves
the token generation on (every other link dies) and ends every session, in
one transaction. Changing a password needs the current one, which spends a
sign-in attempt like a sign-in would; every other session ends.
"""
import time
from html import escape

from pynamodb.exceptions import DoesNotExist

from ..core import audit, config
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError
from ..notify.outbox import new_message, register_renderer
from . import credentials, events, links, sessions, throttle
from .models import Login, School, User

ASKED = {"queued": True}


def require_strong(password, user, school_name=None):
    """422 weak_password (saying why) unless strong for this person and school."""
    if school_name is None:
        try:
            school_name = School.get(user.school_id).name
        except DoesNotExist:
            school_name = None
    weak = credentials.password_problem(password, user.email, user.first_name, user.surname, school_name)
    if weak:
        raise ApiError("weak_password", weak.message,
                       errors=[{"field": "password", "code": "weak_password", "message": weak.message}])


def own_login(caller):
    """The caller's Login, read consistently (a password or two-factor change
    checks its latest state); 401 when it is gone (the sign-in changed)."""
    try:
        return Login.get(caller.user.email, consistent_read=True)
    except DoesNotExist:
        raise ApiError("unauthorized", "Sign in again: your account's sign-in has changed.")


def forgot(email, now=None):
    """Always the same answer. A reset email goes only to an account with a
    password that is not disabled, at most 5 an hour (beyond that, silently
    none: a 429 would tell a stranger the address has an account)."""
    now = now or time.time()
    key = credentials.normalise_email(email)
    if not credentials.plausible_key(key):
        return ASKED
    try:
        login = Login.get(key)
    except DoesNotExist:
        return ASKED
    if login.disabled or not login.password_hash:
        return ASKED
    try:
        throttle.limit_resends(login.user_id, now, kind="reset")
    except ApiError:
        return ASKED
    tx = Tx()
    tx.put("reset", new_message("reset", login.school_id, login.user_id, login.email, now))
    audit.stage(tx, events.entry(login.school_id, login.user_id, "password_reset_requested", now))
    tx.commit()
    return ASKED


@register_renderer("reset")
def render_reset(message, now=None):
    now = now or time.time()
    token = links.issue(message, "reset", config.RESET_SECONDS, now)
    if token is None:
        return None
    link = f"{config.console_url()}/#action=reset-password&token={token}"
    minutes = config.RESET_SECONDS // 60
    text = ("Someone (we hope you) asked to reset your schoolroll password.\n\n"
            f"Open this link within {minutes} minutes to choose a new one:\n{link}\n\n"
            "It works once. If you did not ask, ignore this email: your password stays as it is.\n")
    html = (f"<p>Someone (we hope you) asked to reset your schoolroll password.</p>"
            f"<p>Open this link within {minutes} minutes to choose a new one:</p>"
            f"<p><a href=\"{escape(link)}\">{escape(link)}</a></p>"
            "<p>It works once. If you did not ask, ignore this email: your password stays as it is.</p>")
    return {"subject": "Reset your schoolroll password", "text": text, "html": html}


def reset(token, password, now=None):
    now = now or time.time()
    record = links.usable_token(token, "reset", now)
    user = links.bound_user(record)
    require_strong(password, user)
    tx = Tx()
    links.stage_used(tx, record)
    tx.update("login", Login(email=user.email), [Login.password_hash.set(credentials.hash_password(password))],
              condition=Login.user_id == user.user_id)
    sessions.stage_end_all(tx, user, now, also=[User.token_generation.set((user.token_generation or 0) + 1)],
                           condition=links.bound_condition(record))
    audit.stage(tx, events.entry(user.school_id, user.user_id, "password_set", now))
    audit.stage(tx, events.entry(user.school_id, user.user_id, "sessions_revoked", now), label="revoked")
    links.commit(tx)
    return {"password_set": True}


def change(caller, current, new, source_ip=None, now=None):
    now = now or time.time()
    login = own_login(caller)
    found = throttle.budgets(login.email, source_ip)
    throttle.spend(found, now)
    if not credentials.verify_password(login.password_hash, current if isinstance(current, str) else ""):
        throttle.failed(found, now)
        audit.write(events.entry(caller.school_id, caller.user_id, "login_failed", now))
        raise ApiError("wrong_password", "Your current password is not right, so nothing changed.")
    require_strong(new, caller.user, caller.school.name)
    tx = Tx()
    tx.update("login", Login(email=login.email), [Login.password_hash.set(credentials.hash_password(new))],
              condition=Login.password_hash == login.password_hash)
    sessions.stage_end_all(tx, caller.user, now, keep=caller.session_hash,
                           also=[User.token_generation.set((caller.user.token_generation or 0) + 1)])
    # (no attempt given back: a right password must not refill what wrong two-factor codes spent)
    audit.stage(tx, events.entry(caller.school_id, caller.user_id, "password_set", now))
    try:
        tx.commit()
    except TxFailed:
        raise ApiError("conflict", "Your password changed meanwhile (another tab?). Sign in again.")
    return {"password_set": True}
