"""What SES says happened to a sent email: its configuration set publishes
bounces and complaints to an SNS topic; each is recorded on the outbox
message it is about, so support (and the school) can see why an invitation
never arrived. Pure parsing here; the handler writes."""
import json
from dataclasses import dataclass
from enum import Enum
from typing import Optional

#: The SES message tag that names our outbox message (set when sending).
OUTBOX_TAG = "outbox_message"


class Delivery(str, Enum):
    BOUNCED = "bounced"          # a permanent bounce: the address does not take mail
    SOFT_BOUNCED = "soft_bounced"  # transient (mailbox full, ...): SES has given up on this one
    COMPLAINED = "complained"    # the recipient marked it as spam


@dataclass(frozen=True)
class DeliveryEvent:
    outbox_message_id: str
    ses_message_id: str
    delivery: Delivery
    detail: str
    at: str


def parse(message_text) -> Optional[DeliveryEvent]:
    """One SNS message from the email-events topic, or None when it is not a
    bounce or complaint about a message we tagged (SES also sends a test
    notification when the destination is created)."""
    try:
        body = json.loads(message_text)
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    kind = body.get("eventType") or body.get("notificationType")
    mail = body.get("mail") if isinstance(body.get("mail"), dict) else {}
    tags = mail.get("tags") if isinstance(mail.get("tags"), dict) else {}
    ours = tags.get(OUTBOX_TAG)
    outbox_id = ours[0] if isinstance(ours, list) and ours and isinstance(ours[0], str) else None
    if not outbox_id or not isinstance(mail.get("messageId"), str):
        return None
    if kind == "Bounce":
        bounce = body.get("bounce") if isinstance(body.get("bounce"), dict) else {}
        permanent = bounce.get("bounceType") == "Permanent"
        detail = "/".join(str(bounce.get(k)) for k in ("bounceType", "bounceSubType") if bounce.get(k))
        return DeliveryEvent(outbox_id, mail["messageId"], Delivery.BOUNCED if permanent else Delivery.SOFT_BOUNCED,
                             detail[:100], str(bounce.get("timestamp", ""))[:40])
    if kind == "Complaint":
        complaint = body.get("complaint") if isinstance(body.get("complaint"), dict) else {}
        detail = str(complaint.get("complaintFeedbackType") or "")
        return DeliveryEvent(outbox_id, mail["messageId"], Delivery.COMPLAINED, detail[:100],
                             str(complaint.get("timestamp", ""))[:40])
    return None
