"""The import's HTTP use cases: start an upload, match columns (and remember
the matching for drops), fix a row, commit, complete."""
import time
from itertools import islice

from pynamodb.exceptions import DoesNotExist

from ..accounts.models import School
from ..core import audit, config
from ..core.csv_export import to_csv
from ..core.db import Tx, new_id
from ..core.maps import plain
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from . import bundling, committing, kinds, storage
from .acting import actor_for, ceiling_for
from .messages import Action, Step
from .models import Import, ImportRow, RowStatus, Source, Status
from ..core.queue import enqueue
from .rows import RowChecker
from .store import (ProgressTicker, as_json, expires_at, get, import_key, new_import_id, recount, row_json,
                    tidy_files, transition)
from .mapping import check_date_orders, check_mapping, field_date_orders

#: refused rows in an errors CSV (the console pages through the rest)
ERRORS_CSV_MAX_ROWS = 10_000
#: a held drop may be approved this long (its staging file is kept 28 days: infra IMPORT_FILE_DAYS)
HELD_DAYS = 27


def start_upload(caller, kind, filename, now=None):
    now = now or time.time()
    kinds.get(kind, kinds.UPLOADS)  # 422 unless it is one
    import_id = new_import_id(now)
    key = storage.upload_key(caller.school_id, import_id)
    Import(school_id=caller.school_id, import_id=import_id, kind=kind, source=Source.UPLOAD,
           filename=filename.strip()[:200] or "upload.csv", s3_key=key, status=Status.UPLOADING,
           created_by=caller.user_id, created_at=int(now), updated_at=int(now),
           ttl=expires_at(caller.school, now)).save(condition=Import.import_id.does_not_exist())
    return {"import_id": import_id, "upload": storage.presigned_upload(key),
            "max_bytes": config.UPLOAD_MAX_BYTES, "expires_in": config.UPLOAD_EXPIRES_SECONDS}


def set_mapping(caller, import_id, mapping, date_orders=None, body=None):
    imp = get(caller.school_id, import_id)
    bundling.refuse_on_part(imp, "match the columns of")
    if imp.status not in (Status.MAPPING, Status.REVIEW):
        raise ApiError("conflict", f"This import is {imp.status}; columns can be matched only "
                       "after the file is read and before it is imported.")
    if imp.kind == kinds.BUNDLE:
        return _set_choice(caller, imp, body or {})
    if not isinstance(mapping, dict):
        raise validation_failed([FieldError("mapping", "required", "Send the mapping: {column: field}.")])
    unknown = sorted(set(body or {}) - {"mapping", "date_orders"})
    if unknown:
        raise validation_failed([FieldError(f, "unknown_field", f"'{f}' is for a bundle; this import is of "
                                            f"{imp.kind}.") for f in unknown])
    header = [c["name"] for c in imp.columns or []]
    errors = check_mapping(kinds.KINDS[imp.kind], header, mapping)
    order_errors, orders = check_date_orders(kinds.KINDS[imp.kind], imp.columns or [], mapping, date_orders)
    if errors or order_errors:
        raise validation_failed(errors + order_errors)
    clean = {c: f for c, f in mapping.items() if f}
    run = (imp.run or 0) + 1
    if not transition(imp, Status.VALIDATING, expect=(Status.MAPPING, Status.REVIEW),
                      condition=Import.run == (imp.run or 0), mapping=clean, date_orders=orders, run=run,
                      summary=None,
                      rows_processed=0, validated_by=caller.user_id):
        raise ApiError("conflict", "Someone else changed this import just now; reload it.")
    remember_mapping(caller, imp.kind, clean, orders)
    enqueue(Step(Action.VALIDATE, caller.school_id, import_id, run))
    return as_json(imp)


def choose_sheet(caller, import_id, sheet):
    """Read a workbook again from another of its sheets: its columns are
    sniffed anew and the import comes back to mapping (nothing was checked)."""
    imp = get(caller.school_id, import_id)
    bundling.refuse_on_part(imp, "choose the sheet of")
    if imp.status not in (Status.MAPPING, Status.REVIEW):
        raise ApiError("conflict", f"This import is {imp.status}; a sheet can be chosen only after the file is "
                       "read and before it is imported.")
    names = list(imp.sheets or [])
    if not names:
        raise validation_failed([FieldError("sheet", "not_a_workbook", "This file is a CSV: it has no sheets.")])
    if sheet not in names:
        raise validation_failed([FieldError("sheet", "invalid_choice",
                                            f"This workbook's sheets are: {', '.join(names)}.")])
    run = (imp.run or 0) + 1
    if not transition(imp, Status.SNIFFING, expect=(Status.MAPPING, Status.REVIEW),
                      condition=Import.run == (imp.run or 0), sheet=sheet, run=run, mapping=None, summary=None,
                      columns=None, suggested_mapping=None, rows_processed=0):
        raise ApiError("conflict", "Someone else changed this import just now; reload it.")
    enqueue(Step(Action.SNIFF, caller.school_id, imp.import_id, run))
    return as_json(imp)


