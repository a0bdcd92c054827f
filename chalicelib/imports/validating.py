"""Reading a file: sniffing it (encoding, delimiter, header, samples), then
checking every row against the roster's own validators and refusing repeats.
Every step is safe to run twice: ids of new records are fixed when a row is
validated, and a re-run writes the same rows again."""
import functools
import json

from ..accounts.models import School
from ..core import config
from ..core.db import new_id
from ..membership.system import pupil_epoch
from . import bundling, columns, lines, sniff, storage, workbook
from .workbook import Format
from .acting import actor_for, ceiling_for
from .kinds import KINDS, rules_of
from .mapping import field_date_orders
from .models import Import, ImportRow, RowStatus, Source, Status
from .profile import ColumnProfile
from .rows import RowChecker
from .store import ProgressTicker, RowBuffer, delete_rows, fail, import_key, transition

#: A header wider than this is refused, so the import's record (columns and
#: samples, one DynamoDB item of at most 400 KB) always fits. Sizes are of
#: the JSON stored (where one emoji takes 12 bytes).
MAX_COLUMNS = 500
MAX_HEADER_JSON = 100_000
#: Characters of each cell kept on a refused row (a hostile 1 MB cell would
#: not fit in a DynamoDB item; the row is refused for its length anyway).
STORED_CELL_CHARS = 1000
#: a zip under one of these names is a workbook (if it is damaged, it says so), never a bundle
WORKBOOK_NAMES = (".xlsx", ".xlsm", ".xlsb", ".ods")


def open_records(imp):
    """(header, records) of the file as sniffed: a CSV streamed, a workbook's sheet."""
    if imp.file_format not in (None, Format.CSV):
        return _sheet_records(imp)[1:]
    dialect = sniff.Dialect(imp.encoding, imp.delimiter, int(imp.header_line))
    text = lines.open_text(storage.open_stream(imp.s3_key, imp.etag), imp.encoding)
    return sniff.read_header_and_records(text, dialect)


def _sheet_records(imp):
    """(SheetRows, header, records) of a workbook import's sheet (chosen when it was sniffed)."""
    with storage.download(imp.s3_key, imp.etag) as raw:
        sheet = workbook.read_sheet(raw, Format(imp.file_format), imp.sheet)
    return sheet, sheet.header, sheet.records


def _refusing_a_changed_file(step):
    """A step over the file fails the import, saying why, when the file is
    no longer the one the S3 event named (a second upload to the same
    presigned key within its 15 minutes can't swap a checked file)."""
    @functools.wraps(step)
    def run(imp):
        try:
            return step(imp)
        except storage.FileChanged:
            fail(imp, "file_changed", "This file was replaced while we were reading it. Upload it again "
                 "(once) to import it.")
            return False
        except workbook.Unreadable as exc:  # (a workbook's reader gave up part way)
            fail(imp, exc.code, exc.message)
            return False
    return run


@_refusing_a_changed_file
def sniff_file(imp):
    """Encoding, delimiter, header, columns with samples, suggestion, row
    count: the import moves on to mapping, or fails saying why."""
    size = imp.size or storage.head(imp.s3_key, imp.etag)["ContentLength"]
    if size > config.UPLOAD_MAX_BYTES:  # an upload's policy stops these; a drop or a direct put may not
        fail(imp, "file_too_large", f"This file is {size / 1048576:.1f} MB; the most we import at once is "
             f"{config.UPLOAD_MAX_BYTES // 1048576} MB. Split it (by year group, say) and import each part.")
        return False
    try:
        sample = storage.read_start(imp.s3_key, min(sniff.SAMPLE_BYTES, max(1, size)), imp.etag) if size else b""
        fmt = workbook.format_of(sample)
        if fmt == Format.BUNDLE and not imp.filename.lower().endswith(WORKBOOK_NAMES):
            return bundling.sniff(imp)  # (a zip named as a workbook is read as one: a damaged one says so)
        if imp.kind == bundling.KIND:
            fail(imp, "bundle_unreadable", "A roster bundle is a zip of its CSV files (users.csv and the rest); "
                 "this file is not one. Import a single CSV or spreadsheet as pupils or staff.")
            return False
        if fmt == Format.BUNDLE:
            fmt = Format.XLSX
        if fmt != Format.CSV:
            return _sniff_workbook(imp, fmt)
        dialect = sniff.sniff(sample, complete=size <= sniff.SAMPLE_BYTES)
    except sniff.NotCsv as exc:
        fail(imp, exc.code, exc.message)
        return False
    imp.encoding, imp.delimiter, imp.header_line = dialect.encoding, dialect.delimiter, dialect.header_line
    header, records = open_records(imp)
    return _to_mapping(imp, header, records, encoding=dialect.encoding, delimiter=dialect.delimiter,
                       header_line=dialect.header_line, file_format=Format.CSV)


