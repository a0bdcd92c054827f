"""The import's own records: reading them as JSON, moving one to another
status (one conditional update, which PynamoDB reads back into the object),
failing it, tidying its files, the step counters a commit advances in its
own transactions; the buffer and progress ticker of a run over its rows."""
import time

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..core.db import batch_put, new_id
from ..core.errors import not_found
from ..core.paging import encode_cursor
from ..core.log import logger
from ..roster.fields import FIELDS, field_headers
from . import storage
from .kinds import KINDS
from .models import Import, ImportRow, RowStatus, Status

from ..core.clock import iso
#: A run over the rows writes its progress at most this often.
PROGRESS_EVERY_ROWS = 5000
PROGRESS_EVERY_SECONDS = 2.0


def new_import_id(now):
    """Time-ordered, so the newest import comes first in a reverse query."""
    return f"{int(now * 1000):012x}{new_id()[:12]}"


def import_key(school_id, import_id):
    return f"{school_id}#{import_id}"


def expires_at(school, now):
    """When an import begun now expires (its rows with it): the school's setting."""
    days = getattr(school, "keep_imports_days", None) or 90
    return int(now) + int(days) * 86400


def get(school_id, import_id):
    try:
        return Import.get(school_id, import_id, consistent_read=True)
    except DoesNotExist:
        raise not_found("import")


def as_json(imp):
    out = {
        "id": imp.import_id, "kind": imp.kind, "source": imp.source, "filename": imp.filename,
        "status": imp.status, "created_at": iso(imp.created_at), "updated_at": iso(imp.updated_at),
        "rows_processed": imp.rows_processed or 0, "rows_total": imp.rows_total,
        "columns": imp.columns, "suggested_mapping": imp.suggested_mapping,
        "suggested_by": imp.suggested_by or {}, "mapping": imp.mapping,
        "date_orders": imp.date_orders or {},
        "file_format": imp.file_format, "sheet": imp.sheet, "sheets": imp.sheets,
        "summary": imp.summary, "result": imp.result, "error": imp.error, "hold": imp.hold,
        "decided_by": imp.decided_by, "bundle": imp.bundle, "parts": imp.parts, "part_of": imp.parent_id,
    }
    kind = KINDS.get(imp.kind)
    if kind is not None:
        headers = field_headers(imp.kind) if imp.kind in FIELDS else {}
        out["fields"] = [{"name": f, "label": headers.get(f, f.replace("_", " ").capitalize()),
                          "required": f in kind.required} for f in kind.fields]
    return out



def list_imports(school_id, limit, state):
    start = {"school_id": {"S": state["school_id"]}, "import_id": {"S": state["import_id"]}} if state else None
    items = list(Import.query(school_id, scan_index_forward=False, limit=limit, page_size=limit,
                              last_evaluated_key=start, filter_condition=Import.parent_id.does_not_exist()))
    nxt = encode_cursor({"school_id": school_id, "import_id": items[-1].import_id}) \
        if len(items) == limit else None
    return {"items": [as_json(i) for i in items], "next": nxt}


def row_json(r):
    return {"row": int(r.row), "values": r.values, "errors": r.errors, "status": r.status}


def list_rows(school_id, import_id, only, limit, state):
    imp = get(school_id, import_id)
    start = None
    if state:
        start = {"import_key": {"S": import_key(school_id, import_id)}, "row": {"N": str(int(state["row"]))}}
    condition = ImportRow.run == imp.run
    if only == "errors":
        condition &= ImportRow.status == RowStatus.ERROR
    items = list(ImportRow.query(import_key(school_id, import_id), filter_condition=condition,
                                 limit=limit, page_size=limit, last_evaluated_key=start))
    nxt = encode_cursor({"school_id": school_id, "row": int(items[-1].row)}) if len(items) == limit else None
    return {"items": [row_json(r) for r in items], "next": nxt}


def update_import(imp, condition=None, **values):
    """Update named attributes (and updated_at), a None removing one; the
    object is read back whole. True unless the condition failed."""
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