def _set_choice(caller, imp, body):
    """A bundle's mapping step: which school of it, and how its grades read."""
    choice = bundling.check_choice(imp, body)
    run = (imp.run or 0) + 1
    if not transition(imp, Status.VALIDATING, expect=(Status.MAPPING, Status.REVIEW),
                      condition=Import.run == (imp.run or 0), mapping=choice, run=run, summary=None,
                      rows_processed=0, validated_by=caller.user_id):
        raise ApiError("conflict", "Someone else changed this import just now; reload it.")
    remember_mapping(caller, kinds.BUNDLE, choice)
    enqueue(Step(Action.VALIDATE, caller.school_id, imp.import_id, run))
    return as_json(imp)


def remember_mapping(caller, kind, clean, orders=None):
    """The next drop of this kind reads its columns this way, and a drop acts
    with the school's full rights: so the remembered mapping is a school
    setting, saved (and audited as one) only for a ``manage_settings``
    holder. Anyone else's matching applies to their own import alone (else
    an SLT could match a drop's column to ``user_group`` for every night)."""
    if not caller.has("manage_settings"):
        return
    remembered, orders_before = plain(caller.school.import_mappings), plain(caller.school.import_date_orders)
    before, after, actions = {}, {}, []
    if remembered.get(kind) != clean:
        before[f"import_mapping.{kind}"], after[f"import_mapping.{kind}"] = remembered.get(kind), clean
        actions.append(School.import_mappings.set({**remembered, kind: clean}))
    if (orders_before.get(kind) or {}) != (orders or {}):
        before[f"import_date_orders.{kind}"], after[f"import_date_orders.{kind}"] = orders_before.get(kind), orders
        actions.append(School.import_date_orders.set({**orders_before, kind: orders or {}}))
    if not actions:  # unchanged: no write
        return
    tx = Tx()
    tx.update("school", School(school_id=caller.school_id), actions=actions, add_version_condition=False)
    audit.stage(tx, audit.entry(caller, "update", "settings", caller.school_id, before, after))
    tx.commit()


def fix_row(caller, import_id, row, values, now=None):
    """Revalidate one refused row with corrected values; once the import is
    committed, a row that becomes valid is written at once."""
    imp = get(caller.school_id, import_id)
    if imp.status not in (Status.REVIEW, Status.COMMITTED):
        raise ApiError("conflict", f"Rows can be fixed while the import is in review or after it is "
                       f"committed; this one is {imp.status}.")
    item = _refused_row(imp, row)
    kind = kinds.KINDS[imp.kind]
    _check_fix(kind, values)
    merged = {**item.values, **{k: (v or "") for k, v in values.items()}}
    existing = kind.load(caller.school_id)
    checker = RowChecker(kinds.rules_of(imp), {f: f for f in merged}, list(merged), existing, new_id,
                         date_orders=field_date_orders(imp))
    result = checker.check(item.row, [merged[f] for f in merged])
    if kind.ceiling:
        ceiling_for(caller, existing)(result)
    if result.ok and imp.status == Status.REVIEW:  # (once committed, the file's rows are in the roster)
        _refuse_if_elsewhere_in_file(imp, kind, item.row, result)
    counted = item.action if item.status == RowStatus.FIXED else None
    item.values, item.errors = merged, result.error_dicts()
    if result.ok:
        _accept_fix(caller, imp, item, result)
    else:  # back to refused, with the new values and problems: the commit writes only what a row shows
        item.status, item.cleaned, item.action, item.target_id, item.target_version = (RowStatus.ERROR, None,
                                                                                       None, None, None)
    item.save()
    recount(imp, counted, item.action if item.status in (RowStatus.FIXED, RowStatus.WRITTEN) else None)
    return row_json(item)