def _sniff_workbook(imp, fmt):
    """A workbook's sheet sniffed as a CSV is: its columns, samples, suggestion."""
    imp.file_format = fmt
    try:
        sheet, header, records = _sheet_records(imp)
    except workbook.Unreadable as exc:
        fail(imp, exc.code, exc.message)
        return False
    if sheet.header_line is None:
        fail(imp, "no_data_rows", f"No sheet of this workbook has a header row (a row with two cells filled "
             f"in its first {workbook.HEADER_SEARCH_ROWS} rows). Check it holds your list.")
        return False
    return _to_mapping(imp, header, records, file_format=fmt, sheet=sheet.name, sheets=sheet.names,
                       header_line=sheet.header_line, encoding=None, delimiter=None)


def _to_mapping(imp, header, records, **read_as):
    """Columns with samples and the row count; the import moves on to mapping."""
    if len(header) > MAX_COLUMNS or len(json.dumps(header)) > MAX_HEADER_JSON:
        fail(imp, "too_many_columns", f"This file's header row has {len(header):,} columns; we read at most "
             f"{MAX_COLUMNS}, named in at most {MAX_HEADER_JSON // 1000} KB. Remove the columns you do not "
             "need and upload it again.")
        return False
    profile = ColumnProfile(header)
    for _line, cells in records:
        profile.add(cells)
    if profile.rows == 0:
        fail(imp, "no_data_rows", "The file has a header row but no rows under it. "
             "Check you exported the whole list.")
        return False
    by_header = columns.suggest(imp.kind, header)
    by_values = columns.suggest_by_values(imp.kind, header, by_header, profile.fits())
    suggested = {h: by_header.get(h) or by_values[h] for h in header if h in by_header or h in by_values}
    return transition(imp, Status.MAPPING, columns=profile.columns(), rows_total=profile.rows, rows_processed=0,
                      suggested_mapping=suggested, suggested_by={h: "header" if h in by_header else "values"
                                                                 for h in suggested}, **read_as)


@_refusing_a_changed_file
def validate_file(imp):
    """Stream the file, check every row, stage the valid ones in S3 and keep
    the refused ones as ImportRow items; then status review with a summary."""
    delete_rows(imp)
    kind = KINDS[imp.kind]
    header, records = open_records(imp)
    epoch = pupil_epoch(imp.school_id) if kind.bulk_new else None  # before the roster: see committing.py
    existing = kind.load(imp.school_id)
    checker = RowChecker(rules_of(imp), imp.mapping, header, existing, new_id, date_orders=field_date_orders(imp))
    within_rights = ceiling_for(actor_for(imp, imp.validated_by), existing) if kind.ceiling else None
    spool = storage.Spool()
    bad_rows = RowBuffer()
    full_drop = kind.leavers is not None and imp.source == Source.DROP and bool(School.get(imp.school_id).mark_leavers)
    named = set() if full_drop else None
    try:
        summary = _check_rows(imp, checker, records, within_rights, spool, bad_rows, named)
        if imp.source == Source.DROP and kind.on_roll is not None:  # what a hold's thresholds are a share of
            summary["on_roll"] = sum(1 for r in existing.by_id.values() if kind.on_roll(r.values))
        if full_drop:
            _stage_leavers(kind, existing, named, spool, summary)
        _refuse_repeats(imp, checker, spool, summary, bad_rows)
        bad_rows.flush()
        spool.upload(storage.staging_key(imp.school_id, imp.import_id, imp.run))
    except Exception:
        spool.discard()
        raise
    return transition(imp, Status.REVIEW, expect=Status.VALIDATING, condition=Import.run == imp.run,
                      summary=summary, rows_processed=summary["rows"], rows_total=summary["rows"],
                      pupil_epoch=epoch)


