"""Staff: add (with an emailed invitation), read, list/search, update, delete.

A staff member is a ``User`` of the school. Their email is unique across the
service because their ``Login`` is put with a does-not-exist condition in the
same transaction. The school's ``admin_count`` moves in the same transaction
as any change into or out of the Admin Team, conditioned to stay above zero.
"""
import time

from pynamodb.exceptions import DoesNotExist

from ..accounts import throttle
from ..accounts.models import Login, School, User
from ..accounts.permissions import ADMIN_GROUP, effective_permissions, group_named
from ..core.db import Tx, TxFailed, batch_get, new_id
from ..core.maps import plain
from ..core.errors import ApiError, not_found, validation_failed
from ..core.paging import decode_cursor, encode_cursor, name_search, parse_limit, query_page
from ..core.text import fold, sort_keys
from ..notify.outbox import new_message
from ..membership import handover, rules as group_rules
from ..membership import system as system_groups
from ..membership.bookkeeping import forget_member, member_renamed
from ..core import audit
from .pupils import conflict, require_version, sent_changes
from .models import Source
from .validation import clean_staff

FIELDS = ("first_name", "surname", "email", "job_role", "user_group", "external_id")
STATUSES = ("invited", "active", "disabled")


def groups_of(school):
    return plain(school.user_groups)


def as_json(user, school):
    permissions, known = effective_permissions(groups_of(school), user.user_group)
    out = {"id": user.user_id, **{f: getattr(user, f) for f in FIELDS},
           "permissions": permissions, "user_group_known": known,
           "status": user.status, "email_verified": bool(user.email_verified),
           "mfa_enabled": bool(user.mfa_enabled), "source": user.source,
           "disabled_by_sync": bool(user.disabled_by_sync), "version": user.version}
    if not known:
        out["note"] = (f"'{user.user_group}' is not one of your school's user groups, "
                       "so this person has the Teachers group's permissions.")
    return out


def snapshot(user):
    return {f: getattr(user, f) for f in FIELDS}


def apply(user, values, now):
    for field, value in values.items():
        setattr(user, field, value)
    user.sort_name, user.first_sort = sort_keys(user.first_name, user.surname, user.user_id)
    user.updated_at = int(now)


def get(school_id, user_id):
    try:
        return User.get(school_id, user_id, consistent_read=True)
    except DoesNotExist:
        raise not_found("staff member")


def email_in_use(email, school_id):
    """The right error for an email already held by some login."""
    try:
        owner = Login.get(email, consistent_read=True)
    except DoesNotExist:
        owner = None
    if owner is None or owner.school_id == school_id:
        message = f"Another staff member in your school already uses {email}."
        return ApiError("duplicate_email", message,
                        errors=[{"field": "email", "code": "duplicate_email", "message": message}])
    return ApiError("email_taken", f"{email} is already used by an account in another school.",
                    errors=[{"field": "email", "code": "email_taken",
                             "message": "This email is used by an account in another school."}])


def counts_as_admin(user, user_group=None):
    """The school's ``admin_count`` counts the Admin Team's members who can
    sign in (invited or active): a disabled admin is no admin to keep."""
    return (user_group or user.user_group) == ADMIN_GROUP and user.status != "disabled"


def last_admin():
    return ApiError("last_admin", "A school must keep at least one member of the Admin Team. "
                    "Add another admin first.")


def admin_delta(tx, school, delta):
    if delta > 0:
        tx.update("admins", school, [School.admin_count.add(delta)], add_version_condition=False)
    elif delta < 0:
        tx.update("admins", school, [School.admin_count.add(delta)],
                  condition=School.admin_count > -delta, add_version_condition=False)


def new_staff(school_id, values, now, user_id=None, source=Source.IMPORT):
    user = User(school_id=school_id, user_id=user_id or new_id(), email_verified=False,
                status="invited", created_at=int(now), source=source)
    apply(user, {f: values.get(f) for f in FIELDS}, now)
    return user


