"""Checks and cleans pupil and staff fields: pure functions, no AWS, no I/O.

One validator per record kind serves the console form, the JSON API and the
CSV import, so every value may arrive as a string with stray whitespace, and a
blank string means "not given". Each ``clean_*`` returns ``(value, error)``
with exactly one of them set (or both None for an optional blank), and never
raises on bad input: a wrong JSON type becomes an ``invalid_type`` error.
That first step, and the wording every field's errors share, is in
``cleaning``.

Cells starting with ``=``, ``+``, ``-`` or ``@`` are kept as typed: they are
stored as text, and whoever exports them to a spreadsheet must escape them.
"""
import calendar
import functools
import re

from datetime import date, datetime

from ..accounts.permissions import FALLBACK_GROUP
from ..core.errors import FieldError
from ..core.text import email_key
from .cleaning import as_text, invalid_type, label, required_error, sentence, shown, too_long
from .dates import DateOrder

MIN_PUPIL_AGE = 2
MAX_PUPIL_AGE = 25
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
DEFAULT_USER_GROUP = FALLBACK_GROUP  # a new staff member with no user group joins it

#: Letters a UPN's check letter (and a temporary UPN's last character) may be.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

DATE_FORMS = "Use day/month/year, e.g. 31/01/2015, or 2015-01-31."
MONTH_FIRST_FORMS = "This column is read month first, as confirmed: e.g. 01/31/2015, or 2015-01-31."
GENDER_FORMS = "Use M, F, Male, Female, or leave blank."
YEAR_GROUP_FORMS = "Use N1, N2, R or 1–14 (e.g. 'Year 7', 'Y7' or '7')."
UPN_FORM = ("A UPN is 13 characters: a letter (never I, O or S), 11 digits, "
            "then a digit, or a letter for a temporary UPN.")

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_UK_DATE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})")
_YEAR_PREFIX = r"(?:(?:year|yr|y)\.?\s*)?"
_SCHOOL_YEAR = re.compile(_YEAR_PREFIX + r"([0-9]{1,2}|r|rec|reception)")
_NURSERY = re.compile(r"(?:n|nur|nursery)\s*([12])")
_UPN_SHAPE = re.compile(f"[{UPN_LETTERS}][0-9]{{11}}[0-9{UPN_LETTERS}]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F"}


# -- text ------------------------------------------------------------------

def clean_name(value, field, max_length=100):
    """A required name with its spaces tidied, as CSVs often double them."""
    text, error = as_text(value, field)
    if error:
        return None, error
    if text is None:
        return None, required_error(field)
    text = " ".join(text.split())
    if len(text) > max_length:
        return None, too_long(field, text, max_length)
    return text, None


def clean_text(value, field, max_length, required=False):
    """Free text such as a registration group or job role, trimmed only."""
    text, error = as_text(value, field)
    if error:
        return None, error
    if text is None:
        return None, (required_error(field) if required else None)
    if len(text) > max_length:
        return None, too_long(field, text, max_length)
    return text, None


#: the source system's id (a OneRoster ``sourcedId``): what a sync matches first
clean_external_id = functools.partial(clean_text, field="external_id", max_length=255)


# -- dates -----------------------------------------------------------------

def _full_year(digits, day, month, today):
    """A four-digit year; two digits take the century that keeps the date
    from being in the future (so '31/01/15' is 2015, '31/01/98' is 1998)."""
    year = int(digits)
    if len(digits) == 4:
        return year
    year += today.year // 100 * 100
    try:
        future = date(year, month, day) > today
    except ValueError:  # not a real date in this century; let the caller say so
        future = False
    return year - 100 if future else year


def _unreal_date(field, text, year, month, day, forms):
    if not 1 <= month <= 12:
        why = f"there is no month {month}"
    else:
        why = f"{calendar.month_name[month]} {year} has no day {day}"
    return FieldError(field, "invalid_date",
                      f"{sentence(label(field))} '{shown(text)}' is not a real date "
                      f"({why}). {forms}")


