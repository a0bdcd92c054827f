"""columns: fields, templates, header normalising and suggested mappings for
our template, UK MIS exports, OneRoster and School Data Sync."""
import csv
import io
from pathlib import Path

import pytest
from stdnum.gb.upn import calc_check_digit

from chalicelib.imports import columns, lines, sniff
from chalicelib.imports.columns import normalise, suggest, template_csv
from chalicelib.roster.fields import FIELDS, REQUIRED
from chalicelib.roster.validation import clean_pupil, clean_staff
from tests.data import make_corpus

DATA = Path(make_corpus.__file__).parent


def header_of(name):
    """The cleaned header of a corpus file, as the import pipeline sees it."""
    data = (DATA / name).read_bytes()
    dialect = sniff.sniff(data, complete=True)
    return sniff.read_header_and_records(lines.open_text(io.BytesIO(data), dialect.encoding), dialect)[0]


def test_fields_and_required():
    assert FIELDS["pupils"] == ["first_name", "surname", "date_of_birth", "gender", "year_group",
                                "registration_group", "upn", "pupil_id", "external_id"]
    assert FIELDS["staff"] == ["first_name", "surname", "email", "job_role", "user_group", "external_id"]
    assert FIELDS["machines"] == ["name", "location"]
    for kind, required in REQUIRED.items():
        assert required <= set(FIELDS[kind])


@pytest.mark.parametrize("header, normalised", [
    ("Legal Surname", "legalsurname"),
    ("First_Name", "firstname"),
    ("D.O.B.", "dob"),
    ("  E-mail  ", "email"),
    ("\ufeffUPN", "upn"),
    ("NC Year (Actual)", "ncyearactual"),
])
def test_normalise(header, normalised):
    assert normalise(header) == normalised


def test_synonyms_are_unambiguous_and_name_only_their_kinds_fields():
    for kind, fields in columns.SYNONYMS.items():
        assert set(fields) <= set(FIELDS[kind])
        seen = [normalise(name) for tiers in fields.values() for tier in tiers for name in tier]
        assert len(seen) == len(set(seen)), kind


# -- templates -------------------------------------------------------------

@pytest.mark.parametrize("kind, headers", [
    ("pupils", ["First name", "Surname", "Date of birth", "Gender", "Year group", "Registration group", "UPN"]),
    ("staff", ["First name", "Surname", "Email", "Job role", "User group"]),
    ("machines", ["Name", "Location"]),
])
def test_template_has_human_headers_and_one_example_row(kind, headers):
    text = template_csv(kind)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == headers and len(rows) == 2 and len(rows[1]) == len(headers)
    assert text.endswith("\r\n")


@pytest.mark.parametrize("kind", ["pupils", "staff", "machines"])
def test_template_round_trips_through_sniff_and_suggest(kind):
    data = template_csv(kind).encode("utf-8-sig")
    dialect = sniff.sniff(data, complete=True)
    header, records = sniff.read_header_and_records(lines.open_text(io.BytesIO(data), dialect.encoding), dialect)
    mapping = suggest(kind, header)
    assert set(mapping) == set(header)
    assert REQUIRED[kind] <= set(mapping.values())
    (line, cells), = list(records)
    assert line == 2 and len(cells) == len(header)


def test_template_examples_are_valid_records():
    for kind, clean in [("pupils", clean_pupil), ("staff", clean_staff)]:
        header, example = list(csv.reader(io.StringIO(template_csv(kind))))
        mapping = suggest(kind, header)
        record = {mapping[h]: value for h, value in zip(header, example)}
        assert clean(record)[1] == [], kind
    upn = list(csv.reader(io.StringIO(template_csv("pupils"))))[1][-1]
    assert calc_check_digit(upn[1:]) == upn[0]


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        suggest("parents", ["Name"])
    with pytest.raises(ValueError):
        template_csv("parents")


# -- suggestions for the corpus --------------------------------------------

PUPIL_TEMPLATE_MAPPING = {"First name": "first_name", "Surname": "surname", "Date of birth": "date_of_birth",
                          "Gender": "gender", "Year group": "year_group",
                          "Registration group": "registration_group", "UPN": "upn"}


@pytest.mark.parametrize("name", ["pupils_template.csv", "pupils_bom.csv", "pupils_utf16.csv",
                                  "pupils_trailing.csv", "pupils_title_line.csv"])
def test_template_headers_map_fully(name):
    assert suggest("pupils", header_of(name)) == PUPIL_TEMPLATE_MAPPING


def test_notes_column_is_left_out():
    mapping = suggest("pupils", header_of("pupils_quoted_newlines.csv"))
    assert mapping == PUPIL_TEMPLATE_MAPPING


def test_sims_like_headers():
    assert suggest("pupils", header_of("pupils_cp1252.csv")) == {
        "Legal Surname": "surname", "Legal Forename": "first_name", "DOB": "date_of_birth", "Sex": "gender",
        "Reg Group": "registration_group", "NC Year": "year_group", "UPN": "upn"}


