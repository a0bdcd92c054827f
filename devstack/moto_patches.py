"""Make moto's TransactWriteItems cost what DynamoDB's does.

moto 5 deep-copies every table a transaction touches so it can roll back,
which makes each transaction cost O(table size): 500 transactions over a
50,000-item table take minutes, where DynamoDB takes milliseconds. This swaps
the whole-table copy for an undo log of the items the transaction touches.
Semantics are unchanged: all writes happen, or none do, and the cancellation
reasons are the same. Applied by the tests and by the local moto server.
"""
import copy

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
    _applied = True


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
