"""Roster bundles: a zip of OneRoster 1.0 / 1.1 / 1.2 or SDS v2 / v2.1 CSV
files, read as one roster (pupils and staff, each in our own fields).

``open_bundle`` refuses an unsafe zip before any member is read; ``inspect``
says what the bundle is (its flavour, files and schools); ``people`` joins
its files by ``sourcedId`` for one school, streaming ``users.csv``: only the
small per-user facts of ``demographics.csv`` and ``roles.csv`` are held.
Everything the files mean is decided here; nothing here touches AWS."""
import csv
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from enum import StrEnum

from ..accounts.permissions import ADMIN_GROUP, FALLBACK_GROUP
from ..core import config
from ..groups.classes import MisClass
from ..roster.validation import clean_upn
from . import zips

#: files in a bundle (a OneRoster set has at most 13)
MAX_MEMBERS = 50
USERS = "users.csv"


class Flavour(StrEnum):
    ONEROSTER_1_0 = "oneroster_1.0"
    ONEROSTER_1_1 = "oneroster_1.1"
    ONEROSTER_1_2 = "oneroster_1.2"
    SDS_2 = "sds_v2.1"  # Microsoft School Data Sync v2 / v2.1


class GradesAs(StrEnum):
    """How a grade (CEDS: PK, KG, 01-13) reads as a year group."""
    YEAR = "year"  # 01-13 are Years 1-13, KG is R, PK is N2 (a UK school's export)
    US_GRADE = "us_grade"  # grade + 1: KG is Year 1, PK is R


class Unreadable(Exception):
    """A bundle we will not read: ``message`` says why, for the admin."""
    code = "bundle_unreadable"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Org:
    sourced_id: str
    name: str
    type: str
    users: int

    def as_dict(self):
        return {"sourcedId": self.sourced_id, "name": self.name, "type": self.type, "users": self.users}


@dataclass
class BundleInfo:
    flavour: Flavour
    #: {file name, lower case: the member it is}
    files: dict
    orgs: list = field(default_factory=list)

    def as_dict(self):
        return {"flavour": self.flavour, "files": sorted(self.files), "orgs": [o.as_dict() for o in self.orgs]}


#: a role's user group and job title (unknown roles: Teachers, as the rights rules say)
_STAFF_ROLES = {
    "teacher": FALLBACK_GROUP, "administrator": ADMIN_GROUP, "principal": ADMIN_GROUP,
    "siteadministrator": ADMIN_GROUP, "districtadministrator": ADMIN_GROUP, "systemadministrator": ADMIN_GROUP,
    "itadmin": ADMIN_GROUP, "aide": "TAs", "teacherassistant": "TAs", "paraprofessional": "TAs",
    "assistant": "TAs",
}
#: roles that are not people of the school's own (a parent, a guardian): not imported
_NOT_IMPORTED = {"guardian", "parent", "relative", "alumni"}
STUDENT = "student"


def open_bundle(fileobj):
    """The bundle as a ZipFile, or Unreadable before anything is inflated."""
    cap = config.UPLOAD_MAX_BYTES
    try:
        why = zips.unsafe(zips.members(fileobj), MAX_MEMBERS, cap, 10 * cap)
    except zips.Damaged as exc:
        raise Unreadable(f"This zip is damaged ({exc}). Export the bundle again.") from None
    if why:
        raise Unreadable(f"We will not open this zip: {why}. A roster bundle is a zip of its CSV files.")
    fileobj.seek(0)
    return zipfile.ZipFile(fileobj)


def inspect(book):
    """What the bundle is: its flavour (by manifest.csv, else by its files'
    headers), its files, and the schools in orgs.csv with their users."""
    files = {}
    for info in book.infolist():
        if info.is_dir():
            continue
        name = info.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if name.endswith(".csv"):
            if name in files:
                raise Unreadable(f"This zip holds two files called {name}; a bundle has one of each.")
            files[name] = info.filename
    if USERS not in files:
        raise Unreadable("This zip holds no users.csv, so it is not a OneRoster or School Data Sync bundle. "
                         "Upload the whole export as one zip, or a CSV or .xlsx on its own.")
    info = BundleInfo(_flavour(book, files), files)
    info.orgs = _orgs(book, info)
    return info


