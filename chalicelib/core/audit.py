"""The audit log: one entry per change, written in the change's own
transaction, so a change and its entry exist together or not at all.
Every package writes it (accounts, roster, groups, imports), so it lives in
core; it is append-only (see ``stage``)."""
import time

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .db import meta, new_id
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


def entry(caller, action, record_type, record_id, before, after, now=None):
    now = now or time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    user = caller.user
    name = f"{user.first_name} {user.surname}" if user is not None else caller.user_id
    return AuditEntry(school_id=caller.school_id, entry_key=f"{stamp}#{new_id()[:8]}", at=int(now),
                      actor_id=caller.user_id, actor_name=name, action=action,
                      record_type=record_type, record_id=record_id, changes=diff(before, after))


def as_json(e):
    return {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.at)), "actor_id": e.actor_id,
            "actor_name": e.actor_name, "action": e.action, "record_type": e.record_type,
            "record_id": e.record_id, "changes": e.changes}


def list_entries(school_id, limit, cursor):
    state = decode_cursor(cursor, school_id, keys=("school_id", "entry_key"))
    items = list(AuditEntry.query(school_id, scan_index_forward=False, limit=limit, page_size=limit,
                                  last_evaluated_key=_lek(state)))
    nxt = None
    if len(items) == limit:
        nxt = encode_cursor({"school_id": school_id, "entry_key": items[-1].entry_key})
    return {"items": [as_json(e) for e in items], "next": nxt}


def _lek(state):
    if not state:
        return None
    return {"school_id": {"S": state["school_id"]}, "entry_key": {"S": state["entry_key"]}}
