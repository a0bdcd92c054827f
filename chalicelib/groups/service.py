"""Groups and memberships (DynamoDB work).

A membership's ``until`` hides it from every read the moment it passes; the
scheduled sweep removes it later, reading only what has expired (a sparse
index on ``until``) and deleting on condition that ``until`` is still what
it read, so a renewal racing the sweep survives.
"""
import time

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from ..accounts.models import User
from ..core.db import Tx, TxFailed, batch_get, new_id
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from ..core.paging import parse_limit
from ..core.text import fold
from ..core import audit
from ..roster.models import Pupil, UniqueKey
from . import rules, system
from .models import EXPIRING, SYSTEM, Group, Machine, Membership

MAX_MEMBERS_PER_CALL = 100


def group_key(school_id, group_id):
    return f"{school_id}#{group_id}"


def as_json(g):
    return {"id": g.group_id, "name": g.name, "system": g.system, "priority": g.priority or "low",
            "member_type": g.member_type or "user", "shared": bool(g.shared) if not g.system else True,
            "owner_id": g.owner_id, "member_count": max(0, int(g.member_count or 0)),
            "version": g.version}


def get_visible(caller, group_id):
    """The group, or 404 when it does not exist in the school or is hidden."""
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
    if g is None or g.group_id == SYSTEM or not rules.can_see(caller, g):
        raise not_found("group")
    return g


def list_groups(caller):
    items = []
    for g in Group.query(caller.school_id):
        items += system.virtual_groups(g) if g.group_id == SYSTEM else [g]
    items = [g for g in items if rules.can_see(caller, g) and (not g.system or (g.member_count or 0) > 0)]
    order = {"all_pupils": 0, "all_staff": 1, "year": 2, "reg": 3, None: 4}
    items.sort(key=lambda g: (order.get(g.system, 4), _year_order(g), fold(g.name)))
    return {"items": [as_json(g) for g in items]}


def _year_order(g):
    if g.system != "year":
        return 0
    value = g.system_value or ""
    return {"N1": -3, "N2": -2, "R": -1}.get(value, int(value) if value.isdigit() else 99)


def _name_claim(school_id, owner_id, name):
    return UniqueKey(school_id=school_id, key=f"group-name#{owner_id}#{fold(name)}", owner_id=owner_id)


def _name_taken(name):
    return ApiError("validation_failed", f"You already have a group called '{name}'.",
                    errors=[{"field": "name", "code": "duplicate_name",
                             "message": f"You already have a group called '{name}'."}])


def create(caller, body, now=None):
    now = now or time.time()
    name = (body["name"] or "").strip()
    if not name:
        raise validation_failed([FieldError("name", "required", "Give the group a name.")])
    g = Group(school_id=caller.school_id, group_id=new_id(), name=name, priority=body.get("priority") or "low",
              member_type=body.get("member_type") or "user", shared=bool(body.get("shared", True)),
              owner_id=caller.user_id, member_count=0, created_at=int(now))
    tx = Tx()
    tx.put("group", g, condition=Group.group_id.does_not_exist())
    tx.put("name", _name_claim(caller.school_id, caller.user_id, name), condition=UniqueKey.key.does_not_exist())
    audit.stage(tx, audit.entry(caller, "create", "group", g.group_id, {}, snapshot(g), now))
    try:
        tx.commit()
    except TxFailed as exc:
        if "name" in exc.failed:
            raise _name_taken(name)
        raise
    return as_json(g)


def snapshot(g):
    """What the audit log keeps of a group."""
    return {"name": g.name, "priority": g.priority, "member_type": g.member_type, "shared": bool(g.shared),
            "owner_id": g.owner_id}