def _flavour(book, files):
    manifest = {}
    if "manifest.csv" in files:
        manifest = {(r.get("propertyname") or "").lower(): (r.get("value") or "").strip()
                    for r in _rows(book, files["manifest.csv"])}
    version = manifest.get("oneroster.version", "")
    header = set(_header(book, files[USERS]))
    if version.startswith("1.2") or {"enableduser", "primaryorgsourcedid"} & header and "role" not in header:
        return Flavour.ONEROSTER_1_2
    if version.startswith("1.0") or "userid" in header and "role" in header:
        return Flavour.ONEROSTER_1_0
    if version.startswith("1.1") or "role" in header:
        return Flavour.ONEROSTER_1_1
    if "roles.csv" in files:
        return Flavour.SDS_2
    raise Unreadable("users.csv has no role column and the zip no roles.csv: we can't tell pupils from staff. "
                     "Export the bundle again with its roles.")


def _orgs(book, info):
    """Schools in orgs.csv (every org if none is typed school), with their users."""
    named = {}
    if "orgs.csv" in info.files:
        for r in _rows(book, info.files["orgs.csv"]):
            if _active(r) and r.get("sourcedid"):
                named[r["sourcedid"]] = (r.get("name") or r["sourcedid"], (r.get("type") or "").lower())
    counts = {}
    for _user, orgs in _user_orgs(book, info):
        for org in orgs:
            counts[org] = counts.get(org, 0) + 1
    schools = {k: v for k, v in named.items() if v[1] == "school"} or named
    ids = list(schools) or list(counts)
    return [Org(i, schools.get(i, (i, ""))[0], schools.get(i, ("", ""))[1], counts.get(i, 0)) for i in ids]


def _user_orgs(book, info):
    """(user sourcedId, [org sourcedIds]) for each active user."""
    if info.flavour in (Flavour.ONEROSTER_1_0, Flavour.ONEROSTER_1_1):
        for r in _rows(book, info.files[USERS]):
            if _active(r):
                yield r.get("sourcedid"), _split(r.get("orgsourcedids"))
        return
    roles = {}
    for user, role in _roles(book, info):
        roles.setdefault(user, []).append(role.org)
    for r in _rows(book, info.files[USERS]):
        if _active(r):
            yield r.get("sourcedid"), roles.get(r.get("sourcedid")) or _split(r.get("primaryorgsourcedid"))


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
    for r in _rows(book, info.files["roles.csv"]):
        if _active(r) and r.get("usersourcedid"):
            primary = (r.get("roletype") or "").lower() == "primary" or (r.get("isprimary") or "").lower() == "true"
            yield r["usersourcedid"], _Role((r.get("role") or "").strip(), (r.get("orgsourcedid") or "").strip(),
                                            (r.get("grade") or "").strip(), primary)


@dataclass
class People:
    """A bundle's people for one school, in our fields, and who was left out."""
    pupils: list = field(default_factory=list)
    staff: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # {reason: count}

    def skip(self, reason):
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


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
    for r in _rows(book, info.files[USERS]):
        user = r.get("sourcedid") or ""
        role = roles.get(user) if by_roles else _Role(r.get("role") or "", "", "", True)
        if not _active(r) or not user:
            out.skip("inactive")
        elif role is None or (not by_roles and org and org not in _split(r.get("orgsourcedids"))):
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
        grade = role.grade or next(iter(_split(r.get("grades"))), "")  # (the first, if several)
        identifier = (r.get("identifier") or "").strip()
        upn = identifier if identifier and clean_upn(identifier)[1] is None else ""
        return "pupils", {**name, "date_of_birth": born[0], "gender": born[1],
                          "year_group": year_group(grade, grades_as), "upn": upn}
    if kind in _NOT_IMPORTED or not kind:
        return None, None
    email = (r.get("email") or "").strip()
    username = (r.get("username") or "").strip()
    if not email and "@" in username:  # SDS and Entra ID exports sign in with the address
        email = username
    return "staff", {**name, "email": email, "job_role": _title(role.role),
                     "user_group": _STAFF_ROLES.get(kind, FALLBACK_GROUP)}


