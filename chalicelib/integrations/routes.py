"""HTTP routes for the school's other software: the change feed."""
from chalice import Blueprint

from ..core.http import route
from ..core.paging import parse_limit
from ..core.schema import array, obj, string
from . import feed

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
