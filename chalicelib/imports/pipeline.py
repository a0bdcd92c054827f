"""The import pipeline: the steps an import goes through, and their storage.

Every step is safe to run twice (S3 and SQS deliver at least once) and to
restart after dying part-way: state moves by conditional updates, ids of
new records are fixed when a row is validated, and writes put the same items
again rather than adding new ones.
"""
import hashlib
import json
import time
from types import SimpleNamespace

from pynamodb.exceptions import DoesNotExist, UpdateError, PutError

from ..accounts.models import School, User
from ..accounts.permissions import ADMIN_GROUP, FALLBACK_GROUP, PERMISSIONS, Caller, effective_permissions
from ..core import audit, clients, config
from ..core.db import Tx, batch_put, new_id
from ..core.errors import ApiError, FieldError, not_found
from ..core.log import logger
from ..groups.system import pupil_epoch
from ..roster import staff as staff_records
from . import columns, sniff, storage
from .models import Import, ImportRow
from .rows import ExistingIndex, RowChecker

SAMPLE_BYTES = 1024 * 1024
SAMPLES_PER_COLUMN = 3
#: A header wider than this is refused, so the import's record (columns and
#: samples, one DynamoDB item of at most 400 KB) always fits. Sizes are of
#: the JSON stored (where one emoji takes 12 bytes).
MAX_COLUMNS = 500
MAX_HEADER_JSON = 100_000
#: JSON bytes of samples kept across all columns.
SAMPLES_JSON = 100_000
#: Characters of each cell kept on a refused row (a hostile 1 MB cell would
#: not fit in a DynamoDB item; the row is refused for its length anyway).
STORED_CELL_CHARS = 1000
PROGRESS_EVERY_ROWS = 5000
PROGRESS_EVERY_SECONDS = 2.0
COMMIT_CHUNK = 500


def new_import_id(now):
    """Time-ordered, so the newest import comes first in a reverse query."""
    return f"{int(now * 1000):012x}{new_id()[:12]}"


def import_key(school_id, import_id):
    return f"{school_id}#{import_id}"


def expires_at(school, now):
    """When an import begun now expires (its rows with it): the school's setting."""
    days = getattr(school, "keep_imports_days", None) or 90
    return int(now) + int(days) * 86400


# ---------------------------------------------------------------- reading

def get(school_id, import_id):
    try:
        return Import.get(school_id, import_id, consistent_read=True)
    except DoesNotExist:
        raise not_found("import")


def as_json(imp):
    out = {
        "id": imp.import_id, "kind": imp.kind, "source": imp.source, "filename": imp.filename,
        "status": imp.status, "created_at": _iso(imp.created_at), "updated_at": _iso(imp.updated_at),
        "rows_processed": imp.rows_processed or 0, "rows_total": imp.rows_total,
        "columns": imp.columns, "suggested_mapping": imp.suggested_mapping, "mapping": imp.mapping,
        "summary": imp.summary, "result": imp.result, "error": imp.error,
    }
    if imp.kind in columns.FIELDS:
        out["fields"] = [{"name": f, "required": f in columns.REQUIRED[imp.kind]}
                         for f in columns.FIELDS[imp.kind]]
    return out


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


def list_imports(school_id, limit, state):
    from ..core.paging import encode_cursor
    start = {"school_id": {"S": state["school_id"]}, "import_id": {"S": state["import_id"]}} if state else None
    items = list(Import.query(school_id, scan_index_forward=False, limit=limit, page_size=limit,
                              last_evaluated_key=start))
    nxt = encode_cursor({"school_id": school_id, "import_id": items[-1].import_id}) \
        if len(items) == limit else None
    return {"items": [as_json(i) for i in items], "next": nxt}


def row_json(r):
    return {"row": int(r.row), "values": r.values, "errors": r.errors, "status": r.status}


