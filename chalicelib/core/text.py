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


#: a query of more words than this is matched only as typed (each split of it costs two more reads)
MAX_SPLIT_WORDS = 4


def search_prefixes(q):
    """The (index, sort key attribute, prefix) reads that find the people a
    folded query ``q`` names: either name starting so, "first surname",
    "surname first" (each split between the words) and "surname, first"."""
    surname, first = _comma_parts(q)
    if surname:
        return [("by_name", "sort_name", f"{surname}{SEP}{first}" if first else surname)]
    words = first.split()
    if not words:
        return []  # (nothing to find by: commas and spaces)
    whole = " ".join(words)
    prefixes = [("by_name", "sort_name", whole), ("by_first", "first_sort", whole)]
    if len(words) <= MAX_SPLIT_WORDS:
        for k in range(1, len(words)):
            split = f"{' '.join(words[:k])}{SEP}{' '.join(words[k:])}"
            prefixes += [("by_first", "first_sort", split), ("by_name", "sort_name", split)]
    return prefixes


def _comma_parts(q):
    """("surname", "first") of "surname, first"; ("", the rest) when there is
    no surname before a comma (", Ngozi" is a first name) or no comma."""
    if "," not in q:
        return "", " ".join(q.split())
    surname, first = (" ".join(part.replace(",", " ").split()) for part in q.split(",", 1))
    return surname, first


def name_matches(name, q):
    """Whether a member shown as "First Surname" is found by the folded
    query ``q``, as search_prefixes finds a pupil (either name, "first
    surname", "surname first", "surname, first"); ``name`` as stored, where
    the break between first name and surname is not known."""
    words = fold(name).split()
    whole = " ".join(words)
    tails = [" ".join(words[i:]) for i in range(len(words))]
    surname, first = _comma_parts(q)
    if surname:
        return any(t.startswith(surname) and (not first or whole.startswith(first)) for t in tails[1:] or tails)
    asked = first.split()
    if not asked:
        return False
    if any(t.startswith(" ".join(asked)) for t in tails):
        return True
    return any(t.startswith(" ".join(asked[:k])) and whole.startswith(" ".join(asked[k:]))
               for k in range(1, len(asked)) for t in tails[1:])


def email_key(text):
    """An email address as stored and compared: NFKC-normalised and case-folded,
    so 'José' written composed or decomposed (or in full-width letters) is one
    address, not two that look the same."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text.strip()).casefold())
