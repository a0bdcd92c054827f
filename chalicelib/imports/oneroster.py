"""OneRoster 1.0 / 1.1 / 1.2 and School Data Sync v2 / v2.1 bundles: their
flavour, schools, people and classes, the files joined by ``sourcedId``.
``users.csv`` is streamed; only the small per-user facts of
``demographics.csv`` and ``roles.csv`` are held."""
from dataclasses import dataclass

from ..core.spill import Spill
from ..groups.classes import MisClass
from ..roster.validation import clean_upn
from .bundle_files import (NOT_IMPORTED, STAFF_ROLES, STUDENT, Flavour, GradesAs, Org, People, Unreadable, active,
                           header, rows, sex, split, staff_group, role_title, year_group, class_title)

USERS = "users.csv"


def flavour(book, files):
    """By manifest.csv's version, else by the headers of users.csv."""
    manifest = {}
    if "manifest.csv" in files:
        manifest = {(r.get("propertyname") or "").lower(): (r.get("value") or "").strip()
                    for r in rows(book, files["manifest.csv"])}
    version = manifest.get("oneroster.version", "")
    columns = set(header(book, files[USERS]))
    if version.startswith("1.2") or {"enableduser", "primaryorgsourcedid"} & columns and "role" not in columns:
        return Flavour.ONEROSTER_1_2
    if version.startswith("1.0") or "userid" in columns and "role" in columns:
        return Flavour.ONEROSTER_1_0
    if version.startswith("1.1") or "role" in columns:
        return Flavour.ONEROSTER_1_1
    if "roles.csv" in files:
        return Flavour.SDS_2
    raise Unreadable("users.csv has no role column and the zip no roles.csv: we can't tell pupils from staff. "
                     "Export the bundle again with its roles.")


def orgs(book, info):
    """Schools in orgs.csv (every org if none is typed school), with their users."""
    named = {}
    if "orgs.csv" in info.files:
        for r in rows(book, info.files["orgs.csv"]):
            if active(r) and r.get("sourcedid"):
                named[r["sourcedid"]] = (r.get("name") or r["sourcedid"], (r.get("type") or "").lower())
    counts = {}
    for _user, of_user in _user_orgs(book, info):
        for org in of_user:
            counts[org] = counts.get(org, 0) + 1
    schools = {k: v for k, v in named.items() if v[1] == "school"} or named
    ids = list(schools) or list(counts)
    return [Org(i, schools.get(i, (i, ""))[0], schools.get(i, ("", ""))[1], counts.get(i, 0)) for i in ids]


def _user_orgs(book, info):
    """(user sourcedId, [org sourcedIds]) for each active user."""
    if info.flavour in (Flavour.ONEROSTER_1_0, Flavour.ONEROSTER_1_1):
        for r in rows(book, info.files[USERS]):
            if active(r):
                yield r.get("sourcedid"), split(r.get("orgsourcedids"))
        return
    with Spill() as roles:
        for user, role in _roles(book, info):
            roles.add(user, role.org)
        for r in rows(book, info.files[USERS]):
            if active(r):
                user = r.get("sourcedid") or ""
                yield user, [org for (org,) in roles.get(user)] or split(r.get("primaryorgsourcedid"))


@dataclass(frozen=True)
class _Role:
    role: str
    org: str
    grade: str
    primary: bool


def _roles(book, info):
    """(user sourcedId, _Role) from roles.csv (OneRoster 1.2, SDS v2)."""
    if "roles.csv" not in info.files:
        return
    for r in rows(book, info.files["roles.csv"]):
        if active(r) and r.get("usersourcedid"):
            primary = (r.get("roletype") or "").lower() == "primary" or (r.get("isprimary") or "").lower() == "true"
            yield r["usersourcedid"], _Role((r.get("role") or "").strip(), (r.get("orgsourcedid") or "").strip(),
                                            (r.get("grade") or "").strip(), primary)


def people(book, info, org, grades_as=GradesAs.YEAR, on_person=None):
    """Every active user of ``org`` as a pupil or staff record in our
    fields (``on_person(kind, values)`` is called for each, in file order,
    when given, and nothing is held; else they are gathered in People).
    Roles and demographics are joined to users on disk (core.spill)."""
    out = People()
    emit = on_person or (lambda kind, values: (out.pupils if kind == "pupils" else out.staff).append(values))
    by_roles = info.flavour in (Flavour.ONEROSTER_1_2, Flavour.SDS_2) and "roles.csv" in info.files
    with Spill(2) as born, Spill(4) as roles:
        _demographics(book, info, born)
        for user, role in _roles(book, info):
            if not org or role.org == org:
                roles.add(user, role.role, role.org, role.grade, int(role.primary))
        for r in rows(book, info.files[USERS]):
            user = r.get("sourcedid") or ""
            role = _role_of(roles.get(user)) if by_roles else _Role(r.get("role") or "", "", "", True)
            if not active(r) or not user:
                out.skip("inactive")
            elif role is None or (not by_roles and org and org not in split(r.get("orgsourcedids"))):
                out.skip("other_school")
            else:
                kind, values = _person(r, role, (born.get(user) or [("", "")])[-1], grades_as)  # (the last row)
                if kind is None:
                    out.skip(role.role.lower() or "no_role")
                else:
                    emit(kind, values)
    return out


