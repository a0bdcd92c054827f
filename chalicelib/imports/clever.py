"""Clever's SFTP files as a bundle: ``schools.csv``, ``students.csv``,
``teachers.csv``, ``staff.csv``, ``sections.csv`` and ``enrollments.csv``
zipped together, read as one roster as a OneRoster bundle is.

Clever's files are joined by their own ids (``Student_id``, ``Teacher_id``,
``Section_id``), which are kept as the records' ``external_id``. Its
specification writes birth dates month first (``MM/DD/YYYY``): that is the
file format, not a guess, so they are read so, and a date that can't be read
month first is passed on marked, to be refused showing what it held."""
import re
from datetime import date

from ..accounts.permissions import FALLBACK_GROUP
from ..core.spill import Spill
from ..groups.classes import MisClass
from ..roster.validation import clean_upn
from .bundle_files import GradesAs, Org, People, class_title, header, rows, sex, split, staff_group, year_group

STUDENTS, TEACHERS, STAFF = "students.csv", "teachers.csv", "staff.csv"
SCHOOLS, SECTIONS, ENROLLMENTS = "schools.csv", "sections.csv", "enrollments.csv"
#: a section's teachers beside Teacher_id (Clever allows up to Teacher_10_id)
CO_TEACHERS = [f"teacher_{n}_id" for n in range(2, 11)]
#: Clever's grade words as CEDS codes
_GRADES = {"prekindergarten": "PK", "transitionalkindergarten": "KG", "kindergarten": "KG"}
_MONTH_FIRST = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def is_clever(book, files):
    """A zip with Clever's students.csv or teachers.csv (and no users.csv)."""
    if STUDENTS in files:
        return "student_id" in header(book, files[STUDENTS])
    return TEACHERS in files and "teacher_id" in header(book, files[TEACHERS])


def orgs(book, info):
    """The schools of schools.csv (else the School_ids used), with their people."""
    named = {}
    if SCHOOLS in info.files:
        for r in rows(book, info.files[SCHOOLS]):
            if r.get("school_id"):
                named[r["school_id"]] = r.get("school_name") or r["school_id"]
    counts = {}
    for file in (STUDENTS, TEACHERS, STAFF):
        for r in _rows_of(book, info, file):
            for school in split(r.get("school_id")):
                counts[school] = counts.get(school, 0) + 1
    ids = list(named) or list(counts)
    return [Org(i, named.get(i, i), "school", counts.get(i, 0)) for i in ids]


def people(book, info, org, grades_as=GradesAs.YEAR, on_person=None):
    """Every student, teacher and staff member of ``org`` in our fields
    (``on_person(kind, values)`` for each, in file order, when given)."""
    out = People()
    emit = on_person or (lambda kind, values: (out.pupils if kind == "pupils" else out.staff).append(values))
    seen = set()  # (staff: a person is on a file once for each of their schools, and maybe on both)
    for r in _of_school(book, info, STUDENTS, org, out):
        if (r.get("student_id") or "").strip():  # (one twice is refused as a duplicate_external_id)
            emit("pupils", _pupil(r, grades_as))
        else:
            out.skip("no_id")
    teachers = set()
    for r in _of_school(book, info, TEACHERS, org, out):
        if _once(seen, "t", r.get("teacher_id"), out):
            values = _staff(r, "teacher_id", "teacher_email", r.get("title") or "Teacher", FALLBACK_GROUP)
            teachers.add(values["email"].lower())
            emit("staff", values)
    for r in _of_school(book, info, STAFF, org, out):
        values = _staff(r, "staff_id", "staff_email", r.get("title") or r.get("role") or r.get("department") or "Staff",
                        _group_of(r.get("role") or ""))
        if values["email"] and values["email"].lower() in teachers:
            out.skip("also_a_teacher")  # (Clever lists a teacher who is staff too on both files)
        elif _once(seen, "f", r.get("staff_id"), out):
            emit("staff", values)
    return out


