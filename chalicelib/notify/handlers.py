"""EventBridge schedule: the outbox sender."""
from chalice import Blueprint, Rate

from ..core.log import logger, start_request
from . import outbox

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="outbox_sender")
def outbox_sender(event):
    """Send due outbox emails. Safe to run twice at once (messages are claimed)."""
    start_request(request_id=getattr(getattr(event, "context", None), "aws_request_id", None),
                  route="schedule outbox_sender")
    counts = outbox.send_due()
    if counts["sent"] or counts["retry"] or counts["failed"]:
        logger.info("outbox sender ran", extra=counts)
    return counts
