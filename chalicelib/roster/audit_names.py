"""Whom each audit entry is about, by name, read when the log is read: the
entries keep ids, so an erased pupil's name is nowhere in them, and a
renamed one shows as she is called now. One BatchGetItem per 100 records."""
from ..accounts.models import User
from ..core.db import batch_get
from ..membership.models import Group
from .models import Pupil

#: record type: (model, its id's key); a membership's record is its group (id, or id/member)
RECORDS = {"pupil": (Pupil, "pupil_id"), "staff": (User, "user_id"), "account": (User, "user_id"),
           "group": (Group, "group_id"),
           "group_staff": (Group, "group_id"), "membership": (Group, "group_id")}


def _record(entry):
    kind = RECORDS.get(entry["record_type"])
    if kind is None or not entry.get("record_id"):
        return None
    model, key = kind
    return model, key, entry["record_id"].split("/")[0]


def named(school_id, page):
    """The page with each entry's ``record_name`` (None: gone, or a record with no name)."""
    wanted = {}
    for entry in page["items"]:
        found = _record(entry)
        if found:
            model, key, record_id = found
            wanted[(model.__name__, record_id)] = (model, {"school_id": school_id, key: record_id})
    got = batch_get(wanted) if wanted else {}
    for entry in page["items"]:
        found = _record(entry)
        record = got.get((found[0].__name__, found[2])) if found else None
        entry["record_name"] = _name(record) if record is not None else (
            entry["record_id"] if entry["record_type"] == "user_group" else None)
    return page


def _name(record):
    if isinstance(record, Group):
        return record.name
    return f"{record.first_name} {record.surname}"
