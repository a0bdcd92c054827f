"""The change feed: every roster, group and membership change of a school,
in order, read from the audit log (``GET /api/changes``).

Built on the audit log, not DynamoDB Streams: every change already writes
its entry in its own transaction, keyed by time within the school, so the
feed is one Query of the school's partition from the cursor on, needs no
stream, no second copy of the data and no Lambda to keep in step, and is
the same on the local stack as on AWS. Its order is the entries' keys:
stamped as each change is staged, a moment before it commits. So that a
change stamped before another yet committed after it is never skipped, the
feed reads only to ``SETTLE_SECONDS`` ago (longer than any of our writers
takes from stamp to commit). A membership's scheduled start is an entry
keyed at that start (written with the add): it is served from then, and
only while that membership still starts then.
"""
import re
import time
from dataclasses import dataclass

from ..core import audit
from ..core.clock import iso, iso_stamp
from ..core.db import batch_get
from ..core.errors import ApiError
from ..core.paging import bad_cursor, decode_cursor, encode_cursor
from ..membership.bookkeeping import group_key
from ..membership.models import Membership

#: how long the feed keeps changes (a cursor older is 410 cursor_expired)
KEEP_SECONDS = 30 * 24 * 3600
#: how far behind now the feed reads (see above)
SETTLE_SECONDS = 60
#: record types of the audit log that are roster, group or membership changes
ENTITIES = {"pupil", "staff", "user_group", "group", "group_staff", "membership", "machine"}
#: actions on them that change no data (an invitation sent, two-factor reset)
NOT_CHANGES = {"invite", "mfa_reset", "export"}
#: the feed's clock (tests move it on past the settling minute)
clock = time.time
#: audit entries one request reads at most
MAX_ENTRIES = 1000


@dataclass(frozen=True)
class Position:
    """Where a reader is: after entry ``key``'s first ``done`` changes (one
    entry may hold many: an import's chunk, a group's added members)."""
    key: str
    done: int = 0

    def cursor(self, school_id):
        return encode_cursor({"school_id": school_id, "key": self.key, "done": self.done})


def _expired():
    return ApiError("cursor_expired", "This cursor is older than the 30 days the change feed keeps. Read the "
                    "roster again in full (GET /api/pupils, /api/staff, /api/groups), then follow the feed "
                    "from ?since=now.")


def start_position(school_id, since, now):
    """The position a request reads from: its cursor, ``now`` (nothing
    before this moment), or 30 days ago (no ``since``)."""
    oldest = iso_stamp(now - KEEP_SECONDS)
    if not since:
        return Position(oldest)
    if since == "now":
        return Position(iso_stamp(now - SETTLE_SECONDS) + "~")  # '~' sorts after any '.mmmZ#id' of that second
    state = decode_cursor(since, school_id, keys={"school_id": str, "key": str, "done": int})
    if not (0 <= state["done"] <= 10 ** 6 and re.fullmatch(r"[0-9T:.\-Z~#a-z]{1,80}", state["key"])):
        raise bad_cursor()
    if state["key"] < oldest:
        raise _expired()
    return Position(state["key"], state["done"])


def read(school_id, since=None, limit=100, now=None):
    """{"changes": [...], "next": cursor}: up to ``limit`` changes after the
    position, and the position to ask from next (the same when nothing new)."""
    now = now or clock()
    position = start_position(school_id, since, now)
    settled = iso_stamp(now - SETTLE_SECONDS)
    changes, read_to = [], position
    if position.key < settled:
        changes, read_to = _collect(school_id, position, settled, limit, now)
    return {"changes": changes, "next": read_to.cursor(school_id)}


def _collect(school_id, position, settled, limit, now):
    """Entries from the position to ``settled``, as changes, until ``limit``
    changes or ``MAX_ENTRIES`` entries read (a month of sign-ins between two
    changes is read over a few requests, each answering where it got to)."""
    condition = audit.AuditEntry.entry_key.between(position.key, settled)
    changes, read_to = [], position
    entries = audit.AuditEntry.query(school_id, condition, page_size=100)
    for count, entry in enumerate(entries, start=1):
        items = _still_scheduled(school_id, entry, as_changes(entry))
        skip = position.done if entry.entry_key == position.key else 0
        for n in range(skip, len(items)):
            if len(changes) == limit:
                return changes, Position(entry.entry_key, n)
            changes.append(items[n])
        read_to = Position(entry.entry_key, max(len(items), skip))
        if count == MAX_ENTRIES:
            return changes, read_to
    return changes, max(read_to, Position(settled), key=lambda p: (p.key, p.done))


def as_changes(entry):
    """The changes one audit entry stands for (none for account events,
    exports and the like)."""
    kind, action = entry.record_type, entry.action
    values = _after(entry.changes)
    if kind == "rollover":  # every pupil moved (or back) at once: when it is done, read them again
        status = values.get("status")
        return [_change(entry, "school", entry.school_id, "rollover", {"academic_year": entry.record_id,
                                                                       "status": status, "resync": True})
                ] if action == "update" and status in ("applied", "undone") else []
    if kind not in ENTITIES or action in NOT_CHANGES:
        return []
    if kind == "pupil" and entry.record_id.startswith("import:"):  # (written as plain values)
        created = (entry.changes or {}).get("created") or []
        return [_change(entry, "pupil", pupil_id, "create", {}) for pupil_id in created]
    if kind == "membership" and action in ("add", "start"):
        members = values.get("members") or []
        window = {"from": values.get("from"), "until": values.get("until")}
        return [_change(entry, "membership", f"{entry.record_id}/{m}", action,
                        {"group_id": entry.record_id, "member_id": m, **window}) for m in members]
    if kind == "membership" and "/" not in entry.record_id:  # a class sync's removals, by the group
        before = {k: (v[0] if isinstance(v, list) and len(v) == 2 else v) for k, v in (entry.changes or {}).items()}
        return [_change(entry, "membership", f"{entry.record_id}/{m}", "delete",
                        {"group_id": entry.record_id, "member_id": m}) for m in before.get("members") or []]
    if kind == "membership":
        group_id, _, member_id = entry.record_id.partition("/")
        return [_change(entry, "membership", entry.record_id, "delete", {"group_id": group_id, "member_id": member_id})]
    return [_change(entry, kind, entry.record_id, action, values)]


def _after(changes):
    """The values a change left: ``{field: [before, after]}`` -> ``{field: after}``
    (an entry written as plain values is kept as it is)."""
    if not isinstance(changes, dict):
        return {}
    return {k: (v[1] if isinstance(v, list) and len(v) == 2 else v) for k, v in changes.items()}


def _change(entry, entity, record_id, action, fields):
    return {"at": iso(entry.at), "entity": entity, "id": record_id, "action": action, "fields": fields}


def _still_scheduled(school_id, entry, items):
    """A scheduled start, only for the memberships that still start then (a
    member removed, or added again with another start, meanwhile: not)."""
    if entry.record_type != "membership" or entry.action != "start" or not items:
        return items
    key = group_key(school_id, entry.record_id)
    got = batch_get({c["fields"]["member_id"]: (Membership, {"group_key": key, "member_id": c["fields"]["member_id"]})
                     for c in items})
    return [c for c in items if got[c["fields"]["member_id"]] is not None
            and iso(got[c["fields"]["member_id"]].starts) == c["fields"]["from"]]