def _refuse_if_elsewhere_in_file(imp, kind, line, result):
    """A fixed row is checked against the rest of its file too: its
    identifier (a UPN, an email) on another row, staged or fixed, refuses it."""
    values = result.cleaned if result.action == "create" else (result.changes or {})
    unique = values.get(kind.rules.unique_field)
    if not unique:
        return
    other = _row_holding(imp, kind.rules.unique_field, unique, line)
    if other is not None:
        result.errors.append(FieldError(kind.rules.unique_field, kind.rules.duplicate_code,
                                        f"This {kind.rules.unique_label} ({unique}) is already on row {other} of "
                                        "this file. Fix or remove one of them."))
        result.action = None


def _row_holding(imp, field, value, line):
    """The line of another row of this run (staged, or fixed) whose values
    hold ``value`` in ``field``; None. Streams the staging file."""
    for record in storage.read_jsonl(storage.staging_key(imp.school_id, imp.import_id, imp.run)):
        if record.get("row") != line and (record.get("values") or {}).get(field) == value:
            return record["row"]
    fixed = (ImportRow.status == RowStatus.FIXED) & (ImportRow.run == imp.run)
    for item in ImportRow.query(import_key(imp.school_id, imp.import_id), filter_condition=fixed):
        if int(item.row) != line and (item.cleaned or {}).get(field) == value:
            return int(item.row)
    return None


def _refused_row(imp, row):
    """The ImportRow of a refused row of this run, or 404."""
    try:
        item = ImportRow.get(import_key(imp.school_id, imp.import_id), int(row), consistent_read=True)
    except (DoesNotExist, ValueError):
        raise not_found("row with problems")
    if item.run != imp.run or item.status == RowStatus.WRITTEN:
        raise not_found("row with problems")
    return item


def _check_fix(kind, values):
    """422 unless ``values`` is {field of this kind: text}."""
    if not isinstance(values, dict) or not all(isinstance(v, (str, type(None))) for v in values.values()):
        raise validation_failed([FieldError("values", "invalid_type", "Send {field: text}.")])
    unknown = sorted(set(values) - set(kind.fields))
    if unknown:
        raise validation_failed([FieldError(f"values.{f}", "unknown_field", f"'{f}' is not a field.")
                                 for f in unknown])


def _accept_fix(caller, imp, item, result):
    """A fixed row: written now if the import is committed (or its write's
    error kept), else staged on the row for the commit."""
    staged = {"row": result.line, "action": result.action, "id": result.target_id,
              "version": result.target_version,
              "values": result.cleaned if result.action == "create" else result.changes}
    if imp.status == Status.COMMITTED:
        outcome = committing.write_single(caller, imp, staged)
        if outcome is None:
            item.status, item.action = RowStatus.WRITTEN, result.action
        else:
            item.errors = [outcome]
        return
    item.status = RowStatus.FIXED
    item.cleaned = staged["values"]
    item.action, item.target_id, item.target_version = result.action, result.target_id, result.target_version


def request_commit(caller, import_id):
    imp = get(caller.school_id, import_id)
    bundling.refuse_on_part(imp, "import")
    if imp.status != Status.REVIEW:
        raise ApiError("conflict", f"Only an import in review can be imported; this one is {imp.status}.")
    if not transition(imp, Status.COMMITTING, expect=Status.REVIEW, rows_processed=0,
                      commit_started_at=int(time.time()), committed_by=caller.user_id):
        raise ApiError("conflict", "This import is already being imported.")
    enqueue(Step(Action.COMMIT, caller.school_id, import_id, imp.run))
    return as_json(imp)


def complete(caller, import_id):
    imp = get(caller.school_id, import_id)
    bundling.refuse_on_part(imp, "complete")
    if imp.status not in (Status.REVIEW, Status.COMMITTED, Status.DONE, Status.FAILED):
        raise ApiError("conflict", f"This import is {imp.status}; wait for it to finish first.")
    if imp.status != Status.DONE:
        transition(imp, Status.DONE)
        bundling.finish(imp)
        tidy_files(imp)
    return as_json(imp)


def commit_file(imp):
    """Write the staged rows (and the fixed ones); a full drop of a kind
    with leavers then marks those it did not name."""
    actor = actor_for(imp)
    outcome = committing.commit_rows(imp, actor, _staged_rows(imp), ProgressTicker(imp))
    result = outcome.counts
    leavers, summary = kinds.KINDS[imp.kind].leavers, imp.summary or {}
    # (a full drop as validated: "leave" was counted then, and a hold weighed it)
    if imp.source == Source.DROP and leavers and "leave" in summary and actor.school.mark_leavers:
        result.update(leavers(imp, actor, outcome.leaving, outcome.matched))
        result["kept_manual"] = summary.get("kept_manual", 0)
    if transition(imp, Status.COMMITTED, expect=Status.COMMITTING, result=result,
                  rows_processed=imp.rows_total or 0):
        tidy_files(imp)
    return result


