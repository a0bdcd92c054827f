"""The import queue: the steps the API, the worker and the schedules put on it
(an import's validate/commit, a rollover's run or undo)."""
import json

from . import clients, config

_queue_url = None


def enqueue(step):
    """Put a step (anything with .body()) on the import queue for the worker."""
    global _queue_url
    sqs = clients.service_client("sqs")
    if _queue_url is None:
        _queue_url = sqs.get_queue_url(QueueName=config.queue_name("imports"))["QueueUrl"]
    sqs.send_message(QueueUrl=_queue_url, MessageBody=json.dumps(step.body()))


def reset_clients():
    """Forget cached clients and the queue's URL (tests start a fresh moto)."""
    global _queue_url
    _queue_url = None
    clients.reset()  # every AWS client: S3, SQS, SES, KMS
