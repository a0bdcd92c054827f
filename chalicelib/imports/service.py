"""The import's HTTP use cases: start an upload, match columns (and remember
the matching for drops), fix a row, commit, complete."""
import time

from pynamodb.exceptions import DoesNotExist

from ..accounts.models import School
from ..core import audit, config
from ..core.db import Tx, new_id, plain
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from . import columns, storage
from . import commit as committing
from .models import Import, ImportRow
from .rows import RowChecker
from .store import KINDS_READY, Progress, as_json, bump_summary, expires_at, get, import_key, new_import_id, row_json, tidy_files, update_import
from .queue import enqueue
from .acting import actor_for, ceiling_for
from .validating import check_mapping, load_existing


def start_upload(caller, kind, filename, now=None):
    now = now or time.time()
    if kind not in columns.FIELDS or kind not in KINDS_READY:
        raise ApiError("validation_failed", f"kind must be one of: {', '.join(KINDS_READY)}.",
                       errors=[{"field": "kind", "code": "invalid_choice",
                                "message": f"Use one of: {', '.join(KINDS_READY)}."}])
    import_id = new_import_id(now)
    key = storage.upload_key(caller.school_id, import_id)
    Import(school_id=caller.school_id, import_id=import_id, kind=kind, source="upload",
           filename=filename.strip()[:200] or "upload.csv", s3_key=key, status="uploading",
           created_by=caller.user_id, created_at=int(now), updated_at=int(now),
           ttl=expires_at(caller.school, now)).save(condition=Import.import_id.does_not_exist())
    return {"import_id": import_id, "upload": storage.presigned_upload(key),
            "max_bytes": config.UPLOAD_MAX_BYTES, "expires_in": config.UPLOAD_EXPIRES_SECONDS}


def set_mapping(caller, import_id, mapping):
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
    if not update_import(imp, condition=Import.status.is_in("mapping", "review") & (Import.run == (imp.run or 0)),
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
    remembered = plain(caller.school.import_mappings)
    if remembered.get(kind) == clean:  # unchanged: no write
        return
    tx = Tx()
    tx.update("school", School(school_id=caller.school_id),
              actions=[School.import_mappings.set({**remembered, kind: clean})], add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "update", "settings", caller.school_id,
                                {f"import_mapping.{kind}": remembered.get(kind)},
                                {f"import_mapping.{kind}": clean}))
    tx.commit()


def fix_row(caller, import_id, row, values, now=None):
    """Revalidate one refused row with corrected values; once the import is
    committed, a row that becomes valid is written at once."""
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
        ceiling_for(caller, existing)(result)
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
        bump_summary(imp, result.action)
    return row_json(item)


def request_commit(caller, import_id):
    imp = get(caller.school_id, import_id)
    if imp.status != "review":
        raise ApiError("conflict", f"Only an import in review can be imported; this one is {imp.status}.")
    if not update_import(imp, condition=Import.status == "review", status="committing", rows_processed=0,
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
        update_import(imp, status="done")
        imp.status = "done"
        tidy_files(imp)
    return as_json(imp)


def commit_file(imp, drop=False):
    actor = actor_for(imp)
    result = committing.commit_rows(imp, actor, _staged_rows(imp), Progress(imp))
    matched = result.pop("_matched")
    if drop and imp.kind == "pupils" and actor.school.mark_leavers:
        result["left"] = committing.mark_leavers(imp, actor, matched)
    done = update_import(imp, condition=Import.status == "committing", status="committed",
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
    return committing.write_single(caller, imp, {"row": result.line, "action": result.action,
                                                 "id": result.target_id, "version": result.target_version,
                                                 "values": result.cleaned if result.action == "create"
                                                 else result.changes})
