"""One queue message, one step: S3 notifications (uploads, and drops with
their own state machine) and the steps the API enqueues. Safe to deliver
twice: state moves by conditional updates."""
import time

from pynamodb.exceptions import DoesNotExist, PutError

from ..accounts.models import School
from ..core import audit
from ..core.log import logger
from ..lifecycle import running
from ..lifecycle.rollover import RolloverStep
from . import bundling, messages, reports
from .kinds import BUNDLE, KINDS, UPLOADS
from .messages import Action, Drop, Upload
from .models import DROP_CREATOR, Import, Source, Status
from .service import commit_file
from .holds import classes_hold_reason, hold_reason
from .store import expires_at, fail, tidy_files, transition
from .validating import sniff_file, validate_file
from ..roster.dates import DateOrder
from ..roster.fields import DATE_FIELDS


def handle_message(message):
    """One queue message (its JSON body): what became of each thing in it."""
    found = messages.parse(message, UPLOADS) if isinstance(message, dict) else []
    if not found and not (isinstance(message, dict) and ("Records" in message or "Event" in message)):
        logger.warning("unrecognised import message ignored")  # (its body may name people: not logged)
    return [_handle(f) for f in found] or ["ignored"]


def _handle(found):
    if isinstance(found, RolloverStep):
        return running.handle(found)
    if isinstance(found, Upload):
        return _on_upload(found)
    if isinstance(found, Drop):
        return _on_drop(found)
    return _on_step(found)


def _on_upload(upload):
    # One conditional update both finds the import and moves it on: only the
    # first notification for this object does; a repeat changes nothing, unless
    # the first died while sniffing (then resume). An object under a key no
    # import expects (another school's prefix, say) fails the condition.
    imp = Import(school_id=upload.school_id, import_id=upload.import_id)
    expected = Import.import_id.exists() & (Import.s3_key == upload.key) & (
        (Import.status == Status.UPLOADING)
        | ((Import.status == Status.SNIFFING) & (Import.etag == upload.etag))
        | ((Import.status == Status.FAILED) & (Import.etag != upload.etag)))
    if not transition(imp, Status.SNIFFING, condition=expected, etag=upload.etag, size=upload.size, error=None,
                      version_id=upload.version or None):
        return "duplicate or ignored"
    sniff_file(imp)
    return "sniffed"


