"""What every roster bundle reader shares: the bundle's kinds and facts,
the roles it names, its grades as year groups, and its CSV members read as
rows, streamed. Nothing here touches AWS."""
import csv
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from enum import StrEnum

from ..accounts.permissions import ADMIN_GROUP, FALLBACK_GROUP
from ..core.csv_export import unguard


class Flavour(StrEnum):
    ONEROSTER_1_0 = "oneroster_1.0"
    ONEROSTER_1_1 = "oneroster_1.1"
    ONEROSTER_1_2 = "oneroster_1.2"
    SDS_2 = "sds_v2.1"  # Microsoft School Data Sync v2 / v2.1
    CLEVER = "clever"  # Clever's SFTP files (students, teachers, sections, enrollments)


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


@dataclass
class People:
    """A bundle's people for one school, in our fields, and who was left out."""
    pupils: list = field(default_factory=list)
    staff: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # {reason: count}

    def skip(self, reason):
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


#: a role's user group and job title (unknown roles: Teachers, as the rights rules say)
STAFF_ROLES = {
    "teacher": FALLBACK_GROUP, "administrator": ADMIN_GROUP, "principal": ADMIN_GROUP,
    "siteadministrator": ADMIN_GROUP, "districtadministrator": ADMIN_GROUP, "systemadministrator": ADMIN_GROUP,
    "itadmin": ADMIN_GROUP, "aide": "TAs", "teacherassistant": "TAs", "paraprofessional": "TAs",
    "assistant": "TAs", "ext:governor": "Governors",  # (our own export's governors: no rights, as they had)
}
#: roles that are not people of the school's own (a parent, a guardian): not imported
NOT_IMPORTED = {"guardian", "parent", "relative", "alumni"}
STUDENT = "student"


def staff_group(role):
    """The user group of a role in OneRoster's vocabulary (unknown: Teachers)."""
    return STAFF_ROLES.get(role.strip().lower(), FALLBACK_GROUP)


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


def class_title(title, code, period, fallback):
    """A class group's name: its title, with its code and period when given."""
    title, code, period = (title or "").strip(), (code or "").strip(), (period or "").strip()
    extra = [code] if code and code != title else []
    extra += [f"period {period}"] if period else []
    name = title or code or fallback
    return f"{name} ({', '.join(extra)})" if extra and title else name


def sex(value):
    text = (value or "").strip().lower()
    return {"male": "M", "m": "M", "female": "F", "f": "F"}.get(text, "")


def role_title(role):
    words = "".join(f" {c}" if c.isupper() else c for c in role.strip()).strip()
    return words[:1].upper() + words[1:].lower()


def split(cell):
    return [part.strip() for part in (cell or "").split(",") if part.strip()]


def active(r):
    """Not marked for deletion (OneRoster's bulk status) nor disabled."""
    return (r.get("status") or "active").strip().lower() != "tobedeleted" and \
        (r.get("enableduser") or "true").strip().lower() != "false"


def header(book, member):
    return next(records(book, member), [])


def rows(book, member):
    """Each row of a member as {header, lower case: cell}, streamed."""
    found = records(book, member)
    names = next(found, [])
    for cells in found:
        yield dict(zip(names, (unguard(c) for c in cells)))  # (our export's guard against formulas)


def records(book, member):
    """The member's header (lower case) then its rows, or Unreadable part way."""
    try:
        with _text(book, member) as stream:
            reader = csv.reader(stream)
            yield [h.strip().lower() for h in next(reader, [])]
            yield from reader
    except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError,
            NotImplementedError) as exc:  # (RuntimeError: encrypted; NotImplementedError: a compression we lack)
        raise Unreadable(f"{member.rsplit('/', 1)[-1]} can't be read as a CSV in UTF-8 ({exc}). "
                         "Export the bundle again.") from None


def _text(book, member):
    return io.TextIOWrapper(book.open(member), encoding="utf-8-sig", newline="")
