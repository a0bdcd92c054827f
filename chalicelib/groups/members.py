"""Changing a group's members: adding people (only those the caller can
already see, unless they hold add_any_user) with an optional start and end,
removing one, and the sweep of ended memberships. Reading them is in
listing.py.

A membership's ``until`` hides it from every read the moment it passes; the
scheduled sweep removes it later, reading only what has expired (a sparse
index on ``until``) and deleting on condition that ``until`` is still what
it read, so a renewal racing the sweep survives.
"""
import time

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from ..accounts.models import User
from ..core import audit
from ..core.clock import iso
from ..core.db import Tx, TxFailed, batch_get
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from ..membership import rules
from ..membership.bookkeeping import as_read, current, group_key
from ..membership.models import EXPIRING, Group, Machine, Membership
from ..roster.models import ON_ROLL, Pupil
from ..roster.settings import max_group_members
from .listing import member_json
from .service import get_visible

MAX_MEMBERS_PER_CALL = 100


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
    memberships = Membership.by_member.query(f"{school_id}#{record_id(kind, record)}", filter_condition=current(now))
    group_ids = [m.group_id for m in memberships if m.group_id != target_group_id]
    if not group_ids:
        return False
    for g in Group.batch_get([(school_id, gid) for gid in group_ids]):
        if rules.can_see(caller, g, now):
            return True
    return False


ID_ATTR = {"pupil": "pupil_id", "staff": "user_id", "machine": "machine_id"}


def record_id(kind, record):
    return getattr(record, ID_ATTR[kind])


def add_members(caller, group_id, body, now=None):
    """Add (or renew) up to MAX_MEMBERS_PER_CALL members, each until
    ``until`` or until removed: all or none of each MEMBERS_PER_TX (a call
    refused part way has written, and counted, its first transactions)."""
    now = now or time.time()
    g = get_visible(caller, group_id, now)
    _refuse_system(g)
    _refuse_viewer(caller, g, now)
    ids, until, starts = _members_asked(body, now)
    key = group_key(g.school_id, g.group_id)
    found, existing = _lookup(g.school_id, key, ids, g.member_type)
    _refuse_unknown(g, ids, found)
    if not caller.has("add_any_user"):
        _refuse_hidden(caller, g, ids, found, now)
    _refuse_leavers(ids, found)
    live_before = sum(1 for m in existing.values() if (m.until is None or m.until > now) and m.away_since is None)
    memberships = [Membership(group_key=key, member_id=i, school_id=g.school_id, group_id=g.group_id,
                              member_key=f"{g.school_id}#{i}", kind=found[i][0], name=found[i][1], until=until,
                              starts=starts, expiring=EXPIRING if until else None, added_by=caller.user_id,
                              added_at=int(now))
                   for i in ids]
    # An ended membership the sweep hasn't removed yet may go any moment: it
    # is renewed only on condition it is still the one read (the sweep's own
    # condition), else written anew and counted.
    ended = {i for i, m in existing.items() if m.until is not None and m.until <= now}
    # one set aside (its pupil left, and is back while it was not given back) is counted again
    aside = {i for i, m in existing.items() if m.away_since is not None and i not in ended}
    kinds = {i: found[i][0] for i in ids}
    new_items = len([i for i in ids if i not in existing]) + len(aside)
    cap = max_group_members(caller.school)
    if new_items and int(g.member_count or 0) + new_items > cap:
        raise _full_error(cap, int(g.member_count or 0))
    _write_memberships(caller, g, [m for m in memberships if m.member_id not in ended], until, now, kinds, aside,
                       existing, cap)
    _renew_ended(g, [m for m in memberships if m.member_id in ended], existing)
    added = len(ids) - live_before
    return {"added": added, "updated": len(ids) - added, "until": iso(until), "from": iso(starts),
            "members": [member_json(found[i][0], i, found[i][1], until, starts, found[i][2]) for i in ids]}


def _refuse_viewer(caller, g, now):
    """403 for a caller who sees the group but may not change its members (a named viewer)."""
    if not rules.can_change_members(caller, g, now):
        raise ApiError("permission_denied", "You can see this group's members but not change them: ask one of "
                       "its owners to make you a teacher of it.", permission="group_teacher")