def test_oneroster_users_maps_names_and_grades_but_no_ids():
    assert suggest("pupils", header_of("pupils_oneroster_users.csv")) == {
        "givenName": "first_name", "familyName": "surname", "grades": "year_group"}


def test_oneroster_demographics_map_birth_date_and_sex():
    assert suggest("pupils", ["sourcedId", "status", "birthDate", "sex"]) == {
        "birthDate": "date_of_birth", "sex": "gender"}


def test_sds_student_maps_names_and_grade_but_no_ids():
    assert suggest("pupils", header_of("pupils_sds_student.csv")) == {
        "First Name": "first_name", "Last Name": "surname", "Grade": "year_group"}


def test_staff_template_and_mis_headers():
    assert suggest("staff", header_of("staff_template.csv")) == {
        "First name": "first_name", "Surname": "surname", "Email": "email", "Job role": "job_role",
        "User group": "user_group"}
    assert suggest("staff", header_of("staff_mis.csv")) == {
        "Forename": "first_name", "Surname": "surname", "Email Address": "email", "Job Title": "job_role",
        "User Group": "user_group"}  # Title (Mr, Mrs) is not mapped


def test_sds_teacher_uses_username_as_email_and_ignores_title_and_ids():
    headers = ["SIS ID", "School SIS ID", "First Name", "Last Name", "Username", "Title", "Teacher Number"]
    assert suggest("staff", headers) == {"First Name": "first_name", "Last Name": "surname",
                                         "Username": "email"}


def test_oneroster_staff_prefers_email_to_username_and_role_is_job_role():
    headers = ["sourcedId", "role", "username", "givenName", "familyName", "email"]
    assert suggest("staff", headers) == {"role": "job_role", "givenName": "first_name",
                                         "familyName": "surname", "email": "email"}


CLEVER_STUDENTS = ["School_id", "Student_id", "Student_number", "State_id", "Last_name", "Middle_name",
                   "First_name", "Grade", "Gender", "Graduation_year", "DOB", "Race", "Student_email", "Username"]
CLEVER_TEACHERS = ["School_id", "Teacher_id", "Teacher_number", "State_teacher_id", "Teacher_email", "First_name",
                   "Middle_name", "Last_name", "Title", "Username", "Password"]
CLEVER_STAFF = ["School_id", "Staff_id", "Staff_email", "First_name", "Last_name", "Department", "Title",
                "Username", "Password", "Role"]


def test_clevers_sftp_files_map_with_their_own_email_columns_and_no_ids():
    assert suggest("pupils", CLEVER_STUDENTS) == {"Last_name": "surname", "First_name": "first_name",
                                                  "Grade": "year_group", "Gender": "gender", "DOB": "date_of_birth"}
    assert suggest("staff", CLEVER_TEACHERS) == {"Teacher_email": "email", "First_name": "first_name",
                                                 "Last_name": "surname"}
    assert suggest("staff", CLEVER_STAFF) == {"Staff_email": "email", "First_name": "first_name",
                                              "Last_name": "surname", "Department": "job_role"}


def test_sds_uk_student_birthdate_and_arbor_bromcom_scholarpack_headers():
    assert suggest("pupils", ["SIS ID", "First Name", "Last Name", "Grade", "Birthdate"])["Birthdate"] == "date_of_birth"
    arbor = ["Legal first name", "Legal last name", "Date of birth", "Year", "Registration form", "UPN", "Gender"]
    bromcom = ["Legal Forename", "Legal Surname", "DOB", "Year Group", "Reg Group", "UPN", "Gender"]
    scholarpack = ["Forename", "Surname", "Date of Birth", "Year Group", "Class", "UPN", "Gender"]
    for headers in (arbor, bromcom, scholarpack):
        assert set(suggest("pupils", headers).values()) == {"first_name", "surname", "date_of_birth", "year_group",
                                                             "registration_group", "upn", "gender"}, headers


def test_a_column_is_suggested_by_its_values_only_when_its_header_says_nothing():
    from chalicelib.imports.columns import suggest_by_values
    headers = ["Given", "Family", "Col C", "Col D", "Col E", "Year group"]
    by_header = suggest("pupils", headers)
    fits = {"Col C": ["date_of_birth"], "Col D": ["upn"], "Col E": ["year_group"], "Given": []}
    assert suggest_by_values("pupils", headers, by_header, fits) == {"Col C": "date_of_birth", "Col D": "upn"}
    # (Col E's year groups: the header "Year group" has the field already)
    assert suggest_by_values("staff", ["Col A"], {}, {"Col A": ["email"]}) == {"Col A": "email"}
    assert suggest_by_values("staff", ["Col A"], {}, {"Col A": ["upn"]}) == {}  # not a staff field


# -- priorities and rules --------------------------------------------------

def test_legal_names_beat_preferred_names_whatever_the_order():
    headers = ["Preferred Forename", "Preferred Surname", "Legal Forename", "Legal Surname"]
    assert suggest("pupils", headers) == {"Legal Forename": "first_name", "Legal Surname": "surname"}


