"""HTTP routes of the rollover, and the hourly schedule that starts
scheduled rollovers, erases leavers past retention and scrubs erased pupils'
names from the audit."""
from chalice import Blueprint, Rate

from ..core import audit
from ..core.http import json_response, route
from ..core.log import logger, start_request
from ..core.schema import boolean, integer, obj, string
from . import retention, rollover

bp = Blueprint(__name__)
TAG = "rollover"
ROLLOVER = obj(["academic_year", "status"], academic_year=string(), status=string(), on=string(nullable=True),
               final_year=string(), keep_registration_groups=boolean(), requested_by=string(),
               requested_at=string(), applied_at=string(nullable=True), undo_until=string(nullable=True),
               counts={"type": "object", "nullable": True}, undo={"type": "object", "nullable": True})
PREVIEW = obj(["dry_run", "academic_year", "moves", "leaving"], dry_run=boolean(), academic_year=string(),
              final_year=string(), keep_registration_groups=boolean(), pupils=integer(), moves={"type": "object"},
              leaving={"type": "object"}, leavers=integer(), memberships_ending=integer(),
              memberships={"type": "array"})
REQUEST = obj([], dry_run=boolean(description="true: only say what it would do"),
              on=string(10, description="YYYY-MM-DD: run it on that day (the school's timezone)"),
              keep_registration_groups=boolean(description="default: the school's setting"))


@route(bp, "/rollover", "POST", summary="Preview (dry_run), apply, or schedule the academic-year rollover",
       tag=TAG, permission="manage_settings", verified=True, body=REQUEST, status=202,
       response={"oneOf": [PREVIEW, ROLLOVER]})
def post_rollover(ctx):
    if ctx.body.get("dry_run"):
        return json_response(rollover.preview(ctx.caller, ctx.body), 200)  # a preview changes nothing
    return rollover.request(ctx.caller, ctx.body)


@route(bp, "/rollover", "GET", summary="The school's rollovers (scheduled, applied, undone)", tag=TAG,
       permission="manage_settings", response=obj(["items"], items={"type": "array", "items": ROLLOVER}))
def get_rollovers(ctx):
    return rollover.listed(ctx.caller)


@route(bp, "/rollover/cancel", "POST", summary="Cancel the scheduled rollover", tag=TAG,
       permission="manage_settings", verified=True, response=ROLLOVER)
def cancel_rollover(ctx):
    return rollover.cancel(ctx.caller)


@route(bp, "/rollover/undo", "POST", summary="Undo the last rollover (within 14 days)", tag=TAG,
       permission="manage_settings", verified=True, status=202, response=ROLLOVER)
def undo_rollover(ctx):
    return rollover.undo(ctx.caller)


@bp.schedule(Rate(1, unit=Rate.HOURS), name="roster_lifecycle")
def roster_lifecycle(event):
    """Scheduled rollovers whose day has come, leavers past retention, and
    the audit scrub of erased pupils."""
    start_request(route="schedule roster_lifecycle")
    counts = {"rollovers_started": rollover.start_due(), "scrubbed": audit.scrub_pending(),
              **retention.erase_due()}
    if any(counts.values()):
        logger.info("roster lifecycle ran", extra=counts)
    return counts
