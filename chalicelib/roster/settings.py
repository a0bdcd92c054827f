"""School settings: name, timezone (console times), and whether a full S3
drop marks missing pupils as leavers."""
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError, FieldError, validation_failed
from ..core import audit

FIELDS = ("name", "timezone", "mark_leavers", "keep_imports_days", "invite_hours")


def as_json(school):
    return {"name": school.name, "timezone": school.timezone or "Europe/London",
            "mark_leavers": bool(school.mark_leavers), "keep_imports_days": int(school.keep_imports_days or 90),
            "invite_hours": int(school.invite_hours or 72)}


def timezone_problem(name):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return FieldError("timezone", "invalid_timezone",
                          "Use a timezone name such as Europe/London.")
    return None


def update(caller, body):
    school = caller.school
    errors = []
    if "timezone" in body and body["timezone"] is not None:
        problem = timezone_problem(body["timezone"])
        if problem:
            errors.append(problem)
    days = body.get("keep_imports_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 7 <= days <= 3650):
        errors.append(FieldError("keep_imports_days", "invalid_choice",
                                 "Keep imports for a whole number of days from 7 to 3650."))
    hours = body.get("invite_hours")
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 72):
        errors.append(FieldError("invite_hours", "invalid_choice",
                                 "Invitation links last a whole number of hours from 1 to 72."))
    if "name" in body and not (body["name"] or "").strip():
        errors.append(FieldError("name", "required", "The school needs a name."))
    if errors:
        raise validation_failed(errors)
    before = as_json(school)
    for field in FIELDS:
        if field in body and body[field] is not None:
            setattr(school, field, body[field].strip() if field == "name" else body[field])
    after = as_json(school)
    if before == after:
        return after
    tx = Tx()
    tx.put("school", school)
    audit.stage(tx, audit.entry(caller, "update", "settings", school.school_id, before, after))
    try:
        tx.commit()
    except TxFailed:
        raise ApiError("conflict", "The school's settings changed while saving; reload and try again.")
    return after
