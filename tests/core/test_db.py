"""BatchWriteItem with back-off on UnprocessedItems (throttling)."""
from chalicelib.core import db
from chalicelib.roster.models import UniqueKey


def test_unprocessed_items_are_retried_with_growing_back_off(aws, monkeypatch):
    client = db.connection().client
    real = client.batch_write_item
    sleeps, calls = [], []

    def throttled(RequestItems):
        calls.append(sum(map(len, RequestItems.values())))
        if len(calls) <= 2:  # DynamoDB throttles: hands back all but the first item
            (table, requests), = RequestItems.items()
            real(RequestItems={table: requests[:1]})
            return {"UnprocessedItems": {table: requests[1:]}}
        return real(RequestItems=RequestItems)

    monkeypatch.setattr(client, "batch_write_item", throttled)
    items = [UniqueKey(school_id="s", key=f"k{i}", owner_id="o") for i in range(30)]
    n = db.batch_put(items, sleep=sleeps.append)
    assert UniqueKey.count("s") == 30
    assert calls == [25, 24, 23, 5] and n == 4
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.9


def test_gives_up_loudly_when_throttling_never_ends(aws, monkeypatch):
    import pytest
    client = db.connection().client
    monkeypatch.setattr(client, "batch_write_item", lambda RequestItems: {"UnprocessedItems": RequestItems})
    with pytest.raises(RuntimeError):
        db.batch_put([UniqueKey(school_id="s", key="k", owner_id="o")], sleep=lambda s: None)