def _on_drop(drop):
    try:
        school = School.get(drop.school_id)
    except DoesNotExist:
        logger.warning("drop for unknown school ignored")
        return "ignored"
    now = time.time()
    imp = Import(school_id=drop.school_id, import_id=drop.import_id, kind=drop.kind, source=Source.DROP,
                 filename=drop.filename, s3_key=drop.key, status=Status.SNIFFING, created_by=DROP_CREATOR,
                 created_at=int(now), updated_at=int(now), etag=drop.etag, size=drop.size,
                 version_id=drop.version or None,
                 ttl=expires_at(school, now))
    try:
        imp.save(condition=Import.import_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        imp = Import.get(drop.school_id, imp.import_id, consistent_read=True)
        if imp.status not in (Status.SNIFFING, Status.VALIDATING, Status.REVIEW, Status.COMMITTING):
            return "duplicate"
    else:
        _supersede_held(imp)
    outcome = _run_drop(school, imp)
    _report(imp, school)
    return outcome


def _supersede_held(newer):
    """A newer drop of the same kind ends an older one still held."""
    held = (Import.status == Status.HELD) & (Import.kind == newer.kind) & (Import.source == Source.DROP)
    for older in Import.query(newer.school_id, Import.import_id < newer.import_id, filter_condition=held):
        if transition(older, Status.DISCARDED, expect=Status.HELD, hold={
                "code": "superseded", "message": f"A newer file ({newer.filename}) arrived before this one was "
                                                 "approved: it was discarded, and the newer one is read instead."}):
            audit.write(audit.entry(audit.Actor(older.school_id), "discard", "import", older.import_id,
                                    {"status": "held"}, {"status": "discarded", "superseded_by": newer.import_id}))
            bundling.finish(older, Status.DISCARDED)
            tidy_files(older)


def _run_drop(school, imp):
    """Sniff, map, validate, commit; resumes from where a dead run stopped."""
    if imp.status == Status.SNIFFING and not sniff_file(imp):
        return "failed"
    if imp.status == Status.MAPPING and imp.kind == BUNDLE:
        choice = _drop_choice(school, imp)
        if choice is None:
            fail(imp, "no_mapping", "This bundle holds several schools and none is chosen for drops yet. Import "
                 "one bundle through the console first, to say which school is yours.")
            return "failed"
        transition(imp, Status.VALIDATING, mapping=choice, run=1)
    if imp.status == Status.MAPPING:
        mapping, orders = _drop_mapping(school, imp)
        if mapping is None:
            fail(imp, "no_mapping", "No confirmed column matching for this kind of file yet, and the "
                 "suggestion misses a required column. Import one such file through the console first.")
            return "failed"
        unsure = _dates_unconfirmed(imp, mapping, orders)
        if unsure:
            fail(imp, "date_order_unconfirmed", f"The dates in '{unsure}' read {_detected(imp, unsure)} in this "
                 "file, which is not how the school's confirmed matching reads them. Import this file through "
                 "the console once to say which way round they are.")
            return "failed"
        transition(imp, Status.VALIDATING, mapping=mapping, date_orders=orders, run=1)
    if imp.status == Status.VALIDATING and not _validate(imp):
        return "failed"
    if imp.status == Status.REVIEW:
        hold = _hold(school, imp)
        if hold:
            transition(imp, Status.HELD, expect=Status.REVIEW, hold=hold)
            return "held"
        transition(imp, Status.COMMITTING, expect=Status.REVIEW, commit_started_at=int(time.time()))
    if imp.status == Status.COMMITTING:
        _commit(imp)
        _finish(imp)
    return "imported"


def _validate(imp):
    return bundling.validate(imp, validate_file) if imp.kind == BUNDLE else validate_file(imp)


def _commit(imp):
    return bundling.commit(imp, commit_file) if imp.kind == BUNDLE else commit_file(imp)


def _finish(imp):
    transition(imp, Status.DONE)
    if imp.kind == BUNDLE:
        bundling.finish(imp)


def _hold(school, imp):
    """Why a validated drop waits for a person: a bundle's, the first of its parts'."""
    summaries = (imp.summary or {}).get("parts", {}).values() if imp.kind == BUNDLE else [imp.summary or {}]
    hold = next((hold for hold in (hold_reason(school, s or {}) for s in summaries) if hold), None)
    if hold is None and imp.kind == BUNDLE:
        hold = classes_hold_reason(school, (imp.summary or {}).get("classes"))
    return hold


def _drop_choice(school, imp):
    """A bundle drop's school and grades: as a person last chose them (if that
    school is in this bundle), or the bundle's one school, read as years."""
    remembered = (school.import_mappings or {}).get(BUNDLE) or {}
    orgs = {o["sourcedId"] for o in (imp.bundle or {}).get("orgs") or []}
    if remembered.get("org") in orgs:
        return remembered
    suggested = imp.suggested_mapping or {}
    return suggested if suggested.get("org") else None


def _drop_mapping(school, imp):
    """(mapping, date orders): the school's remembered matching for this
    kind, with the date orders a person confirmed with it, if the file has
    its columns; else our suggestion from headers if it covers the required fields, its
    dates read day first (a drop never reads month first unconfirmed)."""
    header = [c["name"] for c in imp.columns or []]
    remembered = (school.import_mappings or {}).get(imp.kind)
    if remembered and all(col in header for col in remembered):
        orders = (school.import_date_orders or {}).get(imp.kind) or {}
        return remembered, {c: o for c, o in orders.items() if c in remembered}
    by = imp.suggested_by or {}
    suggested = {c: f for c, f in (imp.suggested_mapping or {}).items() if by.get(c, "header") == "header"}
    if KINDS[imp.kind].required <= set(suggested.values()):  # (a guess from values waits for a person)
        return suggested, {}
    return None, {}


def _detected(imp, column):
    return {c["name"]: c.get("date_order") for c in imp.columns or []}.get(column)


def _dates_unconfirmed(imp, mapping, orders):
    """A date column a drop would read otherwise than its values say: one
    only month first can read, unless confirmed so; or one confirmed month
    first whose values now say day first. Never guessed, either way."""
    for column, field in mapping.items():
        if field not in DATE_FIELDS[imp.kind]:
            continue
        detected, chosen = _detected(imp, column), orders.get(column, DateOrder.DAY_FIRST)
        if detected in (DateOrder.MONTH_FIRST, DateOrder.DAY_FIRST) and detected != chosen \
                and not (detected == DateOrder.DAY_FIRST and chosen == DateOrder.ISO):
            return column
    return None


def _on_step(step):
    try:
        imp = Import.get(step.school_id, step.import_id, consistent_read=True)
    except DoesNotExist:
        return "ignored"
    if imp.run != step.run:
        return "stale"
    if step.action == Action.SNIFF and imp.status == Status.SNIFFING:
        sniff_file(imp)
        return "sniffed"
    if step.action == Action.VALIDATE and imp.status == Status.VALIDATING:
        _validate(imp)
        return "validated"
    if step.action == Action.COMMIT and imp.status == Status.COMMITTING:
        _commit(imp)
        if imp.source == Source.DROP:  # an approved drop: over, and reported
            _finish(imp)
            _report(imp)
        return "committed"
    return "duplicate"


def fail_from_message(message, error):
    """The last delivery failed too: say so on the import before the DLQ."""
    for found in messages.parse(message, UPLOADS) if isinstance(message, dict) else []:
        try:
            imp = Import.get(found.school_id, found.import_id)
        except DoesNotExist:
            continue
        fail(imp, "processing_failed", "We could not process this file after several tries "
             f"({type(error).__name__}). Try uploading it again; if it fails again, contact support.")
        _report(imp)


def _report(imp, school=None):
    """Tell the admins how a drop went; a report that can't be queued now
    never fails the import (the console shows the same)."""
    try:
        reports.tell_admins(imp, school)
    except Exception:  # noqa: BLE001 - reporting is a courtesy; the import's own record is the truth
        logger.warning("could not queue a drop's report", extra={"import_id": imp.import_id})

