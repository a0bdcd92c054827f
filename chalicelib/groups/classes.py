"""Class groups: the MIS's classes as groups teachers can use, made and kept
in step by a roster bundle (issue 18).

A class group is found again by its class's sourcedId (its ``external_id``;
its id is made from it, so two syncs at once make one group). It is owned by
its primary teacher and shared with its other teachers (co-owners); one
whose teachers are not on the roster has no owner, so the school's admins
hold it. Its pupils are the class's enrolled pupils: a sync adds and removes
only the memberships a sync added (``added_by`` is ``MIS``), so the pupils a
teacher added by hand stay. A class gone from the MIS is ended, not deleted.
Every write is conditional and each sync safe to repeat."""
import hashlib
import time
from dataclasses import dataclass, field

from ..accounts.models import User
from ..accounts.permissions import rights_beyond
from ..core import audit
from ..core.db import Tx, TxFailed
from ..core.spill import Spill
from ..membership.bookkeeping import as_read, full_name, group_key
from ..membership.models import Group, Membership
from ..roster.models import ON_ROLL, Pupil

CLASS = "class"
#: ``added_by`` of a membership a sync made
MIS = "mis"
#: memberships in one transaction, beside the group's count and the audit entry
PER_TX = 45
#: memberships in the transaction that makes a class group, each with its
#: pupil's check, beside the group and its two audit entries (DynamoDB takes
#: 100 items in one): most classes are one write
PER_NEW_GROUP = 48
#: tries of a transaction that clashed with another write to the same group
TRIES = 4
#: what building the same groups by hand takes: making groups, putting anyone
#: in them, and reaching groups that are not one's own (a sync hands classes
#: to their teachers and changes groups teachers hold)
SYNC_RIGHTS = ("create_groups", "add_any_user", "view_all_groups")


@dataclass
class MisClass:
    """A class as the MIS has it: its people by their MIS ids (sourcedIds),
    the primary teacher first."""
    external_id: str
    name: str
    teachers: list = field(default_factory=list)
    pupils: list = field(default_factory=list)


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0
    members_added: int = 0
    members_removed: int = 0
    #: enrolled pupils who are not on the roll (refused, or not in the bundle)
    pupils_unmatched: int = 0

    def as_dict(self):
        return dict(self.__dict__)


def rights_missing(caller):
    """The rights ``caller`` lacks to sync class groups (none for a holder of
    manage_settings, or for a drop, which acts as the school)."""
    return rights_beyond(caller.permissions, SYNC_RIGHTS)


def left_alone(missing):
    """A bundle's classes, not synced because whoever imports it lacks ``missing``."""
    names = ", ".join(f"'{m}'" for m in missing)
    return {"left_alone": True, "missing": list(missing),
            "message": f"The class groups are left as they are: making them from the MIS needs {names}, which "
                       "you do not hold. The pupils and staff are imported; someone who holds them (or "
                       "'manage_settings') can import the bundle again to bring the classes in."}


def class_group_id(school_id, external_id):
    return "cls-" + hashlib.sha1(f"{school_id}#{external_id}".encode("utf-8")).hexdigest()[:20]


def class_groups(school_id):
    """{external id: Group} of the school's class groups (one key query)."""
    return {g.external_id: g for g in Group.query(school_id, filter_condition=Group.kind == CLASS)}


def preview(school_id, classes, held=None, listed=0):
    """What a sync would do to the school's classes, for the review, in one
    pass over ``classes``: ({classes, new, ended, pupils, live}, the first
    ``listed`` classes). (pupils: enrollments of pupils; live: the school's
    class groups not ended, before the sync.)"""
    held = class_groups(school_id) if held is None else held
    counts, wanted, first = {"classes": 0, "new": 0, "pupils": 0}, set(), []
    for cls in classes:
        counts["classes"] += 1
        counts["new"] += cls.external_id not in held
        counts["pupils"] += len(cls.pupils)
        wanted.add(cls.external_id)
        if len(first) < listed:
            first.append(cls)
    live = [k for k, g in held.items() if g.ended_at is None]
    counts["live"] = len(live)
    counts["ended"] = sum(1 for k in live if k not in wanted)
    return counts, first