def list_rows(school_id, import_id, only, limit, state):
    from ..core.paging import encode_cursor
    imp = get(school_id, import_id)
    start = None
    if state:
        start = {"import_key": {"S": import_key(school_id, import_id)}, "row": {"N": str(int(state["row"]))}}
    condition = ImportRow.run == imp.run
    if only == "errors":
        condition &= ImportRow.status == "error"
    items = list(ImportRow.query(import_key(school_id, import_id), filter_condition=condition,
                                 limit=limit, page_size=limit, last_evaluated_key=start))
    nxt = encode_cursor({"school_id": school_id, "row": int(items[-1].row)}) if len(items) == limit else None
    return {"items": [row_json(r) for r in items], "next": nxt}


# ---------------------------------------------------------------- starting

def start_upload(caller, kind, filename, now=None):
    now = now or time.time()
    if kind not in columns.FIELDS or kind not in _KINDS_READY:
        raise ApiError("validation_failed", f"kind must be one of: {', '.join(_KINDS_READY)}.",
                       errors=[{"field": "kind", "code": "invalid_choice",
                                "message": f"Use one of: {', '.join(_KINDS_READY)}."}])
    import_id = new_import_id(now)
    key = storage.upload_key(caller.school_id, import_id)
    Import(school_id=caller.school_id, import_id=import_id, kind=kind, source="upload",
           filename=filename.strip()[:200] or "upload.csv", s3_key=key, status="uploading",
           created_by=caller.user_id, created_at=int(now), updated_at=int(now),
           ttl=expires_at(caller.school, now)).save(condition=Import.import_id.does_not_exist())
    return {"import_id": import_id, "upload": storage.presigned_upload(key),
            "max_bytes": config.UPLOAD_MAX_BYTES, "expires_in": config.UPLOAD_EXPIRES_SECONDS}


_KINDS_READY = ("pupils", "staff", "machines")


def _set(imp, condition=None, **values):
    """Update named attributes (and updated_at); True unless the condition failed."""
    actions = [getattr(Import, k).set(v) if v is not None else getattr(Import, k).remove()
               for k, v in values.items()]
    actions.append(Import.updated_at.set(int(time.time())))
    try:
        imp.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def fail(imp, code, message):
    _set(imp, status="failed", error={"code": code, "message": message})
    logger.info("import failed", extra={"import_id": imp.import_id, "code": code})
    tidy_files(imp)


def tidy_files(imp):
    """The import is over (committed, done or failed): its file and staging
    files go (a bucket lifecycle rule catches any a crash leaves behind).
    Rows still to fix keep their own cells in ImportRow, so nothing else is
    lost; a re-mapping is not possible after this point."""
    keys = [storage.staging_key(imp.school_id, imp.import_id, run) for run in range(1, (imp.run or 0) + 1)]
    try:
        storage.delete_files([imp.s3_key] + keys)
    except Exception:  # noqa: BLE001 - tidying must never fail the import; the lifecycle rule is the backstop
        logger.warning("could not delete an import's files", extra={"import_id": imp.import_id})


# ---------------------------------------------------------------- S3 events

def on_s3_object(bucket, key, etag, size, event_time=None):
    """ObjectCreated: an upload for a waiting import, or a hands-off drop."""
    if bucket != config.bucket_name():
        return "ignored"
    if key.startswith(config.UPLOAD_PREFIX):
        return _on_upload(key, etag, size)
    if key.startswith(config.DROP_PREFIX):
        return _on_drop(bucket, key, etag, size, event_time)
    return "ignored"


def _upload_target(key):
    parts = key[len(config.UPLOAD_PREFIX):].split("/")
    if len(parts) != 2 or not parts[1].endswith(".csv"):
        return None
    return parts[0], parts[1][:-4]


def _on_upload(key, etag, size):
    target = _upload_target(key)
    if target is None:
        return "ignored"
    # One conditional update both finds the import and moves it on: only the
    # first notification for this object does; a repeat changes nothing, unless
    # the first died while sniffing (then resume). An object under a key no
    # import expects (another school's prefix, say) fails the condition.
    imp = Import(school_id=target[0], import_id=target[1])
    started = _set(imp, condition=Import.import_id.exists() & (Import.s3_key == key) & (
        (Import.status == "uploading")
        | ((Import.status == "sniffing") & (Import.etag == etag))
        | ((Import.status == "failed") & (Import.etag != etag))),
        status="sniffing", etag=etag, size=size, error=None)
    if not started:
        return "duplicate or ignored"
    sniff_file(imp)
    return "sniffed"


