"""The outbox sender (an EventBridge schedule) and what SES says afterwards (SNS)."""
from chalice import Blueprint, Rate

from ..core import config
from ..core.log import logger, start_request
from . import events, outbox

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


@bp.on_sns_message(topic=config.topic_name("email-events"), name="email_events")
def email_events(event):
    """A bounce or complaint from SES's configuration set, onto its outbox message."""
    start_request(request_id=getattr(getattr(event, "context", None), "aws_request_id", None),
                  route="sns email_events")
    parsed = events.parse(event.message)
    return {"recorded": bool(parsed and outbox.record_delivery(parsed))}
