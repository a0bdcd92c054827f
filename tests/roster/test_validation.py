"""Unit tests for the roster's pure field validators (no AWS)."""
from datetime import date, datetime

import pytest
from stdnum.gb.upn import calc_check_digit

from chalicelib.core.errors import FieldError
from chalicelib.roster import cleaning, validation as v
from chalicelib.roster.validation import (
    clean_date_of_birth, clean_email, clean_gender, clean_name, clean_pupil,
    clean_staff, clean_text, clean_upn, clean_year_group, parse_date,
)
from chalicelib.core.text import fold

TODAY = date(2025, 6, 1)
TABLE = "ABCDEFGHJKLMNPQRTUVWXYZ"
WRONG_TYPES = [7, 7.5, True, ["Ada"], {"x": 1}]


def dfe_check_letter(body):
    """The DfE algorithm written out independently of stdnum: characters 2-13
    weighted 2-13, digits at face value, a final letter as its table index."""
    values = [int(c) if c.isdigit() else TABLE.index(c) for c in body]
    return TABLE[sum(w * n for w, n in enumerate(values, 2)) % 23]


def upn(body):
    return dfe_check_letter(body) + body


def ok(result):
    value, error = result
    assert error is None, error.as_dict()
    return value


def err(result, code, field=None):
    value, error = result
    assert value is None
    assert isinstance(error, FieldError)
    assert error.code == code, error.as_dict()
    if field:
        assert error.field == field
    assert error.message.endswith("."), "messages are sentences"
    assert error.message[0].isupper() or error.message[0] == "'"
    return error


def codes(errors):
    return {e.field: e.code for e in errors}


def valid_pupil(**changes):
    data = {
        "first_name": "Ada", "surname": "Lovelace", "date_of_birth": "10/12/2014",
        "gender": "F", "year_group": "Year 6", "registration_group": "6L",
        "upn": upn("940123425001"),
    }
    data.update(changes)
    return data


# -- fold ------------------------------------------------------------------

