"""The pump calls handlers the way Lambda's event source mapping and
EventBridge do: real SQS events, partial batch failures honoured."""
import json

import boto3
from chalice import Chalice, Rate

from chalicelib.core import config
from devstack.pump import Pump, schedule_interval


def make_app(seen, fail_bodies=()):
    app = Chalice(app_name="pumptest")

    @app.on_sqs_message(queue=config.queue_name("imports"), batch_size=5, name="consumer")
    def consumer(event):
        failures = []
        for record in event:
            seen.append(record.body)
            if record.body in fail_bodies:
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    @app.schedule(Rate(2, unit=Rate.MINUTES), name="ticker")
    def ticker(event):
        seen.append(("tick", event.to_dict()["detail-type"]))

    return app


def test_schedule_rates_are_read_as_seconds_locally():
    assert schedule_interval(Rate(1, unit=Rate.MINUTES), 1) == 1
    assert schedule_interval(Rate(2, unit=Rate.HOURS), 1) == 120
    assert schedule_interval("rate(5 minutes)", 0.5) == 2.5


def test_sqs_messages_reach_the_handler_and_failures_stay_queued(aws):
    sqs = boto3.client("sqs", region_name=config.region())
    url = sqs.get_queue_url(QueueName=config.queue_name("imports"))["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)  # S3 puts an s3:TestEvent there when notifications are set
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    seen = []
    pump = Pump(make_app(seen, fail_bodies={json.dumps("b")}), seconds_per_minute=1, print_mail=False)
    done = 0
    for _ in range(3):
        done += pump.poll_queue(*pump.queues[0], wait=0)
    assert done == 2
    assert sorted(seen) == sorted(json.dumps(x) for x in "abc")
    # "b" failed: still on the queue (invisible until its visibility timeout).
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert attrs["ApproximateNumberOfMessages"] == "0"


def test_schedules_run_at_their_local_rate(aws):
    seen = []
    pump = Pump(make_app(seen), seconds_per_minute=1, print_mail=False)
    assert pump.run_schedules(now=1000.0) == 1
    assert pump.run_schedules(now=1001.0) == 0  # next due at 1002
    assert pump.run_schedules(now=1002.5) == 1
    assert seen == [("tick", "Scheduled Event")] * 2