def sync(actor, school_id, classes, now=None):
    """Bring the school's class groups in step with ``classes`` (MisClass,
    read once, one at a time). (``now``, whole seconds, is what the groups
    and memberships record; audit entries keep their own, to the
    millisecond, so they list in the order they happened.)"""
    now = int(now or time.time())
    held = class_groups(school_id)
    result, wanted_ids = SyncResult(), set()
    with _pupils_on_roll(school_id) as pupils:
        staff = _staff_ids(school_id)
        for cls in classes:
            wanted_ids.add(cls.external_id)
            teachers = [staff[t] for t in cls.teachers if t in staff]
            wanted = {}
            for p in cls.pupils:
                found = pupils.get(p)
                if len(found) == 1:  # (an MIS id two records hold names neither)
                    wanted[found[0][0]] = found[0][1]
                else:
                    result.pupils_unmatched += 1
            group = held.get(cls.external_id)
            if group is None and _create(actor, school_id, cls, teachers, wanted, now, result):
                continue
            group = _put_group(actor, school_id, cls, group, teachers, now, result)
            _sync_members(actor, group, wanted, now, result)
    gone = [g for k, g in held.items() if k not in wanted_ids and g.ended_at is None]
    for group in gone:
        _end(actor, group, now)
        _sync_members(actor, group, {}, now, result)
        result.ended += 1
    return result


def _pupils_on_roll(school_id):
    """{MIS id: [(pupil id, name)]} of the pupils on roll, on disk (a
    school's roll is as big as a bundle: core.spill)."""
    pupils = Spill(2)
    try:
        for p in Pupil.query(school_id, attributes_to_get=["pupil_id", "external_id", "first_name", "surname",
                                                           "status"], consistent_read=True):
            if p.external_id and (p.status or "active") == "active":
                pupils.add(p.external_id, p.pupil_id, full_name(p.attribute_values))
    except BaseException:
        pupils.close()
        raise
    return pupils


def _staff_ids(school_id):
    """{MIS id: user id} of the staff. An MIS id two records hold names
    neither: a class is never handed to whoever copied a teacher's id onto
    their own record."""
    return _unique((u.external_id, u.user_id)
                   for u in User.query(school_id, attributes_to_get=["user_id", "external_id"], consistent_read=True)
                   if u.external_id)


def _unique(pairs):
    """{key: value} of the keys that came once."""
    found, twice = {}, set()
    for key, value in pairs:
        if key in found:
            twice.add(key)
        found[key] = value
    return {k: v for k, v in found.items() if k not in twice}


def snapshot(g):
    return {"name": g.name, "owner_id": g.owner_id, "co_owner_ids": list(g.co_owner_ids or []),
            "ended_at": g.ended_at}


def _new_group(school_id, cls, teachers, member_count, now):
    owner, co_owners = (teachers[0], teachers[1:]) if teachers else (None, [])
    return Group(school_id=school_id, group_id=class_group_id(school_id, cls.external_id), kind=CLASS,
                 external_id=cls.external_id, name=cls.name, owner_id=owner, co_owner_ids=co_owners,
                 shared=True, priority="low", member_type="user", member_count=member_count, created_at=now)


def _membership(group, member_id, name, now):
    return Membership(group_key=group_key(group.school_id, group.group_id), member_id=member_id,
                      school_id=group.school_id, group_id=group.group_id, member_key=f"{group.school_id}#{member_id}",
                      kind="pupil", name=name, added_by=MIS, added_at=now)


def _create(actor, school_id, cls, teachers, wanted, now, result):
    """A class seen for the first time: its group and its first pupils in one
    transaction (a class of up to PER_NEW_GROUP pupils is one write, which is
    what keeps a first bundle of thousands of classes quick), each membership
    new and each pupil still on roll as it is written. False when any of that
    fails (a sync at the same moment made the group, a pupil left, a
    membership outlived a deleted group): the group is then made and filled
    the careful way, one condition at a time."""
    members = list(wanted.items())
    first, rest = members[:PER_NEW_GROUP], members[PER_NEW_GROUP:]
    group = _new_group(school_id, cls, teachers, len(first), now)
    adds = [_membership(group, i, name, now) for i, name in first]
    tx = Tx()
    tx.put("group", group, condition=Group.group_id.does_not_exist())
    for m in adds:
        tx.put(f"add:{m.member_id}", m, condition=Membership.member_id.does_not_exist())
        tx.check(f"pupil:{m.member_id}", Pupil, school_id, m.member_id, condition=ON_ROLL)
    audit.stage(tx, audit.entry(actor, "create", "group", group.group_id, {}, snapshot(group)), "audit:group")
    if adds:
        audit.stage(tx, audit.entry(actor, "add", "membership", group.group_id, {},
                                    {"members": [m.member_id for m in adds], "by": MIS}), "audit:members")
    try:
        tx.commit()
    except TxFailed:
        return False
    result.created += 1
    result.members_added += len(adds)
    for start in range(0, len(rest), PER_TX):
        chunk = [_membership(group, i, name, now) for i, name in rest[start:start + PER_TX]]
        result.members_added += _write(actor, group, chunk, [], now)
    return True


