"""One JSON logger for the service (aws-lambda-powertools).

Only ids go in log keys: never a password, a token, an email address or a
pupil's personal data.
"""
from aws_lambda_powertools import Logger

logger = Logger(service="schoolroll")

#: Keys set per request; cleared at the start of the next one.
REQUEST_KEYS = ("request_id", "school_id", "user_id", "route")


def start_request(**keys):
    logger.remove_keys(list(REQUEST_KEYS))
    logger.append_keys(**{k: v for k, v in keys.items() if v is not None})
