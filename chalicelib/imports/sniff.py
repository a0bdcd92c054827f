"""Works out how an uploaded CSV is encoded and laid out, then reads it as a
stream. Pure standard library: no AWS, no boto3.

The caller reads the first bytes of an upload (up to ``SAMPLE_BYTES``) and
calls ``sniff()``, which returns a ``Dialect`` or raises ``NotCsv`` with a
sentence telling the user what to do. The whole file is then read with
``lines.open_text()`` and ``read_header_and_records()`` (or ``iter_records()``),
one line at a time, so a 50,000-row file never sits in memory.

Line numbers are physical lines, 1-based, as a text editor shows them: a
quoted cell holding a line break makes every later record start later.
Turning bytes into text and text into bounded lines is in ``lines``.
"""
import codecs
import csv
import io
import re
import sys
from dataclasses import dataclass
from typing import Iterator, Optional

from .lines import bounded_lines

#: How much of the file sniff() expects to see.
SAMPLE_BYTES = 1 << 20
#: Longest cell, in characters; a longer one makes its record unreadable.
FIELD_SIZE_LIMIT = 1 << 20
#: Longest physical line, in characters; a longer one is unreadable.
MAX_LINE_CHARS = 4 << 20
#: Delimiters we try, in order of preference when they score the same.
DELIMITERS = (",", ";", "\t")
#: The header is among this many non-blank records at the top.
HEADER_SEARCH = 10
#: Records after the header whose widths must agree with it.
CONSISTENCY_RECORDS = 20
#: Share of those records allowed not to fit the header (at least one may).
INCONSISTENT_SHARE = 0.2
#: Share of control characters above which a "text" is really binary.
BINARY_SHARE = 0.05

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
#: Names inside a zip that make it an Office or OpenDocument file.
_WORKBOOK_MARKS = (b"[Content_Types].xml", b"xl/", b"opendocument")
_SAVE_AS_CSV = "In Excel choose File > Save As > CSV UTF-8, then upload that."
_NUMBER = re.compile(r"[-+]?[£$€]?[0-9][0-9,. ]*%?")
_DATE = re.compile(r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?")


class NotCsv(Exception):
    """The upload cannot be read as a CSV. ``code`` is stable for the API;
    ``message`` is a sentence for the user saying what to do about it."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Dialect:
    """How to read a file: its codec, delimiter and the 1-based physical line
    on which the header row starts."""
    encoding: str
    delimiter: str
    header_line: int


# -- encoding and not-CSV checks -------------------------------------------

def _encoding(sample, complete):
    """A BOM decides; else strict UTF-8 if it decodes (a character cut off at
    the end of a partial sample is fine); else Windows-1252, which is what
    Excel writes on UK Windows. UTF-8 with a few damaged bytes (more
    well-formed multi-byte characters than bad bytes) stays UTF-8: the bad
    bytes become U+FFFD and only their rows are refused, rather than every
    accent in the file silently turning into mojibake."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=complete)
        bad = text.count("\ufffd")
        well_formed = len(text) - len(text.encode("ascii", "ignore")) - bad
        return "utf-8" if well_formed > bad else "cp1252"
    return "utf-8"


def _decode(sample, encoding, complete):
    """The sample as text (BOM dropped), bad bytes as U+FFFD as open_text does."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(sample, final=complete)


#: control characters (tabs and line breaks aside), DEL, and U+FFFD for bytes that did not decode
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def _refuse_non_text(sample, encoding, text):
    """Spreadsheets, binaries, web pages and JSON are not CSVs: say so early
    rather than show the user a column of garbage."""
    if sample.startswith(_ZIP_MAGIC) and not any(m in sample for m in _WORKBOOK_MARKS):
        raise NotCsv("spreadsheet_file", "This is a zip archive (or a workbook saved as one), not a CSV. "
                     "If your list is inside it, unzip it first; if it is a spreadsheet, open it and "
                     "save it as CSV. " + _SAVE_AS_CSV)
    if sample.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise NotCsv("spreadsheet_file", "This is an Excel workbook, not a CSV. " + _SAVE_AS_CSV)
    binary = NotCsv("binary_file", "This file is not text, so it cannot be a CSV. "
                    "Export your list as a CSV file (in Excel: File > Save As > CSV UTF-8) "
                    "and upload that.")
    if encoding != "utf-16" and b"\x00" in sample:
        raise binary
    if text and len(_CONTROL.findall(text)) > len(text) * BINARY_SHARE:
        raise binary
    if text.lstrip()[:1] in ("<", "{"):
        raise NotCsv("not_csv", "This looks like a web page or data file, not a CSV. "
                     "Export your list from your MIS or spreadsheet as a CSV file and upload that.")


def _empty(complete):
    """Nothing to read: empty if we saw the whole file, else just unusable."""
    if complete:
        return NotCsv("empty_file", "This file is empty. Check you chose the right file, "
                      "or export your list again and upload the new file.")
    return NotCsv("not_csv", "The start of this file is blank, so it does not look like a CSV. "
                  "Export your list as a CSV file and upload that.")


# -- records with physical line numbers ------------------------------------

def _reader(lines, delimiter):
    """csv.reader over physical lines (from bounded_lines), cells capped."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)  # process-wide; csv has no per-reader limit
    return csv.reader(lines, delimiter=delimiter)


def _records(reader, skipped, width, keep_blank=False):
    """(first line, cells) for each record; cells is None for a record the
    csv module could not parse (a cell over FIELD_SIZE_LIMIT, a line over
    MAX_LINE_CHARS), and reading goes on at the next line so one bad record
    does not stop the file. Blank records are left out unless
    ``keep_blank`` (sniffing judges blankness for every delimiter itself),
    trailing blank cells beyond ``width`` removed; short records are left
    short. ``skipped``: lines before the header, which csv.reader's line
    count leaves out. The hot loop of every import: a record costs little
    more than csv.reader's own work."""
    read = reader.__next__
    while True:
        start = skipped + reader.line_num + 1
        try:
            cells = read()
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            continue
        first = cells[0] if cells else ""
        if not first or first.isspace():  # maybe blank: look at every cell
            if not keep_blank and _blank(cells):
                continue
        if len(cells) > width:
            while len(cells) > width and not cells[-1].strip():
                cells.pop()
        yield start, cells


def _blank(cells):
    """An empty line, or one of only delimiters and spaces (",,,," from Excel)."""
    return all(not cell.strip() for cell in cells)


def _blank_for_any_delimiter(cells):
    """Blank whichever delimiter is right: while sniffing, ",,,," read with
    ';' is one cell of commas, and must not pass for a header."""
    return all(not cell.strip("".join(DELIMITERS) + " \r\n") for cell in cells)


def _width(cells):
    """Number of cells up to the last non-blank one."""
    width = len(cells)
    while width and not cells[width - 1].strip():
        width -= 1
    return width


# -- delimiter and header --------------------------------------------------

def _sample_records(text, delimiter, complete):
    """The sample's first non-blank records, enough to find the header and
    check the rows under it. A partial sample's last record may be cut off,
    so it is dropped unless a later record proves it whole. Read as the whole
    file is read, but with every cell and blank record kept (a sample of
    SAMPLE_BYTES never holds a line as long as MAX_LINE_CHARS)."""
    limit = HEADER_SEARCH + CONSISTENCY_RECORDS
    found = []
    lines = bounded_lines(io.StringIO(text, newline=""), MAX_LINE_CHARS)
    for line, cells in _records(_reader(lines, delimiter), 0, sys.maxsize, keep_blank=True):
        if cells is None or _blank_for_any_delimiter(cells):
            continue
        found.append((line, cells))
        if len(found) > limit:
            return found[:limit]
    if not complete and found:
        found.pop()
    return found


def _is_value(cell):
    """A number or a date: data, not a column name."""
    return bool(_NUMBER.fullmatch(cell) or _DATE.fullmatch(cell))


def _looks_like_header(cells):
    """At least two filled cells, at least half of them words. A title line
    ("Pupil list exported 01/09/2025") fills only one cell."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    words = sum(not _is_value(cell) for cell in filled)
    return len(filled) >= 2 and words * 2 >= len(filled)


def _header_index(records):
    """Index of the header among the first HEADER_SEARCH records; the first
    record when none looks like one (a one-column CSV is legal)."""
    for i, (_line, cells) in enumerate(records[:HEADER_SEARCH]):
        if _looks_like_header(cells):
            return i
    return 0


def _score(records, header):
    """The header's width if the records under it fit it, else 0: the right
    delimiter splits the header most, and also splits the rows (which may
    be shorter, rarely wider: one odd row is forgiven, as in a small file
    with an unquoted comma typed into a cell)."""
    width = _width(records[header][1])
    rows = [cells for _line, cells in records[header + 1:header + 1 + CONSISTENCY_RECORDS]]
    wider = sum(_width(cells) > width for cells in rows)
    unsplit = sum(len(cells) < 2 for cells in rows) if width > 1 else 0
    return width if wider + unsplit <= max(1, len(rows) * INCONSISTENT_SHARE) else 0


def _layout(text, complete):
    """(delimiter, records, header index) for the best-scoring delimiter;
    ties go to the earlier in DELIMITERS, so ',' is the default."""
    best = None
    for rank, delimiter in enumerate(DELIMITERS):
        records = _sample_records(text, delimiter, complete)
        if not records:
            continue
        header = _header_index(records)
        key = (_score(records, header), -rank)
        if best is None or key > best[0]:
            best = (key, delimiter, records, header)
    if best is None:
        return None
    return best[1:]


def sniff(sample: bytes, complete: bool) -> Dialect:
    """Encoding, delimiter and header line of a file from its first bytes.

    ``complete`` says the sample is the whole file, so a cut-off last
    character or record is a real problem rather than the sample's edge.
    Raises NotCsv (empty_file, spreadsheet_file, binary_file, not_csv,
    no_data_rows) when the file cannot be imported.
    """
    if not sample:
        raise _empty(True)
    encoding = _encoding(sample, complete)
    text = _decode(sample, encoding, complete).lstrip("\ufeff")
    _refuse_non_text(sample, encoding, text)
    if not complete and "\n" not in text and "\r" not in text:
        raise NotCsv("not_csv", f"The first {len(sample) // 1024:,} KB of this file hold no line break, so it "
                     "is not a list of rows. Export your list as a CSV file and upload that.")
    layout = _layout(text, complete) if text.strip() else None
    if layout is None:
        raise _empty(complete)
    delimiter, records, header = layout
    if complete and header == len(records) - 1:
        raise NotCsv("no_data_rows", "This file has a header row but no rows of data under it. "
                     "Check you exported the whole list, then upload it again.")
    return Dialect(encoding=encoding, delimiter=delimiter, header_line=records[header][0])


# -- streaming the whole file ----------------------------------------------

def clean_header(cells):
    """Unique, non-blank column names: stripped, trailing blank cells (Excel's
    empty columns) dropped, other blanks named 'Column N' (1-based), repeats
    given ' (2)', ' (3)' so every name can key a mapping."""
    names = [cell.strip().lstrip("\ufeff").strip() for cell in cells[:_width(cells)]]
    names = [name or f"Column {i}" for i, name in enumerate(names, start=1)]
    seen, unique = set(names), []
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
        if counts[name] == 1:
            unique.append(name)
            continue
        n = counts[name]
        while f"{name} ({n})" in seen:
            n += 1
        unique.append(f"{name} ({n})")
        seen.add(unique[-1])
    return unique


def read_header_and_records(text_stream, dialect):
    """(header names, iterator of (line, cells)) for a file opened with
    open_text() at its start.

    The header names come from clean_header(). The iterator yields every
    data record after the header: ``line`` is the physical line on which the
    record starts; ``cells`` is a list of strings as written (not stripped),
    or None when the csv module could not parse that record, which the
    caller should report as unreadable. Blank records are skipped. Records
    are read as the iterator is consumed, never all at once.
    """
    lines = bounded_lines(text_stream, MAX_LINE_CHARS)
    skipped = 0
    for _ in range(dialect.header_line - 1):
        if next(lines, None) is None:
            return [], iter(())
        skipped += 1
    reader = _reader(lines, dialect.delimiter)
    try:
        first = next(reader)
    except StopIteration:
        return [], iter(())
    except csv.Error:
        raise NotCsv("not_csv", "We could not read the header row of this file. "
                     "Export your list as a CSV file again and upload that.") from None
    header = clean_header(first)
    return header, _records(reader, skipped, len(header))


def iter_records(text_stream, dialect) -> Iterator[tuple[int, Optional[list[str]]]]:
    """(line, cells) for every data record: read_header_and_records()
    without the header."""
    return read_header_and_records(text_stream, dialect)[1]
