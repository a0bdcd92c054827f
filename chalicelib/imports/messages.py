"""What arrives on the import queue, parsed once into typed messages: S3's
ObjectCreated notifications (an upload, or a drop) and the steps the API
enqueues (validate, commit; a rollover's run or undo). Pure: no AWS calls."""
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import unquote_plus

from ..core import config
from ..lifecycle.rollover import RolloverStep


class Action(StrEnum):
    SNIFF = "sniff"  # read again, from another sheet of a workbook
    VALIDATE = "validate"
    COMMIT = "commit"


@dataclass(frozen=True)
class Step:
    """A step the API enqueued for an import's run."""
    action: Action
    school_id: str
    import_id: str
    run: int

    def body(self):
        return {"action": str(self.action), "school_id": self.school_id, "import_id": self.import_id,
                "run": self.run}


@dataclass(frozen=True)
class Upload:
    """A file put under uploads/<school>/<import>.csv by a presigned POST."""
    key: str
    etag: str
    size: int
    school_id: str
    import_id: str
    version: str = ""


@dataclass(frozen=True)
class Drop:
    """A file put under drops/<school>/<kind>/... by the school's own sync."""
    bucket: str
    key: str
    etag: str  # every read of the file is pinned to it
    size: int
    event_time: str
    school_id: str
    kind: str
    version: str = ""

    @property
    def import_id(self):
        """The same for every delivery of one object's notification: the
        idempotency key is (bucket, key, ETag or version); the time prefix
        orders lists."""
        identity = self.etag or self.version
        digest = hashlib.sha256(f"{self.bucket}\n{self.key}\n{identity}".encode()).hexdigest()[:12]
        return f"{_epoch_ms(self.event_time):012x}{digest}"

    @property
    def filename(self):
        return self.key.rsplit("/", 1)[-1][:200]


def _epoch_ms(event_time):
    try:
        return int(datetime.fromisoformat((event_time or "").replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def parse(message, kinds):
    """A queue message's contents: a list of Upload / Drop for an S3
    notification (objects of our bucket under our prefixes, of a kind in
    ``kinds``), a Step, or [] for anything else (S3's test event, a
    malformed body)."""
    if "Records" in message:
        return [found for record in message["Records"] for found in [_s3_object(record, kinds)] if found]
    rollover = RolloverStep.parse(message)
    if rollover is not None:
        return [rollover]
    try:
        return [Step(Action(message["action"]), message["school_id"], message["import_id"], message.get("run"))]
    except (KeyError, ValueError, TypeError):
        return []


def _s3_object(record, kinds):
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return None
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    if bucket != config.bucket_name():
        return None
    key = unquote_plus(obj.get("key", ""))
    etag = (obj.get("eTag") or "").strip('"')
    size = obj.get("size") or 0
    if key.startswith(config.UPLOAD_PREFIX):
        parts = key[len(config.UPLOAD_PREFIX):].split("/")
        if len(parts) == 2 and parts[1].endswith(".csv"):
            return Upload(key, etag, size, parts[0], parts[1][:-4], obj.get("versionId") or "")
    elif key.startswith(config.DROP_PREFIX):
        parts = key[len(config.DROP_PREFIX):].split("/")
        if len(parts) >= 3 and parts[1] in kinds and parts[-1]:
            return Drop(bucket, key, etag, size, record.get("eventTime"), parts[0], parts[1],
                        obj.get("versionId") or "")
    return None