def _refuse_system(g):
    if g.system:
        message = "System groups follow the roster; they can't be edited by hand."
        raise ApiError("validation_failed", message,
                       errors=[{"field": "group", "code": "system_group", "message": message}])


def _members_asked(body, now):
    """(distinct member ids, until, starts) from an add request, or 422."""
    ids = body.get("member_ids") or []
    if not ids or len(ids) > MAX_MEMBERS_PER_CALL or not all(isinstance(i, str) and i for i in ids):
        raise validation_failed([FieldError("member_ids", "invalid_choice",
                                            f"Send 1–{MAX_MEMBERS_PER_CALL} member ids.")])
    until, problem = rules.parse_until(body.get("until"), now)
    if problem:
        raise validation_failed([problem])
    starts, problem = rules.parse_from(body.get("from"), now, until)
    if problem:
        raise validation_failed([problem])
    return list(dict.fromkeys(ids)), until, starts


def _refuse_unknown(g, ids, found):
    unknown = [i for i in ids if i not in found]
    if unknown:
        what = "machines" if g.member_type == "machine" else "pupils or staff"
        raise ApiError("validation_failed", f"These ids are not {what} in your school: {', '.join(unknown)}. "
                       f"This group holds {g.member_type}s.",
                       errors=[{"field": "member_ids", "code": "unknown_member", "message": i} for i in unknown])


def _refuse_leavers(ids, found):
    left = [i for i in ids if found[i][0] == "pupil" and (found[i][2].status or "active") != "active"]
    if left:
        raise _leavers_error(left)


def _leavers_error(left):
    return ApiError("validation_failed", f"These pupils have left the school: {', '.join(left)}. "
                    "Put them back on roll first.",
                    errors=[{"field": "member_ids", "code": "pupil_left", "message": i} for i in left])


def _refuse_hidden(caller, g, ids, found, now):
    hidden = [i for i in ids if not _visible_elsewhere(caller, g.school_id, g.group_id, found[i][0],
                                                       found[i][2], now)]
    if hidden:
        raise ApiError("permission_denied",
                       "You can add only people you can already see in another of your groups. "
                       f"Not visible to you: {', '.join(hidden)}. Adding anyone needs 'add_any_user'.",
                       permission="add_any_user", member_ids=hidden)


def _renew_ended(g, memberships, existing):
    """Renew ended memberships on condition each is still the one read;
    one the sweep took meanwhile is written anew and counted. (The count is
    of membership items, ended ones included until the sweep deletes them:
    renewing an ended one adds nothing.)"""
    recreated = 0
    for m in memberships:
        before = existing[m.member_id]
        try:
            m.save(condition=(Membership.until == before.until) & as_read(before))
            recreated += before.away_since is not None  # one set aside was not counted
        except PutError:
            m.save()
            recreated += 1
    if recreated:
        Group(school_id=g.school_id, group_id=g.group_id).update(
            actions=[Group.member_count.add(recreated)], add_version_condition=False)


#: memberships in one transaction, each with a check that its pupil is still on roll,
#: beside the group's count and the audit entries (at most 100 items)
MEMBERS_PER_TX = 45
#: tries of a transaction that clashed with another write to the group's count
TRIES = 3


def _as_read(member_id, existing, aside):
    """The condition a membership's put holds to: as it was read (new, still
    here, or still set aside), so the count the put goes with is exact even
    when two people add the same pupil at once."""
    if member_id in aside:
        return Membership.away_since.exists()
    if member_id in existing:
        return Membership.member_id.exists() & Membership.away_since.does_not_exist()
    return Membership.member_id.does_not_exist()


def _full_error(cap, held=None):
    """422 group_full naming how many more fit (``held``: the group's count as
    read; None when it filled up meanwhile)."""
    fit = None if held is None else max(0, cap - held)
    message = (f"This group filled up just now (it holds at most {cap} members); reload it to see how many "
               "fit." if fit is None else f"This group holds at most {cap} members; {fit} more fit." if fit
               else f"This group is full: it holds at most {cap} members.")
    return ApiError("validation_failed", message,
                    errors=[{"field": "member_ids", "code": "group_full", "message": message}], fit=fit)


