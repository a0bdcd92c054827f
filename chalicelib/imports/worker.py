"""One queue message, one step: S3 notifications (uploads, and drops with
their own state machine) and the steps the API enqueues. Safe to deliver
twice: state moves by conditional updates."""
import hashlib
import time
from datetime import datetime
from urllib.parse import unquote_plus

from pynamodb.exceptions import DoesNotExist, PutError

from ..accounts.models import School
from ..core import config
from ..core.log import logger
from . import columns
from .models import Import
from .store import KINDS_READY, expires_at, fail, update_import
from .validating import sniff_file, validate_file
from .service import commit_file


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
    started = update_import(imp, condition=Import.import_id.exists() & (Import.s3_key == key) & (
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
    if len(parts) < 3 or parts[1] not in KINDS_READY or not parts[-1]:
        return None
    return parts[0], parts[1]


def drop_import_id(bucket, key, etag, event_time):
    """The same for every delivery of one object's notification: the
    idempotency key is (bucket, key, ETag); the time prefix orders lists."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag}".encode()).hexdigest()[:12]
    return f"{_epoch_ms(event_time):012x}{digest}"


def _epoch_ms(event_time):
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
        update_import(imp, status="validating", mapping=mapping, run=1)
        imp.status, imp.mapping, imp.run = "validating", mapping, 1
    if imp.status == "validating":
        if not validate_file(imp):
            return "failed"
        update_import(imp, status="committing", commit_started_at=int(time.time()))
        imp.status = "committing"
    if imp.status == "committing":
        commit_file(imp, drop=True)
        update_import(imp, status="done")
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


def handle_message(message):
    """One queue message: an S3 notification, or our own validate/commit."""
    if message.get("Event") == "s3:TestEvent":
        return ["ignored"]
    if "Records" in message:
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