def add_to_tx(tx, caller, user, label="staff", message_id=None):
    """Stage a new staff member: login claim, user, invitation, audit."""
    tx.put(f"{label}:login", Login(email=user.email, school_id=user.school_id, user_id=user.user_id),
           condition=Login.email.does_not_exist())
    tx.put(label, user, condition=User.user_id.does_not_exist())
    invite = new_message("invite", user.school_id, user.user_id, user.email)
    if message_id:
        invite.message_id = message_id
    tx.put(f"{label}:invite", invite)
    audit.stage(tx, audit.entry(caller, "create", "staff", user.user_id, {}, snapshot(user)), label=f"{label}:audit")
    system_groups.stage(tx, user.school_id, group_rules.staff_deltas(+1))


def create(caller, body, now=None):
    now = now or time.time()
    values, errors = clean_staff({f: body.get(f) for f in FIELDS})
    if errors:
        raise validation_failed(errors)
    values["user_group"] = group_named(groups_of(caller.school), values["user_group"])
    return as_json(insert(caller, new_staff(caller.school_id, values, now, source=Source.MANUAL)), caller.school)


def groups_to_check(before_group, changes):
    """The user groups the privilege ceiling weighs for a change to a staff
    member in ``before_group`` (``changes``: {field: new value}): before and
    after when their user group or email changes (a new address takes the
    account, and its rights, elsewhere); none for any other change."""
    if "user_group" not in changes and "email" not in changes:
        return []
    return [before_group, changes.get("user_group", before_group)]


def require_within(caller, *group_names):
    """The privilege ceiling for a change to a staff member whose user group
    is (before and after) each of ``group_names``."""
    caller.require_within(groups_of(caller.school), *group_names)


def insert(caller, user, message_id=None, retry_safe=False):
    """Write a new staff member in one transaction. ``retry_safe``: the same
    user id written before (a restarted import) counts as done."""
    require_within(caller, user.user_group)
    tx = Tx()
    add_to_tx(tx, caller, user, message_id=message_id)
    if user.user_group == ADMIN_GROUP:
        admin_delta(tx, caller.school, +1)
    try:
        tx.commit()
    except TxFailed as exc:
        if retry_safe and "staff" in exc.failed:
            return user
        raise exc.refusal({"staff:login": lambda: email_in_use(user.email, caller.school_id)},
                          lambda: conflict("staff member"))
    return user


def moved_login(old_email, new_email, user):
    """The login under a new address: its password, two-factor and disabled
    flag go with it (a sign-up's hold on the old address does not)."""
    try:
        old = Login.get(old_email, consistent_read=True)
        values = {name: getattr(old, name) for name in Login.get_attributes()
                  if name not in ("email", "unverified_until")}
    except DoesNotExist:
        values = {"school_id": user.school_id, "user_id": user.user_id}
    return Login(email=new_email, **values)


def update(caller, user_id, body, now=None):
    now = now or time.time()
    version = require_version(body)
    user = get(caller.school_id, user_id)
    values = sent_changes(body, clean_staff, FIELDS)
    if "user_group" in values and not values["user_group"]:
        raise validation_failed([{"field": "user_group", "code": "required",
                                  "message": "Choose a user group (a staff member always has one)."}])
    if "user_group" in values:
        values["user_group"] = group_named(groups_of(caller.school), values["user_group"])
    if user.version != version:
        raise conflict("staff member")
    before = snapshot(user)
    apply(user, values, now)
    after = snapshot(user)
    if before == after:
        return as_json(user, caller.school)
    changed = {f: v for f, v in after.items() if before[f] != v}
    if "email" in changed and user.user_id == caller.user_id:
        # else a stolen session moves the account to the thief's address and resets its password
        raise ApiError("cannot_change_own_email", "You cannot change your own sign-in address. Ask another "
                       "admin to change it (it keeps a stolen session from taking your account).")
    require_within(caller, *groups_to_check(before["user_group"], changed))
    if before["email"] != after["email"]:
        # every link sent to the old address dies with it; the new one is unverified
        user.token_generation = (user.token_generation or 0) + 1
        user.email_verified = False
    _save_change(caller, user, before, after, now)
    member_renamed(user.school_id, user.user_id, before, after)
    return as_json(user, caller.school)


