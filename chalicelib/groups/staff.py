"""The staff named on a teacher group, each as owner, teacher or viewer and
for a while or until removed; a group's hand-over to another owner.

The roles live on the group's own item (``staff``), so a list of groups says
each caller's role with no more reads. A change holds to the roles it read
(``staff_version``). The group's first owner is ``owner_id`` (its name is
claimed under them); a group always keeps one owner with no end.
"""
import time

from pynamodb.exceptions import DoesNotExist

from ..accounts.models import User
from ..accounts.permissions import Caller
from ..core import audit
from ..core.clock import iso
from ..core.db import Tx, TxFailed, batch_get
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from ..core.maps import plain
from ..membership import handover, rules
from ..membership.models import Group, GroupName, end_actions, name_claim
from ..roster.staff import enabled_among
from .classes import CLASS
from .service import get_visible


def _entries(g):
    """{user id: {"role", "until"?}} as stored (ended ones too)."""
    return {uid: plain(e) for uid, e in (plain(g.staff) or {}).items()}


def _refuse_unless_owner(caller, g, now):
    if g.system:
        raise ApiError("validation_failed", "A system group's people are the school's; it has no named staff.",
                       errors=[{"field": "group_id", "code": "system_group",
                                "message": "A system group has no named staff."}])
    if not rules.can_edit(caller, g, now):
        raise ApiError("permission_denied", "Only the group's owners (or someone with 'manage_settings') can "
                       "share it or hand it on.", permission="group_owner")
    own = _entries(g).get(caller.user_id) or {}
    if not caller.has("manage_settings") and own.get("until") is not None:
        raise ApiError("permission_denied", "You own this group for a while only: its lasting owners share it "
                       "and hand it on.", permission="group_owner")


def _colleague(caller, user_id, field="user_id"):
    """The member of staff a group is shared with or handed to: in the
    caller's school, enabled, and able to see pupils (a role on a group
    never gives view_roster)."""
    try:
        user = User.get(caller.school_id, user_id)
    except DoesNotExist:
        raise not_found("member of staff")
    if user.status == "disabled":
        raise validation_failed([FieldError(field, "disabled", f"{user.first_name} {user.surname}'s account is "
                                            "disabled; enable it first.")])
    if not Caller.for_user(caller.school, user).has("view_roster"):
        raise validation_failed([FieldError(field, "cannot_see_pupils", f"{user.first_name} {user.surname}'s "
                                            f"user group ({user.user_group}) can't see pupils (view_roster), so "
                                            "they can't be given a group of them.")])
    return user


def _last_owner():
    return ApiError("last_owner", "A group always keeps an owner: make someone else its owner (with no end) "
                    "first, or delete the group.")


def _save(caller, g, entries, now, before, after, new_owner=None):
    """Write the roles (and a new first owner, whose name claim moves with
    the group) on condition nobody changed them since they were read."""
    version = int(g.staff_version or 0)
    held = Group.staff_version.does_not_exist() if g.staff_version is None else Group.staff_version == version
    actions = [Group.staff.set(entries), Group.staff_version.set(version + 1), *end_actions(g.ends_at, entries)]
    tx = Tx()
    if new_owner is not None and (new_owner != g.owner_id or g.unowned_since is not None):
        actions += [Group.owner_id.set(new_owner), Group.unowned_since.remove()]
        held &= Group.owner_id == g.owner_id
        if g.kind != CLASS and new_owner != g.owner_id:
            tx.delete("old_name", name_claim(g.school_id, g.owner_id, g.name), add_version_condition=False)
            tx.put("name", name_claim(g.school_id, new_owner, g.name), condition=GroupName.key.does_not_exist())
    tx.update("group", Group(school_id=g.school_id, group_id=g.group_id), actions,
              condition=Group.group_id.exists() & held, add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "update", "group_staff", g.group_id, before, after, now))
    try:
        tx.commit()
    except TxFailed as exc:
        if "name" in exc.failed:
            message = f"The new owner already has a group called '{g.name}'; one of the two needs renaming first."
            raise validation_failed([FieldError("to", "duplicate_name", message)])
        raise ApiError("conflict", "This group's people changed just now; reload it and try again.")
    g.staff, g.staff_version = entries, version + 1
    if new_owner is not None:
        g.owner_id, g.unowned_since = new_owner, None