@pytest.mark.parametrize("text, folded", [
    ("Zoë ", "zoe"),
    ("ÓBrien", "obrien"),
    ("  Mary-Jane   O'Neil ", "mary-jane o'neil"),
    ("SIÂN", "sian"),
    ("Straße", "strasse"),
    ("Ⅸ", "ix"),
    ("ﬁnn", "finn"),
    ("Zoë\u00a0\tSmith", "zoe smith"),
    ("Łukasz", "łukasz"),  # no decomposition: kept, only case-folded
    ("", ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_keeps_apostrophes_hyphens_and_formula_characters():
    assert fold("D’Arcy-Smith") == "d’arcy-smith"
    assert fold("=SUM(A1)") == "=sum(a1)"


def test_fold_of_none_is_empty():
    assert fold(None) == ""


def test_fold_makes_accented_and_plain_spellings_equal():
    assert fold("Zoë") == fold("ZOE") == fold("zoe") == "zoe"
    assert fold("Zoe\u0308") == "zoe"  # combining diaeresis typed separately


# -- clean_name ------------------------------------------------------------

@pytest.mark.parametrize("raw, cleaned", [
    ("Ada", "Ada"),
    ("  Ada  ", "Ada"),
    ("Mary   Jane", "Mary Jane"),
    ("Mary\t\nJane", "Mary Jane"),
    ("\u00a0Zoë\u00a0", "Zoë"),
    ("O'Brien-Smith", "O'Brien-Smith"),
])
def test_clean_name_tidies_spaces(raw, cleaned):
    assert ok(clean_name(raw, "first_name")) == cleaned


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_clean_name_blank_is_required(raw):
    error = err(clean_name(raw, "surname"), "required", "surname")
    assert "surname" in error.message


def test_clean_name_length_counts_after_collapsing():
    assert ok(clean_name("a" * 100, "first_name")) == "a" * 100
    assert ok(clean_name("a" * 50 + "    " + "b" * 49, "first_name")) == "a" * 50 + " " + "b" * 49
    error = err(clean_name("a" * 101, "first_name"), "too_long", "first_name")
    assert "101" in error.message and "100" in error.message
    err(clean_name("abcdef", "first_name", max_length=5), "too_long")


@pytest.mark.parametrize("raw", WRONG_TYPES)
def test_clean_name_wrong_type(raw):
    err(clean_name(raw, "first_name"), "invalid_type", "first_name")


@pytest.mark.parametrize("raw", ["=SUM(A1:A9)", "+44 1234", "-Smith", "@home", "=cmd|' /C calc'!A0"])
def test_clean_name_keeps_formula_characters_as_text(raw):
    assert ok(clean_name(raw, "surname")) == raw


# -- clean_text ------------------------------------------------------------

def test_clean_text_trims_only():
    assert ok(clean_text("  7  L ", "registration_group", 50)) == "7  L"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_clean_text_blank_is_none_unless_required(raw):
    assert clean_text(raw, "job_role", 100) == (None, None)
    err(clean_text(raw, "job_role", 100, required=True), "required", "job_role")


def test_clean_text_max_length():
    assert ok(clean_text("x" * 50, "registration_group", 50)) == "x" * 50
    err(clean_text("x" * 51, "registration_group", 50), "too_long", "registration_group")


def test_clean_text_wrong_type_and_formula_text():
    err(clean_text(12, "registration_group", 50), "invalid_type")
    assert ok(clean_text("=1+1", "job_role", 100)) == "=1+1"


# -- parse_date ------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("2015-01-31", date(2015, 1, 31)),
    ("2015-1-3", date(2015, 1, 3)),
    ("31/01/2015", date(2015, 1, 31)),
    ("1/2/2015", date(2015, 2, 1)),
    ("01/02/2015", date(2015, 2, 1)),
    ("1/2/15", date(2015, 2, 1)),
    ("31-01-2015", date(2015, 1, 31)),
    ("31.01.2015", date(2015, 1, 31)),
    ("31.1.15", date(2015, 1, 31)),
    ("  31/01/2015 ", date(2015, 1, 31)),
    ("12/03/2015", date(2015, 3, 12)),  # day first, never 3 December
    ("29/02/2016", date(2016, 2, 29)),
    (date(2015, 1, 31), date(2015, 1, 31)),
    (datetime(2015, 1, 31, 13, 5), date(2015, 1, 31)),
])
def test_parse_date_accepts(raw, expected):
    assert ok(parse_date(raw, "date_of_birth", today=TODAY)) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_parse_date_blank_is_not_given(raw):
    assert parse_date(raw, "start_date") == (None, None)


@pytest.mark.parametrize("raw", [
    "03/25/2015",  # month first: never guessed
    "31/02/2015", "29/02/2015", "00/01/2015", "31/13/2015", "31/00/2015",
    "2015-02-30", "2015-13-01",
])
def test_parse_date_rejects_unreal_dates(raw):
    error = err(parse_date(raw, "date_of_birth", today=TODAY), "invalid_date", "date_of_birth")
    assert "not a real date" in error.message
    assert error.message.endswith(v.DATE_FORMS)


def test_parse_date_explains_month_first_and_short_months():
    assert "no month 25" in parse_date("03/25/2015", "date_of_birth")[1].message
    assert "February 2015 has no day 30" in parse_date("30/02/2015", "date_of_birth")[1].message


@pytest.mark.parametrize("raw", [
    "31/01-2015", "31-01/2015", "2015/01/31", "2015.01.31", "31/01/015", "31/01/5",
    "31/01/20155", "31 Jan 2015", "January 31, 2015", "tomorrow", "31/01", "2015-01",
    "20150131", "2015-01-31T10:00", "31//01/2015", "=31/01/2015", "-31/01/2015",
    "٣١/٠١/٢٠١٥",  # non-ASCII digits
])
def test_parse_date_rejects_other_forms(raw):
    error = err(parse_date(raw, "date_of_birth", today=TODAY), "invalid_date")
    assert error.message.endswith("Use day/month/year, e.g. 31/01/2015, or 2015-01-31.")


@pytest.mark.parametrize("raw", WRONG_TYPES[:2] + WRONG_TYPES[3:])
def test_parse_date_wrong_type(raw):
    err(parse_date(raw, "date_of_birth"), "invalid_type", "date_of_birth")


@pytest.mark.parametrize("raw, today, expected", [
    ("01/01/15", date(2025, 6, 1), date(2015, 1, 1)),
    ("01/01/25", date(2025, 6, 1), date(2025, 1, 1)),
    ("01/06/25", date(2025, 6, 1), date(2025, 6, 1)),  # today itself is not the future
    ("02/06/25", date(2025, 6, 1), date(1925, 6, 2)),  # tomorrow would be the future
    ("01/01/26", date(2025, 6, 1), date(1926, 1, 1)),
    ("01/01/98", date(2025, 6, 1), date(1998, 1, 1)),
    ("01/01/00", date(2025, 6, 1), date(2000, 1, 1)),
    ("01/01/99", date(2000, 6, 1), date(1999, 1, 1)),
    ("29/02/00", date(2025, 6, 1), date(2000, 2, 29)),
])
def test_parse_date_two_digit_years_are_never_in_the_future(raw, today, expected):
    assert ok(parse_date(raw, "date_of_birth", today=today)) == expected


def test_parse_date_two_digit_year_unreal_date_is_invalid():
    err(parse_date("29/02/01", "date_of_birth", today=TODAY), "invalid_date")


def test_parse_date_defaults_today_to_the_real_date():
    yy = date.today().year % 100
    assert parse_date(f"01/01/{yy:02d}", "x")[0].year == date.today().year


# -- clean_date_of_birth ---------------------------------------------------

def test_date_of_birth_returns_iso():
    assert ok(clean_date_of_birth("10/12/2014", today=TODAY)) == "2014-12-10"
    assert ok(clean_date_of_birth(date(2014, 12, 10), today=TODAY)) == "2014-12-10"
    assert ok(clean_date_of_birth("2014-12-10", today=TODAY)) == "2014-12-10"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_date_of_birth_is_required(raw):
    err(clean_date_of_birth(raw, today=TODAY), "required", "date_of_birth")


def test_date_of_birth_unreadable():
    err(clean_date_of_birth("03/25/2015", today=TODAY), "invalid_date", "date_of_birth")
    err(clean_date_of_birth(20150131, today=TODAY), "invalid_type", "date_of_birth")


def test_date_of_birth_in_the_future():
    error = err(clean_date_of_birth("02/06/2025", today=TODAY), "implausible_date_of_birth")
    assert "future" in error.message


@pytest.mark.parametrize("raw, age", [
    ("1984-01-01", 41), ("2024-01-01", 1), ("2025-06-01", 0),
    ("2023-06-02", 1), ("1999-05-31", 26),
])
def test_date_of_birth_age_outside_2_to_25(raw, age):
    error = err(clean_date_of_birth(raw, today=TODAY), "implausible_date_of_birth", "date_of_birth")
    assert f"A pupil must be between 2 and 25 years old; this date makes them {age}." in error.message


@pytest.mark.parametrize("raw", ["2023-06-01", "1999-06-02", "2000-01-01", "01/06/23"])
def test_date_of_birth_age_edges_inclusive(raw):
    ok(clean_date_of_birth(raw, today=TODAY))


def test_date_of_birth_leap_day_birthday():
    # Born 29/02/2020: not yet 2 on 28/02/2022, 2 on 01/03/2022.
    err(clean_date_of_birth("29/02/2020", today=date(2022, 2, 28)), "implausible_date_of_birth")
    ok(clean_date_of_birth("29/02/2020", today=date(2022, 3, 1)))


# -- clean_gender ----------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("M", "M"), ("m", "M"), (" Male ", "M"), ("MALE", "M"),
    ("F", "F"), ("f", "F"), ("Female", "F"), ("  fEmAlE\t", "F"),
])
def test_gender_accepts(raw, expected):
    assert ok(clean_gender(raw)) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_gender_blank_is_none(raw):
    assert clean_gender(raw) == (None, None)


