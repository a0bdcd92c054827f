"""S3 for imports: presigned uploads, reading a file as a stream, and the
staging file of validated rows (JSON lines, spooled to disk, never held in
memory whole)."""
import json
import tempfile

from botocore.exceptions import ClientError

from ..core import config
from ..core.clients import client as s3
from .lines import open_text


def upload_key(school_id, import_id):
    return f"{config.UPLOAD_PREFIX}{school_id}/{import_id}.csv"


def staging_key(school_id, import_id, run):
    return f"{config.STAGING_PREFIX}{school_id}/{import_id}/run-{run}.jsonl"


def delete_files(keys):
    """Remove files an import no longer needs (its upload or drop, its staging
    files): people's details are kept no longer than the import needs them.
    A missing key is not an error (a repeat delivery, or already tidied)."""
    keys = [k for k in keys if k]
    for start in range(0, len(keys), 1000):
        s3().delete_objects(Bucket=config.bucket_name(),
                            Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})


def delete_this_file(key, version_id=None, etag=None):
    """Delete the object an import read and no other: that version (a
    versioned bucket: gone for good), or, unversioned, the object only while
    it still has the ETag read (a newer file put under the same key since,
    tomorrow's drop say, stays to be read)."""
    if version_id:
        s3().delete_object(Bucket=config.bucket_name(), Key=key, VersionId=version_id)
        return
    try:
        head(key, etag or None)
    except FileChanged:
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return
        raise
    s3().delete_object(Bucket=config.bucket_name(), Key=key)


def presigned_upload(key):
    """A POST policy for exactly this key, at most UPLOAD_MAX_BYTES, short-lived."""
    post = s3().generate_presigned_post(
        Bucket=config.bucket_name(), Key=key,
        Conditions=[["content-length-range", 1, config.UPLOAD_MAX_BYTES]],
        ExpiresIn=config.UPLOAD_EXPIRES_SECONDS)
    return {"url": post["url"], "fields": post["fields"]}


class FileChanged(Exception):
    """The object is no longer the one the S3 event named (a second upload
    to the same key): nothing more of it is read."""


def _pinned(operation, key, etag, **extra):
    """An S3 GetObject/HeadObject that reads only the version the event
    named (``etag``; S3 answers 412 for any other): FileChanged then."""
    try:
        return getattr(s3(), operation)(Bucket=config.bucket_name(), Key=key,
                                        **({"IfMatch": f'"{etag}"'} if etag else {}), **extra)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
            raise FileChanged(key) from exc
        raise


def head(key, etag=None):
    return _pinned("head_object", key, etag)


def read_start(key, size, etag=None):
    """The first ``size`` bytes of an object (of the version ``etag`` names)."""
    return _pinned("get_object", key, etag, Range=f"bytes=0-{size - 1}")["Body"].read()


def open_stream(key, etag=None):
    """The object's body as a binary stream (read in chunks, never whole),
    of the version ``etag`` names."""
    return _pinned("get_object", key, etag)["Body"]


def download(key, etag=None):
    """The object (of the version ``etag`` names) in a temporary file, at its
    start: for a workbook, which is read whole (it is at most the upload cap)."""
    body = open_stream(key, etag)
    out = tempfile.TemporaryFile()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        out.write(chunk)
    out.seek(0)
    return out


class Spool:
    """Rows written as JSON lines to a temporary file, then put in S3."""

    def __init__(self):
        self._file = tempfile.TemporaryFile(mode="w+b")
        self.count = 0

    def add(self, record):
        self._file.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        self._file.write(b"\n")
        self.count += 1

    def drop_repeats(self, lines, field):
        """Rewrite the file without each row among ``lines`` whose ``field``
        value an earlier row holds, yielding (record, the earlier row) for
        each as it goes (consume it all: the file is swapped at the end)."""
        self._file.seek(0)
        first_at = {}
        out = tempfile.TemporaryFile(mode="w+b")
        for raw in self._file:
            row = int(raw[7:raw.index(b",")])  # b'{"row":N,...', as add() writes it
            if row in lines:
                record = json.loads(raw)
                value = (record.get("values") or {}).get(field)
                if value is not None:
                    first = first_at.setdefault(value, row)
                    if first != row:
                        self.count -= 1
                        yield record, first
                        continue
            out.write(raw)
        self._file.close()
        self._file = out

    def upload(self, key):
        """One PUT streamed from the file (up to 5 GB): botocore reads it in
        small blocks to checksum and to send, where a multipart upload holds
        a 5 MB part (and copies of it) in memory."""
        self._file.seek(0)
        s3().put_object(Bucket=config.bucket_name(), Key=key, Body=self._file)
        self._file.close()

    def discard(self):
        self._file.close()


def read_jsonl(key):
    """Iterate the records of a staging file, streaming."""
    for line in open_text(open_stream(key), "utf-8"):
        if line.strip():
            yield json.loads(line)
