"""Pure rules for groups: system group ids, member-count deltas, who sees
which group, and reading an ``until``. No AWS."""
import hashlib
import time
from datetime import datetime
from enum import Enum
from typing import NamedTuple

from ..core.errors import FieldError
from ..core.maps import plain
from ..core.text import fold

ALL_PUPILS, ALL_STAFF = "sys-all-pupils", "sys-all-staff"
PRIORITIES = ("low", "normal", "high")
MEMBER_TYPES = ("user", "machine")


class Delta(NamedTuple):
    """A change to one system group's member count (and what the group is,
    so a first member can create it)."""
    kind: str  # year | reg | all_pupils | all_staff
    value: str  # the year or registration group; None for the all-groups
    name: str
    count: int


def year_group_id(year):
    return f"sys-year-{year}"


def reg_group_id(registration_group):
    return "sys-reg-" + hashlib.sha1(fold(registration_group).encode("utf-8")).hexdigest()[:12]


#: names no teacher group may take, whatever the roster holds (folded)
SYSTEM_NAMES = ("All pupils", "All staff")


def year_name(year):
    return {"N1": "Nursery 1", "N2": "Nursery 2", "R": "Reception"}.get(year, f"Year {year}")


def pupil_groups(values):
    """{group id: (system kind, value, display name)} a pupil is in."""
    if not values or values.get("status", "active") != "active":
        return {}
    out = {ALL_PUPILS: ("all_pupils", None, "All pupils")}
    if values.get("year_group"):
        year = values["year_group"]
        out[year_group_id(year)] = ("year", year, year_name(year))
    if values.get("registration_group"):
        reg = values["registration_group"]
        out[reg_group_id(reg)] = ("reg", reg, reg)
    return out


def pupil_deltas(before, after):
    """{group id: Delta} for a pupil's change."""
    old, new = pupil_groups(before), pupil_groups(after)
    out = {}
    for gid in set(old) | set(new):
        delta = (gid in new) - (gid in old)
        if delta:
            kind, value, name = new.get(gid) or old[gid]
            out[gid] = Delta(kind, value, name, delta)
    return out


def staff_deltas(delta):
    return {ALL_STAFF: Delta("all_staff", None, "All staff", delta)}


def merge(*deltas):
    """One {group id: Delta} adding up several; groups that come to 0 drop out."""
    out = {}
    for d in deltas:
        for gid, delta in d.items():
            before = out.get(gid)
            out[gid] = delta._replace(count=delta.count + before.count) if before else Delta(*delta)
    return {g: v for g, v in out.items() if v.count}


class Role(str, Enum):
    """What a named member of staff may do with a teacher group: an owner
    edits, shares, deletes and manages members; a teacher adds and removes
    members; a viewer sees them."""
    OWNER = "owner"
    TEACHER = "teacher"
    VIEWER = "viewer"


def staff_roles(group, now):
    """{user id: Role} of the staff named on a group, current at ``now``
    (a role whose until has passed is in none): its owner and a class
    group's other teachers as owners, then each named role."""
    out = {}
    for user_id, entry in (plain(getattr(group, "staff", None)) or {}).items():
        entry = plain(entry)
        if entry.get("until") is None or entry["until"] > now:
            out[user_id] = Role(entry["role"])
    for user_id in group.co_owner_ids or ():
        out[user_id] = Role.OWNER
    if group.owner_id and getattr(group, "unowned_since", None) is None:
        out[group.owner_id] = Role.OWNER
    return out


def ended(group, now):
    """A teacher group past its ``ends_at`` (hidden from every read; swept)."""
    ends_at = getattr(group, "ends_at", None)
    return not group.system and ends_at is not None and ends_at <= now


def role_of(caller, group, now=None):
    """The caller's Role on a teacher group, or None (a system group: None)."""
    if group.system:
        return None
    return staff_roles(group, time.time() if now is None else now).get(caller.user_id)


def can_see(caller, group, now=None):
    """Year, registration and All pupils groups: staff who may see the roster
    (view_roster; not Governors by default). All staff: holders of
    view_all_groups. A teacher group: staff with a role on it, anyone when
    shared, and holders of view_all_groups. (A group's members are roster
    data: listing or changing them needs view_roster too, whatever the role.)"""
    if ended(group, time.time() if now is None else now):
        return False
    if caller.has("view_all_groups"):
        return True
    if group.system == "all_staff":
        return False
    if group.system:
        return caller.has("view_roster")
    return bool(group.shared) or role_of(caller, group, now) is not None


def can_change_members(caller, group, now=None):
    """Add or remove a teacher group's members: its owners and teachers; a
    named viewer may not; anyone else who sees it may (a shared group is
    every teacher's, as it was before roles)."""
    role = role_of(caller, group, now)
    if caller.has("view_all_groups") or caller.has("manage_settings") or role in (Role.OWNER, Role.TEACHER):
        return True
    return role is None and can_see(caller, group, now)


def owns(caller, group, now=None):
    """An owner of the group: its first owner, a class group's other teachers,
    or staff named owner."""
    return role_of(caller, group, now) is Role.OWNER


def can_edit(caller, group, now=None):
    """Rename, re-prioritise, share or delete: an owner or manage_settings.
    (A class group whose teachers are not on the roster has no owner: the
    school's admins hold it.)"""
    return not group.system and (owns(caller, group, now) or caller.has("manage_settings"))


#: how far ahead a time the API takes may be (an ``until``): a school year or
#: five, never 9999 (a time past year 9999 breaks every read that shows it)
MAX_AHEAD_SECONDS = 5 * 366 * 86400


def parse_from(value, now, until=None):
    """(epoch seconds or None, FieldError or None) of a membership's start:
    None (from now) for null or a time passed; before ``until``; within
    MAX_AHEAD_SECONDS."""
    if value is None:
        return None, None
    starts, problem = parse_until(value, now, field="from")
    if problem is not None and problem.code == "until_in_past":
        return None, None  # (a lesson that has begun: from now)
    if problem is None and until is not None and starts >= until:
        problem = FieldError("from", "from_after_until", "A membership must start before it ends.")
    return (None, problem) if problem else (starts, None)


def parse_until(value, now, field="until"):
    """(epoch seconds or None, FieldError or None). ISO-8601 with an offset,
    after ``now`` and within MAX_AHEAD_SECONDS of it."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, FieldError(field, "invalid_date", "Send an ISO-8601 date-time with an offset, or null.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        epoch = int(moment.timestamp()) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # (OverflowError: a year-9999 time with a negative offset)
        return None, FieldError(field, "invalid_date",
                                "Use an ISO-8601 date-time with an offset, e.g. 2026-11-24T15:30:00+00:00.")
    if epoch is None:
        return None, FieldError(field, "invalid_date",
                                "Add the timezone offset (e.g. +00:00), so we know which 3:30pm you mean.")
    if epoch <= now:
        return None, FieldError(field, "until_in_past", "That time has already passed; choose a later one.")
    if epoch > now + MAX_AHEAD_SECONDS:
        return None, FieldError(field, "too_far_ahead", "Choose a time within five years, or none (until removed).")
    return epoch, None

