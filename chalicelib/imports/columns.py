"""Which fields each kind of import has, our CSV templates, and a suggested
mapping from a file's column headers to fields. Pure standard library.

Suggestions are exact matches of normalised headers against synonym lists
in tiers: our own template's headers, UK MIS exports (SIMS, Arbor, Bromcom,
ScholarPack), OneRoster 1.1 and Microsoft School Data Sync v1. There is no
fuzzy guessing: a column we do not recognise is left for the user to match.
Identifiers of other systems (sourcedId, SIS ID, Student Number, State ID,
Teacher Number) are never mapped, nor is a "Title" (Mr, Mrs).
"""
import csv
import io

FIELDS = {
    "pupils": ["first_name", "surname", "date_of_birth", "gender", "year_group",
               "registration_group", "upn", "pupil_id"],
    "staff": ["first_name", "surname", "email", "job_role", "user_group"],
    "machines": ["name", "location"],
}

REQUIRED = {
    "pupils": {"first_name", "surname", "date_of_birth", "year_group"},
    "staff": {"first_name", "surname", "email"},
    "machines": {"name"},
}

#: Our templates: (header, example value) per column, in order.
_TEMPLATES = {
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

_SYNONYMS = {
    "pupils": {
        "first_name": _FIRST_NAME,
        "surname": _SURNAME,
        "date_of_birth": (("Date of birth", "DOB", "Birth Date"),),
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
        "upn": (("UPN", "Unique Pupil Number", "Unique Pupil Number (UPN)"),),
        "pupil_id": (("Pupil ID", "schoolroll ID", "System ID"),),
    },
    "staff": {
        "first_name": _FIRST_NAME,
        "surname": _SURNAME,
        "email": (
            ("Email", "Email Address", "Work Email", "Work Email Address",
             "School Email"),
            ("Username",),  # SDS and OneRoster: a sign-in name, often the email
        ),
        "job_role": (
            ("Job role", "Job Title", "Staff Role"),
            ("Role", "Position"),
        ),
        "user_group": (
            ("User group", "Access Group"),
            ("Group",),
        ),
    },
    "machines": {
        "name": (
            ("Machine Name", "Computer Name", "Device Name", "Hostname"),
            ("Name",),
        ),
        "location": (("Location", "Room", "Room Name"),),
    },
}


def normalise(header: str) -> str:
    """A header reduced to lower-case letters and digits, so case, spaces and
    punctuation do not matter: 'D.O.B.' -> 'dob', 'First_Name' -> 'firstname'."""
    return "".join(char for char in header.casefold() if char.isalnum())


def _index(kind):
    """{normalised synonym: (tier, field)} for one kind."""
    index = {}
    for field, tiers in _SYNONYMS[kind].items():
        for tier, names in enumerate(tiers):
            for name in names:
                index[normalise(name)] = (tier, field)
    return index


_INDEX = {kind: _index(kind) for kind in _SYNONYMS}


def _kind(kind):
    if kind not in FIELDS:
        raise ValueError(f"unknown import kind {kind!r}: use one of {', '.join(FIELDS)}")
    return kind


def suggest(kind: str, headers: list[str]) -> dict[str, str]:
    """{column header: field} for the columns we recognise.

    Each field goes to at most one column and each column to at most one
    field: the best tier wins, then the leftmost column. So "Username"
    becomes the staff email only when no email column is present, and
    "Class" the registration group only when no reg group column is.
    Headers should be unique, as clean_header() makes them.
    """
    index = _INDEX[_kind(kind)]
    candidates = sorted((index[normalise(h)][0], i, h, index[normalise(h)][1])
                        for i, h in enumerate(headers) if normalise(h) in index)
    mapping = {}
    for _tier, _i, header, field in candidates:
        if header not in mapping and field not in mapping.values():
            mapping[header] = field
    return {header: mapping[header] for header in headers if header in mapping}


def template_csv(kind: str) -> str:
    """Our template for a kind: the header row and one example row, CRLF as
    Excel writes. Serve it encoded as UTF-8 with a BOM ('utf-8-sig') so
    Excel shows accents such as Zoë correctly."""
    columns = _TEMPLATES[_kind(kind)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _example in columns])
    writer.writerow([example for _header, example in columns])
    return out.getvalue()


def field_headers(kind: str) -> dict[str, str]:
    """{field: column header} for every field of a kind, in file order: our
    template's headers, and 'Pupil ID' for a pupil's system id. Exports use
    them, so suggest() maps an export straight back."""
    names = {field: header for (header, _example), field in zip(_TEMPLATES[_kind(kind)], FIELDS[kind])}
    if "pupil_id" in FIELDS[kind]:
        names["pupil_id"] = "Pupil ID"
    return names