@pytest.mark.parametrize("raw", ["X", "boy", "Fem", "M F", "0", "=M"])
def test_gender_rejects(raw):
    error = err(clean_gender(raw), "invalid_gender", "gender")
    assert error.message.endswith("Use M, F, Male, Female, or leave blank.")


@pytest.mark.parametrize("raw", WRONG_TYPES)
def test_gender_wrong_type(raw):
    err(clean_gender(raw), "invalid_type", "gender")


# -- clean_year_group ------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Year 7", "7"), ("Y7", "7"), ("yr 7", "7"), ("Yr7", "7"), ("year7", "7"),
    ("YEAR   7", "7"), ("y 7", "7"), ("Yr. 7", "7"), ("7", "7"), ("07", "7"),
    (" 7 ", "7"), (7, "7"), ("1", "1"), ("Year 1", "1"), ("14", "14"), (14, "14"),
    ("Year 12", "12"), ("Y13", "13"),
    ("Reception", "R"), ("reception", "R"), ("Rec", "R"), ("R", "R"), ("r", "R"),
    ("YR", "R"), ("yr", "R"), ("Year R", "R"), ("Year Reception", "R"),
    ("N1", "N1"), ("n1", "N1"), ("Nursery 1", "N1"), ("nursery1", "N1"), ("N 1", "N1"),
    ("N2", "N2"), ("Nursery 2", "N2"), ("NURSERY  2", "N2"),
])
def test_year_group_accepts(raw, expected):
    assert ok(clean_year_group(raw)) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_year_group_is_required(raw):
    err(clean_year_group(raw), "required", "year_group")