def _drop_target(key):
    parts = key[len(config.DROP_PREFIX):].split("/")
    if len(parts) < 3 or parts[1] not in _KINDS_READY or not parts[-1]:
        return None
    return parts[0], parts[1]


def drop_import_id(bucket, key, etag, event_time):
    """The same for every delivery of one object's notification: the
    idempotency key is (bucket, key, ETag); the time prefix orders lists."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag}".encode()).hexdigest()[:12]
    return f"{_epoch_ms(event_time):012x}{digest}"


def _epoch_ms(event_time):
    from datetime import datetime
    try:
        return int(datetime.fromisoformat((event_time or "").replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def _on_drop(bucket, key, etag, size, event_time):
    target = _drop_target(key)
    if target is None:
        return "ignored"
    school_id, kind = target
    try:
        school = School.get(school_id)
    except DoesNotExist:
        logger.warning("drop for unknown school ignored")
        return "ignored"
    now = time.time()
    imp = Import(school_id=school_id, import_id=drop_import_id(bucket, key, etag, event_time), kind=kind,
                 source="drop", filename=key.rsplit("/", 1)[-1][:200], s3_key=key, status="sniffing",
                 created_by="s3-drop", created_at=int(now), updated_at=int(now), etag=etag, size=size,
                 ttl=expires_at(school, now))
    try:
        imp.save(condition=Import.import_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        imp = Import.get(school_id, imp.import_id, consistent_read=True)
        if imp.status not in ("sniffing", "validating", "committing"):
            return "duplicate"
    return _run_drop(school, imp)


def _run_drop(school, imp):
    """Sniff, map, validate, commit; resumes from where a dead run stopped."""
    if imp.status == "sniffing" and not sniff_file(imp):
        return "failed"
    if imp.status == "mapping":
        mapping = _drop_mapping(school, imp)
        if mapping is None:
            fail(imp, "no_mapping", "No confirmed column matching for this kind of file yet, and the "
                 "suggestion misses a required column. Import one such file through the console first.")
            return "failed"
        _set(imp, status="validating", mapping=mapping, run=1)
        imp.status, imp.mapping, imp.run = "validating", mapping, 1
    if imp.status == "validating":
        if not validate_file(imp):
            return "failed"
        _set(imp, status="committing", commit_started_at=int(time.time()))
        imp.status = "committing"
    if imp.status == "committing":
        commit_file(imp, drop=True)
        _set(imp, status="done")
    return "imported"


def _drop_mapping(school, imp):
    header = [c["name"] for c in imp.columns or []]
    remembered = (school.import_mappings or {}).get(imp.kind)
    if remembered and all(col in header for col in remembered):
        return remembered
    suggested = imp.suggested_mapping or {}
    if columns.REQUIRED[imp.kind] <= set(suggested.values()):
        return suggested
    return None


# ---------------------------------------------------------------- sniffing

def _open_records(imp):
    dialect = sniff.Dialect(imp.encoding, imp.delimiter, int(imp.header_line))
    text = sniff.open_text(storage.open_stream(imp.s3_key), imp.encoding)
    return sniff.read_header_and_records(text, dialect)


def sniff_file(imp):
    """Encoding, delimiter, header, columns with samples, suggestion, row count."""
    size = imp.size or storage.head(imp.s3_key)["ContentLength"]
    if size > config.UPLOAD_MAX_BYTES:  # an upload's policy stops these; a drop or a direct put may not
        fail(imp, "file_too_large", f"This file is {size / 1048576:.1f} MB; the most we import at once is "
             f"{config.UPLOAD_MAX_BYTES // 1048576} MB. Split it (by year group, say) and import each part.")
        return False
    try:
        sample = storage.read_start(imp.s3_key, min(SAMPLE_BYTES, max(1, size))) if size else b""
        dialect = sniff.sniff(sample, complete=size <= SAMPLE_BYTES)
    except sniff.NotCsv as exc:
        fail(imp, exc.code, exc.message)
        return False
    imp.encoding, imp.delimiter, imp.header_line = dialect.encoding, dialect.delimiter, dialect.header_line
    header, records = _open_records(imp)
    if len(header) > MAX_COLUMNS or len(json.dumps(header)) > MAX_HEADER_JSON:
        fail(imp, "too_many_columns", f"This file's header row has {len(header):,} columns; we read at most "
             f"{MAX_COLUMNS}, named in at most {MAX_HEADER_JSON // 1000} KB. Remove the columns you do not "
             "need and upload it again.")
        return False
    samples = [[] for _ in header]
    total = 0
    budget = SAMPLES_JSON
    for _line, cells in records:
        total += 1
        if total <= 50 and cells and budget > 0:
            for i, cell in enumerate(cells[:len(header)]):
                if cell.strip() and len(samples[i]) < SAMPLES_PER_COLUMN and budget > 0:
                    samples[i].append(cell.strip()[:60])
                    budget -= len(json.dumps(samples[i][-1])) + 2
    if total == 0:
        fail(imp, "no_data_rows", "The file has a header row but no rows under it. "
             "Check you exported the whole list.")
        return False
    cols = [{"name": name, "samples": samples[i]} for i, name in enumerate(header)]
    suggestion = columns.suggest(imp.kind, header)
    _set(imp, status="mapping", encoding=dialect.encoding, delimiter=dialect.delimiter,
         header_line=dialect.header_line, columns=cols, suggested_mapping=suggestion, rows_total=total,
         rows_processed=0)
    imp.status, imp.columns, imp.suggested_mapping, imp.rows_total = "mapping", cols, suggestion, total
    return True


# ---------------------------------------------------------------- mapping

def check_mapping(kind, header, mapping):
    errors = []
    fields = columns.FIELDS[kind]
    if not isinstance(mapping, dict):
        return [FieldError("mapping", "invalid_type", "Send the mapping as {column: field}.")]
    used = {}
    for column, field in mapping.items():
        if field in (None, ""):
            continue
        if column not in header:
            errors.append(FieldError(f"mapping.{column}", "unknown_column",
                                     f"The file has no column called '{column}'."))
        elif field not in fields:
            errors.append(FieldError(f"mapping.{column}", "invalid_choice",
                                     f"'{field}' is not a field. Use one of: {', '.join(fields)}."))
        elif field in used:
            errors.append(FieldError(f"mapping.{column}", "duplicate_field",
                                     f"'{field}' is already matched to column '{used[field]}'."))
        else:
            used[field] = column
    for field in sorted(columns.REQUIRED[kind] - set(used)):
        errors.append(FieldError(f"mapping.{field}", "required",
                                 f"Match a column to the required field '{field}'."))
    return errors


def set_mapping(caller, import_id, mapping):
    from ..core.errors import validation_failed
    imp = get(caller.school_id, import_id)
    if imp.status not in ("mapping", "review"):
        raise ApiError("conflict", f"This import is {imp.status}; columns can be matched only "
                       "after the file is read and before it is imported.")
    header = [c["name"] for c in imp.columns or []]
    errors = check_mapping(imp.kind, header, mapping)
    if errors:
        raise validation_failed(errors)
    clean = {c: f for c, f in mapping.items() if f}
    run = (imp.run or 0) + 1
    if not _set(imp, condition=Import.status.is_in("mapping", "review") & (Import.run == (imp.run or 0)),
                status="validating", mapping=clean, run=run, summary=None, rows_processed=0,
                validated_by=caller.user_id):
        raise ApiError("conflict", "Someone else changed this import just now; reload it.")
    remember_mapping(caller, imp.kind, clean)
    enqueue({"action": "validate", "school_id": caller.school_id, "import_id": import_id, "run": run})
    imp.status, imp.mapping, imp.run, imp.summary = "validating", clean, run, None
    return as_json(imp)


def remember_mapping(caller, kind, clean):
    """The next drop of this kind reads its columns this way, and a drop acts
    with the school's full rights: so the remembered mapping is a school
    setting, saved (and audited as one) only for a ``manage_settings``
    holder. Anyone else's matching applies to their own import alone (else
    an SLT could match a drop's column to ``user_group`` for every night)."""
    if not caller.has("manage_settings"):
        return
    remembered = caller.school.import_mappings or {}
    remembered = remembered.as_dict() if hasattr(remembered, "as_dict") else dict(remembered)
    if remembered.get(kind) == clean:  # unchanged: no write
        return
    tx = Tx()
    tx.update("school", School(school_id=caller.school_id),
              actions=[School.import_mappings.set({**remembered, kind: clean})], add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "update", "settings", caller.school_id,
                                {f"import_mapping.{kind}": remembered.get(kind)},
                                {f"import_mapping.{kind}": clean}))
    tx.commit()


