"""The columns of each list a school keeps (pupils, staff, machines): the
fields, which are required, our CSV template's headers with an example, and
the synonyms other systems use for each header. Pure data, read by the
import (to suggest a matching) and by the exports (to write headers an
import maps straight back)."""

FIELDS = {
    "pupils": ["first_name", "surname", "date_of_birth", "gender", "year_group",
               "registration_group", "upn", "pupil_id", "external_id"],
    "staff": ["first_name", "surname", "email", "job_role", "user_group", "external_id"],
    "machines": ["name", "location"],
}

#: fields written as dates: an import asks which way round a column of them is
DATE_FIELDS = {"pupils": {"date_of_birth"}, "staff": set(), "machines": set()}

REQUIRED = {
    "pupils": {"first_name", "surname", "date_of_birth", "year_group"},
    "staff": {"first_name", "surname", "email"},
    "machines": {"name"},
}

#: Our templates: (header, example value) per column, in order.
TEMPLATES = {
    "pupils": [("First name", "Zoë"), ("Surname", "O'Brien"), ("Date of birth", "31/01/2015"),
               ("Gender", "F"), ("Year group", "Year 5"), ("Registration group", "5B"),
               ("UPN", "X940123425001")],
    "staff": [("First name", "Tess"), ("Surname", "Teacher"), ("Email", "tess.teacher@example.org"),
              ("Job role", "Class teacher"), ("User group", "Teachers")],
    "machines": [("Name", "LIB-PC-01"), ("Location", "Library")],
}

# Synonyms per field, in tiers: a column in an earlier tier wins the field
# over one in a later tier (so "Legal Forename" beats "Preferred Forename").
# Matching is on normalise(), so "First name" also covers first_name,
# FIRST NAME and Firstname; each normalised synonym appears once per kind.
_FIRST_NAME = (
    ("Legal Forename", "Legal First Name"),
    ("First name", "Forename", "Given Name"),
    ("Preferred Forename", "Preferred First Name", "Preferred Name", "Known As"),
)
_SURNAME = (
    ("Legal Surname", "Legal Last Name"),
    ("Surname", "Last Name", "Family Name"),
    ("Preferred Surname", "Preferred Last Name"),
)

#: the source system's own id, as our exports head it (a bundle fills it from sourcedId; another
#: system's id column in a plain file is never guessed to be it)
_EXTERNAL_ID = (("External ID",),)

SYNONYMS = {
    "pupils": {
        "first_name": _FIRST_NAME,
        "surname": _SURNAME,
        "date_of_birth": (("Date of birth", "DOB", "Birth Date", "Date of Birth (dd/mm/yyyy)"),),
        "gender": (("Gender", "Sex", "Legal Sex"),),
        "year_group": (
            ("Year group", "NC Year", "NC Year Actual", "National Curriculum Year",
             "Curriculum Year"),
            ("Year", "Yr", "Grade", "Grades", "Grade Level"),
        ),
        "registration_group": (
            ("Registration group", "Reg Group", "Reg", "Registration Form", "Reg Form", "Form",
             "Form Group", "Tutor Group"),
            ("Class", "Class Name"),
        ),
        "upn": (("UPN", "Unique Pupil Number", "Unique Pupil Number (UPN)", "Pupil UPN"),),
        "pupil_id": (("Pupil ID", "schoolroll ID", "System ID"),),
        "external_id": _EXTERNAL_ID,
    },
    "staff": {
        "first_name": _FIRST_NAME,
        "surname": _SURNAME,
        "email": (
            ("Email", "Email Address", "Work Email", "Work Email Address",
             "School Email", "Teacher Email", "Staff Email"),  # Clever: Teacher_email, Staff_email
            ("Username", "Secondary Email"),  # SDS and OneRoster: a sign-in name, often the email
        ),
        "job_role": (
            ("Job role", "Job Title", "Staff Role"),
            ("Role", "Position", "Department"),  # Clever's staff.csv: Department, Role
        ),
        "user_group": (
            ("User group", "Access Group"),
            ("Group",),
        ),
        "external_id": _EXTERNAL_ID,
    },
    "machines": {
        "name": (
            ("Machine Name", "Computer Name", "Device Name", "Hostname"),
            ("Name",),
        ),
        "location": (("Location", "Room", "Room Name"),),
    },
}


def known_kind(kind):
    if kind not in FIELDS:
        raise ValueError(f"unknown import kind {kind!r}: use one of {', '.join(FIELDS)}")
    return kind


def field_headers(kind: str) -> dict[str, str]:
    """{field: column header} for every field of a kind, in file order: our
    template's headers, and 'Pupil ID' for a pupil's system id. Exports use
    them, so suggest() maps an export straight back."""
    names = {field: header for (header, _example), field in zip(TEMPLATES[known_kind(kind)], FIELDS[kind])}
    if "pupil_id" in FIELDS[kind]:
        names["pupil_id"] = "Pupil ID"
    if "external_id" in FIELDS[kind]:
        names["external_id"] = "External ID"
    return names
