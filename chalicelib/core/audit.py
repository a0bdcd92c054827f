"""The audit log: one entry per change, written in the change's own
transaction, so a change and its entry exist together or not at all.
Every package writes it (accounts, roster, groups, imports), so it lives in
core; it is append-only (see ``stage``)."""
import time
from dataclasses import dataclass, replace

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .db import index, meta, new_id
from .clock import iso, iso_stamp
from .paging import decode_cursor, encode_cursor


class AuditEntry(Model):
    """Who changed which record, when, and what changed (before/after)."""
    Meta = meta("audit")
    school_id = UnicodeAttribute(hash_key=True)
    #: ISO time + random suffix: sorts by time, newest first when reversed.
    entry_key = UnicodeAttribute(range_key=True)
    at = NumberAttribute()
    actor_id = UnicodeAttribute()
    actor_name = UnicodeAttribute()
    action = UnicodeAttribute()  # create | update | delete | export
    record_type = UnicodeAttribute()  # pupil | staff | user_group | settings; pupils | staff (an export)
    record_id = UnicodeAttribute()
    changes = JSONAttribute()
    #: school#record_type#record_id: every entry of one record, for erasing
    #: a pupil's names from their history
    record_key = UnicodeAttribute(null=True)

    by_record = index("audit-by-record", "record_key", UnicodeAttribute, "entry_key")


class Erasure(Model):
    """A record erased whose older audit entries still hold personal fields:
    put in the erasure's own transaction, deleted by the scrub job once they
    are gone. (Its own table, not a second index on the audit: CloudFormation
    adds one index to a table per update.)"""
    Meta = meta("erasures")
    queue = UnicodeAttribute(hash_key=True, default="pending")
    erasure_key = UnicodeAttribute(range_key=True)  # school#record type#record id
    record_key = UnicodeAttribute()
    created_at = NumberAttribute()


#: What an erased pupil's older entries lose: who they were, never what happened.
PERSONAL_FIELDS = ("first_name", "surname", "date_of_birth", "upn", "gender", "name", "email")
PENDING = "pending"
#: how long one run of the scrub may go on (its Lambda has 60 seconds)
SCRUB_SECONDS = 40


@dataclass(frozen=True)
class Actor:
    """Who an entry names when no signed-in caller made the change: an
    account acting on itself (a sign-in), or ``system`` (a schedule)."""
    school_id: str
    user_id: str = "system"
    user: object = None
    #: what the entry calls an actor that is not a person (an API client's name)
    name: str = None


def diff(before, after):
    """{field: [before, after]} for the fields that differ."""
    before, after = before or {}, after or {}
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def stage(tx, item, label="audit"):
    """Put an entry in the change's own transaction. Append-only: the put is
    conditioned on no entry having that key, so nothing overwrites one (the
    API role may only PutItem on this table, never update or delete)."""
    tx.put(label, item, condition=AuditEntry.entry_key.does_not_exist())


def write(item):
    """An entry on its own (for what changes nothing else: an export, a sign-in)."""
    item.save(condition=AuditEntry.entry_key.does_not_exist())


def entry(caller, action, record_type, record_id, before, after, now=None, entry_id=None, changes=None,
          key_at=None):
    """An entry naming ``caller`` (a Caller or an Actor). ``changes`` as
    given, else the diff of ``before`` and ``after``. ``entry_id`` makes the
    key the same on every try (an import's chunk, written once whatever the
    redeliveries); by default it is random."""
    now = now or time.time()
    # the key is stamped as the entry is staged, whatever ``now`` the change was
    # made for (a run's start may be a minute old): the change feed reads in key
    # order. ``key_at``: a later moment it is served from (a scheduled start's).
    keyed = key_at if key_at is not None else time.time()
    stamp = iso_stamp(keyed) + f".{int(keyed * 1000) % 1000:03d}Z"
    user = caller.user
    name = f"{user.first_name} {user.surname}" if user is not None else (getattr(caller, "name", None)
                                                                         or caller.user_id)
    return AuditEntry(school_id=caller.school_id, entry_key=f"{stamp}#{entry_id or new_id()[:8]}", at=int(now),
                      actor_id=caller.user_id, actor_name=name, action=action, record_type=record_type,
                      record_id=record_id, record_key=record_key(caller.school_id, record_type, record_id),
                      changes=diff(before, after) if changes is None else changes)


#: The key prefix of a deleted record's marker: kept beside the log (its keys sort after every
#: time, so no time range of the log or the change feed reads one), for OneRoster's
#: "tobedeleted" of a record deleted in the last 30 days (integrations/or_data.py).
GONE = "~gone#"