# ---------------------------------------------------------------- the queue

_sqs = None
_queue_url = None


def enqueue(message):
    global _sqs, _queue_url
    if _sqs is None:
        import boto3
        _sqs = boto3.client("sqs", region_name=config.region())
    if _queue_url is None:
        _queue_url = _sqs.get_queue_url(QueueName=config.queue_name("imports"))["QueueUrl"]
    _sqs.send_message(QueueUrl=_queue_url, MessageBody=json.dumps(message))


def reset_clients():
    """Forget cached clients (tests start a fresh moto per test)."""
    global _sqs, _queue_url
    _sqs = _queue_url = None
    clients.reset()  # every AWS client: S3, SES, KMS


# ---------------------------------------------------------------- validating

def load_existing(kind, school_id):
    """The school's records of this kind, indexed for matching (queries only)."""
    index = ExistingIndex(kind)
    if kind == "pupils":
        from ..roster.models import Pupil
        from ..roster.pupils import FIELDS
        for p in Pupil.query(school_id):
            index.add(p.pupil_id, p.version, {f: getattr(p, f) for f in FIELDS})
    elif kind == "staff":
        from ..roster.staff import FIELDS
        for u in User.query(school_id):
            index.add(u.user_id, u.version, {f: getattr(u, f) for f in FIELDS})
    else:
        from ..groups.models import Machine
        for m in Machine.query(school_id):
            index.add(m.machine_id, 0, {"name": m.name, "location": m.location})
    return index


