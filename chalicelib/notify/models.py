"""The outbox: emails written by the request that causes them, sent later."""
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..core.db import meta

PENDING = "pending"


class PendingIndex(GlobalSecondaryIndex):
    """Sparse: only messages still to send carry ``pending``, so the sender
    reads exactly what is due and never scans."""
    class Meta:
        index_name = "pending-by-due"
        projection = AllProjection()
    pending = UnicodeAttribute(hash_key=True)
    next_attempt_at = NumberAttribute(range_key=True)


class OutboxMessage(Model):
    Meta = meta("outbox")
    message_id = UnicodeAttribute(hash_key=True)
    #: What to render: "verify", "invite", ... (see notify.outbox.RENDERERS)
    kind = UnicodeAttribute()
    school_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    to = UnicodeAttribute()
    #: what the message is about, for its renderer (an import's id): the
    #: email is rendered at send time from the record, so no personal data
    #: waits in the outbox
    about = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="pending")  # pending | sent | failed | cancelled
    pending = UnicodeAttribute(null=True)
    pending_index = PendingIndex()
    next_attempt_at = NumberAttribute()
    attempts = NumberAttribute(default=0)
    lease_until = NumberAttribute(default=0)
    created_at = NumberAttribute()
    sent_at = NumberAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    ses_message_id = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    #: What SES said after sending (notify.events.Delivery), if anything went wrong.
    delivery = UnicodeAttribute(null=True)
    delivery_detail = UnicodeAttribute(null=True)
    delivery_at = UnicodeAttribute(null=True)
    #: Sent and failed messages are kept 30 days for support, then expire.
    ttl = NumberAttribute(null=True)  # DynamoDB TTL (epoch seconds)
