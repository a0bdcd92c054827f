"""CSV for people to open in a spreadsheet. Pure standard library.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is run as a formula when
Excel, LibreOffice or Google Sheets opens a CSV (and some skip a leading tab
or carriage return first), so a pupil named ``=HYPERLINK("http://evil", "x")``
would become a live link, or worse (OWASP "CSV injection"). Every CSV we
serve goes through :func:`guard`, which puts a ``'`` before such a cell: a
spreadsheet shows it as text. Our import takes that ``'`` off again
(:func:`unguard`), so an export re-imports as it was.
"""
import csv
import io

#: What a cell may not start with, unguarded.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Served as UTF-8 with a BOM, so Excel reads the accents right.
BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"


def guard(value) -> str:
    """A cell's text, with a ``'`` in front if a spreadsheet would run it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_START) or unguard(text) != text:  # "'=1" too, so unguard() gives it back
        return "'" + text
    return text


def unguard(text: str) -> str:
    """The inverse of guard() for a cell read back from a CSV: a ``'``
    followed by a formula character is our guard, not part of the value."""
    if text[:1] == "'" and text[1:2] and text[1] in FORMULA_START:
        return text[1:]
    return text


def to_csv(header, rows) -> str:
    """A whole CSV (BOM, CRLF line ends as Excel writes) with every cell guarded.
    ``rows`` may be any iterable, read once (a query's pages, say)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guard(h) for h in header])
    for row in rows:
        writer.writerow([guard(cell) for cell in row])
    return out.getvalue()


def attachment(filename) -> dict:
    """Headers for a CSV download."""
    return {"Content-Type": CONTENT_TYPE, "Content-Disposition": f'attachment; filename="{filename}"'}