def parse_date(value, field, today=None, order=DateOrder.DAY_FIRST):
    """(date or None, error), reading UK day-first dates and ISO dates. Never
    guesses month-first: '03/25/2015' is an error, not 25 March, unless
    ``order`` is ``month_first`` (a column a person confirmed so).
    A blank is (None, None): whether the date is required is the caller's call.
    """
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text, error = as_text(value, field)
    if error:
        return None, invalid_type(field, value, "text such as 31/01/2015")
    if text is None:
        return None, None
    month_first = order == DateOrder.MONTH_FIRST
    forms = MONTH_FIRST_FORMS if month_first else DATE_FORMS
    iso, uk = _ISO_DATE.fullmatch(text), _UK_DATE.fullmatch(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif uk:
        day, month = int(uk.group(1)), int(uk.group(3))
        if month_first:
            day, month = month, day
        year = _full_year(uk.group(4), day, month, today or date.today())
    else:
        return None, FieldError(field, "invalid_date",
                                f"{sentence(label(field))} '{shown(text)}' is not a date "
                                f"we can read. {forms}")
    try:
        return date(year, month, day), None
    except ValueError:
        return None, _unreal_date(field, text, year, month, day, forms)


def _age(born, today):
    """Whole years at today (a 29 February birthday counts from 1 March)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def clean_date_of_birth(value, today=None, order=DateOrder.DAY_FIRST):
    """(ISO 'yyyy-mm-dd' or None, error): required, and plausible for a pupil."""
    field = "date_of_birth"
    today = today or date.today()
    born, error = parse_date(value, field, today=today, order=order)
    if error:
        return None, error
    if born is None:
        return None, required_error(field)
    if born > today:
        return None, FieldError(field, "implausible_date_of_birth",
                                f"The date of birth {born:%d/%m/%Y} is in the future: "
                                "check the year.")
    age = _age(born, today)
    if not MIN_PUPIL_AGE <= age <= MAX_PUPIL_AGE:
        return None, FieldError(field, "implausible_date_of_birth",
                                f"A pupil must be between {MIN_PUPIL_AGE} and {MAX_PUPIL_AGE} "
                                f"years old; this date makes them {age}. Check the year.")
    return born.isoformat(), None


# -- coded values ----------------------------------------------------------

def clean_gender(value):
    """('M' | 'F' | None, error): the two values the DfE census records."""
    field = "gender"
    text, error = as_text(value, field)
    if error or text is None:
        return None, error
    gender = _GENDERS.get(text.casefold())
    if gender is None:
        return None, FieldError(field, "invalid_gender",
                                f"Gender '{shown(text)}' is not recognised. {GENDER_FORMS}")
    return gender, None


def _year_group_code(text):
    """Canonical 'N1', 'N2', 'R' or '1'..'14' for a typed year, else None."""
    text = " ".join(text.casefold().split())
    nursery = _NURSERY.fullmatch(text)
    if nursery:
        return "N" + nursery.group(1)
    school = _SCHOOL_YEAR.fullmatch(text)
    if not school:
        return None
    year = school.group(1)
    if not year.isdigit():
        return "R"
    return str(int(year)) if 1 <= int(year) <= 14 else None


def clean_year_group(value):
    """(canonical year group or None, error): required, however it is typed."""
    field = "year_group"
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif value is not None and not isinstance(value, str):
        return None, invalid_type(field, value, "text or a whole number")
    text, _ = as_text(value, field)
    if text is None:
        return None, required_error(field)
    code = _year_group_code(text)
    if code is None:
        return None, FieldError(field, "invalid_year_group",
                                f"Year group '{shown(text)}' is not recognised. {YEAR_GROUP_FORMS}")
    return code, None


UNREADABLE_CELL = ("This cell has characters we could not read. Save the file as 'CSV UTF-8' and "
                   "upload it again, or type the value here.")
_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"  # stdnum's: a digit counts as 23 + itself
_UPN_HEADS, _UPN_TAILS = {}, {}
_UPN_HEADS_MAX = 50_000


def _upn_weighted(chars, first_weight):
    return sum(w * _UPN_ALPHABET.index(c) for w, c in enumerate(chars, first_weight))


def upn_check_letter(number):
    """The check letter of a UPN's last 12 characters: stdnum's
    calc_check_digit, with the weighted sums of the first nine characters (LA,
    establishment, year: shared by a school's pupils) and of the last three
    cached, since an import checks a UPN on every row."""
    head, tail = number[:9], number[9:]
    a = _UPN_HEADS.get(head)
    if a is None:
        a = _upn_weighted(head, 2)
        # only a right shape's parts are kept: upn_cell takes finding them as proof of shape
        if len(_UPN_HEADS) < _UPN_HEADS_MAX and head.isascii() and head.isdigit():
            _UPN_HEADS[head] = a
    b = _UPN_TAILS.get(tail)
    if b is None:
        b = _upn_weighted(tail, 11)
        if len(tail) == 3 and tail[:2].isascii() and tail[:2].isdigit():
            _UPN_TAILS[tail] = b  # at most 10 x 10 x 33 of them
    return _UPN_ALPHABET[(a + b) % 23]


def clean_upn(value):
    """(13-character UPN or None, error): optional; the check letter must fit.

    The check letter is stdnum's calculation (upn_check_letter; the tests
    hold it to stdnum's). stdnum's validate() is not used: it rejects LA
    numbers it does not know, and LAs 940-943 (2021-23) are missing from it.
    The calculation also covers temporary UPNs: a final letter counts as its
    index in the table, and digits (indexed 23-32 there) are equal mod 23.
    """
    field = "upn"
    if type(value) is str and len(value) == 13 and _UPN_SHAPE.fullmatch(value) \
            and value[0] == upn_check_letter(value[1:]):
        return value, None  # the usual case: already compact, upper case and right
    return _clean_upn(value, field)


def upn_cell(raw, _heads=_UPN_HEADS, _tails=_UPN_TAILS):
    """clean_upn for a CSV cell, with the usual case (a right UPN as typed)
    done inline: it runs on every row of an import. Only checked UPNs' parts
    are in the caches, so finding both parts there also proves the shape."""
    if len(raw) == 13:
        a, b = _heads.get(raw[1:10]), _tails.get(raw[10:])
        if a is not None and b is not None and _UPN_ALPHABET[(a + b) % 23] == raw[0]:
            return raw, None
    if "\ufffd" in raw:
        return None, FieldError("upn", "invalid_characters", UNREADABLE_CELL)
    return clean_upn(raw.strip())


def _clean_upn(value, field):
    text, error = as_text(value, field)
    if error or text is None:
        return None, error
    upn = "".join(text.split()).upper()
    if len(upn) != 13:
        return None, FieldError(field, "invalid_upn",
                                f"This UPN has {len(upn)} characters, not 13. {UPN_FORM}")
    if not _UPN_SHAPE.fullmatch(upn):
        return None, FieldError(field, "invalid_upn",
                                f"UPN '{upn}' is not in the right format. {UPN_FORM}")
    expected = upn_check_letter(upn[1:])
    if upn[0] != expected:
        return None, FieldError(field, "upn_check_letter",
                                f"The first letter should be {expected} for this UPN: "
                                "check for a typing error.")
    return upn, None


def clean_email(value, field="email"):
    """(lower-cased address or None, error): required; only plausibility is
    checked here, since the verification email is the real test."""
    text, error = as_text(value, field)
    if error:
        return None, error
    if text is None:
        return None, required_error(field)
    email = email_key(text)
    if len(email) > MAX_EMAIL_LENGTH:
        return None, FieldError(field, "invalid_email",
                                f"This email address is too long ({len(email)} characters): "
                                f"an email address has at most {MAX_EMAIL_LENGTH}.")
    if not _EMAIL.fullmatch(email):
        return None, FieldError(field, "invalid_email",
                                f"'{shown(text)}' is not a valid email address: it should "
                                "look like name@school.sch.uk.")
    return email, None


# -- records ---------------------------------------------------------------

STATUSES = ("active", "left")


def clean_status(status, left_on, now, born=None):
    """(status, left_on, [FieldError]) for a pupil: ``left`` keeps the day
    they left (today, UTC, unless given; not in the future, nor before they
    were ``born``), ``active`` none."""
    today = datetime.utcfromtimestamp(now).date()
    if status not in STATUSES:
        return None, None, [FieldError("status", "invalid_choice", "Use 'active' or 'left'.")]
    if status == "active":
        if left_on not in (None, ""):
            return None, None, [FieldError("left_on", "invalid_choice", "Only a pupil who has left has a "
                                           "leaving date; send status 'left' with it.")]
        return status, None, []
    if left_on in (None, ""):
        return status, today.isoformat(), []
    day, error = parse_date(left_on, "left_on", today=today)
    if error is None and day > today:
        error = FieldError("left_on", "date_in_future", "A leaving date can't be in the future.")
    elif error is None and born and day.isoformat() < born:
        error = FieldError("left_on", "invalid_date", "A leaving date can't be before the pupil was born.")
    return (None, None, [error]) if error else (status, day.isoformat(), [])


def pupil_cleaners(today=None, date_orders=None):
    """{field: cleaner} of a pupil; ``date_orders``: {field: DateOrder} of an import's columns."""
    born_order = (date_orders or {}).get("date_of_birth") or DateOrder.DAY_FIRST
    return {
        "first_name": lambda v: clean_name(v, "first_name"),
        "surname": lambda v: clean_name(v, "surname"),
        "date_of_birth": lambda v: clean_date_of_birth(v, today=today, order=born_order),
        "gender": clean_gender,
        "year_group": clean_year_group,
        "registration_group": lambda v: clean_text(v, "registration_group", 50),
        "upn": clean_upn, "external_id": clean_external_id,
    }


_STAFF_CLEANERS = {
    "first_name": lambda v: clean_name(v, "first_name"),
    "surname": lambda v: clean_name(v, "surname"),
    "email": clean_email,
    "job_role": lambda v: clean_text(v, "job_role", 100),
    "user_group": lambda v: clean_text(v, "user_group", 100),
    "external_id": clean_external_id,
}


def _clean_record(cleaners, data, partial):
    """Run every cleaner (not stopping at the first error) so a form or CSV
    row shows all its problems at once. With partial, only keys present are
    checked, so an update can leave required fields out. Fields with errors
    are left out of the cleaned dict; unknown keys are ignored."""
    cleaned, errors = {}, []
    for field, cleaner in cleaners.items():
        if partial and field not in data:
            continue
        value, error = cleaner(data.get(field))
        if error:
            errors.append(error)
        else:
            cleaned[field] = value
    return cleaned, errors


def clean_pupil(data, partial=False, today=None):
    """(cleaned dict, [FieldError]) for a pupil from a form, JSON or CSV row."""
    return _clean_record(pupil_cleaners(today), data, partial)


def clean_staff(data, partial=False):
    """(cleaned dict, [FieldError]) for a staff member; a new one with no user
    group joins Teachers. In a partial update a blank group comes back None."""
    cleaned, errors = _clean_record(_STAFF_CLEANERS, data, partial)
    if not partial and "user_group" in cleaned and cleaned["user_group"] is None:
        cleaned["user_group"] = DEFAULT_USER_GROUP
    return cleaned, errors


def staff_cleaners(today=None, date_orders=None):
    return dict(_STAFF_CLEANERS)  # {field: cleaner} of a staff member