class _RowBuffer:
    """Refused rows, written 25 at a time as they come (memory stays flat)."""

    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        if len(self.items) >= 25:
            self.flush()

    def flush(self):
        if self.items:
            batch_put(self.items)
            self.items = []


class _Progress:
    def __init__(self, imp):
        self.imp = imp
        self.last_rows = 0
        self.last_time = time.time()

    def tick(self, rows):
        now = time.time()
        if rows - self.last_rows >= PROGRESS_EVERY_ROWS or now - self.last_time >= PROGRESS_EVERY_SECONDS:
            _set(self.imp, rows_processed=rows)
            self.last_rows, self.last_time = rows, now


def _delete_rows(imp):
    """Rows of an earlier run (a re-mapped import): gone before the new run."""
    if (imp.run or 0) <= 1:
        return  # a first run has no earlier rows
    key = import_key(imp.school_id, imp.import_id)
    old = list(ImportRow.query(key, filter_condition=ImportRow.run != imp.run, attributes_to_get=["row"]))
    if old:
        with ImportRow.batch_write() as batch:
            for r in old:
                batch.delete(ImportRow(import_key=key, row=r.row))


def validate_file(imp):
    """Stream the file, check every row, stage the valid ones in S3 and keep
    the refused ones as ImportRow items; then status review with a summary."""
    _delete_rows(imp)
    header, records = _open_records(imp)
    epoch = pupil_epoch(imp.school_id) if imp.kind == "pupils" else None  # before the roster: see commit.py
    existing = load_existing(imp.kind, imp.school_id)
    checker = RowChecker(imp.kind, imp.mapping, header, existing, new_id)
    within_rights = _ceiling_for(actor_for(imp, imp.validated_by), existing) if imp.kind == "staff" else None
    spool = storage.Spool()
    summary = {"rows": 0, "valid": 0, "errors": 0, "create": 0, "update": 0, "unchanged": 0}
    progress = _Progress(imp)
    key = import_key(imp.school_id, imp.import_id)
    bad_rows = _RowBuffer()
    try:
        for result in checker.check_all(records):
            summary["rows"] += 1
            if within_rights is not None:
                within_rights(result)
            if result.ok:
                summary["valid"] += 1
                summary[result.action] += 1
                spool.add({"row": result.line, "action": result.action, "id": result.target_id,
                           "version": result.target_version,
                           "values": result.cleaned if result.action == "create" else result.changes})
            else:
                summary["errors"] += 1
                bad_rows.add(ImportRow(import_key=key, row=result.line, ttl=imp.ttl,
                                       values=_stored(result.values),
                                       errors=result.error_dicts(), status="error", run=imp.run))
            progress.tick(summary["rows"])
        _refuse_repeats(imp, checker, spool, summary, bad_rows)
        bad_rows.flush()
        spool.upload(storage.staging_key(imp.school_id, imp.import_id, imp.run))
    except Exception:
        spool.discard()
        raise
    done = _set(imp, condition=(Import.status == "validating") & (Import.run == imp.run),
                status="review", summary=summary, rows_processed=summary["rows"],
                rows_total=summary["rows"], pupil_epoch=epoch)
    imp.summary = summary if done else None
    imp.status = "review" if done else imp.status
    return done


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
    _header, records = _open_records(imp)
    for record, first in spool.drop_repeats(lines, checker.unique_field):
        summary["valid"] -= 1
        summary[record["action"]] -= 1
        summary["errors"] += 1
        cells = _cells_of_row(records, record["row"])
        values = (checker.values_of(cells) if cells is not None else  # (never: the same file, read the same way)
                  {f: "" if v is None else str(v) for f, v in (record["values"] or {}).items()})
        error = checker.duplicate_error(record["values"][checker.unique_field], first)
        bad_rows.add(ImportRow(import_key=key, row=record["row"], values=_stored(values), ttl=imp.ttl,
                               errors=[error.as_dict()], status="error", run=imp.run))


