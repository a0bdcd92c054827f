"""The event pump: what Lambda's SQS event source mapping and EventBridge do
on AWS, done on loopback.

- Polls each queue an ``on_sqs_message`` handler listens to, and calls that
  very handler with a real SQS event. Messages it succeeds on are deleted;
  ones listed in ``batchItemFailures`` (or all, if it raises) are left for
  redelivery, and the queue's redrive policy moves them to the DLQ.
- Calls each ``schedule`` handler at its rate, with minutes read as seconds
  (``LOCAL_SECONDS_PER_MINUTE``, default 1): configuration, not other code.
- After each run it prints new mail from moto's SES store, so a new user can
  click the verification link.
"""
import os
import re
import threading
import time
import uuid

import boto3
import requests

from chalicelib.core import config

_UNIT_MINUTES = {"MINUTES": 1, "HOURS": 60, "DAYS": 1440}


def schedule_interval(expression, seconds_per_minute):
    """Local interval in seconds for a chalice Rate (or 'rate(n unit)')."""
    from chalice.app import Rate
    if isinstance(expression, Rate):
        minutes = expression.value * _UNIT_MINUTES[expression.unit]
    else:
        text = str(expression).strip()
        if not text.startswith("rate("):
            return 60.0 * seconds_per_minute  # cron: once a "minute" locally
        value, unit = text[5:-1].split()
        unit = unit.upper() if unit.upper().endswith("S") else unit.upper() + "S"
        minutes = int(value) * _UNIT_MINUTES[unit]
    return max(0.2, minutes * seconds_per_minute)


class LambdaContext:
    """The bits of Lambda's context object our handlers and powertools read."""
    def __init__(self, name):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{config.region()}:123456789012:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.time() + 300

    def get_remaining_time_in_millis(self):
        return int(max(0, self._deadline - time.time()) * 1000)


def sqs_event(messages, queue_arn):
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": config.region(),
    } for m in messages]}


def scheduled_event(rule_name):
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": config.region(),
            "resources": [f"arn:aws:events:{config.region()}:123456789012:rule/{rule_name}"],
            "detail": {}}


class Pump:
    def __init__(self, app, seconds_per_minute=None, print_mail=True, out=print):
        from chalice.app import ScheduledEventConfig, SQSEventConfig
        self.app = app
        self.out = out
        self.print_mail = print_mail
        spm = seconds_per_minute if seconds_per_minute is not None else \
            float(os.environ.get("LOCAL_SECONDS_PER_MINUTE", "1"))
        self.sqs = boto3.client("sqs", region_name=config.region())
        self.queues = []  # (name, url, arn, handler, batch_size)
        self.schedules = []  # [name, handler, interval, next_due]
        for source in app.event_sources:
            handler = app.handler_map[source.name]
            if isinstance(source, SQSEventConfig):
                url = self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
                arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self.queues.append((source.name, url, arn, handler, min(10, source.batch_size)))
            elif isinstance(source, ScheduledEventConfig):
                interval = schedule_interval(source.schedule_expression, spm)
                self.schedules.append([source.name, handler, interval, 0.0])  # due at once
        self._seen_mail = set()
        self._stop = threading.Event()

    def poll_queue(self, name, url, arn, handler, batch_size, wait=1):
        reply = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch_size,
                                         WaitTimeSeconds=wait, AttributeNames=["All"],
                                         MessageAttributeNames=["All"])
        messages = reply.get("Messages", [])
        if not messages:
            return 0
        try:
            result = handler(sqs_event(messages, arn), LambdaContext(name))
        except Exception as exc:  # noqa: BLE001 - as Lambda: the batch is retried
            self.out(f"pump {name}: handler failed ({type(exc).__name__}: {exc}); batch left for retry")
            return 0
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])} \
            if isinstance(result, dict) else set()
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        return len(done)

    def drain(self, rounds=50, idle_rounds=2):
        """Deliver queued messages at once until every queue has stayed
        empty ``idle_rounds`` polls running (tests and benchmarks, which
        need the work done before they look); returns how many."""
        handled = idle = 0
        for _ in range(rounds):
            done = sum(self.poll_queue(*q, wait=0) for q in self.queues)
            handled += done
            idle = idle + 1 if done == 0 else 0
            if idle >= idle_rounds:
                break
        return handled

    def run_schedules(self, now=None):
        now = now or time.time()
        ran = 0
        for entry in self.schedules:
            name, handler, interval, due = entry
            if now >= due:
                entry[3] = now + interval
                try:
                    handler(scheduled_event(name), LambdaContext(name))
                except Exception as exc:  # noqa: BLE001
                    self.out(f"pump {name}: handler failed ({type(exc).__name__}: {exc})")
                ran += 1
        if ran and self.print_mail:
            self.show_new_mail()
        return ran

    def show_new_mail(self):
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            return
        try:
            data = requests.get(f"{endpoint}/moto-api/data.json", timeout=5).json()
        except (requests.RequestException, ValueError):
            return
        for message in data.get("ses", {}).get("Message", []):
            if message.get("id") in self._seen_mail:
                continue
            self._seen_mail.add(message.get("id"))
            to = ", ".join(message.get("destinations", {}).get("ToAddresses", []))
            links = re.findall(r'https?://[^\s"<>]+token=[A-Za-z0-9_.\-]+', message.get("body", ""))
            self.out(f"\n  mail to {to}: {message.get('subject')}\n" +
                     "".join(f"    open: {link}\n" for link in dict.fromkeys(links)))

    def run_forever(self):
        threads = [threading.Thread(target=self._queue_loop, args=q, daemon=True) for q in self.queues]
        for t in threads:
            t.start()
        while not self._stop.is_set():
            self.run_schedules()
            self._stop.wait(0.2)

    def _queue_loop(self, *queue):
        while not self._stop.is_set():
            try:
                self.poll_queue(*queue)
            except Exception as exc:  # noqa: BLE001 - keep pumping
                self.out(f"pump {queue[0]}: {type(exc).__name__}: {exc}")
                time.sleep(1)

    def stop(self):
        self._stop.set()


def main():
    from chalice.cli.factory import CLIFactory
    project_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    factory = CLIFactory(project_dir=project_dir, environ=os.environ)
    app = factory.create_config_obj(chalice_stage_name="local").chalice_app
    pump = Pump(app, out=lambda s: print(s, flush=True))
    print(f"pump: {len(pump.queues)} queue(s), schedules: " +
          ", ".join(f"{n} every {i:g}s" for n, _h, i, _d in pump.schedules), flush=True)
    try:
        pump.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
