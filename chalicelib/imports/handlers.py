"""The import worker: S3 notifications and our own validate/commit steps,
all through one SQS queue (chalice package cannot express on_s3_event)."""
import json

from chalice import Blueprint

from ..core import config
from ..core.log import logger, start_request
from . import worker

bp = Blueprint(__name__)


def handle_record(record):
    """One SQS record. On its last delivery a failure is written on the
    import (so the console says why) before the message goes to the DLQ."""
    message = json.loads(record.body)
    try:
        outcome = worker.handle_message(message)
        logger.info("import message handled", extra={"outcome": outcome})
        return outcome
    except Exception as exc:
        receives = int((record.attributes or {}).get("ApproximateReceiveCount", "1") or 1)
        logger.exception("import message failed", extra={"receives": receives})
        if receives >= config.MAX_RECEIVE_COUNT:
            worker.fail_from_message(message, exc)
        raise


@bp.on_sqs_message(queue=config.queue_name("imports"), batch_size=1, name="import_worker")
def import_worker(event):
    """Partial batch failures: only failed records return to the queue."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    start_request(route="sqs import_worker")
    return process_partial_response(event=event.to_dict(), record_handler=handle_record,
                                    processor=BatchProcessor(event_type=EventType.SQS))