def _cells_of_row(records, row):
    """The cells of the record at line ``row``, reading ``records`` (in file
    order) up to it."""
    for line, cells in records:
        if line >= row:
            return cells if line == row else None
    return None


def _stored(values):
    """A refused row's cells as kept for fixing: each cut to STORED_CELL_CHARS."""
    return {f: v[:STORED_CELL_CHARS] for f, v in values.items()}


# ---------------------------------------------------------------- fixing rows

def fix_row(caller, import_id, row, values, now=None):
    """Revalidate one refused row with corrected values; once the import is
    committed, a row that becomes valid is written at once."""
    from ..core.errors import validation_failed
    imp = get(caller.school_id, import_id)
    if imp.status not in ("review", "committed"):
        raise ApiError("conflict", f"Rows can be fixed while the import is in review or after it is "
                       f"committed; this one is {imp.status}.")
    key = import_key(caller.school_id, import_id)
    try:
        item = ImportRow.get(key, int(row), consistent_read=True)
    except (DoesNotExist, ValueError):
        raise not_found("row with problems")
    if item.run != imp.run or item.status == "written":
        raise not_found("row with problems")
    if not isinstance(values, dict) or not all(isinstance(v, (str, type(None))) for v in values.values()):
        raise validation_failed([FieldError("values", "invalid_type", "Send {field: text}.")])
    fields = set(columns.FIELDS[imp.kind])
    unknown = sorted(set(values) - fields)
    if unknown:
        raise validation_failed([FieldError(f"values.{f}", "unknown_field", f"'{f}' is not a field.")
                                 for f in unknown])
    merged = {**item.values, **{k: (v or "") for k, v in values.items()}}
    existing = load_existing(imp.kind, caller.school_id)
    mapping = {f: f for f in merged}
    checker = RowChecker(imp.kind, mapping, list(merged), existing, new_id)
    result = checker.check(item.row, [merged[f] for f in merged])
    if imp.kind == "staff":
        _ceiling_for(caller, existing)(result)
    item.values, item.errors = merged, result.error_dicts()
    if result.ok:
        if imp.status == "committed":
            outcome = _write_one(caller, imp, result)
            if outcome is None:
                item.status = "written"
            else:
                item.errors = [outcome]
        else:
            item.status = "fixed"
            item.cleaned = result.cleaned if result.action == "create" else result.changes
            item.action, item.target_id, item.target_version = result.action, result.target_id, \
                result.target_version
    item.save()
    if item.status in ("fixed", "written") and not item.errors:
        _bump_summary(imp, result.action)
    return row_json(item)