def _check_rows(imp, checker, records, within_rights, spool, bad_rows, named=None):
    """The summary of one pass over the rows: a good row to the staging
    spool, a refused one to ``bad_rows``. For a full drop, ``named`` gathers
    every record a row names, and whom a refused row still names goes to the
    spool too (a mistyped cell must not count them as gone)."""
    summary = {"rows": 0, "valid": 0, "errors": 0, "create": 0, "update": 0, "unchanged": 0}
    if checker.rules.on_match:
        summary["restore"] = 0
    ticker = ProgressTicker(imp)
    key = import_key(imp.school_id, imp.import_id)
    for result in checker.check_all(records):
        summary["rows"] += 1
        if within_rights is not None:
            within_rights(result)
        if result.ok:
            summary["valid"] += 1
            summary[result.action] += 1
            if result.action == "update" and checker.rules.restores(result.changes):
                summary["restore"] += 1
            if named is not None and result.action != "create":
                named.add(result.target_id)
            spool.add({"row": result.line, "action": result.action, "id": result.target_id,
                       "version": result.target_version,
                       "values": result.cleaned if result.action == "create" else result.changes})
        else:
            summary["errors"] += 1
            for still in checker.existing.named_by(result.values) if named is not None else ():
                named.add(still)
                spool.add({"row": result.line, "action": "named", "id": still})
            bad_rows.add(ImportRow(import_key=key, row=result.line, ttl=imp.ttl, values=stored_values(result.values),
                                   errors=result.error_dicts(), status=RowStatus.ERROR, run=imp.run))
        ticker.tick(summary["rows"])
    return summary


def _stage_leavers(kind, existing, named, spool, summary):
    """Who a full drop would mark as leavers (on roll, made by a file, named
    by no row), staged as ``leave`` records: the diff a held drop shows is
    what its commit does (each one checked again as it is written). With the
    counts a hold is decided on (``leave`` of ``on_roll``)."""
    summary["leave"] = summary["kept_manual"] = 0
    for record in existing.by_id.values():
        if record.id in named or not kind.on_roll(record.values):
            continue
        if kind.leaves(record.values):
            summary["leave"] += 1
            spool.add({"row": 0, "action": "leave", "id": record.id})
        else:
            summary["kept_manual"] += 1  # not in the file, kept: added by hand


def _refuse_repeats(imp, checker, spool, summary, bad_rows):
    """Rows whose UPN an earlier row of the file has: out of the staging
    file and refused (the first row stands), with their cells as written,
    read from the file again beside the staging file (both in file order, so
    nothing is held; only a file that repeats itself pays for the read).
    Found after the pass by sorting hashes, so the memory of a big file
    stays small (see RepeatFinder)."""
    if checker.repeats is None:
        return
    lines = checker.repeats.candidates()
    if not lines:
        return
    key = import_key(imp.school_id, imp.import_id)
    _header, records = open_records(imp)
    for record, first in spool.drop_repeats(lines, checker.unique_field):
        summary["valid"] -= 1
        summary[record["action"]] -= 1
        summary["errors"] += 1
        cells = cells_of_row(records, record["row"])
        values = (checker.values_of(cells) if cells is not None else  # (never: the same file, read the same way)
                  {f: "" if v is None else str(v) for f, v in (record["values"] or {}).items()})
        error = checker.duplicate_error(record["values"][checker.unique_field], first)
        bad_rows.add(ImportRow(import_key=key, row=record["row"], values=stored_values(values), ttl=imp.ttl,
                               errors=[error.as_dict()], status=RowStatus.ERROR, run=imp.run))


def cells_of_row(records, row):
    """The cells of the record at line ``row``, reading ``records`` (in file
    order) up to it."""
    for line, cells in records:
        if line >= row:
            return cells if line == row else None
    return None


def stored_values(values):
    """A refused row's cells as kept for fixing: each cut to STORED_CELL_CHARS."""
    return {f: v[:STORED_CELL_CHARS] for f, v in values.items()}