def update(caller, group_id, body):
    g = get_visible(caller, group_id)
    if not rules.can_edit(caller, g):
        raise ApiError("permission_denied", "Only the group's owner (or someone with 'manage_settings') "
                       "can change it.", permission="manage_settings")
    old_name = g.name
    before = snapshot(g)
    tx = Tx()
    if "name" in body and body["name"] is not None:
        name = body["name"].strip()
        if not name:
            raise validation_failed([FieldError("name", "required", "Give the group a name.")])
        if fold(name) != fold(old_name):
            tx.delete("old_name", _name_claim(g.school_id, g.owner_id, old_name), add_version_condition=False)
            tx.put("name", _name_claim(g.school_id, g.owner_id, name), condition=UniqueKey.key.does_not_exist())
        g.name = name
    for field in ("priority", "shared"):
        if field in body and body[field] is not None:
            setattr(g, field, body[field])
    after = snapshot(g)
    if before == after:
        return as_json(g)
    tx.put("group", g)
    audit.stage(tx, audit.entry(caller, "update", "group", g.group_id, before, after))
    try:
        tx.commit()
    except TxFailed as exc:
        if "name" in exc.failed:
            raise _name_taken(g.name)
        raise ApiError("conflict", "This group changed while saving; reload it.")
    return as_json(g)


def delete(caller, group_id):
    g = get_visible(caller, group_id)
    if not rules.can_edit(caller, g):
        raise ApiError("permission_denied", "Only the group's owner (or someone with 'manage_settings') "
                       "can delete it.", permission="manage_settings")
    key = group_key(g.school_id, g.group_id)
    members = list(Membership.query(key, attributes_to_get=["group_key", "member_id"]))
    with Membership.batch_write() as batch:
        for m in members:
            batch.delete(Membership(group_key=key, member_id=m.member_id))
    tx = Tx()
    tx.delete("group", g, add_version_condition=False)
    tx.delete("name", _name_claim(g.school_id, g.owner_id, g.name), add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "delete", "group", g.group_id,
                                {**snapshot(g), "members": len(members)}, {}))
    tx.commit()
    return {"deleted": g.group_id}


# ---------------------------------------------------------------- members

def member_json(kind, member_id, name, until=None):
    return {"id": member_id, "kind": kind, "name": name, "until": rules.iso(until)}


def list_members(caller, group_id, query, now=None):
    now = now or time.time()
    g = get_visible(caller, group_id)
    limit = parse_limit(query, default=500, maximum=1000)
    if g.system in ("year", "reg", "all_pupils"):
        index, value = {"year": (Pupil.by_year, f"{g.school_id}#{g.system_value}"),
                        "reg": (Pupil.by_reg, f"{g.school_id}#{fold(g.system_value)}"),
                        "all_pupils": (Pupil.by_name, g.school_id)}[g.system]
        people = index.query(value, filter_condition=Pupil.status == "active", limit=limit)
        return {"items": [member_json("pupil", p.pupil_id, f"{p.first_name} {p.surname}") for p in people]}
    if g.system == "all_staff":
        return {"items": [member_json("staff", u.user_id, f"{u.first_name} {u.surname}")
                          for u in User.by_name.query(g.school_id, limit=limit)]}
    live = Membership.until.does_not_exist() | (Membership.until > int(now))
    members = Membership.query(group_key(g.school_id, g.group_id), filter_condition=live, limit=limit)
    items = [member_json(m.kind, m.member_id, m.name, m.until) for m in members]
    items.sort(key=lambda m: fold(m["name"]))
    return {"items": items}


def _lookup(school_id, group_key_value, member_ids, member_type):
    """One BatchGetItem: each id as a pupil, staff member or machine, and its
    current membership of the group. Returns ({id: (kind, name, record)},
    {id: Membership})."""
    requests = {}
    for i in member_ids:
        if member_type == "machine":
            requests[("machine", i)] = (Machine, {"school_id": school_id, "machine_id": i})
        else:
            requests[("pupil", i)] = (Pupil, {"school_id": school_id, "pupil_id": i})
            requests[("staff", i)] = (User, {"school_id": school_id, "user_id": i})
        requests[("membership", i)] = (Membership, {"group_key": group_key_value, "member_id": i})
    got = batch_get(requests)
    found, existing = {}, {}
    for i in member_ids:
        for kind in ("pupil", "staff", "machine"):
            record = got.get((kind, i))
            if record is not None:
                found[i] = (kind, f"{record.first_name} {record.surname}" if kind != "machine" else record.name,
                            record)
                break
        if got.get(("membership", i)) is not None:
            existing[i] = got[("membership", i)]
    return found, existing