@pytest.mark.parametrize("raw", [
    "0", "00", "15", "Year 15", "Year", "Y", "N", "N3", "Nursery", "Year 7A", "7A",
    "year seven", "-7", "1 4", "Reception 1", 0, 15, -1, "=7",
])
def test_year_group_rejects(raw):
    error = err(clean_year_group(raw), "invalid_year_group", "year_group")
    assert error.message.endswith("Use N1, N2, R or 1–14 (e.g. 'Year 7', 'Y7' or '7').")


@pytest.mark.parametrize("raw", [True, False, 7.0, ["7"], {"year": 7}])
def test_year_group_wrong_type(raw):
    err(clean_year_group(raw), "invalid_type", "year_group")


# -- clean_upn -------------------------------------------------------------

PERMANENT_BODIES = ["801200005001", "940123425001", "941765410999", "942000011000", "943999924123"]


def test_reference_algorithm_matches_known_upn():
    assert upn("801200005001") == "B801200005001"  # stdnum's own example


@pytest.mark.parametrize("body", PERMANENT_BODIES + ["94012342501A", "80120000500Z", "94312342599M"])
def test_stdnum_check_letter_matches_the_dfe_algorithm(body):
    assert calc_check_digit(body) == dfe_check_letter(body)


@pytest.mark.parametrize("body", PERMANENT_BODIES)
def test_upn_valid_permanent(body):
    assert ok(clean_upn(upn(body))) == upn(body)


@pytest.mark.parametrize("literal", [
    "B801200005001", "X940123425001", "B941123425001", "F942123425001", "K943123425001",
])
def test_upn_valid_literals_including_new_las(literal):
    assert ok(clean_upn(literal)) == literal


def test_upn_new_la_numbers_are_not_rejected_though_stdnum_would():
    from stdnum.gb import upn as stdnum_upn
    assert not stdnum_upn.is_valid("X940123425001")  # LA 940 unknown to stdnum
    assert ok(clean_upn("X940123425001")) == "X940123425001"


@pytest.mark.parametrize("temporary", ["W94012342501A", "Y80120000500Z", upn("94312342599M")])
def test_upn_valid_temporary(temporary):
    assert ok(clean_upn(temporary)) == temporary


def test_upn_normalises_case_and_spaces():
    assert ok(clean_upn("  x940 1234 25001 ")) == "X940123425001"
    assert ok(clean_upn("w94012342501a")) == "W94012342501A"
    assert ok(clean_upn("X 940\t123 425 001")) == "X940123425001"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_upn_is_optional(raw):
    assert clean_upn(raw) == (None, None)


@pytest.mark.parametrize("wrong", ["A940123425001", "Y940123425001", "X940123425002", "B94012342501A"])
def test_upn_wrong_check_letter(wrong):
    error = err(clean_upn(wrong), "upn_check_letter", "upn")
    expected = dfe_check_letter(wrong[1:])
    assert error.message == f"The first letter should be {expected} for this UPN: check for a typing error."


