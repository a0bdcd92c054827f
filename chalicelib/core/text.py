"""Folding names for sorting and accent-insensitive prefix search."""
import unicodedata

SEP = "|"


def _strip_marks(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text):
    """Search and sort key: 'Zoë ' and 'ZOE' both become 'zoe'.

    Marks are stripped before and after casefolding because each step can
    produce characters the other must handle (e.g. Roman numeral 'Ⅸ').
    """
    if text is None:
        return ""
    return " ".join(_strip_marks(_strip_marks(text).casefold()).split())


def sort_keys(first_name, surname, record_id):
    """(surname-first key, first-name-first key), unique per record."""
    first, last = (fold(n).replace(SEP, " ") for n in (first_name, surname))
    return f"{last}{SEP}{first}{SEP}{record_id}", f"{first}{SEP}{last}{SEP}{record_id}"


def email_key(text):
    """An email address as stored and compared: NFKC-normalised and case-folded,
    so 'José' written composed or decomposed (or in full-width letters) is one
    address, not two that look the same."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text.strip()).casefold())
