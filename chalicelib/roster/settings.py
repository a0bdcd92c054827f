"""School settings: name, timezone (console times), the school day (its
periods and end, the console's "until the end of the lesson"), sign-in rules, and how
the school's drops sync: whether a full drop marks missing pupils as
leavers, when a drop is held for a person to approve, who hears of it."""
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.db import Tx, TxFailed
from ..core.maps import plain
from ..core.errors import ApiError, FieldError, validation_failed
from ..core import audit

FIELDS = ("name", "timezone", "mark_leavers", "keep_imports_days", "invite_hours", "idle_minutes",
          "require_mfa_for", "leaver_threshold", "update_threshold", "drop_mode", "sync_report",
          "keep_leavers_years", "final_year", "keep_registration_groups", "max_group_members", "day_ends",
          "periods")
#: settings where null means something (keep leavers forever; no final year yet)
NULLABLE = ("keep_leavers_years", "final_year")
YEAR_GROUPS = ("N1", "N2", "R", *(str(n) for n in range(1, 15)))
#: (field, its choices): the settings that are one of a few words
CHOICES = (("drop_mode", ("auto", "review")), ("sync_report", ("always", "problems_only", "never")))


#: (field, lowest, highest, what to say otherwise): the settings that are a whole number in a range
WHOLE_NUMBERS = (
    ("keep_imports_days", 7, 3650, "Keep imports for a whole number of days from 7 to 3650."),
    ("invite_hours", 1, 72, "Invitation links last a whole number of hours from 1 to 72."),
    ("idle_minutes", 15, 480, "A session ends after a whole number of idle minutes from 15 to 480."),
    ("leaver_threshold", 0, 100, "Hold a drop that would mark more than this percentage (0 to 100) as leavers."),
    ("update_threshold", 0, 100, "Hold a drop that would change more than this percentage (0 to 100)."),
    ("keep_leavers_years", 1, 25, "Keep leavers for a whole number of years from 1 to 25, or null for ever."),
    ("max_group_members", 1, 5000, "A group holds a whole number of members from 1 to 5000."),
)
#: a teacher group's members at most, unless the school says otherwise
DEFAULT_MAX_GROUP_MEMBERS = 300
#: when the school day ends unless the school says otherwise
DEFAULT_DAY_ENDS = "15:30"
MAX_PERIODS = 15


def as_json(school):
    return {"name": school.name, "timezone": school.timezone or "Europe/London",
            "mark_leavers": bool(school.mark_leavers), "keep_imports_days": int(school.keep_imports_days or 90),
            "invite_hours": int(school.invite_hours or 72), "idle_minutes": int(school.idle_minutes or 60),
            "require_mfa_for": list(school.require_mfa_for or []),
            "leaver_threshold": int(_or(school.leaver_threshold, 10)),
            "update_threshold": int(_or(school.update_threshold, 75)),
            "drop_mode": school.drop_mode or "auto", "sync_report": school.sync_report or "problems_only",
            "keep_leavers_years": keep_leavers_years(school), "final_year": school.final_year,
            "keep_registration_groups": bool(school.keep_registration_groups),
            "max_group_members": max_group_members(school),
            "day_ends": school.day_ends or DEFAULT_DAY_ENDS, "periods": list(school.periods or [])}


def max_group_members(school):
    return int(_or(getattr(school, "max_group_members", None), DEFAULT_MAX_GROUP_MEMBERS))


def keep_leavers_years(school):
    """Years a leaver is kept, or None: kept for ever (stored as 0)."""
    years = _or(school.keep_leavers_years, 6)
    return int(years) if years else None


def _or(value, default):
    return default if value is None else value


def mfa_group_problems(names, school):
    """Each name must be one of the school's user groups (a typo would
    silently require nothing)."""
    groups = plain(school.user_groups)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return [FieldError("require_mfa_for", "invalid_type", "Send a list of user group names.")]
    return [FieldError(f"require_mfa_for.{i}", "invalid_choice",
                       f"'{name}' is not one of your school's user groups: {', '.join(sorted(groups))}.")
            for i, name in enumerate(names) if name not in groups]


def minutes(hhmm):
    """'09:05' as 545 minutes after midnight, or None if it is no such time."""
    if not isinstance(hhmm, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", hhmm):
        return None  # (ASCII digits only: str.isdigit() takes '¹' and '１', which int() or a browser can't read)
    hours, mins = int(hhmm[:2]), int(hhmm[3:])
    return hours * 60 + mins if hours < 24 and mins < 60 else None


def school_day_problems(body):
    """The end of the day is a time; each period has a name and starts
    before it ends, and each starts once the one before has ended."""
    errors = []
    if body.get("day_ends") is not None and minutes(body["day_ends"]) is None:
        errors.append(FieldError("day_ends", "invalid_time", "Give the time the school day ends as HH:MM, e.g. 15:30."))
    ended = None
    for i, period in enumerate(body.get("periods") or []):
        starts, ends = minutes(period.get("starts")), minutes(period.get("ends"))
        if not (period.get("name") or "").strip():
            errors.append(FieldError(f"periods[{i}].name", "required", "Give each period a name, e.g. P1."))
        if starts is None or ends is None:
            errors.append(FieldError(f"periods[{i}]", "invalid_time", "Give a period's start and end as HH:MM."))
        elif ends <= starts:
            errors.append(FieldError(f"periods[{i}]", "invalid_time", "A period must end after it starts."))
        elif ended is not None and starts < ended:
            errors.append(FieldError(f"periods[{i}]", "overlapping", "Periods go in order: each starts once the "
                                     "one before has ended."))
        ended = ends if ends is not None else ended
    return errors


def timezone_problem(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return FieldError("timezone", "invalid_timezone",
                          "Use a timezone name such as Europe/London.")
    return None


def problems(body, school):
    """Every problem with a settings body, at once."""
    errors = []
    if "timezone" in body and body["timezone"] is not None:
        problem = timezone_problem(body["timezone"])
        if problem:
            errors.append(problem)
    for field, low, high, message in WHOLE_NUMBERS:
        value = body.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not low <= value <= high):
            errors.append(FieldError(field, "invalid_choice", message))
    for field, choices in CHOICES:
        if body.get(field) is not None and body[field] not in choices:
            errors.append(FieldError(field, "invalid_choice", f"Use one of: {', '.join(choices)}."))
    if body.get("final_year") is not None and body["final_year"] not in YEAR_GROUPS:
        errors.append(FieldError("final_year", "invalid_choice", "Use the year group pupils leave from: "
                                 "N1, N2, R or 1 to 14 (e.g. 6 for a primary, 11 or 13 for a secondary)."))
    errors += school_day_problems(body)
    if body.get("require_mfa_for") is not None:
        errors += mfa_group_problems(body["require_mfa_for"], school)
    if "name" in body and not (body["name"] or "").strip():
        errors.append(FieldError("name", "required", "The school needs a name."))
    return errors


def update(caller, body):
    school = caller.school
    errors = problems(body, school)
    if errors:
        raise validation_failed(errors)
    before = as_json(school)
    for field in NULLABLE:
        if field in body and body[field] is None:
            setattr(school, field, 0 if field == "keep_leavers_years" else None)
    for field in FIELDS:
        if field in body and body[field] is not None:
            value = body[field]
            value = value.strip() if field == "name" else list(dict.fromkeys(value)) if field == "require_mfa_for" \
                else [{**p, "name": p["name"].strip()} for p in value] if field == "periods" else value
            setattr(school, field, value)
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