def test_upn_transposed_digits_are_caught():
    good = upn("940123425001")
    swapped = good[0] + "940123452001"
    assert dfe_check_letter(swapped[1:]) != good[0]
    err(clean_upn(swapped), "upn_check_letter")


@pytest.mark.parametrize("raw, length", [
    ("X94012342500", 12), ("X9401234250011", 14), ("X", 1), ("X940-123-425-001", 16),
])
def test_upn_wrong_length(raw, length):
    error = err(clean_upn(raw), "invalid_upn", "upn")
    assert f"{length} characters" in error.message and "13" in error.message


@pytest.mark.parametrize("raw", [
    "I940123425001", "O940123425001", "S940123425001",  # not check letters
    "1940123425001",  # no check letter
    "X94012342500I", "X94012342500O", "X94012342500S",  # not allowed as a last letter
    "X9401234250A1",  # a letter in the digits
    "X94012342500-", "=940123425001", "+940123425001", "@940123425001",
])
def test_upn_wrong_format(raw):
    error = err(clean_upn(raw), "invalid_upn", "upn")
    assert error.message.endswith(v.UPN_FORM)


@pytest.mark.parametrize("raw", [9401234250011, ["X940123425001"], True])
def test_upn_wrong_type(raw):
    err(clean_upn(raw), "invalid_type", "upn")


# -- clean_email -----------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("ada@oak.sch.uk", "ada@oak.sch.uk"),
    ("  Ada.Lovelace@Oak.SCH.uk ", "ada.lovelace@oak.sch.uk"),
    ("a+tag@example.com", "a+tag@example.com"),
    ("o'brien@example.org", "o'brien@example.org"),
])
def test_email_accepts(raw, expected):
    assert ok(clean_email(raw)) == expected


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_email_is_required(raw):
    err(clean_email(raw), "required", "email")


@pytest.mark.parametrize("raw", [
    "ada", "ada@", "@oak.sch.uk", "ada@oak", "ada@oak.u", "ada@@oak.sch.uk",
    "ada lovelace@oak.sch.uk", "ada@oak.sch.", "ada@oak..", "ada@oak.sch.uk@x",
])
def test_email_rejects(raw):
    error = err(clean_email(raw), "invalid_email", "email")
    assert "name@school.sch.uk" in error.message


def test_email_length_limit():
    domain = "@example.com"
    assert ok(clean_email("a" * (254 - len(domain)) + domain))
    error = err(clean_email("a" * (255 - len(domain)) + domain), "invalid_email")
    assert "254" in error.message


def test_email_custom_field_and_wrong_type():
    err(clean_email("nope", field="contact_email"), "invalid_email", "contact_email")
    err(clean_email(42), "invalid_type", "email")


# -- clean_pupil -----------------------------------------------------------

def test_pupil_full_record_from_csv_strings():
    data = valid_pupil(first_name="  Zoë ", surname=" O'Brien  Smith", gender=" female ",
                       year_group="yr 6", registration_group=" 6L ", upn=" x940 123425001 ")
    cleaned, errors = clean_pupil(data, today=TODAY)
    assert errors == []
    assert cleaned == {
        "first_name": "Zoë", "surname": "O'Brien Smith", "date_of_birth": "2014-12-10",
        "gender": "F", "year_group": "6", "registration_group": "6L",
        "upn": "X940123425001", "external_id": None,
    }


def test_pupil_json_types():
    cleaned, errors = clean_pupil(valid_pupil(year_group=6, date_of_birth="2014-12-10",
                                              gender=None, upn=None,
                                              registration_group=None), today=TODAY)
    assert errors == []
    assert cleaned["year_group"] == "6"
    assert cleaned["gender"] is None and cleaned["upn"] is None
    assert cleaned["registration_group"] is None


def test_pupil_optional_fields_default_to_none():
    data = {"first_name": "Ada", "surname": "Lovelace", "date_of_birth": "10/12/2014",
            "year_group": "6"}
    cleaned, errors = clean_pupil(data, today=TODAY)
    assert errors == []
    assert set(cleaned) == {"first_name", "surname", "date_of_birth", "gender",
                            "year_group", "registration_group", "upn", "external_id"}
    assert cleaned["gender"] is None and cleaned["registration_group"] is None


