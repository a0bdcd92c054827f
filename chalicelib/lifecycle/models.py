"""DynamoDB records of rollovers. A Rollover is one per school and academic
year (its key makes a second apply for the year impossible); each pupil it
moved has a RolloverPupil with what they were before, which is what undo
puts back."""
from enum import StrEnum

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from ..core.db import index, meta


class RolloverStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for its day (the hourly schedule queues it)
    QUEUED = "queued"        # on the queue: the worker runs it
    RUNNING = "running"
    APPLIED = "applied"      # can be undone for UNDO_DAYS
    UNDOING = "undoing"
    UNDONE = "undone"        # the year can be rolled over again
    CANCELLED = "cancelled"  # a scheduled one, called off before its day


#: statuses after which the same academic year may be rolled over again
REOPENED = (RolloverStatus.UNDONE, RolloverStatus.CANCELLED)
DUE = "due"


class Rollover(Model):
    Meta = meta("rollovers")
    school_id = UnicodeAttribute(hash_key=True)
    #: the academic year pupils move into, e.g. "2027-28"
    academic_year = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    #: the day it runs (ISO date), for a scheduled one
    on = UnicodeAttribute(null=True)
    #: DUE while scheduled or in flight (sparse): the hourly schedule reads
    #: what is due by ``on``, and queues again a run whose message was lost
    due = UnicodeAttribute(null=True)
    #: when a run or undo was last queued (epoch seconds)
    queued_at = NumberAttribute(null=True)
    final_year = UnicodeAttribute()
    keep_registration_groups = UnicodeAttribute(default="no")  # yes | no
    requested_by = UnicodeAttribute()
    requested_at = NumberAttribute()
    #: this request's run: its pupils' records are keyed by it (two runs in one second stay apart)
    run_id = UnicodeAttribute(null=True)
    applied_at = NumberAttribute(null=True)
    #: {"moved": n, "left": n, "memberships_ended": n}; undo: {"restored": n, "changed_since": [ids]}
    counts = JSONAttribute(null=True)
    undo = JSONAttribute(null=True)
    version = VersionAttribute()

    by_due = index("rollovers-due", "due", UnicodeAttribute, "on")


class RolloverPupil(Model):
    """One pupil a rollover changed: before (to undo), and the version the
    rollover left them at (an undo leaves anyone changed since)."""
    Meta = meta("rollover_pupils")
    #: school#academic year#run (a rollover asked again after an undo is a new run)
    rollover_key = UnicodeAttribute(hash_key=True)
    pupil_id = UnicodeAttribute(range_key=True)
    before = JSONAttribute()
    #: the teacher-group memberships a leaver's rollover ended: [{group_id, until, ...}], no names
    memberships = JSONAttribute(null=True)
    version_after = NumberAttribute()
    undone = NumberAttribute(null=True)
    #: expires (DynamoDB TTL) a month after the run: undo needs it 14 days
    ttl = NumberAttribute(null=True)


#: in flight: the hourly schedule queues these again if their message was lost
IN_FLIGHT = (RolloverStatus.QUEUED, RolloverStatus.RUNNING, RolloverStatus.UNDOING)
KEEP_RECORDS_DAYS = 31


def rollover_key(r):
    """The records of one run of a rollover."""
    return f"{r.school_id}#{r.academic_year}#{r.run_id or int(r.requested_at)}"