def _save_change(caller, user, before, after, now):
    """One transaction: the staff member (on the version read), their login
    moved to a new address, the school's admin count, the audit entry."""
    tx = Tx()
    tx.put("staff", user)  # conditional on the version we read
    if before["email"] != after["email"]:
        tx.delete("old_login", Login(email=before["email"]), condition=Login.user_id == user.user_id)
        tx.put("login", moved_login(before["email"], after["email"], user), condition=Login.email.does_not_exist())
    was_admin, is_admin = counts_as_admin(user, before["user_group"]), counts_as_admin(user, after["user_group"])
    if was_admin != is_admin:
        if was_admin and user.user_id == caller.user_id and caller.school.admin_count <= 1:
            raise last_admin()
        admin_delta(tx, caller.school, +1 if is_admin else -1)
    audit.stage(tx, audit.entry(caller, "update", "staff", user.user_id, before, after, now))
    try:
        tx.commit()
    except TxFailed as exc:
        if "admins" in exc.failed and "staff" not in exc.failed:
            raise last_admin()
        if "login" in exc.failed and "staff" not in exc.failed:
            raise email_in_use(after["email"], caller.school_id)
        raise conflict("staff member")


def delete(caller, user_id, now=None):
    if user_id == caller.user_id:
        raise ApiError("cannot_delete_self", "You cannot delete your own account. "
                       "Ask another admin to do it.")
    user = get(caller.school_id, user_id)
    require_within(caller, user.user_group)
    tx = Tx()
    tx.delete("staff", user, condition=User.user_id.exists(), add_version_condition=False)
    tx.delete("login", Login(email=user.email), condition=Login.user_id == user.user_id)
    if counts_as_admin(user):
        admin_delta(tx, caller.school, -1)
    audit.stage(tx, audit.entry(caller, "delete", "staff", user.user_id, snapshot(user), {}, now))
    audit.stage(tx, audit.gone(user.school_id, "staff", user.user_id, user.external_id or user.user_id, now),
                label="gone")
    system_groups.stage(tx, user.school_id, group_rules.staff_deltas(-1))
    try:
        tx.commit()
    except TxFailed as exc:
        if "admins" in exc.failed and "staff" not in exc.failed:
            raise last_admin()
        raise not_found("staff member")
    forget_member(caller.school_id, user.user_id)
    handover.hand_over(caller, caller.school_id, user.user_id, enabled_among(caller.school_id), now)
    return {"deleted": user.user_id}


def enabled_among(school_id):
    """ids -> those of them on the school's staff and not disabled: who may
    inherit a group (a disabled or deleted colleague never does)."""
    def usable(ids):
        got = batch_get({i: (User, {"school_id": school_id, "user_id": i}) for i in ids})
        return {i for i, u in got.items() if u is not None and u.status != "disabled"}
    return usable


def resend_invitation(caller, user_id, now=None):
    user = get(caller.school_id, user_id)
    require_within(caller, user.user_group)
    if user.status != "invited":
        return {"queued": False, "status": user.status}
    throttle.limit_resends(user.user_id, now)
    tx = Tx()
    tx.put("invite", new_message("invite", user.school_id, user.user_id, user.email, now))
    audit.stage(tx, audit.entry(caller, "invite", "staff", user.user_id, None, None, now))
    tx.commit()
    return {"queued": True, "status": user.status}


def list_staff(caller, query):
    school = caller.school_id
    limit = parse_limit(query)
    state = decode_cursor(query.get("next"), school)
    group = (query.get("user_group") or "").strip() or None
    condition = User.user_group == group if group else None
    status = (query.get("status") or "").strip() or None
    if status is not None:
        if status not in STATUSES:
            raise validation_failed([{"field": "status", "code": "invalid_choice",
                                      "message": f"Use one of: {', '.join(STATUSES)}."}])
        condition = (User.status == status) if condition is None else condition & (User.status == status)
    q = fold(query.get("q") or "")
    if q:
        items, nxt = name_search(User, school, q, limit, state, ["school_id", "user_id"], condition)
    else:
        items, nxt = query_page(User, "by_name", school, None, limit, state,
                                ["school_id", "user_id", "sort_name"], condition)
    return {"items": [as_json(u, caller.school) for u in items], "next": encode_cursor(nxt)}
