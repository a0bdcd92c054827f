"""Pupils: create, read, list/search, update (optimistic), delete.

A UPN is unique within a school because a ``UniqueKey`` claiming it is put,
with a does-not-exist condition, in the same transaction as the pupil."""
import time

from pynamodb.exceptions import DoesNotExist

from ..core.db import Tx, TxFailed, new_id
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from ..core.paging import decode_cursor, encode_cursor, name_search, parse_limit, query_page
from ..core.text import fold, sort_keys
from ..membership import rules as group_rules
from ..membership import system as system_groups
from ..membership.bookkeeping import forget_member, member_renamed
from ..core import audit
from .models import Pupil, UniqueKey
from .validation import clean_pupil, clean_year_group
from ..core.clock import iso

FIELDS = ("first_name", "surname", "date_of_birth", "gender", "year_group",
          "registration_group", "upn")


def upn_key(upn):
    return f"upn#{upn}"


def reg_key(school_id, registration_group):
    return f"{school_id}#{fold(registration_group)}" if registration_group else None


def as_json(p):
    return {"id": p.pupil_id, **{f: getattr(p, f) for f in FIELDS}, "status": p.status or "active",
            "version": p.version,
            "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}



def snapshot(p):
    return {f: getattr(p, f) for f in FIELDS}


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
    p.updated_at = int(now)


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


def new_pupil(school_id, values, now, pupil_id=None):
    p = Pupil(school_id=school_id, pupil_id=pupil_id or new_id(), created_at=int(now))
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
    return as_json(insert(caller, new_pupil(caller.school_id, values, now)))


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


def update(caller, pupil_id, body, now=None):
    now = now or time.time()
    version = require_version(body)
    p = get(caller.school_id, pupil_id)
    values = sent_changes(body, clean_pupil, FIELDS)
    if p.version != version:
        raise conflict()
    before, old_upn, groups_before = snapshot(p), p.upn, grouping(p)
    apply(p, values, now)
    after = snapshot(p)
    if before == after:
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
    return as_json(p)


def delete(caller, pupil_id, now=None):
    p = get(caller.school_id, pupil_id)
    tx = Tx()
    tx.delete("pupil", p, condition=Pupil.pupil_id.exists(), add_version_condition=False)
    if p.upn:
        tx.delete("upn", UniqueKey(school_id=p.school_id, key=upn_key(p.upn)),
                  condition=UniqueKey.owner_id == p.pupil_id)
    audit.stage(tx, audit.entry(caller, "delete", "pupil", p.pupil_id, snapshot(p), {}, now))
    system_groups.stage(tx, p.school_id, group_rules.pupil_deltas(grouping(p), {}), pupil_write=True)
    try:
        tx.commit()
    except TxFailed:
        raise not_found("pupil")
    forget_member(caller.school_id, p.pupil_id)
    return {"deleted": p.pupil_id}


def list_pupils(caller, query):
    school = caller.school_id
    limit = parse_limit(query)
    state = decode_cursor(query.get("next"), school)
    year = None
    if query.get("year_group"):
        year, error = clean_year_group(query["year_group"])
        if error:
            raise validation_failed([error])
    reg = (query.get("registration_group") or "").strip() or None
    q = fold(query.get("q") or "")
    if q:
        condition = None
        if year:
            condition = Pupil.year_group == year
        if reg:
            reg_condition = Pupil.reg_key == reg_key(school, reg)
            condition = reg_condition if condition is None else condition & reg_condition
        items, nxt = name_search(Pupil, school, q, limit, state, ["school_id", "pupil_id"], condition)
    elif reg:
        items, nxt = query_page(Pupil, "by_reg", reg_key(school, reg), None, limit, state,
                                ["school_id", "pupil_id", "reg_key", "sort_name"],
                                Pupil.year_group == year if year else None)
    elif year:
        items, nxt = query_page(Pupil, "by_year", f"{school}#{year}", None, limit, state,
                                ["school_id", "pupil_id", "year_key", "sort_name"])
    else:
        items, nxt = query_page(Pupil, "by_name", school, None, limit, state,
                                ["school_id", "pupil_id", "sort_name"])
    return {"items": [as_json(p) for p in items], "next": encode_cursor(nxt)}