def transition(imp, to, expect=None, condition=None, **values):
    """Move the import to status ``to`` (setting ``values`` with it) if it is
    still in one of the ``expect`` statuses (and ``condition`` holds): True,
    and the object is as stored; False when another delivery or person moved
    it first."""
    if expect is not None:
        expected = (expect,) if isinstance(expect, Status) else tuple(expect)
        held = Import.status.is_in(*expected)
        condition = held if condition is None else held & condition
    return update_import(imp, condition=condition, status=to, **values)


def stage_step(tx, imp, counter, done, **values):
    """In ``tx``: move the step counter ``counter`` (an attribute of Import)
    from ``done`` to the next step, setting ``values`` with it; the item
    fails (label "progress") if another delivery moved it first."""
    attribute = getattr(Import, counter)
    held = attribute.does_not_exist() if not done else attribute == done
    actions = [attribute.set(done + 1)] + [getattr(Import, k).set(v) for k, v in values.items()]
    tx.update("progress", Import(school_id=imp.school_id, import_id=imp.import_id), actions, condition=held,
              add_version_condition=False)


def fail(imp, code, message):
    update_import(imp, status=Status.FAILED, error={"code": code, "message": message})
    logger.info("import failed", extra={"import_id": imp.import_id, "code": code})
    tidy_files(imp)


def tidy_files(imp):
    """The import is over (committed, done or failed): its file and staging
    files go (a bucket lifecycle rule catches any a crash leaves behind).
    Rows still to fix keep their own cells in ImportRow, so nothing else is
    lost; a re-mapping is not possible after this point."""
    keys = [storage.staging_key(imp.school_id, imp.import_id, run) for run in range(1, (imp.run or 0) + 1)]
    try:
        storage.delete_files(keys)
        # only the file this import read: a newer file under the same key (tomorrow's drop) stays
        storage.delete_this_file(imp.s3_key, imp.version_id, imp.etag)
    except Exception:  # noqa: BLE001 - tidying must never fail the import; the lifecycle rule is the backstop
        logger.warning("could not delete an import's files", extra={"import_id": imp.import_id})


class RowBuffer:
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


class ProgressTicker:
    """Writes how many rows a run has been through, now and then (every
    PROGRESS_EVERY_ROWS rows or PROGRESS_EVERY_SECONDS), for the console's bar."""

    def __init__(self, imp):
        self.imp = imp
        self.last_rows = 0
        self.last_time = time.time()

    def tick(self, rows):
        now = time.time()
        if rows - self.last_rows >= PROGRESS_EVERY_ROWS or now - self.last_time >= PROGRESS_EVERY_SECONDS:
            update_import(self.imp, rows_processed=rows)
            self.last_rows, self.last_time = rows, now


def delete_rows(imp):
    """Rows of an earlier run (a re-mapped import): gone before the new run."""
    if (imp.run or 0) <= 1:
        return  # a first run has no earlier rows
    key = import_key(imp.school_id, imp.import_id)
    old = list(ImportRow.query(key, filter_condition=ImportRow.run != imp.run, attributes_to_get=["row"]))
    if old:
        with ImportRow.batch_write() as batch:
            for r in old:
                batch.delete(ImportRow(import_key=key, row=r.row))


def recount(imp, before, after):
    """A fixed row's move in the summary: ``before`` and ``after`` are its
    action (create, update, unchanged) or None while refused. Counted once
    per row, however many times it is fixed."""
    if before == after:
        return
    for _attempt in range(5):  # on the summary read: two fixes at once each count
        read = imp.summary or {}
        summary = dict(read)
        for action, step in ((before, -1), (after, +1)):
            if action is None:
                summary["errors"] = max(0, summary.get("errors", 0) + step)
            else:
                summary["valid"] = max(0, summary.get("valid", 0) + step)
                summary[action] = max(0, summary.get(action, 0) + step)
        if update_import(imp, condition=Import.summary == read, summary=summary):
            return
        imp.refresh(consistent_read=True)
    raise RuntimeError("the import's summary kept changing")
