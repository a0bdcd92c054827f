"""The first step and the shared wording of every roster cleaner: a raw value
as stripped text or "not given", and the errors any field can have
(required, wrong type, too long) worded one way for all of them, so the
form, the API and the CSV import say the same thing. Pure: no AWS, no I/O.
"""
from ..core.errors import FieldError

#: How each field is named in a sentence.
_LABELS = {
    "first_name": "first name",
    "surname": "surname",
    "date_of_birth": "date of birth",
    "gender": "gender",
    "year_group": "year group",
    "registration_group": "registration group",
    "upn": "UPN",
    "email": "email address",
    "job_role": "job role",
    "user_group": "user group",
}


def label(field):
    return _LABELS.get(field, field.replace("_", " "))


def sentence(text):
    """Capitalise only the first letter, so 'UPN' stays 'UPN'."""
    return text[:1].upper() + text[1:]


def shown(value, limit=30):
    """A user's value, short enough to quote back in a message."""
    return value if len(value) <= limit else value[:limit - 1] + "…"


def _kind(value):
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a " + type(value).__name__


def required_error(field):
    return FieldError(field, "required", f"Enter the {label(field)}: it is required.")


def invalid_type(field, value, wanted="text"):
    return FieldError(field, "invalid_type",
                      f"{sentence(label(field))} must be {wanted}, not {_kind(value)}.")


def as_text(value, field):
    """(stripped str or None, error): None and blanks are "not given"."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, invalid_type(field, value)
    value = value.strip()
    return (value or None), None


def too_long(field, value, max_length):
    return FieldError(field, "too_long",
                      f"{sentence(label(field))} is too long ({len(value)} characters): "
                      f"shorten it to {max_length} characters or fewer.")
