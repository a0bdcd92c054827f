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


def test_a_partition_query_reads_its_items_in_key_order_page_by_page_both_ways(aws):
    """(Query on a table's key reads only its partition, past each page's start key.)"""
    keys = [f"upn#{n:03d}" for n in range(0, 120, 3)] + ["upn#é", "upn#Z", "other#1"]
    for key in keys:
        UniqueKey(school_id="s", key=key, owner_id="x").save()
    for n in range(30):
        UniqueKey(school_id=f"t{n}", key=f"upn#{n:03d}", owner_id="y").save()
    wanted = sorted(keys)
    assert [k.key for k in UniqueKey.query("s", page_size=7)] == wanted
    assert [k.key for k in UniqueKey.query("s", page_size=7, scan_index_forward=False)] == wanted[::-1]
    assert [k.key for k in UniqueKey.query("s", UniqueKey.key.startswith("upn#0"), page_size=4)] == \
        [k for k in wanted if k.startswith("upn#0")]
    assert [k.key for k in UniqueKey.query("s", UniqueKey.key > "upn#050", page_size=5,
                                           filter_condition=UniqueKey.owner_id == "x")] == \
        [k for k in wanted if k > "upn#050"]
    assert UniqueKey.count("t3") == 1 and UniqueKey.count("nobody") == 0
    # a page of a page: the start key is honoured exactly (no item twice, none lost)
    import boto3
    client = boto3.client("dynamodb", region_name="eu-west-2")
    ask = {"TableName": UniqueKey.Meta.table_name, "KeyConditionExpression": "school_id = :s",
           "ExpressionAttributeValues": {":s": {"S": "s"}}}
    page = client.query(**ask, Limit=10)
    rest = client.query(**ask, ExclusiveStartKey=page["LastEvaluatedKey"])
    assert [i["key"]["S"] for i in page["Items"] + rest["Items"]] == wanted
