"""Groups, memberships and machines. Keys start with the school.

System groups (a year, a registration group, All pupils, All staff) live as
names and member counts on one ``Group`` item per school (``SYSTEM``); their
members are read from the roster's own indexes, so they are always in step.
"""
from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..core.db import index, meta
from ..core.text import fold


class NextEndIndex(GlobalSecondaryIndex):
    """Sparse: only groups with an end to come (their own ``ends_at``, or a
    named colleague's role ending) carry ``ending``; sorted by the soonest of
    those, so the sweep reads exactly the groups something has ended on."""
    class Meta:
        index_name = "groups-by-next-end"
        projection = AllProjection()
    ending = UnicodeAttribute(hash_key=True)
    next_end = NumberAttribute(range_key=True)


class Group(Model):
    Meta = meta("groups")
    school_id = UnicodeAttribute(hash_key=True)
    group_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    #: year | reg | all_pupils | all_staff for system groups; None for teacher groups
    system = UnicodeAttribute(null=True)
    #: the year group (canonical) or registration group a system group stands for
    system_value = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(default="low")
    member_type = UnicodeAttribute(default="user")  # user | machine
    shared = BooleanAttribute(default=True)
    owner_id = UnicodeAttribute(null=True)
    member_count = NumberAttribute(default=0)
    created_at = NumberAttribute(null=True)
    version = VersionAttribute(null=True)
    #: "class" for a class group (made and kept in step by a roster bundle); None otherwise
    kind = UnicodeAttribute(null=True)
    #: a class group's class in the MIS (its sourcedId)
    external_id = UnicodeAttribute(null=True)
    #: a class group's other teachers: they may change it as its owner may
    co_owner_ids = ListAttribute(of=UnicodeAttribute, null=True)
    #: staff named on the group besides its owner: {user id: {"role": owner | teacher | viewer,
    #: "until": epoch seconds or absent}}, so a list of groups says each caller's role with no more reads
    staff = MapAttribute(null=True)
    #: set when its owner was disabled or deleted with no other owner to pass it to: the group goes on
    #: working, listed for the school's admins (manage_settings) to hand on
    unowned_since = NumberAttribute(null=True)
    #: bumped by each change of ``staff``: a change holds to the roles it read
    staff_version = NumberAttribute(null=True)
    #: epoch seconds the group ends: from then it is in no list or read, and the sweep deletes it
    #: (renewed by a PATCH until then)
    ends_at = NumberAttribute(null=True)
    #: set by the sweep as it starts deleting an ended group's memberships: no renewal after
    closing_since = NumberAttribute(null=True)
    #: the soonest of ends_at and the named staff's untils, with ``ending``: the sweep's index
    next_end = NumberAttribute(null=True)
    ending = UnicodeAttribute(null=True)
    by_next_end = NextEndIndex()
    #: set when a class group's class is gone from the MIS (kept, with the members added by hand)
    ended_at = NumberAttribute(null=True)
    #: On the school's one SYSTEM item only: {group id: member count} and
    #: {group id: {"name", "kind", "value"}} of its system groups, so a roster
    #: write or an import flush updates every count in one UpdateItem.
    counts = MapAttribute(null=True)
    meta = MapAttribute(null=True)


SYSTEM = "~system"
ENDING = "ending"


def end_actions(ends_at, staff):
    """The update actions that keep a group in the sweep's index at its
    soonest end (its own, or a named role's), or out of it."""
    from_now = [e["until"] for e in staff.values() if e.get("until") is not None]
    soonest = min(from_now + ([ends_at] if ends_at is not None else []), default=None)
    if soonest is None:
        return [Group.next_end.remove(), Group.ending.remove()]
    return [Group.next_end.set(int(soonest)), Group.ending.set(ENDING)]


class GroupName(Model):
    """A teacher group's name, claimed under its first owner in the school's
    table of unique values (as a UPN is): nobody has two groups of one name.
    A hand-over moves the claim with the group."""
    Meta = meta("uniques")
    school_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    owner_id = UnicodeAttribute()


def name_claim(school_id, owner_id, name):
    return GroupName(school_id=school_id, key=f"group-name#{owner_id}#{fold(name)}", owner_id=owner_id)


class ExpiryIndex(GlobalSecondaryIndex):
    """Sparse: only memberships with an end carry ``expiring``; sorted by
    ``until``, so the sweep reads exactly the expired ones."""
    class Meta:
        index_name = "memberships-by-expiry"
        projection = AllProjection()
    expiring = UnicodeAttribute(hash_key=True)
    until = NumberAttribute(range_key=True)


class Membership(Model):
    Meta = meta("memberships")
    group_key = UnicodeAttribute(hash_key=True)  # school#group
    member_id = UnicodeAttribute(range_key=True)
    school_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    #: school#member: the groups a person is in (for "can the caller see them?")
    member_key = UnicodeAttribute()
    kind = UnicodeAttribute()  # pupil | staff | machine
    name = UnicodeAttribute()
    until = NumberAttribute(null=True)  # epoch seconds UTC; None = until removed
    #: epoch seconds UTC the membership starts (a lesson's start); None = from when added. Before it the
    #: member is in no read of the group (it needs no job: reads filter on it)
    starts = NumberAttribute(null=True)
    expiring = UnicodeAttribute(null=True)
    added_by = UnicodeAttribute()
    added_at = NumberAttribute()
    #: set while the pupil has left the school: kept, so she is back in the
    #: group if she returns before it ends, but neither listed nor counted
    away_since = NumberAttribute(null=True)

    by_expiry = ExpiryIndex()
    by_member = index("memberships-by-member", "member_key", UnicodeAttribute, "group_key")
    #: every membership of a school, by member: a rollover reads its leavers' in a few pages
    by_school = index("memberships-by-school", "school_id", UnicodeAttribute, "member_id")


class Machine(Model):
    Meta = meta("machines")
    school_id = UnicodeAttribute(hash_key=True)
    machine_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    location = UnicodeAttribute(null=True)
    created_at = NumberAttribute()


EXPIRING = "expiring"
