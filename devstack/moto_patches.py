"""Make moto's TransactWriteItems and Query cost what DynamoDB's do.

moto 5 deep-copies every table a transaction touches so it can roll back,
which makes each transaction cost O(table size): 500 transactions over a
50,000-item table take minutes, where DynamoDB takes milliseconds. This swaps
the whole-table copy for an undo log of the items the transaction touches.
Semantics are unchanged: all writes happen, or none do, and the cancellation
reasons are the same.

moto 5 also answers a Query on a table's key by sorting every item of the
table and keeping the partition's (O(table) a query, where DynamoDB's is
O(result)): a query of one group's members in a table of 200,000 took a
third of a second. A Query on a table's own key now reads its partition only;
its results, order and pages are moto's own. Applied by the tests and by the
local moto server.
"""
import copy
import threading

_applied = False


def apply():
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        undo = []  # (table, key) -> the item before this transaction, or None
        for item in transact_items:
            _, op = next(iter(item.items()))
            table_name = op.get("TableName")
            if not table_name or table_name not in self.tables:
                continue
            table = self.tables[table_name]
            if "Item" in op:
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs.get(table.range_key_attr)
            else:
                key = op.get("Key") or {}
            try:
                current = self.get_item(table_name, key)
            except Exception:  # noqa: BLE001 - a malformed key: moto reports it below
                current = None
            undo.append((table_name, key, copy.deepcopy(current) if current is not None else None))
        saved = {name: self.tables[name] for name, _key, _item in undo}
        with _no_table_copies():
            try:
                return original(self, transact_items)
            except Exception:
                for name, table in saved.items():
                    self.tables[name] = table  # moto "restores" its shallow copy: keep ours
                for name, key, before in reversed(undo):
                    _restore(self, name, key, before)
                raise

    DynamoDBBackend.transact_write_items = transact_write_items
    _partition_queries()
    _applied = True


_querying = threading.local()


def _partition_queries():
    """Table.query on the table's own key sees only the partition's items,
    and, for a page after the first, only those past the page's start key:
    moto's all_items() (the whole table, sorted) is swapped, for this thread
    and this call only, for them (sorted once by their plain key values)."""
    from moto.dynamodb.models.table import Table
    original_query, original_all_items = Table.query, Table.all_items

    def query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        start = args[3] if len(args) > 3 else kwargs.get("exclusive_start_key")
        forward = args[4] if len(args) > 4 else kwargs.get("scan_index_forward", True)
        _querying.partition = (self, hash_key, start, forward is not False)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _querying.partition = None

    def all_items(self):
        partition = getattr(_querying, "partition", None)
        if partition is None or partition[0] is not self:
            return original_all_items(self)
        _table, hash_key, start, forward = partition
        return _page_of(self, list((self.items.get(hash_key) or {}).values()), start, forward)

    Table.query, Table.all_items = query, all_items


def _page_of(table, items, start, forward):
    """The partition's items in key order, past ``start`` (the page's
    ExclusiveStartKey) in the query's direction; moto's own order and
    skipping then see the same items they would have kept."""
    import bisect

    from moto.dynamodb.models.dynamo_type import DynamoType
    types = {item.range_key.type for item in items}
    if not items or len(types) != 1 or types - {"S", "N"}:
        return sorted(items, key=lambda item: item.range_key)
    items.sort(key=lambda item: item.range_key.cast_value)
    after = (start or {}).get(table.range_key_attr)
    if after is None:
        return items
    keys = [item.range_key.cast_value for item in items]
    value = DynamoType(after).cast_value
    return items[bisect.bisect_right(keys, value):] if forward else items[:bisect.bisect_left(keys, value)]


class _no_table_copies:
    """Within moto's transact_write_items, copy.deepcopy(table) is a no-op."""

    def __enter__(self):
        from moto.dynamodb.models import table as table_module
        self._cls = table_module.Table
        self._had = "__deepcopy__" in self._cls.__dict__
        self._old = self._cls.__dict__.get("__deepcopy__")
        self._cls.__deepcopy__ = lambda table, memo: table
        return self

    def __exit__(self, *exc):
        if self._had:
            self._cls.__deepcopy__ = self._old
        else:
            del self._cls.__deepcopy__
        return False


def _restore(backend, table_name, key, before):
    table = backend.tables[table_name]
    try:
        backend.delete_item(table_name, key)
    except Exception:  # noqa: BLE001 - nothing there
        pass
    if before is not None:
        table.put_item(before.to_json()["Attributes"])
