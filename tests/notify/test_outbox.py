import threading
import time

from chalicelib.core import config
from chalicelib.notify import outbox
from chalicelib.notify.models import OutboxMessage
from tests.conftest import sent_emails


class FlakySES:
    """Fails the first ``failures`` sends, then delegates to moto's SES."""

    def __init__(self, failures):
        import boto3
        self.failures = failures
        self.calls = 0
        self.real = boto3.client("ses", region_name=config.region())

    def send_email(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("Throttling: Maximum sending rate exceeded")
        return self.real.send_email(**kwargs)


def queue_verification(signup_api):
    r = signup_api.post("/api/schools", {"name": "Elm", "admin": {
        "first_name": "E", "surname": "L", "email": "elm@elm.sch.uk", "password": "correct horse battery"}})
    assert r.status_code == 201
    (message,) = list(OutboxMessage.pending_index.query("pending"))
    return message


def test_signup_writes_to_the_outbox_and_does_not_send(api):
    message = queue_verification(api)
    assert message.kind == "verify" and message.to == "elm@elm.sch.uk"
    assert sent_emails() == []


def test_sender_sends_once_and_marks_sent(api):
    message = queue_verification(api)
    assert outbox.send_due() == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0, "cancelled": 0}
    assert outbox.send_due()["sent"] == 0
    assert len(sent_emails()) == 1
    stored = OutboxMessage.get(message.message_id)
    assert stored.status == "sent" and stored.pending is None and stored.sent_at


def test_failed_send_is_retried_later_with_backoff(api):
    message = queue_verification(api)
    ses = FlakySES(failures=1)
    now = time.time()
    assert outbox.send_due(now=now, ses=ses)["retry"] == 1
    stored = OutboxMessage.get(message.message_id)
    assert stored.status == "pending" and stored.attempts == 1 and "Throttling" in stored.last_error
    assert stored.next_attempt_at >= int(now) + outbox.backoff_seconds(1)
    assert outbox.send_due(now=now + 1, ses=ses)["sent"] == 0  # not due yet
    assert outbox.send_due(now=now + outbox.backoff_seconds(1) + 1, ses=ses)["sent"] == 1
    assert len(sent_emails()) == 1


def test_sender_gives_up_after_max_attempts(api):
    message = queue_verification(api)
    ses = FlakySES(failures=100)
    now = time.time()
    for _ in range(config.OUTBOX_MAX_ATTEMPTS):
        outbox.send_due(now=now, ses=ses)
        now += 3601
    stored = OutboxMessage.get(message.message_id)
    assert stored.status == "failed" and stored.pending is None
    assert ses.calls == config.OUTBOX_MAX_ATTEMPTS and sent_emails() == []


def test_a_message_claimed_by_one_sender_is_skipped_by_another(api):
    message = queue_verification(api)
    stale_copy = OutboxMessage.get(message.message_id)
    assert outbox.send_one(message, time.time()) == "sent"
    assert outbox.send_one(stale_copy, time.time()) == "skipped"
    assert len(sent_emails()) == 1


def test_two_senders_at_once_send_each_email_once(api):
    for i in range(5):
        api.post("/api/schools", {"name": f"S{i}", "admin": {
            "first_name": "E", "surname": "L", "email": f"a{i}@s.sch.uk", "password": "correct horse battery"}})
    threads = [threading.Thread(target=outbox.send_due) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recipients = sorted(m.destinations["ToAddresses"][0] for m in sent_emails())
    assert recipients == sorted(f"a{i}@s.sch.uk" for i in range(5))


def test_scheduled_handler_runs_the_sender(client, api):
    queue_verification(api)
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                            detail={}, resources=["arn:aws:events:eu-west-2:123:rule/x"])
    result = client.lambda_.invoke("outbox_sender", event)
    assert result.payload["sent"] == 1
    assert len(sent_emails()) == 1


def test_one_schools_thousand_emails_do_not_hold_up_anothers(api, monkeypatch):
    """School A queues 60 invitations, then school B one verification email:
    a run that may send only 10 sends B's among them (schools take turns)."""
    from chalicelib.core.db import batch_put
    monkeypatch.setitem(outbox.RENDERERS, "plain", lambda m: {"subject": "Hi", "text": "Hi", "html": "<p>Hi</p>"})
    now = time.time()
    a = [outbox.new_message("plain", "school-a", f"a{i}", f"a{i}@a.example.org", now - 100 + i) for i in range(60)]
    batch_put(a + [outbox.new_message("plain", "school-b", "b0", "b0@b.example.org", now)])
    counts = outbox.send_due(now=now, limit=10)
    assert counts["sent"] == 10
    sent_to = [m.destinations["ToAddresses"][0] for m in sent_emails()]
    assert "b0@b.example.org" in sent_to[:2]
    assert sent_to[0] == "a0@a.example.org"  # each school's own in due order


def test_a_run_stops_when_its_time_is_spent(api, monkeypatch):
    from chalicelib.core.db import batch_put
    monkeypatch.setitem(outbox.RENDERERS, "plain", lambda m: {"subject": "Hi", "text": "Hi", "html": "<p>Hi</p>"})
    batch_put([outbox.new_message("plain", "school-a", f"a{i}", f"a{i}@a.example.org") for i in range(5)])
    ticks = iter(range(100))
    counts = outbox.send_due(seconds=3, clock=lambda: next(ticks))
    assert counts["sent"] == 2  # started at 0; sent at 1 and 2; at 3 the budget is spent
    assert outbox.send_due()["sent"] == 3  # the rest go next run


def test_the_configuration_set_is_used_when_set(api, monkeypatch):
    monkeypatch.setenv("SES_CONFIGURATION_SET", "schoolroll-test-mail")
    seen = {}

    class Ses:
        def send_email(self, **kw):
            seen.update(kw)
            return {"MessageId": "m-1"}
    queue_verification(api)
    assert outbox.send_due(ses=Ses())["sent"] == 1
    assert seen["ConfigurationSetName"] == "schoolroll-test-mail"
