"""System groups' names and member counts, on one item per school.

Every roster write adds its count changes to its own transaction; an import
flush applies its (merged) changes directly. Either way one UpdateItem covers
up to CHUNK groups, so a 1,000-pupil flush costs one or two calls, not one per
year and registration group."""
from ..core.db import connection
from ..core.maps import plain
from .models import SYSTEM, Group

CHUNK = 40  # keeps an UpdateExpression well under DynamoDB's 4 KB


def updates(school_id, deltas):
    """UpdateItem requests (DynamoDB's terms) applying ``deltas``, CHUNK groups each."""
    items = sorted(deltas.items())
    for start in range(0, len(items), CHUNK):
        sets, names, values = [], {"#c": "counts", "#m": "meta"}, {":z": {"N": "0"}}
        for n, (gid, (kind, value, name, delta)) in enumerate(items[start:start + CHUNK]):
            names[f"#g{n}"] = gid
            values[f":d{n}"] = {"N": str(delta)}
            values[f":m{n}"] = {"M": {"name": {"S": name}, "kind": {"S": kind}, "value": {"S": value or ""}}}
            sets.append(f"#c.#g{n} = if_not_exists(#c.#g{n}, :z) + :d{n}")
            sets.append(f"#m.#g{n} = :m{n}")
        yield {"TableName": Group.Meta.table_name, "Key": key(school_id),
               "UpdateExpression": "SET " + ", ".join(sets),
               "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def new_item(school_id, deltas=None):
    """The school's SYSTEM item, saved at sign-up (its maps must exist before
    an update can set keys inside them)."""
    counts, meta = {}, {}
    for gid, (kind, value, name, delta) in (deltas or {}).items():
        counts[gid] = delta
        meta[gid] = {"name": name, "kind": kind, "value": value or ""}
    return Group(school_id=school_id, group_id=SYSTEM, name="system groups", system="catalogue",
                 counts=counts, meta=meta)


#: Every write of a pupil adds 1 to this attribute of the SYSTEM item, in its
#: own transaction. An import reads it before it reads the roster to check
#: its rows against; while it is unchanged, no UPN has been claimed since, so
#: the import can write its claims unconditioned, one condition a chunk
#: (see imports/committing.py).
PUPIL_EPOCH = "pupil_epoch"


def key(school_id):
    return {"school_id": {"S": school_id}, "group_id": {"S": SYSTEM}}


def stage(tx, school_id, deltas, pupil_write=False):
    """Add count updates to a transaction; for a pupil's write, also the
    pupil epoch's step (in the same update: one item, one operation)."""
    staged = list(updates(school_id, deltas))
    if pupil_write:
        if not staged:
            staged = [{"TableName": Group.Meta.table_name, "Key": key(school_id), "UpdateExpression": "SET ",
                       "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}}]
        first = staged[0]
        sep = "" if first["UpdateExpression"] == "SET " else ", "
        first["UpdateExpression"] += f"{sep}#pe = if_not_exists(#pe, :pe0) + :pe1"
        first["ExpressionAttributeNames"]["#pe"] = PUPIL_EPOCH
        first["ExpressionAttributeValues"].update({":pe0": {"N": "0"}, ":pe1": {"N": "1"}})
    for n, update in enumerate(staged):
        tx.raw_update(f"counts:{n}", update)


def pupil_epoch(school_id):
    """The school's pupil epoch now (a strongly consistent read)."""
    item = connection().client.get_item(TableName=Group.Meta.table_name, Key=key(school_id), ConsistentRead=True,
                                        ProjectionExpression="#pe", ExpressionAttributeNames={"#pe": PUPIL_EPOCH})
    return int(item.get("Item", {}).get(PUPIL_EPOCH, {}).get("N", 0))


def apply(school_id, deltas):
    """Apply count updates directly (bulk import paths)."""
    client = connection().client
    for update in updates(school_id, deltas):
        client.update_item(**update)


def virtual_groups(item):
    """The system groups an item describes, as (unsaved) Group records."""
    if item is None:
        return []
    counts = plain(item.counts)
    meta = plain(item.meta)
    out = []
    for gid, info in meta.items():
        out.append(Group(school_id=item.school_id, group_id=gid, name=info.get("name"), system=info.get("kind"),
                         system_value=info.get("value") or None, member_count=int(counts.get(gid, 0))))
    return out


def stage_epoch_step(tx, school_id, done, after):
    """In ``tx``: the pupil epoch moves from ``done`` to ``after``, the item
    failing (label "epoch") if a pupil was written since it read ``done``."""
    held = "#pe = :done" if done else "attribute_not_exists(#pe)"
    tx.raw_update("epoch", {
        "TableName": Group.Meta.table_name, "Key": key(school_id),
        "UpdateExpression": "SET #pe = :next", "ConditionExpression": held,
        "ExpressionAttributeNames": {"#pe": PUPIL_EPOCH},
        "ExpressionAttributeValues": {":next": {"N": str(after)}, **({":done": {"N": str(done)}} if done else {})}})


def chunks(deltas):
    """``deltas`` in steps of at most CHUNK groups (one UpdateItem each), in
    a fixed order: the same steps on every try."""
    items = sorted(deltas.items())
    return [dict(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]