def gone(school_id, record_type, record_id, sourced_id, now=None):
    """The marker of a deleted pupil or member of staff: its ids only, no name."""
    now = now or time.time()
    stamp = iso_stamp(now)
    return AuditEntry(school_id=school_id, entry_key=f"{GONE}{stamp}#{record_type}#{record_id}", at=int(now),
                      actor_id="system", actor_name="system", action="gone", record_type=record_type,
                      record_id=record_id, changes={"sourced_id": sourced_id})


def gone_since(school_id, since):
    """The markers of records deleted since ``since`` (one Query: a month's deletions)."""
    return AuditEntry.query(school_id, AuditEntry.entry_key.between(GONE + iso_stamp(since), GONE + "~"))


def record_key(school_id, record_type, record_id):
    return f"{school_id}#{record_type}#{record_id}"


def scrubbed(changes):
    """An entry's changes without the personal fields (an erased pupil's)."""
    if not isinstance(changes, dict):
        return changes
    kept = {k: v for k, v in changes.items() if k not in PERSONAL_FIELDS}
    if len(kept) != len(changes):
        kept["erased"] = sorted(set(changes) - set(kept))
    return kept


def erasure(school_id, record_type, record_id, now):
    """The pending scrub an erasure stages with its tombstone."""
    key = record_key(school_id, record_type, record_id)
    return Erasure(queue=PENDING, erasure_key=key, record_key=key, created_at=int(now))


def scrub_pending(budget=SCRUB_SECONDS, clock=time.monotonic):
    """Erasures whose record's history still has personal fields: every
    entry of that record loses them (an UpdateItem: only the job that erases
    may do it; every other role is append-only), then the erasure goes. As
    many as fit in ``budget`` seconds; the rest next run. Safe to repeat."""
    done, started = 0, clock()
    for pending in Erasure.query(PENDING):
        for e in AuditEntry.by_record.query(pending.record_key):
            cleaned = scrubbed(e.changes)
            if cleaned != e.changes:
                e.update(actions=[AuditEntry.changes.set(cleaned)], condition=AuditEntry.entry_key.exists())
        pending.delete()
        done += 1
        if clock() - started > budget:
            break
    return done


def as_json(e):
    return {"at": iso(e.at), "actor_id": e.actor_id,
            "actor_name": e.actor_name, "action": e.action, "record_type": e.record_type,
            "record_id": e.record_id, "changes": e.changes}


@dataclass(frozen=True)
class AuditFilter:
    """What ``GET /api/audit`` narrows to: a time range (the sort key, so
    only that stretch is read), and the record type, record, actor and
    action (filters within it)."""
    entity: str = None
    record_id: str = None
    actor: str = None
    action: str = None
    since: float = None
    until: float = None

    def key_condition(self):
        low = iso_stamp(self.since) if self.since is not None else None
        high = iso_stamp(self.until) + "~" if self.until is not None else None  # '~' sorts after '#...'
        if low and high:
            return AuditEntry.entry_key.between(low, high)
        if low:
            return AuditEntry.entry_key >= low
        if high:
            return AuditEntry.entry_key <= high
        return None

    def filter_condition(self):
        condition = None
        for attr, value in ((AuditEntry.record_type, self.entity), (AuditEntry.record_id, self.record_id),
                            (AuditEntry.actor_id, self.actor), (AuditEntry.action, self.action)):
            if value:
                condition = (attr == value) if condition is None else condition & (attr == value)
        return condition


def list_entries(school_id, limit, cursor, where=None):
    """One page, newest first. With filters a page may hold fewer than
    ``limit`` entries and still have a ``next``: it is the position read to."""
    where = where or AuditFilter()
    now = time.time()
    if where.until is None or where.until > now:  # a scheduled start's entry waits for its time
        where = replace(where, until=now)
    state = decode_cursor(cursor, school_id, keys={"school_id": str, "entry_key": str})
    results = AuditEntry.query(school_id, where.key_condition(), filter_condition=where.filter_condition(),
                               scan_index_forward=False, limit=limit, page_size=limit,
                               last_evaluated_key=_lek(state))
    items = list(results)
    last = results.last_evaluated_key
    nxt = None
    if last and "entry_key" in last:
        nxt = encode_cursor({"school_id": school_id, "entry_key": last["entry_key"]["S"]})
    return {"items": [as_json(e) for e in items], "next": nxt}


def _lek(state):
    if not state:
        return None
    return {"school_id": {"S": state["school_id"]}, "entry_key": {"S": state["entry_key"]}}