def test_pupil_empty_reports_every_required_field():
    cleaned, errors = clean_pupil({}, today=TODAY)
    assert codes(errors) == {"first_name": "required", "surname": "required",
                             "date_of_birth": "required", "year_group": "required"}
    assert cleaned == {"gender": None, "registration_group": None, "upn": None, "external_id": None}


def test_pupil_collects_all_errors_not_just_the_first():
    data = {"first_name": "", "surname": "x" * 101, "date_of_birth": "03/25/2015",
            "gender": "boy", "year_group": "Year 15", "registration_group": "r" * 51,
            "upn": "A940123425001"}
    cleaned, errors = clean_pupil(data, today=TODAY)
    assert codes(errors) == {
        "first_name": "required", "surname": "too_long", "date_of_birth": "invalid_date",
        "gender": "invalid_gender", "year_group": "invalid_year_group",
        "registration_group": "too_long", "upn": "upn_check_letter",
    }
    assert cleaned == {"external_id": None}
    assert all(isinstance(e.as_dict()["message"], str) for e in errors)


@pytest.mark.parametrize("field", ["first_name", "surname", "date_of_birth", "gender",
                                   "year_group", "registration_group", "upn"])
@pytest.mark.parametrize("bad", [["x"], {"a": 1}, 3.5, False])
def test_pupil_wrong_json_types_are_field_errors(field, bad):
    cleaned, errors = clean_pupil(valid_pupil(**{field: bad}), today=TODAY)
    assert codes(errors) == {field: "invalid_type"}
    assert field not in cleaned


def test_pupil_number_for_first_name_is_invalid_type():
    _, errors = clean_pupil(valid_pupil(first_name=42), today=TODAY)
    assert codes(errors) == {"first_name": "invalid_type"}
    assert errors[0].message == "First name must be text, not a number."


def test_pupil_implausible_date_of_birth():
    _, errors = clean_pupil(valid_pupil(date_of_birth="01/01/1984"), today=TODAY)
    assert codes(errors) == {"date_of_birth": "implausible_date_of_birth"}
    assert "this date makes them 41" in errors[0].message


def test_pupil_two_digit_year_uses_today():
    cleaned, errors = clean_pupil(valid_pupil(date_of_birth="10/12/14"), today=TODAY)
    assert errors == [] and cleaned["date_of_birth"] == "2014-12-10"


def test_pupil_partial_checks_only_given_keys():
    cleaned, errors = clean_pupil({"year_group": "Y8"}, partial=True, today=TODAY)
    assert errors == [] and cleaned == {"year_group": "8"}
    assert clean_pupil({}, partial=True) == ({}, [])


def test_pupil_partial_blank_required_is_still_an_error():
    cleaned, errors = clean_pupil({"surname": "  ", "upn": ""}, partial=True, today=TODAY)
    assert codes(errors) == {"surname": "required"}
    assert cleaned == {"upn": None}  # clearing an optional field is allowed


def test_pupil_partial_bad_values_are_errors():
    _, errors = clean_pupil({"gender": "x", "date_of_birth": "31/02/2015"}, partial=True,
                            today=TODAY)
    assert codes(errors) == {"gender": "invalid_gender", "date_of_birth": "invalid_date"}


def test_pupil_unknown_keys_are_ignored():
    cleaned, errors = clean_pupil(valid_pupil(shoe_size="9", pupil_id="p1"), today=TODAY)
    assert errors == []
    assert "shoe_size" not in cleaned and "pupil_id" not in cleaned


def test_pupil_formula_like_cells_are_kept_as_text():
    cleaned, errors = clean_pupil(valid_pupil(first_name="=HYPERLINK(\"x\")", surname="-Smith",
                                              registration_group="@7L"), today=TODAY)
    assert errors == []
    assert cleaned["first_name"] == "=HYPERLINK(\"x\")"
    assert cleaned["surname"] == "-Smith"
    assert cleaned["registration_group"] == "@7L"


def test_pupil_does_not_modify_its_input():
    data = valid_pupil(first_name="  Ada ")
    before = dict(data)
    clean_pupil(data, today=TODAY)
    assert data == before


