"""Pupils: create, read, list/search, update (optimistic), delete.

A UPN is unique within a school because a ``UniqueKey`` claiming it is put,
with a does-not-exist condition, in the same transaction as the pupil."""
import time
from datetime import datetime, timezone
from enum import StrEnum

from pynamodb.exceptions import DoesNotExist

from ..core.db import Tx, TxFailed, new_id
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from ..core.paging import decode_cursor, encode_cursor, name_search, parse_limit, query_page
from ..core.text import fold, sort_keys
from ..membership import rules as group_rules
from ..membership import system as system_groups
from ..membership.bookkeeping import forget_member, member_back, member_left, member_renamed
from ..core import audit
from ..core.clock import iso
from .models import Pupil, PupilStatus, Source, UniqueKey
from .validation import clean_pupil, clean_status, clean_year_group

FIELDS = ("first_name", "surname", "date_of_birth", "gender", "year_group",
          "registration_group", "upn", "external_id")
#: whether they are on roll: set by hand (PATCH), by a full drop, or by a file naming them again
STATUS_FIELDS = ("status", "left_on")


def upn_key(upn):
    return f"upn#{upn}"


def reg_key(school_id, registration_group):
    return f"{school_id}#{fold(registration_group)}" if registration_group else None


def as_json(p):
    return {"id": p.pupil_id, **{f: getattr(p, f) for f in FIELDS}, "status": p.status or PupilStatus.ACTIVE,
            "left_on": p.left_on, "source": p.source, "version": p.version,
            "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}


def snapshot(p):
    """What the audit log keeps of a pupil (and an export reads)."""
    return {**{f: getattr(p, f) for f in FIELDS}, "status": p.status or PupilStatus.ACTIVE, "left_on": p.left_on}


def grouping(p):
    """What decides a pupil's system groups."""
    return {"year_group": p.year_group, "registration_group": p.registration_group,
            "status": p.status or "active"}


def apply(p, values, now):
    """Set cleaned values and the derived index keys."""
    for field, value in values.items():
        setattr(p, field, value)
    p.sort_name, p.first_sort = sort_keys(p.first_name, p.surname, p.pupil_id)
    p.year_key = f"{p.school_id}#{p.year_group}"
    p.reg_key = reg_key(p.school_id, p.registration_group)
    leaving(p)
    p.updated_at = int(now)


def leaving(p):
    """The sparse key the retention job reads leavers by (only while left)."""
    p.leaver_key = p.school_id if p.status == PupilStatus.LEFT and p.left_on else None
    if p.status != PupilStatus.LEFT:
        p.left_by = None


def duplicate_upn(upn):
    message = f"Another pupil in your school already has the UPN {upn}. Check both records."
    return ApiError("duplicate_upn", message,
                    errors=[{"field": "upn", "code": "duplicate_upn", "message": message}])


def conflict(what="pupil"):
    return ApiError("conflict", f"This {what} was changed by someone else since you opened it. "
                    "Reload it and make your change again.")


def get(school_id, pupil_id):
    try:
        return Pupil.get(school_id, pupil_id, consistent_read=True)
    except DoesNotExist:
        raise not_found("pupil")


def new_pupil(school_id, values, now, pupil_id=None, source=Source.IMPORT):
    p = Pupil(school_id=school_id, pupil_id=pupil_id or new_id(), created_at=int(now), source=source)
    apply(p, {f: values.get(f) for f in FIELDS}, now)
    return p


def add_to_tx(tx, caller, p, label="pupil"):
    """Stage a new pupil (and its UPN claim and audit entry) in ``tx``."""
    tx.put(label, p, condition=Pupil.pupil_id.does_not_exist())
    if p.upn:
        tx.put(f"{label}:upn", UniqueKey(school_id=p.school_id, key=upn_key(p.upn), owner_id=p.pupil_id),
               condition=UniqueKey.key.does_not_exist())
    audit.stage(tx, audit.entry(caller, "create", "pupil", p.pupil_id, {}, snapshot(p)), label=f"{label}:audit")
    system_groups.stage(tx, p.school_id, group_rules.pupil_deltas({}, grouping(p)), pupil_write=True)


def create(caller, body, now=None):
    now = now or time.time()
    values, errors = clean_pupil({f: body.get(f) for f in FIELDS})
    if errors:
        raise validation_failed(errors)
    return as_json(insert(caller, new_pupil(caller.school_id, values, now, source=Source.MANUAL)))


def insert(caller, p, retry_safe=False):
    """Write a new pupil in one transaction. ``retry_safe``: the same pupil
    id written before (a restarted import) counts as done."""
    tx = Tx()
    add_to_tx(tx, caller, p)
    try:
        tx.commit()
    except TxFailed as exc:
        if retry_safe and "pupil" in exc.failed:
            return p
        raise exc.refusal({"pupil:upn": lambda: duplicate_upn(p.upn)}, conflict)
    return p


def require_version(body):
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise validation_failed([FieldError("version", "required",
                                            "Send the version you read, so we can tell if someone else changed it.")])
    return version


def sent_changes(body, clean, fields):
    """The fields a PATCH sends, cleaned; a 422 lists every problem at once."""
    values, errors = clean({f: body[f] for f in fields if f in body}, partial=True)
    if errors:
        raise validation_failed(errors)
    return values


def status_changes(body, p, now):
    """The status a PATCH (or an import naming a left pupil again) sends:
    ``left`` with the day they left (today unless given), or ``active``
    (their leaving date cleared)."""
    if "status" not in body and "left_on" not in body:
        return {}
    status = body.get("status", p.status or PupilStatus.ACTIVE)
    # leaving again keeps the day they left, unless a new one is given
    kept = p.left_on if status == PupilStatus.LEFT and p.status == PupilStatus.LEFT else None
    left_on = body.get("left_on", kept)
    status, left_on, errors = clean_status(status, left_on, now, born=p.date_of_birth)
    if errors:
        raise validation_failed(errors)
    return {"status": status, "left_on": left_on, "left_by": "hand" if status == PupilStatus.LEFT else None}


def update(caller, pupil_id, body, now=None):
    now = now or time.time()
    version = require_version(body)
    p = get(caller.school_id, pupil_id)
    values = {**sent_changes(body, clean_pupil, FIELDS), **status_changes(body, p, now)}
    if p.version != version:
        raise conflict()
    before, old_upn, groups_before, was = snapshot(p), p.upn, grouping(p), p.status or PupilStatus.ACTIVE
    apply(p, values, now)
    after = snapshot(p)
    if before == after:
        if "status" in body:  # a retry of a change whose groups a crash may have missed
            settle_groups(p, now)
        return as_json(p)
    tx = Tx()
    tx.put("pupil", p)  # conditional on the version we read
    if old_upn != p.upn:
        if old_upn:
            tx.delete("old_upn", UniqueKey(school_id=p.school_id, key=upn_key(old_upn)),
                      condition=UniqueKey.owner_id == p.pupil_id)
        if p.upn:
            tx.put("upn", UniqueKey(school_id=p.school_id, key=upn_key(p.upn), owner_id=p.pupil_id),
                   condition=UniqueKey.key.does_not_exist())
    audit.stage(tx, audit.entry(caller, "update", "pupil", p.pupil_id, before, after, now))
    system_groups.stage(tx, p.school_id, group_rules.pupil_deltas(groups_before, grouping(p)), pupil_write=True)
    try:
        tx.commit()
    except TxFailed as exc:
        if "upn" in exc.failed and "pupil" not in exc.failed:
            raise duplicate_upn(p.upn)
        raise conflict()
    member_renamed(p.school_id, p.pupil_id, before, after)
    follow_status(p, was, now)
    return as_json(p)


def follow_status(p, was, now):
    """After a change of hers: her groups, if her status moved."""
    if (p.status or PupilStatus.ACTIVE) != was:
        settle_groups(p, now)


def settle_groups(p, now):
    """A pupil's teacher-group memberships as her status says: set aside
    while she has left, given back (those not ended) while she is on roll.
    Each is conditioned on that status still being hers, so a late call after
    a newer change does nothing; safe to repeat (a redelivery, a retry)."""
    if (p.status or PupilStatus.ACTIVE) == PupilStatus.LEFT:
        member_left(p.school_id, p.pupil_id, now, still=(Pupil, p.school_id, p.pupil_id, Pupil.status == PupilStatus.LEFT))
    else:
        on_roll = Pupil.status.does_not_exist() | (Pupil.status == PupilStatus.ACTIVE)
        member_back(p.school_id, p.pupil_id, now, still=(Pupil, p.school_id, p.pupil_id, on_roll))


def mark_left(caller, p, now, import_id):
    """A pupil a full drop did not name leaves (kept, status ``left``): one
    transaction on the version read, with the audit entry and the system
    groups' counts. False if they changed meanwhile (then left as they are)."""
    before, groups_before = snapshot(p), grouping(p)
    p.status, p.left_on = PupilStatus.LEFT, datetime.fromtimestamp(now, timezone.utc).date().isoformat()
    p.left_by = f"import:{import_id}"
    leaving(p)
    p.updated_at = int(now)
    tx = Tx()
    tx.put("pupil", p, condition=Pupil.status == PupilStatus.ACTIVE)  # and on the version read
    audit.stage(tx, audit.entry(caller, "update", "pupil", p.pupil_id, before,
                                {**snapshot(p), "import": import_id}, now))
    system_groups.stage(tx, p.school_id, group_rules.pupil_deltas(groups_before, grouping(p)), pupil_write=True)
    try:
        tx.commit()
    except TxFailed:
        return False
    settle_groups(p, now)
    return True


def delete(caller, pupil_id, now=None):
    """DELETE erases: the same as the retention job (see ``erase``)."""
    p = get(caller.school_id, pupil_id)
    if not erase(caller, p, now or time.time(), Erasure.DELETED):
        raise not_found("pupil")
    return {"deleted": p.pupil_id}


class Erasure(StrEnum):
    """Why a pupil was erased: by a person (DELETE), or by the school's retention."""
    DELETED = "deleted"
    RETENTION = "retention"


def tombstone(caller, p, now, reason):
    """The audit entry an erasure leaves: which record, its year group and
    leaving date, never a name or a birth date; marked for the scrub job,
    which takes the names out of the record's older entries."""
    return audit.entry(caller, "erase", "pupil", p.pupil_id, None, None, now,
                       changes={"year_group": p.year_group, "left_on": p.left_on,
                                "status": p.status or PupilStatus.ACTIVE, "reason": str(reason)})


def erase(caller, p, now, reason, condition=None):
    """Delete a pupil as read (its UPN claim and memberships too) in one
    transaction with its tombstone. False if it changed or went meanwhile."""
    tx = Tx()
    tx.delete("pupil", p, condition=_and(Pupil.pupil_id.exists(), condition), add_version_condition=False)
    if p.upn:
        tx.delete("upn", UniqueKey(school_id=p.school_id, key=upn_key(p.upn)),
                  condition=UniqueKey.owner_id == p.pupil_id)
    audit.stage(tx, tombstone(caller, p, now, reason))
    audit.stage(tx, audit.gone(p.school_id, "pupil", p.pupil_id, p.external_id or p.pupil_id, now), label="gone")
    tx.put("erasure", audit.erasure(p.school_id, "pupil", p.pupil_id, now))  # a repeat erasure: the same item
    system_groups.stage(tx, p.school_id, group_rules.pupil_deltas(grouping(p), {}), pupil_write=True)
    try:
        tx.commit()
    except TxFailed:
        return False
    forget_member(caller.school_id, p.pupil_id)
    return True


def _and(*conditions):
    present = [c for c in conditions if c is not None]
    out = present[0] if present else None
    for c in present[1:]:
        out = out & c
    return out


def list_pupils(caller, query):
    """A page of pupils in name order: searched by name, or of one year or
    registration group, and of one status (``active`` or ``left``; both
    when not given)."""
    school = caller.school_id
    limit = parse_limit(query)
    state = decode_cursor(query.get("next"), school)
    year = None
    if query.get("year_group"):
        year, error = clean_year_group(query["year_group"])
        if error:
            raise validation_failed([error])
    status = query.get("status") or None
    if status not in (None, *PupilStatus):
        raise validation_failed([FieldError("status", "invalid_choice", "Use 'active' or 'left'.")])
    reg = (query.get("registration_group") or "").strip() or None
    q = fold(query.get("q") or "")
    only = Pupil.status == status if status else None
    if q:
        condition = _and(Pupil.year_group == year if year else None,
                         Pupil.reg_key == reg_key(school, reg) if reg else None, only)
        items, nxt = name_search(Pupil, school, q, limit, state, ["school_id", "pupil_id"], condition)
    elif reg:
        items, nxt = query_page(Pupil, "by_reg", reg_key(school, reg), None, limit, state,
                                ["school_id", "pupil_id", "reg_key", "sort_name"],
                                _and(Pupil.year_group == year if year else None, only))
    elif year:
        items, nxt = query_page(Pupil, "by_year", f"{school}#{year}", None, limit, state,
                                ["school_id", "pupil_id", "year_key", "sort_name"], only)
    else:
        items, nxt = query_page(Pupil, "by_name", school, None, limit, state,
                                ["school_id", "pupil_id", "sort_name"], only)
    return {"items": [as_json(p) for p in items], "next": encode_cursor(nxt)}
