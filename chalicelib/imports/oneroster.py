"""OneRoster 1.0 / 1.1 / 1.2 and School Data Sync v2 / v2.1 bundles: their
flavour, schools, people and classes, the files joined by ``sourcedId``.
``users.csv`` is streamed; only the small per-user facts of
``demographics.csv`` and ``roles.csv`` are held."""
from dataclasses import dataclass

from ..groups.classes import MisClass
from ..roster.validation import clean_upn
from .bundle_files import (NOT_IMPORTED, STAFF_ROLES, STUDENT, Flavour, GradesAs, Org, People, Unreadable, active,
                           header, rows, sex, split, staff_group, role_title, year_group)

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
    roles = {}
    for user, role in _roles(book, info):
        roles.setdefault(user, []).append(role.org)
    for r in rows(book, info.files[USERS]):
        if active(r):
            yield r.get("sourcedid"), roles.get(r.get("sourcedid")) or split(r.get("primaryorgsourcedid"))


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
    when given, and nothing is held; else they are gathered in People)."""
    out = People()
    emit = on_person or (lambda kind, values: (out.pupils if kind == "pupils" else out.staff).append(values))
    born = _demographics(book, info)
    roles = {}
    for user, role in _roles(book, info):
        if not org or role.org == org:
            held = roles.get(user)
            if held is None or (role.primary and not held.primary):
                roles[user] = role
    by_roles = info.flavour in (Flavour.ONEROSTER_1_2, Flavour.SDS_2) and "roles.csv" in info.files
    for r in rows(book, info.files[USERS]):
        user = r.get("sourcedid") or ""
        role = roles.get(user) if by_roles else _Role(r.get("role") or "", "", "", True)
        if not active(r) or not user:
            out.skip("inactive")
        elif role is None or (not by_roles and org and org not in split(r.get("orgsourcedids"))):
            out.skip("other_school")
        else:
            kind, values = _person(r, role, born.get(user, ("", "")), grades_as)
            if kind is None:
                out.skip(role.role.lower() or "no_role")
            else:
                emit(kind, values)
    return out


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
    """Each active class of ``org`` (a MisClass) with its active enrollments, or None
    when the bundle has no classes.csv (its classes are then left alone)."""
    if "classes.csv" not in info.files or "enrollments.csv" not in info.files:
        return None  # (a class without its enrollments would lose its pupils and teachers)
    found = {}
    for r in rows(book, info.files["classes.csv"]):
        school = r.get("schoolsourcedid") or r.get("orgsourcedid") or ""
        if active(r) and r.get("sourcedid") and (not org or not school or school == org):
            found[r["sourcedid"]] = MisClass(r["sourcedid"], class_name(r))
    primary = {}
    if not found:
        return None  # (no class of this school: an export without classes ends none)
    for r in rows(book, info.files["enrollments.csv"]):
        cls, user = found.get(r.get("classsourcedid") or ""), r.get("usersourcedid") or ""
        if cls is None or not user or not active(r):
            continue
        role = (r.get("role") or "").strip().lower()
        if role == STUDENT:
            cls.pupils.append(user)
        elif role in STAFF_ROLES and user not in cls.teachers:
            cls.teachers.append(user)
            if (r.get("primary") or "").strip().lower() == "true" and cls.external_id not in primary:
                primary[cls.external_id] = user
    for cls in found.values():
        if cls.external_id in primary:
            cls.teachers.remove(primary[cls.external_id])
            cls.teachers.insert(0, primary[cls.external_id])
        cls.pupils = list(dict.fromkeys(cls.pupils))
    return list(found.values())


def class_name(r):
    """A class group's name: its title, with its code and period when given."""
    title = (r.get("title") or "").strip()
    code = (r.get("classcode") or r.get("code") or "").strip()
    period = (r.get("periods") or "").strip()
    extra = [code] if code and code != title else []
    extra += [f"period {period}"] if period else []
    name = title or code or r.get("sourcedid")
    return f"{name} ({', '.join(extra)})" if extra and title else name


def _demographics(book, info):
    """{user sourcedId: (birth date, sex)} from demographics.csv."""
    born = {}
    if "demographics.csv" in info.files:
        for r in rows(book, info.files["demographics.csv"]):
            user = r.get("usersourcedid") or r.get("sourcedid")
            if user and active(r):
                born[user] = ((r.get("birthdate") or "").strip(), sex(r.get("sex")))
    return born