def classes(book, info, org):
    """Each active class of ``org`` (a MisClass) with its active enrollments, or None
    when the bundle has no classes.csv (its classes are then left alone)."""
    if "classes.csv" not in info.files or "enrollments.csv" not in info.files:
        return None  # (a class without its enrollments would lose its pupils and teachers)
    found = {}
    for r in _rows(book, info.files["classes.csv"]):
        school = r.get("schoolsourcedid") or r.get("orgsourcedid") or ""
        if _active(r) and r.get("sourcedid") and (not org or not school or school == org):
            found[r["sourcedid"]] = MisClass(r["sourcedid"], class_name(r))
    primary = {}
    if not found:
        return None  # (no class of this school: an export without classes ends none)
    for r in _rows(book, info.files["enrollments.csv"]):
        cls, user = found.get(r.get("classsourcedid") or ""), r.get("usersourcedid") or ""
        if cls is None or not user or not _active(r):
            continue
        role = (r.get("role") or "").strip().lower()
        if role == STUDENT:
            cls.pupils.append(user)
        elif role in _STAFF_ROLES and user not in cls.teachers:
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
        for r in _rows(book, info.files["demographics.csv"]):
            user = r.get("usersourcedid") or r.get("sourcedid")
            if user and _active(r):
                born[user] = ((r.get("birthdate") or "").strip(), _sex(r.get("sex")))
    return born


def _sex(value):
    text = (value or "").strip().lower()
    return {"male": "M", "m": "M", "female": "F", "f": "F"}.get(text, "")


def year_group(grade, grades_as=GradesAs.YEAR):
    """Our year group of a CEDS grade (PK, KG, 01-13), or the grade as
    written when it is none of them (so the row is refused, showing it)."""
    text = (grade or "").strip().upper()
    if text in ("PK", "KG"):
        if grades_as == GradesAs.US_GRADE:
            return "R" if text == "PK" else "Year 1"
        return "N2" if text == "PK" else "R"
    if text.isdigit() and 1 <= int(text) <= 13:
        return f"Year {int(text) + (1 if grades_as == GradesAs.US_GRADE else 0)}"
    return grade or ""


def _title(role):
    words = "".join(f" {c}" if c.isupper() else c for c in role.strip()).strip()
    return words[:1].upper() + words[1:].lower()


def _split(cell):
    return [part.strip() for part in (cell or "").split(",") if part.strip()]


def _active(r):
    """Not marked for deletion (OneRoster's bulk status) nor disabled."""
    return (r.get("status") or "active").strip().lower() != "tobedeleted" and \
        (r.get("enableduser") or "true").strip().lower() != "false"


def _header(book, member):
    return next(_records(book, member), [])


def _rows(book, member):
    """Each row of a member as {header, lower case: cell}, streamed."""
    records = _records(book, member)
    header = next(records, [])
    for cells in records:
        yield dict(zip(header, cells))


def _records(book, member):
    """The member's header (lower case) then its rows, or Unreadable part way."""
    try:
        with _text(book, member) as text:
            reader = csv.reader(text)
            yield [h.strip().lower() for h in next(reader, [])]
            yield from reader
    except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError,
            NotImplementedError) as exc:  # (RuntimeError: encrypted; NotImplementedError: a compression we lack)
        raise Unreadable(f"{member.rsplit('/', 1)[-1]} can't be read as a CSV in UTF-8 ({exc}). "
                         "Export the bundle again.") from None


def _text(book, member):
    return io.TextIOWrapper(book.open(member), encoding="utf-8-sig", newline="")
