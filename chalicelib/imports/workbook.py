"""Reading a spreadsheet (.xlsx, .xlsm, .xlsb, .xls, .ods) as the rows a CSV
would give: (line, cells as text), the line being the sheet's row number.

The reader is python-calamine (Rust's calamine): it reads a 50,000-row sheet
in about a second where openpyxl's read-only mode takes twenty, and reads the
old .xls too. It reads a whole sheet at once, so what it is given is bounded
first: the upload cap on the file, and for a zip-based workbook the checks of
``check_zip`` on every member (size, total, compression ratio, paths) before
any is inflated. A formula's cell gives the value Excel saved, never the
formula; dates come as ISO dates, whole numbers without a trailing ``.0``.
"""
import io
import re
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import python_calamine

from ..core import config
from . import sandbox, zips
from .sniff import clean_header

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
#: at most this many members in a workbook (a real one has a few dozen)
MAX_MEMBERS = 1000
#: rows of the sheet looked through for the header row
HEADER_SEARCH_ROWS = 20


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"  # also .xlsm and .xlsb: a zip with xl/
    ODS = "ods"
    XLS = "xls"  # an OLE compound file
    BUNDLE = "zip"  # any other zip: a roster bundle of CSV files (bundle.py), not a workbook


class Unreadable(Exception):
    """A spreadsheet we will not read: ``code`` for the API, ``message`` for the admin."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


SAVE_AS = "Save it as CSV UTF-8 or .xlsx and upload that."


def format_of(sample):
    """The format a file's first bytes show (CSV when no workbook's)."""
    if sample.startswith(_OLE_MAGIC):
        return Format.XLS
    if sample.startswith(_ZIP_MAGIC):
        if b"[Content_Types].xml" in sample or b"xl/" in sample:
            return Format.XLSX
        if b"opendocument.spreadsheet" in sample:
            return Format.ODS
        return Format.BUNDLE
    return Format.CSV


def check_zip(fileobj, max_total=None, max_members=MAX_MEMBERS):
    """Refuse (Unreadable ``spreadsheet_file``) a zip-based file whose
    members could exhaust memory or point outside it (zips.unsafe: too many
    members, a path outside it, over ``max_total`` (10x the cap) inflated,
    a ratio over 100:1), or whose shared strings would."""
    max_total = max_total or 10 * config.UPLOAD_MAX_BYTES
    try:
        why = zips.unsafe(zips.members(fileobj), max_members, max_total, max_total)
    except zips.Damaged as exc:
        raise Unreadable("spreadsheet_file", f"This workbook is damaged ({exc}). {SAVE_AS}") from None
    if why:
        raise Unreadable("spreadsheet_file", f"We will not open this workbook: {why}. {SAVE_AS}")
    _refuse_repeated_text(zipfile.ZipFile(fileobj), max_total)
    fileobj.seek(0)


_SHARED_END = b"</si>"
#: a cell of the shared-strings type, and the index it names (Excel writes t after r and s)
_SHARED_CELL = re.compile(rb'<c [^>]{0,200}?t="s"[^>]{0,200}><v>([0-9]{1,10})</v>')
CHUNK = 1 << 20


def _refuse_repeated_text(book, max_total):
    """A shared-strings bomb: one long text named by a million cells is small
    zipped and huge read (the reader copies it into every cell). Before
    anything is read, the text every sheet's cells would hold is added up
    (each shared string's size in XML, an upper bound on its text) and must
    stay within ``max_total``. Both parts are scanned in chunks, never whole."""
    names = {i.filename for i in book.infolist()}
    if "xl/sharedStrings.xml" not in names:
        return
    with book.open("xl/sharedStrings.xml") as part:
        sizes = _shared_sizes(part)
    total = 0
    for name in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
        with book.open(name) as part:
            for index in _shared_indexes(part):
                total += sizes[index] if index < len(sizes) else 0
                if total > max_total:
                    raise Unreadable("spreadsheet_file", "This workbook repeats its text so often that it would "
                                     f"unpack to more than {max_total // 1048576} MB. {SAVE_AS}")


def _shared_sizes(part):
    """Each shared string's size, as the distance between the ends of successive <si> elements."""
    sizes, previous, offset, tail = [], 0, 0, b""
    for chunk in iter(lambda: part.read(CHUNK), b""):
        buf, base = tail + chunk, offset - len(tail)
        at = buf.find(_SHARED_END)
        while at >= 0:
            end = base + at + len(_SHARED_END)
            sizes.append(end - previous)
            previous = end
            at = buf.find(_SHARED_END, at + 1)
        offset += len(chunk)
        tail = buf[-(len(_SHARED_END) - 1):]  # (an end cut by the chunk's edge is found next time)
    return sizes


def _shared_indexes(part, keep=512):
    """The shared-string index of every such cell of a sheet, read in chunks."""
    tail = b""
    for chunk in iter(lambda: part.read(CHUNK), b""):
        buf = tail + chunk
        carry = max(0, len(buf) - keep)  # (a cell is under keep bytes: one cut by the edge starts after this)
        for match in _SHARED_CELL.finditer(buf):
            if match.end() > len(buf) - keep:
                carry = min(carry, match.start())  # it may run on: read it again with the next chunk
                break
            yield int(match.group(1))
            carry = max(carry, match.end())
        tail = buf[carry:]
    for match in _SHARED_CELL.finditer(tail):
        yield int(match.group(1))


@dataclass
class SheetRows:
    """The sheet read (of every visible worksheet's ``names``): its header
    row's line and names, and its records, (line, [text]) after the header,
    ``line`` the sheet's row number; ``header_line`` None when it has none."""
    name: str
    names: list
    header_line: object
    header: list
    records: object


def read_sheet(fileobj, fmt, sheet=None):
    """The sheet named, else the first visible worksheet with a header row
    (a first sheet of notes is passed over), else the first: read in a
    capped child process (see sandbox.py), its records streamed from it."""
    frames = sandbox.run_child(__name__, fileobj, [str(fmt), sheet or ""])
    try:
        first = next(frames)
    except (StopIteration, sandbox.ChildFailed):
        raise _too_big() from None
    if "error" in first:
        raise Unreadable(first["error"], first["message"])
    return SheetRows(first["name"], first["names"], first["header_line"], first["header"], _records_from(frames))


def _too_big():
    return Unreadable("spreadsheet_file", "This workbook needs more memory or time to read than a real list "
                      f"of pupils or staff could (a cell far out in the sheet, or text repeated in every row). {SAVE_AS}")


def _records_from(frames):
    try:
        for frame in frames:
            if isinstance(frame, dict):
                raise Unreadable(frame["error"], frame["message"])
            yield from frame
    except sandbox.ChildFailed:
        raise _too_big() from None


def serve(data, argv, send):
    """In the capped child: read the sheet and send it (a header frame, then
    batches of records, each error as a frame)."""
    fmt, sheet = Format(argv[0]), argv[1] or None
    try:
        found = _read_here(io.BytesIO(data), fmt, sheet)
        send({"name": found.name, "names": found.names, "header_line": found.header_line, "header": found.header})
        batch = []
        for record in found.records:
            batch.append(record)
            if len(batch) >= sandbox.BATCH:
                send(batch)
                batch = []
        if batch:
            send(batch)
    except Unreadable as exc:
        send({"error": exc.code, "message": exc.message})
    except Exception as exc:  # noqa: BLE001 - a cell the reader cannot convert (an overflow, say)
        send({"error": "spreadsheet_file", "message": f"We could not read this workbook ({str(exc)[:120]}). {SAVE_AS}"})
    except BaseException as exc:  # noqa: BLE001 - the reader's own panics are BaseExceptions
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        send({"error": "spreadsheet_file", "message": f"We could not read this workbook. {SAVE_AS}"})


def _read_here(fileobj, fmt, sheet):
    if fmt in (Format.XLSX, Format.ODS):
        check_zip(fileobj)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(fileobj)
        names = [m.name for m in book.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet
                 and m.visible == python_calamine.SheetVisibleEnum.Visible]
        if not names:
            raise Unreadable("spreadsheet_file", f"This workbook has no sheet we can read. {SAVE_AS}")
        if sheet is not None and sheet not in names:
            raise Unreadable("unknown_sheet", f"This workbook has no sheet called '{sheet}'.")
        first = None
        for name in [sheet] if sheet else names:
            found = SheetRows(name, names, *header_and_records(_rows(book.get_sheet_by_name(name))))
            if found.header_line is not None:
                return found
            first = first or found
        return first
    except python_calamine.PasswordError:
        raise Unreadable("spreadsheet_file", "This workbook is protected by a password. Open it, remove the "
                         f"password (or copy the list into a new workbook), then upload it. {SAVE_AS}") from None
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise Unreadable("spreadsheet_file", f"We could not read this workbook ({str(exc)[:120]}). {SAVE_AS}") from None


def _rows(data):
    """(row number, [text]) for each row of a sheet's used range. (Every
    row of an import comes through here: a text cell is taken as it is.)"""
    first_row, first_col = data.start if data.start else (0, 0)
    pad = [""] * first_col
    line = first_row
    for row in data.iter_rows():
        line += 1
        cells = [v if v.__class__ is str else as_text(v) for v in row]
        yield line, (pad + cells if pad else cells)


def header_and_records(rows):
    """(header line, header names, records) as sniff.read_header_and_records
    gives a CSV's: the header is the first of the first rows with two cells
    filled (a title row above it is skipped); blank rows are left out."""
    for line, cells in rows:
        if line > HEADER_SEARCH_ROWS:
            break
        if sum(1 for c in cells if c.strip()) >= 2:
            header = clean_header(cells)
            return line, header, _records(rows, len(header))
    return None, [], iter(())


def _records(rows, width):
    """The rows after the header, blank ones left out, cut to the header's width."""
    for line, cells in rows:
        first = cells[0] if cells else ""
        if (not first or first.isspace()) and not any(c.strip() for c in cells):
            continue
        yield line, (cells[:width] if len(cells) > width else cells)


def as_text(value):
    """A cell as the text a CSV export would hold."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


if __name__ == "__main__":
    frames_out = sandbox.capped()
    serve(sys.stdin.buffer.read(), sys.argv[1:], lambda frame: sandbox.send(frame, frames_out))
    sandbox.send(None, frames_out)
    frames_out.flush()
