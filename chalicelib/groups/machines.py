"""The school's machines (a group of machines is monitored as one), made by
hand or by an import; a deleted machine leaves every group."""
import time

from pynamodb.exceptions import DoesNotExist

from ..core import audit
from ..core.db import Tx, TxFailed, new_id
from ..core.errors import FieldError, not_found, validation_failed
from ..core.text import fold
from ..membership.bookkeeping import forget_member
from ..membership.models import Machine
from ..roster.validation import clean_text


def machine_cleaners(today=None, date_orders=None):
    """{field: cleaner} of a machine (imported; a form takes a name only)."""
    return {"name": lambda v: clean_text(v, "name", 100, required=True),
            "location": lambda v: clean_text(v, "location", 100)}


def machine_json(m):
    return {"id": m.machine_id, "name": m.name, "location": m.location}


def create_machine(caller, body, now=None):
    now = now or time.time()
    name = (body.get("name") or "").strip()
    if not name:
        raise validation_failed([FieldError("name", "required", "Give the machine a name.")])
    m = Machine(school_id=caller.school_id, machine_id=new_id(), name=name,
                location=(body.get("location") or "").strip() or None, created_at=int(now))
    tx = Tx()
    tx.put("machine", m, condition=Machine.machine_id.does_not_exist())
    audit.stage(tx, audit.entry(caller, "create", "machine", m.machine_id, {}, machine_json(m), now))
    tx.commit()
    return machine_json(m)


def list_machines(caller):
    return {"items": sorted((machine_json(m) for m in Machine.query(caller.school_id)),
                            key=lambda m: fold(m["name"]))}


def delete_machine(caller, machine_id):
    try:
        m = Machine.get(caller.school_id, machine_id)
    except DoesNotExist:
        raise not_found("machine")
    tx = Tx()
    tx.delete("machine", m, condition=Machine.machine_id.exists())
    audit.stage(tx, audit.entry(caller, "delete", "machine", m.machine_id, machine_json(m), {}))
    try:
        tx.commit()
    except TxFailed:
        raise not_found("machine")
    forget_member(caller.school_id, machine_id)
    return {"deleted": machine_id}


def put_from_import(caller, machine_id, values, create, entry_id, now):
    """An import's row: a new machine, or a known one's location (machines
    are matched by name). Audited as the person who pressed Import, under a
    key fixed by ``entry_id`` and ``now`` (the commit's start): a redelivered
    commit finds the entry there, and the whole write is known done."""
    tx = Tx()
    if create:
        m = Machine(school_id=caller.school_id, machine_id=machine_id, name=values["name"],
                    location=values.get("location"), created_at=int(now))
        tx.put("machine", m, condition=Machine.machine_id.does_not_exist())
        audit.stage(tx, audit.entry(caller, "create", "machine", machine_id, {}, machine_json(m), now,
                                    entry_id=entry_id))
    else:
        location = values.get("location")
        tx.update("machine", Machine(school_id=caller.school_id, machine_id=machine_id),
                  [Machine.location.set(location)], condition=Machine.machine_id.exists())
        audit.stage(tx, audit.entry(caller, "update", "machine", machine_id, {}, {"location": location}, now,
                                    entry_id=entry_id))
    try:
        tx.commit()
    except TxFailed as exc:
        if "audit" in exc.failed or (create and "machine" in exc.failed):
            return  # written by an earlier delivery of this commit
        if "machine" in exc.failed:
            raise not_found("machine")  # deleted since the file was checked
        raise  # a clash with another transaction: the commit is tried again
