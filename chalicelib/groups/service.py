"""Teacher-made groups and the system groups, as the API shows them: list,
read (404 for what the caller may not see), create, rename, share, delete.
Members are read in listing.py and changed in members.py, machines in machines.py."""
import time
import unicodedata

from pynamodb.exceptions import DoesNotExist

from ..core.clock import iso
from ..core.db import Tx, TxFailed, new_id
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from ..core.maps import plain
from ..core.text import fold
from ..core import audit
from ..membership import rules, system
from ..membership.bookkeeping import group_key
from ..membership.models import ENDING, SYSTEM, Group, GroupName, Membership, end_actions, name_claim
from .classes import CLASS


def as_json(g, caller=None, now=None):
    """A group as the API shows it; with ``caller``, their role on it (owner,
    teacher, viewer or null)."""
    role = rules.role_of(caller, g, now) if caller is not None else None
    return {"role": role.value if role else None, "id": g.group_id, "name": g.name, "system": g.system, "priority": g.priority or "low",
            "member_type": g.member_type or "user", "shared": bool(g.shared) if not g.system else True,
            "owner_id": g.owner_id, "member_count": max(0, int(g.member_count or 0)),
            "version": g.version, "kind": "system" if g.system else (g.kind or "teacher"),
            "co_owner_ids": list(g.co_owner_ids or []), "external_id": g.external_id,
            "ended_at": iso(g.ended_at), "unowned_since": iso(getattr(g, "unowned_since", None)),
            "ends_at": iso(getattr(g, "ends_at", None))}


def get_visible(caller, group_id, now=None, ended_too=False):
    """The group, or 404 when it does not exist in the school or is hidden.
    ``ended_too``: a group past its end (not swept yet) to those who may
    renew it (its owners, manage_settings)."""
    if group_id.startswith("sys-"):
        try:
            item = Group.get(caller.school_id, SYSTEM)
        except DoesNotExist:
            raise not_found("group")
        matches = [g for g in system.virtual_groups(item) if g.group_id == group_id]
        g = matches[0] if matches and matches[0].member_count > 0 else None
    else:
        try:
            g = Group.get(caller.school_id, group_id)
        except DoesNotExist:
            g = None
    now = time.time() if now is None else now
    if g is not None and ended_too and rules.ended(g, now) and g.closing_since is None and rules.can_edit(caller, g, now):
        return g
    if g is None or g.group_id == SYSTEM or not rules.can_see(caller, g, now):
        raise not_found("group")
    return g


def list_groups(caller, mine=False, unowned=False, now=None):
    """The groups the caller can see (``mine``: those they have a role on;
    ``unowned``: those whose owner left with nobody to pass them to, for
    manage_settings holders to hand on), each with the caller's role: one
    Query of the school's groups."""
    now = time.time() if now is None else now
    if unowned:
        caller.require("manage_settings")
    items = []
    for g in Group.query(caller.school_id):
        items += system.virtual_groups(g) if g.group_id == SYSTEM else [g]
    items = [g for g in items if rules.can_see(caller, g, now) and (not g.system or (g.member_count or 0) > 0)
             and not (mine and rules.role_of(caller, g, now) is None)
             and not (unowned and getattr(g, "unowned_since", None) is None)]
    order = {"all_pupils": 0, "all_staff": 1, "year": 2, "reg": 3, None: 4}
    items.sort(key=lambda g: (order.get(g.system, 4), _year_order(g), fold(g.name)))
    return {"items": [as_json(g, caller, now) for g in items]}


def _year_order(g):
    if g.system != "year":
        return 0
    value = g.system_value or ""
    return {"N1": -3, "N2": -2, "R": -1}.get(value, int(value) if value.isdigit() else 99)


def _name_taken(name):
    return ApiError("validation_failed", f"You already have a group called '{name}'.",
                    errors=[{"field": "name", "code": "duplicate_name",
                             "message": f"You already have a group called '{name}'."}])


def _squeezed(name):
    """A name as compared with the system groups': its letters and digits only, folded."""
    return "".join(c for c in fold(name) if c.isalnum())


def _refuse_system_name(school_id, name):
    """422 for a teacher group named as one of the school's system groups
    (All pupils, All staff, and each year and registration group it has
    pupils in), case, spaces and punctuation ignored: a teacher dragging
    pupils into "Year 5" must get the year."""
    if any(unicodedata.category(c) == "Cf" for c in name):  # (invisible characters: a name as it looks)
        raise validation_failed([FieldError("name", "invalid_characters",
                                            "Group names can't hold invisible characters.")])
    wanted = _squeezed(name)
    reserved = {_squeezed(n) for n in rules.SYSTEM_NAMES}
    if wanted not in reserved:
        try:
            item = Group.get(school_id, SYSTEM, attributes_to_get=["meta", "counts"])
            counts = plain(item.counts) or {}
            reserved = {_squeezed((info or {}).get("name")) for gid, info in (plain(item.meta) or {}).items()
                        if int(counts.get(gid) or 0) > 0}
        except DoesNotExist:
            reserved = set()
    if wanted in reserved:
        message = f"'{name}' is the name of one of the school's own groups; choose another."
        raise validation_failed([FieldError("name", "system_name", message)])


