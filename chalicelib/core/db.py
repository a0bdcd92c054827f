"""PynamoDB glue: table metadata from config, and the few calls PynamoDB's
per-model API cannot express in one request (a BatchGetItem across tables)."""
import time
import uuid

from pynamodb.connection import Connection

from . import config


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


_connection = None


def connection():
    global _connection
    if _connection is None:
        _connection = Connection(region=config.region())
    return _connection


def batch_get(requests):
    """Get items from several tables in one BatchGetItem.

    ``requests``: {name: (ModelClass, key_dict)} with plain key values.
    Returns {name: model instance or None}. Retries unprocessed keys.
    """
    request_items = {}
    lookup = {}
    for name, (model, key) in requests.items():
        table = model.Meta.table_name
        serialised = {k: _serialise(model, k, v) for k, v in key.items()}
        request_items.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(serialised)
        lookup[(table, _key_id(serialised))] = (name, model)
    results = {name: None for name in requests}
    client = connection().client
    pending = request_items
    for attempt in range(5):
        reply = client.batch_get_item(RequestItems=pending)
        for table, items in reply.get("Responses", {}).items():
            for item in items:
                for (tbl, kid), (name, model) in lookup.items():
                    if tbl == table and _matches(item, kid):
                        results[name] = model.from_raw_data(item)
        pending = reply.get("UnprocessedKeys") or {}
        if not pending:
            break
        time.sleep(0.05 * (2 ** attempt))
    return results


def _serialise(model, attr_name, value):
    attr = model.get_attributes()[attr_name]
    return {attr.attr_type: attr.serialize(value)}


def _key_id(serialised):
    return tuple(sorted((k, next(iter(v.values()))) for k, v in serialised.items()))


def _matches(item, kid):
    return all(k in item and next(iter(item[k].values())) == v for k, v in kid)


def new_id():
    """A system id: random, URL-safe, never reused."""
    return uuid.uuid4().hex


def now():
    return time.time()