def _bump_summary(imp, action):
    summary = dict(imp.summary or {})
    summary["errors"] = max(0, summary.get("errors", 0) - 1)
    summary["valid"] = summary.get("valid", 0) + 1
    summary[action] = summary.get(action, 0) + 1
    _set(imp, summary=summary)


# ---------------------------------------------------------------- committing

def request_commit(caller, import_id):
    imp = get(caller.school_id, import_id)
    if imp.status != "review":
        raise ApiError("conflict", f"Only an import in review can be imported; this one is {imp.status}.")
    if not _set(imp, condition=Import.status == "review", status="committing", rows_processed=0,
                commit_started_at=int(time.time()), committed_by=caller.user_id):
        raise ApiError("conflict", "This import is already being imported.")
    enqueue({"action": "commit", "school_id": caller.school_id, "import_id": import_id, "run": imp.run})
    imp.status = "committing"
    return as_json(imp)


def complete(caller, import_id):
    imp = get(caller.school_id, import_id)
    if imp.status not in ("review", "committed", "done", "failed"):
        raise ApiError("conflict", f"This import is {imp.status}; wait for it to finish first.")
    if imp.status != "done":
        _set(imp, status="done")
        imp.status = "done"
        tidy_files(imp)
    return as_json(imp)


def _ceiling_for(actor, existing):
    """A check that refuses a staff row giving someone rights ``actor`` lacks
    (the privilege ceiling, as for a form): its error is on ``user_group``."""
    user_groups = staff_records.groups_of(actor.school)

    def check(result):
        if not result.ok or result.action not in ("create", "update"):
            return
        if result.action == "create":
            groups = [result.cleaned.get("user_group") or FALLBACK_GROUP]
        else:
            groups = staff_records.groups_to_check(existing.by_id[result.target_id].values.get("user_group"),
                                                   result.changes or {})
            if not groups:
                return
        try:
            actor.require_within(user_groups, *groups)
        except ApiError as exc:
            result.errors.append(FieldError("user_group", exc.code, exc.message))
            result.action = None
    return check


def actor_for(imp, user_id=None):
    """Who a step of an import acts as: the person who did it (``user_id``:
    whoever matched the columns or pressed Import), or the school itself for
    a drop."""
    user_id = user_id or imp.committed_by or imp.created_by
    if user_id == "s3-drop" or imp.created_by == "s3-drop":
        school = School.get(imp.school_id, consistent_read=True)
        return Caller(imp.school_id, "system", ADMIN_GROUP, sorted(PERMISSIONS), True, None, school)
    from ..core.db import batch_get
    found = batch_get({"school": (School, {"school_id": imp.school_id}),
                       "user": (User, {"school_id": imp.school_id, "user_id": user_id})})
    school, user = found["school"], found["user"]
    if user is None:
        user = SimpleNamespace(first_name="A former", surname="member of staff", user_group="",
                               email_verified=True, user_id=user_id)
    groups = school.user_groups.as_dict() if hasattr(school.user_groups, "as_dict") else school.user_groups
    permissions, _ = effective_permissions(groups, user.user_group) if user.user_group else ([], False)
    return Caller(imp.school_id, user_id, user.user_group, permissions, True, user, school)