def create(caller, body, now=None):
    now = now or time.time()
    name = (body["name"] or "").strip()
    if not name:
        raise validation_failed([FieldError("name", "required", "Give the group a name.")])
    _refuse_system_name(caller.school_id, name)
    ends_at = _ends_at(body, now)
    g = Group(school_id=caller.school_id, group_id=new_id(), name=name, priority=body.get("priority") or "low",
              member_type=body.get("member_type") or "user", shared=bool(body.get("shared", True)),
              owner_id=caller.user_id, member_count=0, created_at=int(now), staff={}, staff_version=0,
              ends_at=ends_at, next_end=ends_at, ending=ENDING if ends_at else None)
    tx = Tx()
    tx.put("group", g, condition=Group.group_id.does_not_exist())
    tx.put("name", name_claim(caller.school_id, caller.user_id, name), condition=GroupName.key.does_not_exist())
    audit.stage(tx, audit.entry(caller, "create", "group", g.group_id, {}, snapshot(g), now))
    try:
        tx.commit()
    except TxFailed as exc:
        if "name" in exc.failed:
            raise _name_taken(name)
        raise
    return as_json(g, caller, now)


def _ends_at(body, now):
    """A group's end from the body (epoch seconds or None), or a 422."""
    ends_at, problem = rules.parse_until(body.get("ends_at"), now, field="ends_at")
    if problem:
        raise validation_failed([problem])
    return ends_at


def snapshot(g):
    """What the audit log keeps of a group."""
    return {"name": g.name, "priority": g.priority, "member_type": g.member_type, "shared": bool(g.shared),
            "owner_id": g.owner_id, "ends_at": iso(g.ends_at)}


def update(caller, group_id, body, now=None):
    now = time.time() if now is None else now
    g = get_visible(caller, group_id, now, ended_too=True)
    if not rules.can_edit(caller, g):
        raise ApiError("permission_denied", "Only the group's owner (or someone with 'manage_settings') "
                       "can change it.", permission="manage_settings")
    before = snapshot(g)
    tx = Tx()
    _rename(tx, g, body)
    for field in ("priority", "shared"):
        if field in body and body[field] is not None:
            setattr(g, field, body[field])
    if "ends_at" in body:
        g.ends_at = _ends_at(body, now)
    elif rules.ended(g, now):
        raise validation_failed([FieldError("ends_at", "group_ended", "This group has ended: give it a new end "
                                            "(ends_at), or none, to renew it.")])
    after = snapshot(g)
    if before == after:
        return as_json(g, caller)
    # only what changed, on condition of the version read: never the whole item back (its member
    # count, or a class group's teachers, move under writes that do not bump the version)
    actions = [getattr(Group, f).set(getattr(g, f)) for f in ("name", "priority", "shared") if before[f] != after[f]]
    condition = None
    if before["ends_at"] != after["ends_at"]:
        ends, condition = _end_change(g)
        actions += ends
    tx.update("group", g, actions, condition=condition)
    audit.stage(tx, audit.entry(caller, "update", "group", g.group_id, before, after))
    try:
        tx.commit()
    except TxFailed as exc:
        if "name" in exc.failed:
            raise _name_taken(g.name)
        raise ApiError("conflict", "This group changed while saving; reload it.")
    return as_json(g, caller)


def _rename(tx, g, body):
    """Stage a teacher group's new name (its claim moves); a class group's is the MIS's."""
    if "name" not in body or body["name"] is None:
        return
    name = body["name"].strip()
    if g.kind == CLASS:
        if name != g.name:
            message = "A class group is named as its class is in the MIS; rename the class there."
            raise ApiError("validation_failed", message,
                           errors=[{"field": "name", "code": "class_group", "message": message}])
        return
    if not name:
        raise validation_failed([FieldError("name", "required", "Give the group a name.")])
    if fold(name) != fold(g.name):
        _refuse_system_name(g.school_id, name)
        tx.delete("old_name", name_claim(g.school_id, g.owner_id, g.name), add_version_condition=False)
        tx.put("name", name_claim(g.school_id, g.owner_id, name), condition=GroupName.key.does_not_exist())
    g.name = name


def _end_change(g):
    """(actions, condition) of a new end: the group's and the sweep's index
    on the roles as read; never once the sweep is closing it."""
    actions = [Group.ends_at.set(g.ends_at) if g.ends_at else Group.ends_at.remove()]
    actions += end_actions(g.ends_at, {u: plain(e) for u, e in plain(g.staff).items()})
    held = Group.staff_version.does_not_exist() if g.staff_version is None else Group.staff_version == g.staff_version
    return actions, Group.closing_since.does_not_exist() & held


def delete(caller, group_id):
    g = get_visible(caller, group_id)
    if not rules.can_edit(caller, g):
        raise ApiError("permission_denied", "Only the group's owner (or someone with 'manage_settings') "
                       "can delete it.", permission="manage_settings")
    if g.kind == CLASS and not caller.has("manage_settings"):
        raise ApiError("permission_denied", "A class group comes from the MIS: it ends when the class does there "
                       "(or someone with 'manage_settings' deletes it).", permission="manage_settings")
    key = group_key(g.school_id, g.group_id)
    members = list(Membership.query(key, attributes_to_get=["group_key", "member_id"]))
    with Membership.batch_write() as batch:
        for m in members:
            batch.delete(Membership(group_key=key, member_id=m.member_id))
    tx = Tx()
    tx.delete("group", g, add_version_condition=False)
    if g.kind != CLASS:  # (a class group claims no name: its owner's own group of that name keeps its claim)
        tx.delete("name", name_claim(g.school_id, g.owner_id, g.name), add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "delete", "group", g.group_id,
                                {**snapshot(g), "members": len(members)}, {}))
    tx.commit()
    return {"deleted": g.group_id}
