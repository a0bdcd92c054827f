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


def test_new_ids_are_unique_across_threads_and_forks():
    """new_id hands out ids from a per-thread pool: threads must not share
    one, and a forked child must not repeat its parent's."""
    import os
    import threading

    from chalicelib.core.db import new_id
    new_id()  # the parent's pool is full when it forks
    seen, lock = [], threading.Lock()

    def take():
        ids = [new_id() for _ in range(2000)]
        with lock:
            seen.extend(ids)
    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    seen += [child, new_id()]
    assert len(seen) == len(set(seen)) == 8002
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in seen)


def test_a_read_left_unprocessed_after_every_retry_is_busy_not_missing(aws, monkeypatch):
    """BatchGetItem: keys DynamoDB never gets to are a 503 to come back, not
    records read as missing (a pupil's 404, a group left out of a list)."""
    import pytest
    from chalicelib.core.errors import StillUnprocessed, is_busy
    UniqueKey(school_id="s", key="k", owner_id="o").save()
    client = db.connection().client
    real = client.batch_get_item
    monkeypatch.setattr(db.time, "sleep", lambda _s: None)
    monkeypatch.setattr(client, "batch_get_item", lambda RequestItems: {"Responses": {}, "UnprocessedKeys": RequestItems})
    with pytest.raises(StillUnprocessed) as raised:
        db.batch_get({"k": (UniqueKey, {"school_id": "s", "key": "k"})})
    assert is_busy(raised.value)
    monkeypatch.setattr(client, "batch_get_item", real)
    assert db.batch_get({"k": (UniqueKey, {"school_id": "s", "key": "k"})})["k"].owner_id == "o"
