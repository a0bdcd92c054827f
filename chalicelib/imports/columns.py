"""A suggested mapping from a file's column headers to fields, and our CSV
templates (the fields, headers and synonyms are in roster/fields.py). Pure
standard library.

Suggestions are exact matches of normalised headers against synonym lists
in tiers: our own template's headers, UK MIS exports (SIMS, Arbor, Bromcom,
ScholarPack), OneRoster 1.1, Microsoft School Data Sync v1 and Clever's
files. There is no fuzzy guessing of headers: a column whose header we do
not recognise is suggested only when every value of its first rows fits a
field (suggest_by_values), for a person to confirm.
Identifiers of other systems (sourcedId, SIS ID, Student Number, State ID,
Teacher Number) are never mapped, nor is a "Title" (Mr, Mrs).
"""
import csv
import io

from ..roster.fields import FIELDS, SYNONYMS, TEMPLATES, known_kind


def normalise(header: str) -> str:
    """A header reduced to lower-case letters and digits, so case, spaces and
    punctuation do not matter: 'D.O.B.' -> 'dob', 'First_Name' -> 'firstname'."""
    return "".join(char for char in header.casefold() if char.isalnum())


def _index(kind):
    """{normalised synonym: (tier, field)} for one kind."""
    index = {}
    for field, tiers in SYNONYMS[kind].items():
        for tier, names in enumerate(tiers):
            for name in names:
                index[normalise(name)] = (tier, field)
    return index


_INDEX = {kind: _index(kind) for kind in SYNONYMS}


def suggest(kind: str, headers: list[str]) -> dict[str, str]:
    """{column header: field} for the columns we recognise.

    Each field goes to at most one column and each column to at most one
    field: the best tier wins, then the leftmost column. So "Username"
    becomes the staff email only when no email column is present, and
    "Class" the registration group only when no reg group column is.
    Headers should be unique, as clean_header() makes them.
    """
    index = _INDEX[known_kind(kind)]
    candidates = sorted((index[normalise(h)][0], i, h, index[normalise(h)][1])
                        for i, h in enumerate(headers) if normalise(h) in index)
    mapping = {}
    for _tier, _i, header, field in candidates:
        if header not in mapping and field not in mapping.values():
            mapping[header] = field
    return {header: mapping[header] for header in headers if header in mapping}


def suggest_by_values(kind: str, headers: list[str], by_header: dict, fits: dict) -> dict[str, str]:
    """{column: field} for columns whose header we do not know but whose
    values all fit one of the kind's fields not yet matched (``fits``: the
    fields each column's first values fit, best first): all UPN-shaped, all
    emails, all plausible birth dates, all M/F, all year groups. A person
    confirms these (the import says ``by: values``)."""
    fields = set(FIELDS[known_kind(kind)])
    taken = set(by_header.values())
    found = {}
    for header in headers:
        if header in by_header:
            continue
        field = next((f for f in fits.get(header, ()) if f in fields and f not in taken), None)
        if field:
            found[header] = field
            taken.add(field)
    return found


def template_csv(kind: str) -> str:
    """Our template for a kind: the header row and one example row, CRLF as
    Excel writes. Serve it encoded as UTF-8 with a BOM ('utf-8-sig') so
    Excel shows accents such as Zoë correctly."""
    columns = TEMPLATES[known_kind(kind)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _example in columns])
    writer.writerow([example for _header, example in columns])
    return out.getvalue()