# -- clean_staff -----------------------------------------------------------

def valid_staff(**changes):
    data = {"first_name": "Grace", "surname": "Hopper", "email": " Grace@Oak.sch.uk ",
            "job_role": " Head of Computing ", "user_group": "Admin Team"}
    data.update(changes)
    return data


def test_staff_full_record():
    cleaned, errors = clean_staff(valid_staff())
    assert errors == []
    assert cleaned == {"first_name": "Grace", "surname": "Hopper", "email": "grace@oak.sch.uk",
                       "job_role": "Head of Computing", "user_group": "Admin Team", "external_id": None}


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_staff_blank_user_group_joins_teachers(blank):
    cleaned, errors = clean_staff(valid_staff(user_group=blank))
    assert errors == [] and cleaned["user_group"] == "Teachers"


def test_staff_missing_user_group_and_job_role():
    cleaned, errors = clean_staff({"first_name": "Grace", "surname": "Hopper",
                                   "email": "g@oak.sch.uk"})
    assert errors == []
    assert cleaned["user_group"] == "Teachers" and cleaned["job_role"] is None


def test_staff_empty_reports_every_required_field():
    cleaned, errors = clean_staff({})
    assert codes(errors) == {"first_name": "required", "surname": "required", "email": "required"}
    assert cleaned == {"job_role": None, "user_group": "Teachers", "external_id": None}


def test_staff_collects_all_errors():
    _, errors = clean_staff({"first_name": "g" * 101, "surname": 5, "email": "nope",
                             "job_role": "j" * 101, "user_group": "u" * 101})
    assert codes(errors) == {"first_name": "too_long", "surname": "invalid_type",
                             "email": "invalid_email", "job_role": "too_long",
                             "user_group": "too_long"}


def test_staff_partial():
    assert clean_staff({"email": "NEW@oak.sch.uk"}, partial=True) == ({"email": "new@oak.sch.uk"}, [])
    assert clean_staff({}, partial=True) == ({}, [])
    cleaned, errors = clean_staff({"user_group": ""}, partial=True)
    assert errors == [] and cleaned == {"user_group": None}
    _, errors = clean_staff({"email": ""}, partial=True)
    assert codes(errors) == {"email": "required"}


def test_staff_wrong_types():
    _, errors = clean_staff(valid_staff(job_role=["a"], user_group={"id": 1}))
    assert codes(errors) == {"job_role": "invalid_type", "user_group": "invalid_type"}


# -- the module itself -----------------------------------------------------

def test_module_imports_no_aws():
    import ast
    import inspect
    imported = set()
    for module in (v, cleaning):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add("." * node.level + (node.module or "").split(".")[0])
    assert imported <= {"calendar", "functools", "re", "unicodedata", "datetime", "stdnum", "..core", "..accounts", ".cleaning", ".dates"}, imported


def test_fast_check_letter_agrees_with_stdnum_and_the_dfe_rule():
    """upn_check_letter caches partial sums: it must still be stdnum's answer
    for every shape (permanent, temporary with a final letter), cold or warm."""
    import random
    from chalicelib.roster.validation import upn_check_letter
    rng = random.Random(9)
    bodies = [f"{rng.randrange(10 ** 11):011d}" + rng.choice("0123456789" + TABLE) for _ in range(3000)]
    bodies += [b[:9] + f"{rng.randrange(1000):03d}" for b in bodies[:500]]  # warm heads, new tails
    for body in bodies:
        assert upn_check_letter(body) == calc_check_digit(body) == dfe_check_letter(body), body


def test_a_cell_with_letters_where_digits_belong_is_refused_even_once_its_sum_was_asked_for():
    """upn_cell trusts a UPN whose two parts it has seen: asking for the
    check letter of a wrong shape must not put its parts where it looks."""
    from chalicelib.roster.validation import upn_cell, upn_check_letter
    for body in ("A23456789012", "1234567890A1"):  # a letter in the LA number's or a serial digit's place
        letter = upn_check_letter(body)
        value, error = upn_cell(letter + body)
        assert value is None and error.code == "invalid_upn", body
    good = "123456789012"
    assert upn_cell(upn_check_letter(good) + good) == (upn_check_letter(good) + good, None)
