"""Files people download (CSV exports), whatever their size.

A Lambda response carries at most 6 MB, and API Gateway's JSON wrapping of
the body grows it, so a bigger file can't come back in the response: it is
put in S3 (under the school's own prefix, a random name, deleted after a
day by the bucket's lifecycle) and handed over as a presigned link that
lasts minutes. ``csv_response`` answers a GET: the CSV itself when it fits,
else a 303 to the link (curl -L, requests and browsers follow it and don't
send our bearer token to S3). ``stored_link`` is for the console, which asks
for the link outright and lets the browser download it.
"""
import json
import time

from chalice import Response

from . import config
from .csv_export import CONTENT_TYPE, attachment
from .clients import client
from .db import new_id
from .clock import iso

#: A CSV up to this size comes back in the response itself (Lambda's limit is
#: 6 MB after JSON escaping, which can grow a body by a tenth or more).
INLINE_MAX_BYTES = 4 * 1024 * 1024


def export_key(school_id, filename):
    return f"{config.EXPORT_PREFIX}{school_id}/{new_id()}/{filename}"


def stored_link(school_id, filename, body: bytes) -> dict:
    """Put ``body`` in S3 and return a short-lived link to download it."""
    key = export_key(school_id, filename)
    disposition = attachment(filename)["Content-Disposition"]
    client().put_object(Bucket=config.bucket_name(), Key=key, Body=body, ContentType=CONTENT_TYPE,
                        ContentDisposition=disposition)
    url = client().generate_presigned_url(
        "get_object", ExpiresIn=config.EXPORT_LINK_SECONDS,
        Params={"Bucket": config.bucket_name(), "Key": key, "ResponseContentDisposition": disposition,
                "ResponseContentType": CONTENT_TYPE})
    expires = time.time() + config.EXPORT_LINK_SECONDS
    return {"url": url, "filename": filename, "bytes": len(body),
            "expires_at": iso(expires)}


def link_to(key, filename, content_type):
    """A short-lived link to a file already in the bucket (a zip written in parts)."""
    disposition = attachment(filename)["Content-Disposition"]
    url = client().generate_presigned_url(
        "get_object", ExpiresIn=config.EXPORT_LINK_SECONDS,
        Params={"Bucket": config.bucket_name(), "Key": key, "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type})
    return {"url": url, "filename": filename, "expires_at": iso(time.time() + config.EXPORT_LINK_SECONDS)}


def csv_response(school_id, filename, text: str):
    """The CSV as the response when it fits, else a 303 to a stored copy."""
    body = text.encode("utf-8")
    if len(body) <= INLINE_MAX_BYTES:
        return Response(body=text, status_code=200, headers=attachment(filename))
    link = stored_link(school_id, filename, body)
    message = (f"This file is {len(body) // (1024 * 1024)} MB, too big to send in the response: "
               "download it from the link in Location (it works for a few minutes).")
    return Response(body=json.dumps({**link, "message": message}), status_code=303,
                    headers={"Location": link["url"], "Content-Type": "application/json"})