def _visible_elsewhere(caller, school_id, target_group_id, kind, record, now):
    """Can the caller already see this person or machine in another group?"""
    if kind == "pupil":
        return (record.status or "active") == "active"  # All pupils is visible to all staff
    if kind == "staff" and caller.has("view_all_groups"):
        return True  # All staff
    live = Membership.until.does_not_exist() | (Membership.until > int(now))
    memberships = Membership.by_member.query(f"{school_id}#{record_id(kind, record)}", filter_condition=live)
    group_ids = [m.group_id for m in memberships if m.group_id != target_group_id]
    if not group_ids:
        return False
    for g in Group.batch_get([(school_id, gid) for gid in group_ids]):
        if rules.can_see(caller, g):
            return True
    return False


ID_ATTR = {"pupil": "pupil_id", "staff": "user_id", "machine": "machine_id"}


def record_id(kind, record):
    return getattr(record, ID_ATTR[kind])


def add_members(caller, group_id, body, now=None):
    now = now or time.time()
    g = get_visible(caller, group_id)
    if g.system:
        raise ApiError("validation_failed", "System groups follow the roster; they can't be edited by hand.",
                       errors=[{"field": "group", "code": "system_group",
                                "message": "System groups follow the roster; they can't be edited by hand."}])
    ids = body.get("member_ids") or []
    if not ids or len(ids) > MAX_MEMBERS_PER_CALL or not all(isinstance(i, str) and i for i in ids):
        raise validation_failed([FieldError("member_ids", "invalid_choice",
                                            f"Send 1–{MAX_MEMBERS_PER_CALL} member ids.")])
    until, problem = rules.parse_until(body.get("until"), now)
    if problem:
        raise validation_failed([problem])
    ids = list(dict.fromkeys(ids))
    key = group_key(g.school_id, g.group_id)
    found, existing = _lookup(g.school_id, key, ids, g.member_type)
    unknown = [i for i in ids if i not in found]
    if unknown:
        what = "machines" if g.member_type == "machine" else "pupils or staff"
        raise ApiError("validation_failed", f"These ids are not {what} in your school: {', '.join(unknown)}. "
                       f"This group holds {g.member_type}s.",
                       errors=[{"field": "member_ids", "code": "unknown_member", "message": i} for i in unknown])
    if not caller.has("add_any_user"):
        hidden = [i for i in ids if not _visible_elsewhere(caller, g.school_id, g.group_id, found[i][0],
                                                           found[i][2], now)]
        if hidden:
            raise ApiError("permission_denied",
                           "You can add only people you can already see in another of your groups. "
                           f"Not visible to you: {', '.join(hidden)}. Adding anyone needs 'add_any_user'.",
                           permission="add_any_user", member_ids=hidden)
    live_before = sum(1 for m in existing.values() if m.until is None or m.until > now)
    memberships = []
    for i in ids:
        kind, name, _record = found[i]
        memberships.append(Membership(group_key=key, member_id=i, school_id=g.school_id, group_id=g.group_id,
                                      member_key=f"{g.school_id}#{i}", kind=kind, name=name, until=until,
                                      expiring=EXPIRING if until else None, added_by=caller.user_id,
                                      added_at=int(now)))
    # An ended membership the sweep hasn't removed yet may go any moment: it
    # is renewed only on condition it is still the one read (the sweep's own
    # condition), else written anew and counted.
    ended = {i for i, m in existing.items() if m.until is not None and m.until <= now}
    _write_memberships(caller, g, [m for m in memberships if m.member_id not in ended],
                       len([i for i in ids if i not in existing]), until, now)
    recreated = 0
    for m in memberships:
        if m.member_id in ended:
            try:
                m.save(condition=Membership.until == existing[m.member_id].until)
            except PutError:
                m.save()
                recreated += 1
    added = len(ids) - live_before
    # The count is of membership items, ended ones included until the sweep
    # deletes them (and takes them off): renewing an ended one adds nothing.
    if recreated:
        Group(school_id=g.school_id, group_id=g.group_id).update(
            actions=[Group.member_count.add(recreated)], add_version_condition=False)
    return {"added": added, "updated": len(ids) - added, "until": rules.iso(until),
            "members": [member_json(found[i][0], i, found[i][1], until) for i in ids]}


