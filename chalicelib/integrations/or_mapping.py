"""The roster as OneRoster 1.2 sees it: pure functions from our records to
the spec's JSON shapes (no AWS).

The school is one org of type ``school``; pupils are users of role
``student`` with their year as a CEDS grade; staff are users whose role
follows their user group; teacher and class groups are classes of one
course in the school's current academic year; a group's pupils are
``student`` enrollments and its owners and teachers ``teacher`` ones; a
pupil's birth date and sex are her demographics. A record that came in
from a bundle keeps the bundle's ``sourcedId``; every other one is ours.
"""
import re
from dataclasses import dataclass
from urllib.parse import quote
from datetime import date

from ..core.clock import iso

#: CEDS grade levels of our year groups (Years 1-13 as 01-13, Reception KG, nursery PK)
_NAMED_GRADES = {"R": "KG", "N1": "PK", "N2": "PK", "N": "PK"}
#: user groups whose members OneRoster calls site administrators, aides, or
#: neither (a governor is not staff who teach); the rest are teachers. Only
#: the Admin Team is an administrator: a bundle read back makes its
#: administrators admins, and nobody else may come back with more rights.
ADMIN_GROUPS = {"Admin Team"}
AIDE_GROUPS = {"TAs"}
OTHER_GROUPS = {"Governors": "ext:governor"}
#: what sex each of our gender codes is
SEXES = {"F": "female", "M": "male"}


@dataclass(frozen=True)
class Base:
    """Where the service answers (refs are absolute URIs) and whose it is."""
    url: str
    school_id: str


def ref(base, kind, collection, sourced_id):
    return {"href": f"{base.url}/{collection}/{quote(sourced_id, safe='')}", "sourcedId": sourced_id, "type": kind}


def grade(year_group):
    """The CEDS grade of a year group ("7" -> "07", "R" -> "KG"), or None."""
    value = str(year_group or "").strip().upper()
    if value in _NAMED_GRADES:
        return _NAMED_GRADES[value]
    if re.fullmatch(r"\d{1,2}", value) and 1 <= int(value) <= 13:
        return f"{int(value):02d}"
    return None


def academic_year(today):
    """(first year, last year) of the UK academic year (September to August) holding ``today``."""
    first = today.year if today.month >= 9 else today.year - 1
    return first, first + 1


def session_id(school_id, first_year):
    return f"{school_id}-{first_year}-{str(first_year + 1)[2:]}"


def course_id(school_id):
    return f"{school_id}-groups"


def _stamp(record):
    return iso(getattr(record, "updated_at", None) or getattr(record, "created_at", None) or 0)


def pupil_sourced_id(p):
    return p.external_id or p.pupil_id


def staff_sourced_id(u):
    return u.external_id or u.user_id


def class_sourced_id(g):
    return g.external_id or g.group_id


def org(base, school):
    return {"sourcedId": school.school_id, "status": "active", "dateLastModified": iso(school.created_at),
            "name": school.name, "type": "school", "identifier": school.school_id}


def academic_session(base, school, today):
    first, last = academic_year(today)
    return {"sourcedId": session_id(school.school_id, first), "status": "active",
            "dateLastModified": iso(school.created_at), "title": f"{first}-{str(last)[2:]}",
            "startDate": date(first, 9, 1).isoformat(), "endDate": date(last, 8, 31).isoformat(),
            "type": "schoolYear", "schoolYear": str(last)}


def course(base, school, today):
    first, _ = academic_year(today)
    return {"sourcedId": course_id(school.school_id), "status": "active", "dateLastModified": iso(school.created_at),
            "title": "Groups", "courseCode": "GROUPS",
            "schoolYear": ref(base, "academicSession", "academicSessions", session_id(school.school_id, first)),
            "org": ref(base, "org", "orgs", school.school_id)}


def _roles(base, role):
    return [{"roleType": "primary", "role": role, "org": ref(base, "org", "orgs", base.school_id)}]


def student(base, p):
    left = (p.status or "active") != "active"
    user = {"sourcedId": pupil_sourced_id(p), "status": "tobedeleted" if left else "active",
            "dateLastModified": _stamp(p), "enabledUser": "false" if left else "true",
            "givenName": p.first_name, "familyName": p.surname, "roles": _roles(base, "student"),
            "primaryOrg": ref(base, "org", "orgs", base.school_id)}
    if grade(p.year_group):
        user["grades"] = [grade(p.year_group)]
    if p.upn:
        user["identifier"] = p.upn
    return user


def staff_role(user_group):
    if user_group in ADMIN_GROUPS:
        return "siteAdministrator"
    if user_group in AIDE_GROUPS:
        return "aide"
    return OTHER_GROUPS.get(user_group, "teacher")


def staff(base, u):
    disabled = u.status == "disabled"
    return {"sourcedId": staff_sourced_id(u), "status": "active", "dateLastModified": _stamp(u),
            "enabledUser": "false" if disabled else "true", "givenName": u.first_name, "familyName": u.surname,
            "roles": _roles(base, staff_role(u.user_group)), "email": u.email,
            "primaryOrg": ref(base, "org", "orgs", base.school_id)}


def klass(base, g, session):
    return {"sourcedId": class_sourced_id(g), "status": "active", "dateLastModified": _stamp(g),
            "title": g.name, "classType": "scheduled" if g.kind == "class" else "ext:group",
            "course": ref(base, "course", "courses", course_id(base.school_id)),
            "school": ref(base, "org", "orgs", base.school_id),
            "terms": [ref(base, "academicSession", "academicSessions", session)]}


def _day(epoch):
    return iso(epoch)[:10] if epoch else None


def enrollment(base, g, member_sourced_id, role, member_id, starts=None, until=None):
    item = {"sourcedId": f"{class_sourced_id(g)}-{member_id}", "status": "active", "dateLastModified": _stamp(g),
            "user": ref(base, "user", "users", member_sourced_id), "class": ref(base, "class", "classes",
                                                                                class_sourced_id(g)),
            "school": ref(base, "org", "orgs", base.school_id), "role": role}
    if starts:
        item["beginDate"] = _day(starts)
    if until:
        item["endDate"] = _day(until)
    return item


def demographics(base, p):
    left = (p.status or "active") != "active"
    item = {"sourcedId": pupil_sourced_id(p), "status": "tobedeleted" if left else "active",
            "dateLastModified": _stamp(p), "sex": SEXES.get((p.gender or "").upper()[:1], "unspecified")}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.date_of_birth or ""):
        item["birthDate"] = p.date_of_birth
    return item


def gone_user(base, marker, role):
    """A pupil or member of staff deleted in the last 30 days: ``tobedeleted``,
    its sourcedId and when, nothing of who it was."""
    return {"sourcedId": marker.changes.get("sourced_id") or marker.record_id, "status": "tobedeleted",
            "dateLastModified": iso(marker.at), "enabledUser": "false", "givenName": "", "familyName": "",
            "roles": _roles(base, role)}


def gone_demographics(marker):
    return {"sourcedId": marker.changes.get("sourced_id") or marker.record_id, "status": "tobedeleted",
            "dateLastModified": iso(marker.at)}