def _role_of(found):
    """A user's role at the school: the first primary one, else the first."""
    roles = [_Role(role, org, grade, bool(primary)) for role, org, grade, primary in found]
    return next((r for r in roles if r.primary), roles[0] if roles else None)


def _person(r, role, born, grades_as):
    """(kind, our fields) of one user, or (None, None) for one not imported."""
    name = {"first_name": r.get("givenname") or "", "surname": r.get("familyname") or "",
            "external_id": r.get("sourcedid") or ""}
    kind = role.role.lower()
    if kind == STUDENT:
        grade = role.grade or next(iter(split(r.get("grades"))), "")  # (the first, if several)
        identifier = (r.get("identifier") or "").strip()
        upn = identifier if identifier and clean_upn(identifier)[1] is None else ""
        return "pupils", {**name, "date_of_birth": born[0], "gender": born[1],
                          "year_group": year_group(grade, grades_as), "upn": upn}
    if kind in NOT_IMPORTED or not kind:
        return None, None
    email = (r.get("email") or "").strip()
    username = (r.get("username") or "").strip()
    if not email and "@" in username:  # SDS and Entra ID exports sign in with the address
        email = username
    return "staff", {**name, "email": email, "job_role": role_title(role.role),
                     "user_group": staff_group(kind)}


def classes(book, info, org):
    """The active classes of ``org`` (an iterable of MisClass, read again on
    each pass, while the zip is open) with their active enrollments, or None
    when the bundle has no classes.csv or enrollments.csv, or no class of
    ``org``: its class groups are then left alone."""
    if "classes.csv" not in info.files or "enrollments.csv" not in info.files:
        return None  # (a class without its enrollments would lose its pupils and teachers)
    if next(_classes_of(book, info, org), None) is None:
        return None  # (no class of this school: an export without classes ends none)
    return _Classes(book, info, org)


def _classes_of(book, info, org):
    """The active rows of classes.csv of ``org``, each class once (the first row)."""
    seen = set()
    for r in rows(book, info.files["classes.csv"]):
        school = (r.get("schoolsourcedid") or r.get("orgsourcedid") or "").strip()
        if active(r) and r.get("sourcedid") and r["sourcedid"] not in seen and (not org or not school or school == org):
            seen.add(r["sourcedid"])
            yield r


class _Classes:
    """A bundle's classes, each with its teachers (the primary first) and
    pupils from enrollments.csv, joined on disk: one class held at a time."""

    def __init__(self, book, info, org):
        self._book, self._info, self._org = book, info, org

    def __iter__(self):
        with Spill(3) as enrolled:
            for r in rows(self._book, self._info.files["enrollments.csv"]):
                user = r.get("usersourcedid") or ""
                if user and r.get("classsourcedid") and active(r):
                    enrolled.add(r["classsourcedid"], user, (r.get("role") or "").strip().lower(),
                                 int((r.get("primary") or "").strip().lower() == "true"))
            for r in _classes_of(self._book, self._info, self._org):
                yield _class(r, enrolled.get(r["sourcedid"]))


def _class(r, enrolled):
    cls = MisClass(r["sourcedid"], class_name(r))
    primary = None
    for user, role, is_primary in enrolled:
        if role == STUDENT:
            cls.pupils.append(user)
        elif role in STAFF_ROLES and user not in cls.teachers:
            cls.teachers.append(user)
            primary = primary or (user if is_primary else None)
    if primary:
        cls.teachers.remove(primary)
        cls.teachers.insert(0, primary)
    cls.pupils = list(dict.fromkeys(cls.pupils))
    return cls


def class_name(r):
    """A class group's name: its title, with its code and period when given."""
    return class_title(r.get("title"), r.get("classcode") or r.get("code"), r.get("periods"), r.get("sourcedid"))


def _demographics(book, info, born):
    """Each user's (birth date, sex) from demographics.csv, added to ``born``."""
    if "demographics.csv" in info.files:
        for r in rows(book, info.files["demographics.csv"]):
            user = r.get("usersourcedid") or r.get("sourcedid")
            if user and active(r):
                born.add(user, (r.get("birthdate") or "").strip(), sex(r.get("sex")))