#: memberships in one transaction, beside the group's count and the audit entry
MEMBERS_PER_TX = 90


def _write_memberships(caller, g, memberships, new_items, until, now):
    """Put memberships in transactions, each with its audit entry (who added
    whom, until when) and, in the first, the group's count of new items."""
    for start in range(0, len(memberships), MEMBERS_PER_TX):
        chunk = memberships[start:start + MEMBERS_PER_TX]
        tx = Tx()
        for m in chunk:
            tx.put(f"member:{m.member_id}", m)
        if start == 0 and new_items:
            tx.update("count", Group(school_id=g.school_id, group_id=g.group_id),
                      [Group.member_count.add(new_items)], add_version_condition=False)
        audit.stage(tx, audit.entry(caller, "add", "membership", g.group_id, {},
                                    {"members": [m.member_id for m in chunk], "until": rules.iso(until)}, now))
        tx.commit()


def remove_member(caller, group_id, member_id, now=None):
    now = now or time.time()
    g = get_visible(caller, group_id)
    if g.system:
        raise ApiError("validation_failed", "System groups follow the roster; they can't be edited by hand.",
                       errors=[{"field": "group", "code": "system_group", "message": "System group."}])
    key = group_key(g.school_id, g.group_id)
    try:
        m = Membership.get(key, member_id, consistent_read=True)
    except DoesNotExist:
        raise not_found("member of this group")
    tx = Tx()
    tx.delete("membership", m, condition=Membership.member_id.exists(), add_version_condition=False)
    # counted until deleted, ended or not (the sweep won't find it now)
    tx.update("count", Group(school_id=g.school_id, group_id=g.group_id), [Group.member_count.add(-1)],
              add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "delete", "membership", f"{g.group_id}/{member_id}",
                                {"until": rules.iso(m.until)}, {}, now))
    try:
        tx.commit()
    except TxFailed:
        raise not_found("member of this group")
    return {"removed": member_id}


# ---------------------------------------------------------------- the sweep

def sweep_expired(now=None, page=100):
    """Remove memberships whose ``until`` has passed. Reads only expired ones;
    each delete is conditional on the ``until`` it read."""
    now = now or time.time()
    removed = skipped = 0
    for m in Membership.by_expiry.query(EXPIRING, Membership.until <= int(now), page_size=page):
        actor = audit.Actor(m.school_id)  # an automatic change: actor ``system``
        tx = Tx()
        tx.delete("membership", Membership(group_key=m.group_key, member_id=m.member_id),
                  condition=Membership.until == m.until, add_version_condition=False)
        tx.update("count", Group(school_id=m.school_id, group_id=m.group_id),
                  [Group.member_count.add(-1)], condition=Group.group_id.exists(), add_version_condition=False)
        audit.stage(tx, audit.entry(actor, "delete", "membership", f"{m.group_id}/{m.member_id}",
                                    {"until": rules.iso(m.until)}, {}, now))
        try:
            tx.commit()
            removed += 1
        except TxFailed:
            skipped += 1  # renewed (until changed), removed by hand, or the group is gone
            _delete_orphan(m)
    return {"removed": removed, "skipped": skipped}


