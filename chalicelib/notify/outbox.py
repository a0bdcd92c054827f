"""Queueing and sending outbox emails.

A request never waits on SES: it adds an ``OutboxMessage`` in its own write.
The scheduled sender claims each due message with a conditional update (so two
senders running at once never both send it), renders it, sends it through
SES and marks it sent. A failed send is retried with back-off.
"""
import time

from pynamodb.exceptions import UpdateError

from ..core import config
from ..core import clients
from ..core.db import new_id
from ..core.log import logger
from . import events
from .models import PENDING, OutboxMessage

#: kind -> render(message) -> {"subject", "text", "html"} or None (do not
#: send: the message no longer applies); registered by the
#: domain that owns the email (accounts registers "verify" and "invite").
RENDERERS = {}

LEASE_SECONDS = 120
#: At most this many sends a run, and until this many seconds are spent (the
#: schedule runs every minute; the function's timeout is longer).
BATCH = 600
RUN_SECONDS = 40
#: Due messages read a run to share out among schools (a few small queries).
READ_CAP = 5000


def register_renderer(kind):
    def decorate(fn):
        RENDERERS[kind] = fn
        return fn
    return decorate


def new_message(kind, school_id, user_id, to, now=None):
    """An unsaved outbox message; save it in the same write as its cause."""
    now = now or time.time()
    return OutboxMessage(
        message_id=new_id(), kind=kind, school_id=school_id, user_id=user_id, to=to,
        status="pending", pending=PENDING, next_attempt_at=int(now), created_at=int(now),
    )


def _ses():
    """The process's one SES client (made on first use: only the sender needs it)."""
    return clients.service_client("ses")


def backoff_seconds(attempts):
    return min(3600, 30 * (2 ** max(0, attempts - 1)))


def fair_order(messages):
    """Due messages, each school's in due order, taken one school at a time
    in turn: one school's 2,000 invitations wait behind nobody's verification
    email, and delay it by one message per round, not by an hour."""
    by_school = {}
    for message in messages:
        by_school.setdefault(message.school_id, []).append(message)
    lanes = list(by_school.values())
    for i in range(max((len(lane) for lane in lanes), default=0)):
        for lane in lanes:
            if i < len(lane):
                yield lane[i]


def send_due(now=None, ses=None, limit=BATCH, seconds=RUN_SECONDS, clock=time.monotonic):
    """Send due messages, schools in turn, until ``limit`` are sent or
    ``seconds`` are spent. Returns counts by outcome."""
    now = now or time.time()
    started = clock()
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "cancelled": 0}
    due = OutboxMessage.pending_index.query(
        PENDING, OutboxMessage.next_attempt_at <= int(now), limit=READ_CAP)
    handled = 0
    for message in fair_order(list(due)):
        if handled >= limit or clock() - started >= seconds:
            break
        outcome = send_one(message, now, ses)
        counts[outcome] += 1
        handled += outcome != "skipped"
    return counts


def _claim(message, now):
    try:
        message.update(
            actions=[OutboxMessage.lease_until.set(int(now) + LEASE_SECONDS)],
            condition=(OutboxMessage.status == "pending") & (OutboxMessage.lease_until < int(now)),
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


#: SES refusals that sending again cannot cure (a bad address, an unverified sender)
PERMANENT_SES_ERRORS = {"MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue"}


def _permanent(exc):
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in PERMANENT_SES_ERRORS


def _cancel(message, now):
    """A message its renderer refuses (an invitation to an address the
    account no longer has): never sent, kept a while for support."""
    message.update(actions=[OutboxMessage.status.set("cancelled"), OutboxMessage.pending.remove(),
                            OutboxMessage.lease_until.set(0), OutboxMessage.ttl.set(int(now) + 30 * 86400)])
    logger.info("email cancelled", extra={"message_id": message.message_id, "kind": message.kind})
    return "cancelled"


def send_one(message, now, ses=None):
    """Claim, render and send one due message; its outcome (a key of
    send_due's counts). Any failure to render or send is retried later."""
    if not _claim(message, now):
        return "skipped"  # another sender has it, or it was sent meanwhile
    try:
        rendered = RENDERERS[message.kind](message)
        if rendered is None:
            return _cancel(message, now)
        reply = _send_email(ses or _ses(), message, rendered)
    except Exception as exc:  # noqa: BLE001 - any failure is retried later
        return _send_failed(message, now, exc)
    return _sent(message, now, rendered, reply)


def _send_email(ses, message, rendered):
    extra = {"ConfigurationSetName": config.ses_configuration_set()} if config.ses_configuration_set() else {}
    return ses.send_email(
        **extra,
        Source=config.mail_from(),
        # SES's bounce and complaint events carry it back (notify.events)
        Tags=[{"Name": events.OUTBOX_TAG, "Value": message.message_id}],
        Destination={"ToAddresses": [message.to]},
        Message={
            "Subject": {"Data": rendered["subject"], "Charset": "UTF-8"},
            "Body": {"Text": {"Data": rendered["text"], "Charset": "UTF-8"},
                     "Html": {"Data": rendered["html"], "Charset": "UTF-8"}},
        },
    )


def _send_failed(message, now, exc):
    """Count the failed attempt and free the lease: tried again after a
    back-off, or given up ("failed") after the last attempt or a refusal
    that sending again cannot cure."""
    logger.debug("send failed", exc_info=exc)
    attempts = message.attempts + 1
    give_up = attempts >= config.OUTBOX_MAX_ATTEMPTS or _permanent(exc)
    actions = [
        OutboxMessage.attempts.set(attempts),
        OutboxMessage.lease_until.set(0),
        OutboxMessage.last_error.set(f"{type(exc).__name__}: {str(exc)[:300]}"),
        OutboxMessage.next_attempt_at.set(int(now) + backoff_seconds(attempts)),
    ]
    if give_up:
        actions += [OutboxMessage.status.set("failed"), OutboxMessage.pending.remove(),
                    OutboxMessage.ttl.set(int(now) + 30 * 86400)]
    message.update(actions=actions)
    logger.warning("email send failed", extra={"message_id": message.message_id,
                                               "kind": message.kind, "attempts": attempts,
                                               "error": type(exc).__name__})
    return "failed" if give_up else "retry"


def _sent(message, now, rendered, reply):
    """Mark it sent (out of the pending index), kept a while for support."""
    message.update(actions=[
        OutboxMessage.status.set("sent"), OutboxMessage.pending.remove(),
        OutboxMessage.sent_at.set(int(now)), OutboxMessage.subject.set(rendered["subject"]),
        OutboxMessage.ses_message_id.set(reply.get("MessageId")),
        OutboxMessage.attempts.set(message.attempts + 1),
        OutboxMessage.ttl.set(int(now) + 30 * 86400),
    ])
    logger.info("email sent", extra={"message_id": message.message_id, "kind": message.kind})
    return "sent"


def record_delivery(event):
    """Mark the outbox message a bounce or complaint is about. Only a message
    we sent under that SES id is marked (a repeat delivery of the event sets
    the same values again). Returns whether one was marked."""
    try:
        OutboxMessage(message_id=event.outbox_message_id).update(
            actions=[OutboxMessage.delivery.set(event.delivery.value),
                     OutboxMessage.delivery_detail.set(event.detail or None),
                     OutboxMessage.delivery_at.set(event.at or None)],
            condition=OutboxMessage.ses_message_id == event.ses_message_id)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    logger.info("email delivery event", extra={"message_id": event.outbox_message_id,
                                               "delivery": event.delivery.value})
    return True
