"""SES's bounces and complaints (its configuration set publishes them to an
SNS topic) land on the outbox message they are about."""
import json

import pytest

from chalicelib.notify import events, outbox
from chalicelib.notify.models import OutboxMessage
from tests.notify.test_outbox import queue_verification


def ses_event(kind, outbox_id, ses_id, **detail):
    body = {"eventType": kind, "mail": {"messageId": ses_id, "destination": ["elm@elm.sch.uk"],
                                        "tags": {"ses:configuration-set": ["schoolroll"],
                                                 events.OUTBOX_TAG: [outbox_id]}}}
    if kind == "Bounce":
        body["bounce"] = {"bounceType": detail.get("type", "Permanent"), "bounceSubType": "General",
                          "timestamp": "2026-12-02T09:00:00.000Z"}
    elif kind == "Complaint":
        body["complaint"] = {"complaintFeedbackType": "abuse", "timestamp": "2026-12-02T09:05:00.000Z"}
    return json.dumps(body)


def test_parse_reads_bounces_and_complaints_and_ignores_the_rest():
    hard = events.parse(ses_event("Bounce", "m1", "s1"))
    assert hard == events.DeliveryEvent("m1", "s1", events.Delivery.BOUNCED, "Permanent/General",
                                        "2026-12-02T09:00:00.000Z")
    assert events.parse(ses_event("Bounce", "m1", "s1", type="Transient")).delivery is events.Delivery.SOFT_BOUNCED
    assert events.parse(ses_event("Complaint", "m1", "s1")).delivery is events.Delivery.COMPLAINED
    assert events.parse(ses_event("Delivery", "m1", "s1")) is None
    untagged = json.loads(ses_event("Bounce", "m1", "s1"))
    del untagged["mail"]["tags"][events.OUTBOX_TAG]
    for text in (json.dumps(untagged), "Successfully validated SNS topic for Amazon SES event publishing.",
                 "[]", json.dumps({"eventType": "Bounce", "mail": "x"}), None):
        assert events.parse(text) is None


@pytest.fixture
def sent(api):
    """A verification email sent through (moto's) SES: its outbox message."""
    message = queue_verification(api)
    assert outbox.send_due()["sent"] == 1
    return OutboxMessage.get(message.message_id)


def deliver(client, text):
    return client.lambda_.invoke("email_events", client.events.generate_sns_event(message=text)).payload


def test_a_bounce_is_recorded_on_its_message_and_a_repeat_changes_nothing(client, sent):
    assert sent.ses_message_id and sent.delivery is None
    for _ in range(2):  # SNS delivers at least once
        assert deliver(client, ses_event("Bounce", sent.message_id, sent.ses_message_id)) == {"recorded": True}
        stored = OutboxMessage.get(sent.message_id)
        assert (stored.delivery, stored.delivery_detail) == ("bounced", "Permanent/General")
        assert stored.status == "sent"
    assert deliver(client, ses_event("Complaint", sent.message_id, sent.ses_message_id)) == {"recorded": True}
    assert OutboxMessage.get(sent.message_id).delivery == "complained"


def test_an_event_that_does_not_match_a_sent_message_marks_nothing(client, sent):
    assert deliver(client, ses_event("Bounce", sent.message_id, "another-ses-id")) == {"recorded": False}
    assert deliver(client, ses_event("Bounce", "no-such-message", sent.ses_message_id)) == {"recorded": False}
    assert OutboxMessage.get(sent.message_id).delivery is None
    assert OutboxMessage.count("no-such-message") == 0
