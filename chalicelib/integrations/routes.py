"""HTTP routes for the school's other software: the change feed and the
OneRoster CSV bundle export."""
import json

from chalice import Blueprint, Response

from ..core import downloads
from ..core.http import route
from ..core.paging import parse_limit
from ..core.schema import array, obj, string
from . import feed, or_export

bp = Blueprint(__name__)
TAG = "integrations"

CHANGE = obj(["at", "entity", "id", "action", "fields"], at=string(format="date-time"),
             entity=string(enum=sorted(feed.ENTITIES | {"school"})), id=string(),
             action=string(description="create, update, delete, erase, add, start, ..."),
             fields={"type": "object", "description": "The values the change left (a delete: none)"})


@route(bp, "/changes", "GET", scope="changes.read", permission="manage_settings", tag=TAG,
       summary="The change feed: every roster, group and membership change after a cursor, in order",
       query={"since": (string(), "A cursor from 'next' (none: the last 30 days; 'now': from now on)"),
              "limit": (string(), "At most this many changes (1-500, default 100)")},
       response=obj(["changes", "next"], changes=array(CHANGE), next=string()))
def changes(ctx):
    return feed.read(ctx.caller.school_id, ctx.query.get("since") or None, parse_limit(ctx.query, default=100))


@route(bp, "/exports/oneroster", "GET", permission="manage_settings", tag=TAG, big_files=True,
       query={"link": (string(enum=["json"]), "json: answer the link as JSON (200) rather than a 303 to it")},
       summary="The school as a OneRoster 1.2 CSV bundle (zip): 303 to a link that works for a few minutes",
       response=obj(["url", "filename", "expires_at", "files"], url=string(), filename=string(),
                    expires_at=string(format="date-time"), files={"type": "object"}))
def export_oneroster(ctx):
    key, filename, counts = or_export.export(ctx.caller, ctx.caller.school)
    link = {**downloads.link_to(key, filename, or_export.ZIP_TYPE), "files": counts}
    if (ctx.query.get("link") or "") == "json":  # (the console downloads it itself)
        return link
    return Response(body=json.dumps(link), status_code=303,
                    headers={"Location": link["url"], "Content-Type": "application/json", "Cache-Control": "no-store"})