def _delete_orphan(m):
    """A membership of a deleted group: remove it quietly, if it still expired."""
    try:
        Group.get(m.school_id, m.group_id)
    except DoesNotExist:
        try:
            Membership(group_key=m.group_key, member_id=m.member_id).delete(
                condition=Membership.until == m.until)
        except DeleteError:
            pass


# ---------------------------------------------------------------- people and machines

def people(caller, query):
    from ..core.paging import name_search
    q = fold(query.get("q") or "")
    if not q:
        raise validation_failed([FieldError("q", "required", "Type the start of a name.")])
    limit = parse_limit(query, default=20, maximum=50)
    pupils, _ = name_search(Pupil, caller.school_id, q, limit, None, ["school_id", "pupil_id"],
                            Pupil.status == "active")
    staff, _ = name_search(User, caller.school_id, q, limit, None, ["school_id", "user_id"])
    items = [member_json("pupil", p.pupil_id, f"{p.first_name} {p.surname}") for p in pupils]
    items += [member_json("staff", u.user_id, f"{u.first_name} {u.surname}") for u in staff]
    items.sort(key=lambda m: fold(m["name"]))
    return {"items": items[:limit]}


def machine_json(m):
    return {"id": m.machine_id, "name": m.name, "location": m.location}


def create_machine(caller, body, now=None):
    now = now or time.time()
    name = (body.get("name") or "").strip()
    if not name:
        raise validation_failed([FieldError("name", "required", "Give the machine a name.")])
    m = Machine(school_id=caller.school_id, machine_id=new_id(), name=name,
                location=(body.get("location") or "").strip() or None, created_at=int(now))
    tx = Tx()
    tx.put("machine", m, condition=Machine.machine_id.does_not_exist())
    audit.stage(tx, audit.entry(caller, "create", "machine", m.machine_id, {}, machine_json(m), now))
    tx.commit()
    return machine_json(m)


def list_machines(caller):
    return {"items": sorted((machine_json(m) for m in Machine.query(caller.school_id)),
                            key=lambda m: fold(m["name"]))}


def delete_machine(caller, machine_id):
    try:
        m = Machine.get(caller.school_id, machine_id)
    except DoesNotExist:
        raise not_found("machine")
    tx = Tx()
    tx.delete("machine", m, condition=Machine.machine_id.exists())
    audit.stage(tx, audit.entry(caller, "delete", "machine", m.machine_id, machine_json(m), {}))
    try:
        tx.commit()
    except TxFailed:
        raise not_found("machine")
    forget_member(caller.school_id, machine_id)
    return {"deleted": machine_id}


def full_name(values):
    """How a pupil or staff member is named in a group's member list."""
    return f"{values.get('first_name')} {values.get('surname')}"


def member_renamed(school_id, member_id, before, after):
    """After a pupil's or staff member's change ({field: value} before and
    after): if their name changed, every group they are in shows the new one.
    The name is copied onto each membership so a member list is one query;
    this keeps the copies right. Safe to repeat."""
    name = full_name(after)
    if name == full_name(before):
        return
    for m in Membership.by_member.query(f"{school_id}#{member_id}"):
        if m.name == name:
            continue
        try:
            Membership(group_key=m.group_key, member_id=m.member_id).update(
                actions=[Membership.name.set(name)], condition=Membership.member_id.exists())
        except UpdateError:
            continue  # left the group meanwhile


def forget_member(school_id, member_id, now=None):
    """A deleted pupil, staff member or machine leaves every group."""
    now = now or time.time()
    for m in Membership.by_member.query(f"{school_id}#{member_id}"):
        try:
            Membership(group_key=m.group_key, member_id=m.member_id).delete(
                condition=Membership.member_id.exists())
        except DeleteError:
            continue
        try:  # counted until deleted, ended or not
            Group(school_id=school_id, group_id=m.group_id).update(
                actions=[Group.member_count.add(-1)], condition=Group.group_id.exists(),
                add_version_condition=False)
        except Exception:  # noqa: BLE001 - the group went meanwhile
            pass
