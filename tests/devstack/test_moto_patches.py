"""The faster transaction rollback keeps DynamoDB's all-or-nothing rule."""
import pytest

from chalicelib.core.db import Tx, TxFailed
from chalicelib.roster.models import UniqueKey


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws):
    UniqueKey(school_id="s", key="upn#A", owner_id="old").save()
    UniqueKey(school_id="s", key="upn#taken", owner_id="someone").save()
    tx = Tx()
    tx.put("a", UniqueKey(school_id="s", key="upn#A", owner_id="new"))
    tx.put("b", UniqueKey(school_id="s", key="upn#B", owner_id="new"))
    tx.put("c", UniqueKey(school_id="s", key="upn#taken", owner_id="new"),
           condition=UniqueKey.key.does_not_exist())
    with pytest.raises(TxFailed) as failed:
        tx.commit()
    assert failed.value.failed == {"c"}
    assert UniqueKey.get("s", "upn#A").owner_id == "old"
    assert UniqueKey.count("s", UniqueKey.key == "upn#B") == 0
    assert UniqueKey.get("s", "upn#taken").owner_id == "someone"


def test_a_committed_transaction_writes_everything(aws):
    tx = Tx()
    for i in range(3):
        tx.put(str(i), UniqueKey(school_id="s", key=f"upn#{i}", owner_id="x"),
               condition=UniqueKey.key.does_not_exist())
    tx.commit()
    assert UniqueKey.count("s") == 3