def _put_group(actor, school_id, cls, group, teachers, now, result):
    """The class's group, made or brought up to date (name, teachers, not ended)."""
    owner, co_owners = (teachers[0], teachers[1:]) if teachers else (None, [])
    if group is None:
        group = _new_group(school_id, cls, teachers, 0, now)
        tx = Tx()
        tx.put("group", group, condition=Group.group_id.does_not_exist())
        audit.stage(tx, audit.entry(actor, "create", "group", group.group_id, {}, snapshot(group)))
        try:
            tx.commit()
            result.created += 1
            return group
        except TxFailed:  # made by a sync at the same moment: brought up to date below
            group = Group.get(school_id, group.group_id, consistent_read=True)
    before = snapshot(group)
    group.name, group.owner_id, group.co_owner_ids, group.ended_at = cls.name, owner, co_owners, None
    if snapshot(group) == before:
        result.unchanged += 1
        return group
    tx = Tx()
    tx.update("group", group, [Group.name.set(cls.name), Group.owner_id.set(owner),
                               Group.co_owner_ids.set(co_owners), Group.ended_at.remove()],
              condition=Group.group_id.exists(), add_version_condition=False)
    audit.stage(tx, audit.entry(actor, "update", "group", group.group_id, before, snapshot(group)))
    tx.commit()
    result.updated += 1
    return group


def _end(actor, group, now):
    before = snapshot(group)
    group.ended_at = now
    tx = Tx()
    tx.update("group", group, [Group.ended_at.set(now)], condition=Group.group_id.exists(),
              add_version_condition=False)
    audit.stage(tx, audit.entry(actor, "update", "group", group.group_id, before, snapshot(group)))
    tx.commit()


def _sync_members(actor, group, wanted, now, result):
    """Add the wanted pupils who are not members; remove the members a sync
    added who are no longer wanted. Hand-added members are never touched."""
    key = group_key(group.school_id, group.group_id)
    current = {m.member_id: m for m in Membership.query(key)}
    adds = [_membership(group, i, name, now) for i, name in wanted.items() if i not in current]
    removes = [m for i, m in current.items() if m.added_by == MIS and i not in wanted]
    for start in range(0, len(adds), PER_TX):
        result.members_added += _write(actor, group, adds[start:start + PER_TX], [], now)
    for start in range(0, len(removes), PER_TX):
        result.members_removed += _write(actor, group, [], removes[start:start + PER_TX], now)


def _write(actor, group, adds, removes, now):
    """One transaction of memberships put or deleted, the group's count and
    an audit entry; if another write got there first, each alone (one that
    fails then has been made or removed meanwhile). Returns how many held."""
    if _commit(actor, group, adds, removes, now):
        return len(adds) + len(removes)
    done = 0
    for m in adds:
        done += _commit(actor, group, [m], [], now)
    for m in removes:
        done += _commit(actor, group, [], [m], now)
    return done


def _commit(actor, group, adds, removes, now):
    for attempt in range(TRIES):
        try:
            _tx(actor, group, adds, removes, now).commit()
            return True
        except TxFailed as exc:
            if exc.failed or not exc.conflict:
                return False  # a condition: made or removed meanwhile, or the pupil left
            time.sleep(0.05 * 2 ** attempt)  # another write to the group's count at the same moment
    return False


def _tx(actor, group, adds, removes, now):
    """Memberships put or deleted, the group's count and an audit entry, together."""
    tx = Tx()
    for m in adds:
        tx.put(f"add:{m.member_id}", m, condition=Membership.member_id.does_not_exist())
        tx.check(f"pupil:{m.member_id}", Pupil, group.school_id, m.member_id, condition=ON_ROLL)
    for m in removes:
        tx.delete(f"remove:{m.member_id}", Membership(group_key=m.group_key, member_id=m.member_id),
                  condition=(Membership.added_by == MIS) & as_read(m) & Membership.member_id.exists(),
                  add_version_condition=False)
    counted = len(adds) - sum(1 for m in removes if m.away_since is None)
    if counted:
        tx.update("count", Group(school_id=group.school_id, group_id=group.group_id),
                  [Group.member_count.add(counted)], condition=Group.group_id.exists(), add_version_condition=False)
    if adds:
        audit.stage(tx, audit.entry(actor, "add", "membership", group.group_id, {},
                                    {"members": [m.member_id for m in adds], "by": MIS}))
    if removes:  # (an entry of their own: the change feed reads each removal)
        audit.stage(tx, audit.entry(actor, "delete", "membership", group.group_id,
                                    {"members": [m.member_id for m in removes], "by": MIS}, {}),
                    label="audit removes")
    return tx