def _staged_rows(imp):
    yield from storage.read_jsonl(storage.staging_key(imp.school_id, imp.import_id, imp.run))
    key = import_key(imp.school_id, imp.import_id)
    fixed = (ImportRow.status == RowStatus.FIXED) & (ImportRow.run == imp.run)
    for item in ImportRow.query(key, filter_condition=fixed):
        yield {"row": int(item.row), "action": item.action, "id": item.target_id,
               "version": item.target_version, "values": item.cleaned, "fixed": True}


def errors_csv(caller, import_id):
    """(file name, CSV) of the rows still refused: the file's line, the
    mapped fields under our headers, the problems. Refused rows are people's
    details: taking a copy is an export, audited like the roster's."""
    imp = get(caller.school_id, import_id)
    kind = kinds.KINDS.get(imp.kind)
    names = kind.headers() if kind else {}
    mapped = set((imp.mapping or {}).values())
    fields = [f for f in names if f in mapped] or list(names)
    refused = ImportRow.query(import_key(imp.school_id, imp.import_id), page_size=500,
                              filter_condition=(ImportRow.run == imp.run) & (ImportRow.status == RowStatus.ERROR))
    rows = [[int(r.row)] + [(r.values or {}).get(f) for f in fields] +
            ["; ".join(f"{names[e.get('field')]}: {e.get('message')}" if e.get("field") in names
                       else str(e.get("message")) for e in (r.errors or []))]
            for r in islice(refused, ERRORS_CSV_MAX_ROWS)]
    audit.write(audit.entry(caller, "export", "import_errors", import_id, None, {"rows": len(rows)}))
    return f"schoolroll-import-{import_id}-errors.csv", to_csv(["Row"] + [names[f] for f in fields] + ["Problems"], rows)


def approve(caller, import_id):
    """A held drop is committed as it was checked (acting, as every drop
    does, with the school's rights: so a staff file, which can change who
    holds which rights, needs manage_settings to approve)."""
    imp = get(caller.school_id, import_id)
    bundling.refuse_on_part(imp, "approve")
    if imp.status == Status.COMMITTING and imp.decided_by == caller.user_id and imp.source == Source.DROP:
        enqueue(Step(Action.COMMIT, caller.school_id, import_id, imp.run))  # again: the first enqueue may have failed
        return as_json(imp)
    imp = _held(caller, import_id, "approve")
    if time.time() - imp.created_at > HELD_DAYS * 86400:
        raise ApiError("conflict", f"This file was held more than {HELD_DAYS} days ago and its checked rows are "
                       "gone; discard it, and drop the file again.")
    if not transition(imp, Status.COMMITTING, expect=Status.HELD, rows_processed=0,
                      commit_started_at=int(time.time()), decided_by=caller.user_id):
        raise ApiError("conflict", "This import was approved or discarded just now; reload it.")
    audit.write(audit.entry(caller, "approve", "import", import_id, {"status": "held"}, {"status": "committing"}))
    enqueue(Step(Action.COMMIT, caller.school_id, import_id, imp.run))
    return as_json(imp)


def discard(caller, import_id):
    """A held drop ends with nothing written."""
    imp = _held(caller, import_id, "discard")
    if not transition(imp, Status.DISCARDED, expect=Status.HELD, decided_by=caller.user_id):
        raise ApiError("conflict", "This import was approved or discarded just now; reload it.")
    audit.write(audit.entry(caller, "discard", "import", import_id, {"status": "held"}, {"status": "discarded"}))
    bundling.finish(imp, Status.DISCARDED)
    tidy_files(imp)
    return as_json(imp)


def _held(caller, import_id, what):
    imp = get(caller.school_id, import_id)
    bundling.refuse_on_part(imp, what)
    if imp.status != Status.HELD:
        raise ApiError("conflict", f"Only a held import can be {what}d; this one is {imp.status}.")
    if imp.kind == kinds.BUNDLE or kinds.KINDS[imp.kind].ceiling:  # (a bundle holds staff)
        caller.require("manage_settings")
    return imp