def classes(book, info, org):
    """The sections of ``org`` (an iterable of MisClass, read again on each
    pass, while the zip is open) with their teachers and enrolled students,
    or None without sections.csv and enrollments.csv or a section of ``org``."""
    if SECTIONS not in info.files or ENROLLMENTS not in info.files:
        return None
    if next(_sections_of(book, info, org), None) is None:
        return None
    return _Sections(book, info, org)


def _sections_of(book, info, org):
    """The rows of sections.csv of ``org``, each section once (the first row)."""
    seen = set()
    for r in rows(book, info.files[SECTIONS]):
        school, section = (r.get("school_id") or "").strip(), (r.get("section_id") or "").strip()
        if section and section not in seen and (not org or not school or school == org):
            seen.add(section)
            yield r


class _Sections:
    """Each section with its students from enrollments.csv, joined on disk."""

    def __init__(self, book, info, org):
        self._book, self._info, self._org = book, info, org

    def __iter__(self):
        with Spill() as enrolled:
            for r in rows(self._book, self._info.files[ENROLLMENTS]):
                section, student = (r.get("section_id") or "").strip(), (r.get("student_id") or "").strip()
                if section and student:
                    enrolled.add(section, student)
            for r in _sections_of(self._book, self._info, self._org):
                section = r["section_id"].strip()
                teachers = [(r.get(c) or "").strip() for c in ["teacher_id"] + CO_TEACHERS]
                yield MisClass(section, _section_name(r), teachers=list(dict.fromkeys(t for t in teachers if t)),
                               pupils=list(dict.fromkeys(s for (s,) in enrolled.get(section))))


def _group_of(role):
    """A staff.csv Role's user group. Clever's Role is the district's own
    words ("Administrator" is as often the office as the head), so it never
    makes an admin: assistants are TAs, everyone else Teachers, until the
    school sets their group (a later bundle keeps what it set)."""
    group = staff_group(role)
    return group if group == "TAs" else FALLBACK_GROUP


def _rows_of(book, info, file):
    return rows(book, info.files[file]) if file in info.files else iter(())


def _of_school(book, info, file, org, out):
    for r in _rows_of(book, info, file):
        if not org or org in split(r.get("school_id")):
            yield r
        else:
            out.skip("other_school")


def _once(seen, kind, person, out):
    """True the first time a file names ``person``; a row without an id is skipped."""
    person = (person or "").strip()
    if not person:
        out.skip("no_id")
        return False
    if (kind, person) in seen:
        out.skip("listed_again")  # (the same person on the file again, for another of their schools)
        return False
    seen.add((kind, person))
    return True


def _pupil(r, grades_as):
    upn = next((v for v in ((r.get("state_id") or "").strip(), (r.get("student_number") or "").strip())
                if v and clean_upn(v)[1] is None), "")
    grade = (r.get("grade") or "").strip()
    return {"first_name": r.get("first_name") or "", "surname": r.get("last_name") or "",
            "external_id": r["student_id"].strip(), "date_of_birth": month_first(r.get("dob") or ""),
            "gender": sex(r.get("gender")), "year_group": year_group(_GRADES.get(grade.lower(), grade), grades_as),
            "upn": upn}


def _staff(r, id_column, email_column, job_role, user_group):
    email = (r.get(email_column) or "").strip()
    username = (r.get("username") or "").strip()
    if not email and "@" in username:
        email = username
    return {"first_name": r.get("first_name") or "", "surname": r.get("last_name") or "",
            "external_id": r[id_column].strip(), "email": email, "job_role": job_role.strip(),
            "user_group": user_group}


def month_first(cell):
    """Clever's MM/DD/YYYY as an ISO date; an ISO date as it is; any other
    cell marked, so the row is refused showing it (never read day first)."""
    text = cell.strip()
    found = _MONTH_FIRST.match(text)
    if found:
        month, day, year = (int(g) for g in found.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            pass
    elif not text or re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return text
    return f"{text} (not a month-first date; write it as YYYY-MM-DD)"


def _section_name(r):
    return class_title(r.get("name") or r.get("course_name"), r.get("section_number"), r.get("period"),
                       r.get("section_id"))
