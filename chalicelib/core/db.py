"""PynamoDB glue: table metadata from config, and the few calls PynamoDB's
per-model API cannot express in one request (a BatchGetItem across tables)."""
import os
import random
import threading
import time

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from . import config
from .errors import StillUnprocessed


def meta(logical):
    """A PynamoDB ``Meta`` for a logical table (name from config, on demand).

    No ``host``: botocore reads ``AWS_ENDPOINT_URL`` itself, so the same code
    talks to moto locally and to DynamoDB on AWS.
    """
    class Meta:
        table_name = config.table_name(logical)
        region = config.region()
        billing_mode = "PAY_PER_REQUEST"
    return Meta


def index(name, hash_attr, hash_type, range_attr):
    """An instance of a GSI (all attributes projected): hash + string range."""
    meta_cls = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attrs = {"Meta": meta_cls,
             hash_attr: hash_type(hash_key=True),
             range_attr: UnicodeAttribute(range_key=True)}
    return type(f"Index_{name.replace('-', '_')}", (GlobalSecondaryIndex,), attrs)()


_connection = None


def connection():
    global _connection
    if _connection is None:
        _connection = Connection(region=config.region())
    return _connection


def batch_get(requests):
    """Get items from several tables in as few BatchGetItem calls as can be
    (100 keys a call), retrying unprocessed keys with back-off.

    ``requests``: {name: (ModelClass, key_dict)} with plain key values.
    Returns {name: model instance or None}.
    """
    keyed, key_names = {}, {}
    for name, (model, key) in requests.items():
        table = model.Meta.table_name
        serialised = {k: _serialise(model, k, v) for k, v in key.items()}
        key_names[table] = sorted(key)
        keyed[(table, _key_id(serialised))] = (name, model, serialised)
    results = {name: None for name in requests}
    client = connection().client
    entries = list(keyed.items())
    for start in range(0, len(entries), 100):
        pending = {}
        for (table, _kid), (_name, _model, serialised) in entries[start:start + 100]:
            pending.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(serialised)
        for attempt in range(6):
            reply = client.batch_get_item(RequestItems=pending)
            for table, items in reply.get("Responses", {}).items():
                for item in items:
                    kid = _key_id({k: item[k] for k in key_names[table]})
                    name, model, _ = keyed[(table, kid)]
                    results[name] = model.from_raw_data(item)
            pending = reply.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(0.05 * (2 ** attempt))
        if pending:
            raise StillUnprocessed(f"{sum(len(t['Keys']) for t in pending.values())} keys unread")
    return results


def _serialise(model, attr_name, value):
    attr = model.get_attributes()[attr_name]
    return {attr.attr_type: attr.serialize(value)}


def _key_id(serialised):
    return tuple(sorted((k, next(iter(v.values()))) for k, v in serialised.items()))



_ID_BLOCK = 512
_ids = threading.local()


def _forget_ids():
    global _ids
    _ids = threading.local()  # a forked child must never hand out its parent's ids


os.register_at_fork(after_in_child=_forget_ids)


def new_id():
    """A system id: 128 random bits as 32 hex digits. Read from urandom 512
    at a time (per thread, dropped on fork): an import makes one a row, and a
    urandom call each costs more than the rest of the id."""
    pool = getattr(_ids, "pool", None)
    if not pool:
        raw = os.urandom(16 * _ID_BLOCK).hex()
        pool = _ids.pool = [raw[i:i + 32] for i in range(0, len(raw), 32)]
    return pool.pop()


class TxFailed(Exception):
    """A transaction was cancelled. ``failed``: labels whose condition failed;
    ``conflict``: another transaction touched the same items at the time."""

    def __init__(self, failed, conflict=False):
        super().__init__(f"transaction cancelled: {sorted(failed)}")
        self.failed = set(failed)
        self.conflict = conflict

    def refusal(self, by_label, otherwise):
        """The error to raise: ``by_label[label]()`` for the first label
        (in the order given) whose condition failed, else ``otherwise()``."""
        for label, error in by_label.items():
            if label in self.failed:
                return error()
        return otherwise()