def commit_file(imp, drop=False):
    from . import commit as committing
    actor = actor_for(imp)
    result = committing.commit_rows(imp, actor, _staged_rows(imp), _Progress(imp))
    matched = result.pop("_matched")
    if drop and imp.kind == "pupils" and actor.school.mark_leavers:
        result["left"] = committing.mark_leavers(imp, actor, matched)
    done = _set(imp, condition=Import.status == "committing", status="committed",
                result=result, rows_processed=imp.rows_total or 0)
    imp.status = "committed" if done else imp.status
    if done:
        tidy_files(imp)
    return result


def _staged_rows(imp):
    yield from storage.read_jsonl(storage.staging_key(imp.school_id, imp.import_id, imp.run))
    key = import_key(imp.school_id, imp.import_id)
    for item in ImportRow.query(key, filter_condition=(ImportRow.status == "fixed") & (ImportRow.run == imp.run)):
        yield {"row": int(item.row), "action": item.action, "id": item.target_id,
               "version": item.target_version, "values": item.cleaned, "fixed": True}


def _write_one(caller, imp, result):
    """Write one row now (a fix after commit). None, or the error dict."""
    from . import commit as committing
    return committing.write_single(caller, imp, {"row": result.line, "action": result.action,
                                                 "id": result.target_id, "version": result.target_version,
                                                 "values": result.cleaned if result.action == "create"
                                                 else result.changes})


# ---------------------------------------------------------------- the worker

def handle_message(message):
    """One queue message: an S3 notification, or our own validate/commit."""
    if message.get("Event") == "s3:TestEvent":
        return ["ignored"]
    if "Records" in message:
        from urllib.parse import unquote_plus
        outcomes = []
        for record in message["Records"]:
            s3 = record.get("s3") or {}
            if not record.get("eventName", "").startswith("ObjectCreated"):
                continue
            obj = s3.get("object") or {}
            outcomes.append(on_s3_object(s3.get("bucket", {}).get("name"), unquote_plus(obj.get("key", "")),
                                         obj.get("eTag") or obj.get("versionId") or "", obj.get("size") or 0,
                                         record.get("eventTime")))
        return outcomes
    action = message.get("action")
    try:
        imp = Import.get(message["school_id"], message["import_id"], consistent_read=True)
    except (DoesNotExist, KeyError):
        return ["ignored"]
    if imp.run != message.get("run"):
        return ["stale"]
    if action == "validate" and imp.status == "validating":
        validate_file(imp)
        return ["validated"]
    if action == "commit" and imp.status == "committing":
        commit_file(imp)
        return ["committed"]
    return ["duplicate"]


def fail_from_message(message, error):
    """The last delivery failed too: say so on the import before the DLQ."""
    targets = []
    if "Records" in message:
        from urllib.parse import unquote_plus
        for record in message["Records"]:
            s3 = record.get("s3") or {}
            obj = s3.get("object") or {}
            key = unquote_plus(obj.get("key", ""))
            if key.startswith(config.UPLOAD_PREFIX) and _upload_target(key):
                targets.append(_upload_target(key))
            elif key.startswith(config.DROP_PREFIX) and _drop_target(key):
                targets.append((_drop_target(key)[0], drop_import_id(
                    s3.get("bucket", {}).get("name"), key, obj.get("eTag") or "", record.get("eventTime"))))
    elif "import_id" in message:
        targets.append((message.get("school_id"), message.get("import_id")))
    for school_id, import_id in targets:
        try:
            imp = Import.get(school_id, import_id)
        except DoesNotExist:
            continue
        fail(imp, "processing_failed", "We could not process this file after several tries "
             f"({type(error).__name__}). Try uploading it again; if it fails again, contact support.")
