"""Disabling and enabling a staff member's account, and resetting their
two-factor sign-in: a colleague's acts, each within the privilege ceiling
(nobody acts on someone holding rights they lack) and audited.

Disabling keeps the record and its history (status ``disabled``), ends every
session at once (``sessions_after``), kills every emailed link (the token
generation moves on) and stops sign-in (the login's ``disabled``), in one
transaction; the school keeps at least one enabled admin.
"""
import time

from pynamodb.exceptions import DoesNotExist

from ..accounts import mfa, sessions
from ..accounts.models import Login, User
from ..core import audit
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError
from ..membership import handover
from .pupils import conflict
from .staff import admin_delta, as_json, counts_as_admin, enabled_among, get, last_admin, require_within


def _target(caller, user_id):
    user = get(caller.school_id, user_id)
    require_within(caller, user.user_group)
    return user


def _previous_status(user):
    """What enabling gives back: active once they have set a password."""
    try:
        login = Login.get(user.email, consistent_read=True)
    except DoesNotExist:
        return "invited"
    return "active" if login.password_hash else "invited"


def disable(caller, user_id, now=None, by_sync=False):
    """``by_sync``: a full staff drop did not name them (a later one naming
    them enables them again; a person's disabling stays until a person ends it)."""
    now = now or time.time()
    if user_id == caller.user_id:
        raise ApiError("cannot_disable_self", "You cannot disable your own account. Ask another admin.")
    user = _target(caller, user_id)
    if user.status == "disabled":  # again: nothing to change but a hand-over a first try stopped before
        handover.hand_over(caller, caller.school_id, user.user_id, enabled_among(caller.school_id), now)
        return as_json(user, caller.school)
    before = user.status
    tx = Tx()
    marked = User.disabled_by_sync.set(True) if by_sync else User.disabled_by_sync.remove()
    sessions.stage_end_all(tx, user, now, also=[
        User.status.set("disabled"), User.token_generation.set((user.token_generation or 0) + 1), marked],
        condition=(User.status == before) & (User.user_group == user.user_group))  # the ceiling weighed that group
    tx.update("login", Login(email=user.email), [Login.disabled.set(True)], condition=Login.user_id == user.user_id)
    if counts_as_admin(user):
        admin_delta(tx, caller.school, -1)
    audit.stage(tx, audit.entry(caller, "account_disabled", "staff", user.user_id,
                                {"status": before}, {"status": "disabled"}, now))
    _commit(tx)
    user.status = "disabled"
    handover.hand_over(caller, caller.school_id, user.user_id, enabled_among(caller.school_id), now)
    return as_json(user, caller.school)


def enable(caller, user_id, now=None, by_sync=False):
    """``by_sync``: a full staff drop names them again; only a disabling by
    a drop is undone so."""
    now = now or time.time()
    user = _target(caller, user_id)
    if user.status != "disabled" or (by_sync and not user.disabled_by_sync):
        return as_json(user, caller.school)
    status = _previous_status(user)
    tx = Tx()
    held = (User.status == "disabled") & (User.user_group == user.user_group)
    if by_sync:
        held &= User.disabled_by_sync == True  # noqa: E712 - a person may have disabled them since
    tx.update("user", user, [User.status.set(status), User.disabled_by_sync.remove()],
              condition=held, add_version_condition=False)
    tx.update("login", Login(email=user.email), [Login.disabled.set(False)], condition=Login.user_id == user.user_id)
    user.status = status
    if counts_as_admin(user):
        admin_delta(tx, caller.school, +1)
    audit.stage(tx, audit.entry(caller, "account_enabled", "staff", user.user_id,
                                {"status": "disabled"}, {"status": status}, now))
    _commit(tx)
    return as_json(user, caller.school)


def reset_mfa(caller, user_id, now=None):
    """For a lost phone: their two-factor sign-in is off until they set it
    up again (at once, if their school requires it of their user group)."""
    now = now or time.time()
    if user_id == caller.user_id:
        raise ApiError("cannot_reset_own_mfa", "Turn your own two-factor sign-in off from Your account, with a "
                       "current code; or ask another admin to reset it.")
    user = _target(caller, user_id)
    if not user.mfa_enabled:
        return as_json(user, caller.school)  # off already: nothing to reset
    tx = Tx()
    mfa.stage_off(tx, user)
    audit.stage(tx, audit.entry(caller, "mfa_reset", "staff", user.user_id, {"mfa_enabled": True},
                                {"mfa_enabled": False}, now))
    _commit(tx)
    user.mfa_enabled = False
    return as_json(user, caller.school)


def _commit(tx):
    try:
        tx.commit()
    except TxFailed as exc:
        if "admins" in exc.failed:
            raise last_admin()
        raise conflict("staff member")