class Tx:
    """A TransactWriteItems that knows which of its items failed.

    PynamoDB sends condition checks, then deletes, then puts, then updates;
    cancellation reasons come back in that order, so we keep labels per kind.

    This is the one place that reaches into PynamoDB's ``TransactWrite``
    (``_put_items``, ``_update_items``, ``_commit``): its public form is a
    ``with`` block, which can neither carry a Put without PynamoDB's version
    condition nor an Update whose map keys are data (the system groups'
    counts), and which commits on leaving the block, where we need to catch
    the cancellation and say which labelled item failed. PynamoDB is pinned
    in requirements.txt; tests/core/test_db.py covers each use.
    """

    def __init__(self):
        self._tw = TransactWrite(connection=connection())
        self._labels = {"check": [], "delete": [], "put": [], "update": []}

    def check(self, label, model_cls, hash_key, range_key=None, condition=None):
        self._tw.condition_check(model_cls, hash_key, range_key, condition=condition)
        self._labels["check"].append(label)

    def delete(self, label, model, condition=None, add_version_condition=True):
        self._tw.delete(model, condition=condition, add_version_condition=add_version_condition)
        self._labels["delete"].append(label)

    def put(self, label, model, condition=None):
        self._tw.save(model, condition=condition)
        self._labels["put"].append(label)

    def update(self, label, model, actions, condition=None, add_version_condition=True):
        self._tw.update(model, actions, condition=condition, add_version_condition=add_version_condition)
        self._labels["update"].append(label)

    def put_as_is(self, label, model):
        """A Put of the item exactly as it is: no condition, not even
        PynamoDB's version check (for items whose writer guarantees them new)."""
        self._tw._put_items.append({"TableName": model.Meta.table_name, "Item": model.serialize()})
        self._labels["put"].append(label)

    def raw_update(self, label, update):
        """An Update in DynamoDB's own terms ({TableName, Key, UpdateExpression,
        ...}), for expressions PynamoDB's actions can't say (dynamic map keys)."""
        self._tw._update_items.append(update)
        self._labels["update"].append(label)

    def commit(self):
        order = self._labels["check"] + self._labels["delete"] + self._labels["put"] + self._labels["update"]
        if not order:
            return
        try:
            self._tw._commit()
        except TransactWriteError as exc:
            reasons = getattr(exc, "cancellation_reasons", None) or []
            failed = {label for label, reason in zip(order, reasons)
                      if reason is not None and reason.code == "ConditionalCheckFailed"}
            conflict = any(reason is not None and reason.code == "TransactionConflict" for reason in reasons)
            if failed or conflict:
                raise TxFailed(failed, conflict) from exc
            raise


BATCH_WRITE_SIZE = 25
BATCH_WRITE_ATTEMPTS = 8


def batch_put(items, sleep=time.sleep):
    """Put model instances (any tables) with BatchWriteItem, 25 a call,
    retrying UnprocessedItems with exponential back-off and jitter (PynamoDB
    retries them at once, which under throttling only throttles again).
    Returns the number of BatchWriteItem calls made."""
    calls = 0
    requests = [(item.Meta.table_name, {"PutRequest": {"Item": item.serialize()}}) for item in items]
    client = connection().client
    for start in range(0, len(requests), BATCH_WRITE_SIZE):
        pending = {}
        for table, request in requests[start:start + BATCH_WRITE_SIZE]:
            pending.setdefault(table, []).append(request)
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            calls += 1
            reply = client.batch_write_item(RequestItems=pending)
            pending = reply.get("UnprocessedItems") or {}
            if not pending:
                break
            sleep(min(5.0, 0.05 * (2 ** attempt)) * (0.5 + random.random() / 2))
        else:
            raise RuntimeError(f"BatchWriteItem left {sum(map(len, pending.values()))} items "
                               f"unprocessed after {BATCH_WRITE_ATTEMPTS} tries")
    return calls