def _write_memberships(caller, g, memberships, until, now, kinds, aside, existing, cap):
    """Put memberships in transactions of MEMBERS_PER_TX, each with its audit
    entry (who added whom, until when) and the group's count of its own new
    items, on condition the group is there and has room for them (at most
    ``cap``): an add of more than one transaction that stops part way has
    counted exactly what it wrote. Each put holds to the membership as it
    was read. A pupil who left since she was read fails it (422
    pupil_left): nobody is added to a group as they leave. ``aside``: ids
    whose membership was set aside, replaced only if still so (it is
    counted again). A clash with another write to the group's count is
    tried again."""
    for start in range(0, len(memberships), MEMBERS_PER_TX):
        chunk = memberships[start:start + MEMBERS_PER_TX]
        new = sum(1 for m in chunk if m.member_id not in existing or m.member_id in aside)
        for attempt in range(TRIES):
            try:
                _chunk_tx(caller, g, chunk, new, until, now, kinds, aside, existing, cap).commit()
                break
            except TxFailed as exc:
                left = sorted(label.split(":", 1)[1] for label in exc.failed if label.startswith("pupil:"))
                if left:
                    raise _leavers_error(left)
                if "count" in exc.failed:
                    raise _full_error(cap)
                if exc.failed or not exc.conflict or attempt == TRIES - 1:
                    raise ApiError("conflict", "Someone changed this group's members just now; try again.")
                time.sleep(0.05 * 2 ** attempt)


def _chunk_tx(caller, g, chunk, new, until, now, kinds, aside, existing, cap):
    tx = Tx()
    for m in chunk:
        tx.put(f"member:{m.member_id}", m, condition=_as_read(m.member_id, existing, aside))
        if kinds[m.member_id] == "pupil":
            tx.check(f"pupil:{m.member_id}", Pupil, g.school_id, m.member_id, condition=ON_ROLL)
    if new:
        tx.update("count", Group(school_id=g.school_id, group_id=g.group_id), [Group.member_count.add(new)],
                  condition=Group.group_id.exists() & (Group.member_count.does_not_exist() |
                                                       (Group.member_count <= cap - new)),
                  add_version_condition=False)
    members, starts = [m.member_id for m in chunk], chunk[0].starts
    window = {"until": iso(until), **({"from": iso(starts)} if starts else {})}
    audit.stage(tx, audit.entry(caller, "add", "membership", g.group_id, {}, {"members": members, **window}, now))
    if starts and starts > now:  # the change feed's entry at the start (integrations/feed.py)
        audit.stage(tx, audit.entry(caller, "start", "membership", g.group_id, {}, {"members": members, **window},
                                    starts, key_at=starts), label="audit start")
    return tx


def remove_member(caller, group_id, member_id, now=None):
    now = now or time.time()
    g = get_visible(caller, group_id, now)
    _refuse_system(g)
    _refuse_viewer(caller, g, now)
    key = group_key(g.school_id, g.group_id)
    try:
        m = Membership.get(key, member_id, consistent_read=True)
    except DoesNotExist:
        raise not_found("member of this group")
    tx = Tx()
    tx.delete("membership", m, condition=Membership.member_id.exists() & as_read(m), add_version_condition=False)
    if m.away_since is None:  # counted until deleted, ended or not (the sweep won't find it now)
        tx.update("count", Group(school_id=g.school_id, group_id=g.group_id), [Group.member_count.add(-1)],
                  add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "delete", "membership", f"{g.group_id}/{member_id}",
                                {"until": iso(m.until)}, {}, now))
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
                  condition=(Membership.until == m.until) & as_read(m), add_version_condition=False)
        if m.away_since is None:  # a leaver's is not counted
            tx.update("count", Group(school_id=m.school_id, group_id=m.group_id),
                      [Group.member_count.add(-1)], condition=Group.group_id.exists(), add_version_condition=False)
        else:
            tx.check("group", Group, m.school_id, m.group_id, condition=Group.group_id.exists())
        audit.stage(tx, audit.entry(actor, "delete", "membership", f"{m.group_id}/{m.member_id}",
                                    {"until": iso(m.until)}, {}, now))
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