def test_plain_forename_beats_preferred_and_preferred_is_a_fallback():
    assert suggest("pupils", ["Preferred Forename", "Forename"]) == {"Forename": "first_name"}
    assert suggest("pupils", ["Preferred Forename", "Surname"]) == {"Preferred Forename": "first_name",
                                                                   "Surname": "surname"}


def test_class_is_the_registration_group_only_without_a_better_column():
    assert suggest("pupils", ["Class", "Form"]) == {"Form": "registration_group"}
    assert suggest("pupils", ["Class", "Tutor Group"]) == {"Tutor Group": "registration_group"}
    assert suggest("pupils", ["Class"]) == {"Class": "registration_group"}


def test_year_synonyms():
    for header in ["NC Year", "NC Year Actual", "Year", "Year Group", "Curriculum Year", "Grade", "grades"]:
        assert suggest("pupils", [header]) == {header: "year_group"}
    assert suggest("pupils", ["Year", "NC Year Actual"]) == {"NC Year Actual": "year_group"}


def test_registration_group_synonyms():
    for header in ["Reg Group", "Registration Group", "Reg", "Form", "Form Group", "Tutor Group", "reg_group"]:
        assert suggest("pupils", [header]) == {header: "registration_group"}


def test_each_field_goes_to_the_leftmost_of_equal_columns():
    assert suggest("pupils", ["DOB", "Date of Birth"]) == {"DOB": "date_of_birth"}
    assert suggest("pupils", ["Surname", "Surname (2)"]) == {"Surname": "surname"}


def test_username_is_email_only_without_a_real_email_column():
    assert suggest("staff", ["Username", "Work Email"]) == {"Work Email": "email"}
    assert suggest("staff", ["Username"]) == {"Username": "email"}
    assert suggest("pupils", ["Username", "Email"]) == {}


def test_role_synonyms_and_job_role_priority():
    for header in ["Job Title", "Role", "Job Role", "Staff Role", "Position"]:
        assert suggest("staff", [header]) == {header: "job_role"}
    assert suggest("staff", ["Role", "Job Title"]) == {"Job Title": "job_role"}
    for header in ["User Group", "Access Group", "Group"]:
        assert suggest("staff", [header]) == {header: "user_group"}


def test_other_systems_ids_are_never_mapped():
    ids = ["sourcedId", "SIS ID", "School SIS ID", "Student Number", "State ID", "Teacher Number", "identifier",
           "userIds", "Title", "Admission Number", "ID"]
    for kind in FIELDS:
        assert suggest(kind, ids) == {}


def test_pupil_id_is_only_our_own_id():
    for header in ["Pupil ID", "schoolroll ID", "System ID", "pupil_id"]:
        assert suggest("pupils", [header]) == {header: "pupil_id"}


def test_fields_of_another_kind_are_never_suggested():
    assert suggest("staff", ["UPN", "DOB", "Reg Group", "Forename", "Location"]) == {"Forename": "first_name"}
    assert suggest("pupils", ["Email", "Job Title", "User Group", "Hostname", "Room"]) == {}
    assert suggest("machines", ["UPN", "Surname", "Email"]) == {}


def test_machines():
    assert suggest("machines", ["Hostname", "Room"]) == {"Hostname": "name", "Room": "location"}
    for header in ["Name", "Machine Name", "Computer Name", "Device Name"]:
        assert suggest("machines", [header, "Location"]) == {header: "name", "Location": "location"}
    assert suggest("machines", ["Name", "Computer Name"]) == {"Computer Name": "name"}


def test_suggestion_is_in_column_order_and_skips_unknown_columns():
    mapping = suggest("pupils", ["UPN", "Shoe size", "Surname", "Forename"])
    assert list(mapping) == ["UPN", "Surname", "Forename"]


def test_case_spacing_and_punctuation_do_not_matter():
    assert suggest("pupils", ["LEGAL_SURNAME", "d.o.b.", "first-name", "  year  group "]) == {
        "LEGAL_SURNAME": "surname", "d.o.b.": "date_of_birth", "first-name": "first_name",
        "  year  group ": "year_group"}


def test_upn_and_dob_synonyms():
    for header in ["UPN", "Unique Pupil Number", "upn"]:
        assert suggest("pupils", [header]) == {header: "upn"}
    for header in ["DOB", "Date of Birth", "D.O.B.", "birthDate"]:
        assert suggest("pupils", [header]) == {header: "date_of_birth"}
    for header in ["Sex", "Gender"]:
        assert suggest("pupils", [header]) == {header: "gender"}


def test_repeat_finder_names_every_repeat_and_only_repeats():
    """Values are found again by their hash after the pass: every later row
    of a repeated value is a candidate, values seen once never are."""
    from chalicelib.imports.rows import RepeatFinder
    finder = RepeatFinder()
    values = [f"V{i % 700}" if i % 3 == 0 else f"U{i}" for i in range(3000)]
    for line, value in enumerate(values, start=2):
        finder.add(value, line)
    lines = sorted(finder.candidates())
    expected = sorted(line for line, value in enumerate(values, start=2) if values.count(value) > 1)
    assert lines == expected and len(lines) > 0