def set_role(caller, group_id, user_id, body, now=None):
    """PUT a colleague's role on a group (owner, teacher or viewer; until a
    time or removed)."""
    now = time.time() if now is None else now
    g = get_visible(caller, group_id, now)
    _refuse_unless_owner(caller, g, now)
    role = rules.Role(body["role"])
    until, problem = rules.parse_until(body.get("until"), now)
    if problem:
        raise validation_failed([problem])
    if g.kind == CLASS and user_id in {g.owner_id, *(g.co_owner_ids or ())}:
        raise validation_failed([FieldError("user_id", "class_group", "A class group's teachers come from the "
                                            "MIS; change them there.")])
    user = _colleague(caller, user_id)
    entries = _entries(g)
    before = {user_id: entries.get(user_id) or ({"role": "owner"} if user_id == g.owner_id else None)}
    new_owner = None
    if user_id == g.owner_id and (role is not rules.Role.OWNER or until is not None):
        heirs = handover.heirs(entries, user_id, enabled_among(g.school_id))
        if not heirs:
            raise _last_owner()
        new_owner = heirs[0]
        entries.pop(new_owner)
    entry = {"role": role.value, "at": int(now), "by": caller.user_id}
    if until is not None:
        entry["until"] = until
    if user_id == (new_owner or g.owner_id):
        entries.pop(user_id, None)  # (the first owner is owner_id, not an entry)
    else:
        entries[user_id] = entry
    _save(caller, g, entries, now, before, {user_id: {"role": role.value, "until": iso(until)}}, new_owner)
    return _person_json(user, role, until)


def remove_role(caller, group_id, user_id, now=None):
    """DELETE a colleague from a group: an owner removes anyone; anyone
    named removes themselves. The last owner stays (409 last_owner)."""
    now = time.time() if now is None else now
    g = get_visible(caller, group_id, now)
    if user_id != caller.user_id or g.system:
        _refuse_unless_owner(caller, g, now)
    elif _leaving_widens(caller, g, now):
        raise ApiError("permission_denied", "You see this group as a viewer: every teacher sees it, so leaving "
                       "would let you change it. Ask one of its owners.", permission="group_owner")
    if g.kind == CLASS and user_id in {g.owner_id, *(g.co_owner_ids or ())}:
        raise validation_failed([FieldError("user_id", "class_group", "A class group's teachers come from the "
                                            "MIS; change them there.")])
    entries = _entries(g)
    new_owner = None
    if user_id == g.owner_id:
        heirs = handover.heirs(entries, user_id, enabled_among(g.school_id))
        if not heirs:
            raise _last_owner()
        new_owner = heirs[0]
        entries.pop(new_owner)
    elif user_id not in entries:
        raise not_found("member of staff on this group")
    before = {user_id: entries.pop(user_id, None) or {"role": "owner"}}
    _save(caller, g, entries, now, before, {}, new_owner)
    return {"removed": user_id}


def _leaving_widens(caller, g, now):
    """A named viewer of a shared group who took herself off would be any
    teacher, who may change its members: a viewer can't leave to do that."""
    return (rules.role_of(caller, g, now) is rules.Role.VIEWER and bool(g.shared)
            and not rules.can_change_members(caller, g, now))


def transfer(caller, group_id, body, now=None):
    """Hand a group to another owner (its owners or manage_settings): they
    become its first owner, and whoever was drops off it."""
    now = time.time() if now is None else now
    g = get_visible(caller, group_id, now)
    _refuse_unless_owner(caller, g, now)
    if g.kind == CLASS:
        raise validation_failed([FieldError("to", "class_group", "A class group's teachers come from the MIS; "
                                            "change them there.")])
    to = body["to"]
    _colleague(caller, to, field="to")
    if to == g.owner_id and g.unowned_since is None:
        return as_people(g, now)
    entries = _entries(g)
    entries.pop(to, None)
    _save(caller, g, entries, now, {"owner_id": g.owner_id}, {"owner_id": to}, new_owner=to)
    return as_people(g, now)


def list_staff(caller, group_id, now=None):
    """The people on a group with their roles (current ones), any caller who sees it."""
    now = time.time() if now is None else now
    g = get_visible(caller, group_id, now)
    return as_people(g, now)


def as_people(g, now):
    if g.system:
        return {"items": []}
    roles = rules.staff_roles(g, now)
    entries = _entries(g)
    users = batch_get({uid: (User, {"school_id": g.school_id, "user_id": uid}) for uid in roles})
    order = {rules.Role.OWNER: 0, rules.Role.TEACHER: 1, rules.Role.VIEWER: 2}
    items = [_person_json(users[uid], role, (entries.get(uid) or {}).get("until"), uid)
             for uid, role in roles.items()]
    items.sort(key=lambda p: (order[rules.Role(p["role"])], p["name"].lower()))
    return {"items": items}


def _person_json(user, role, until, user_id=None):
    name = f"{user.first_name} {user.surname}" if user is not None else "(no longer on the roster)"
    return {"user_id": user.user_id if user is not None else user_id, "name": name, "role": role.value,
            "until": iso(until), "disabled": bool(user is not None and user.status == "disabled")}
