"""Times as the API and the audit log write them: ISO 8601 in UTC."""
import time


def iso(epoch):
    """``2026-11-24T15:30:00Z`` for epoch seconds; None for None."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def iso_stamp(epoch):
    """``2026-11-24T15:30:00`` (no zone): the start of a sortable key."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
