"""What a checked import would do, record by record: the diff a held drop
shows before a person approves it. Read from the import's staging file,
streamed (memory flat in the file's size), a page at a time; an update shows
each field before and after, read from the roster as it is now."""
from ..core.errors import ApiError, FieldError, validation_failed
from . import storage
from .kinds import KINDS
from .models import Status

CHANGES = ("create", "update", "leave", "restore")
#: records a page of the diff reads from the roster at once
FETCH_BATCH = 100


def _change_of(record, rules):
    action = record.get("action")
    if action == "update":
        return "restore" if rules.restores(record.get("values")) else "update"
    return action if action in ("create", "leave") else None


def _staged(imp):
    """The staging file's records (a generator), or 409 now unless the import waits."""
    if imp.kind not in KINDS:  # a bundle: its parts hold the changes
        raise ApiError("conflict", f"A bundle's changes are in its parts: "
                       f"{', '.join(f'{k} {i}' for k, i in (imp.parts or {}).items())}.")
    if imp.status not in (Status.REVIEW, Status.HELD):
        raise ApiError("conflict", f"The changes of an import are shown while it waits (in review or held); "
                       f"this one is {imp.status}.")
    return storage.read_jsonl(storage.staging_key(imp.school_id, imp.import_id, imp.run))


def _item(kind, change, record, current):
    values = record.get("values") or {}
    item = {"change": change, "row": record.get("row") or None, "id": record.get("id")}
    if change == "create":
        item["record"] = {f: values.get(f) for f in kind.fields}
    else:
        item["record"] = current or {}
    if change in ("update", "restore"):
        item["fields"] = {f: {"before": (current or {}).get(f), "after": v} for f, v in values.items()}
    return item


def _items(imp, kind, change, records):
    """Items of ``records`` (all of one change), with the roster's values now."""
    wanted = [r["id"] for r in records if change != "create"]
    current = {}
    for start in range(0, len(wanted), FETCH_BATCH):
        current.update(kind.fetch(imp.school_id, wanted[start:start + FETCH_BATCH]))
    return [_item(kind, change, r, current.get(r["id"])) for r in records]


def page(imp, change, start, limit):
    """(items of one change from the ``start``-th on, the next start or None)."""
    if change not in CHANGES:
        raise validation_failed([FieldError("kind", "invalid_choice", f"Use one of: {', '.join(CHANGES)}.")])
    kind = KINDS[imp.kind]
    chosen, seen = [], 0
    for record in _staged(imp):
        if _change_of(record, kind.rules) != change:
            continue
        seen += 1
        if seen > start:
            chosen.append(record)
            if len(chosen) > limit:
                break
    more = len(chosen) > limit
    return _items(imp, kind, change, chosen[:limit]), (start + limit if more else None)


def csv_rows(imp):
    """(header, rows) of every change, in file order, for a spreadsheet."""
    staged = _staged(imp)  # (refused now, before anything is read or audited, unless it waits)
    kind = KINDS[imp.kind]
    names = kind.headers()
    header = ["Change", "Row"] + list(names.values()) + ["Before → after"]

    def rows():
        batch = []
        for record in staged:
            change = _change_of(record, kind.rules)
            if change:
                batch.append((change, record))
            if len(batch) >= FETCH_BATCH:
                yield from _csv_batch(imp, kind, names, batch)
                batch = []
        yield from _csv_batch(imp, kind, names, batch)
    return header, rows()


def _csv_batch(imp, kind, names, batch):
    ids = [r["id"] for c, r in batch if c != "create"]
    current = kind.fetch(imp.school_id, ids) if ids else {}
    for change, record in batch:
        item = _item(kind, change, record, current.get(record["id"]))
        moves = "; ".join(f"{names.get(f, f)}: {m['before']} → {m['after']}" for f, m in item.get("fields", {}).items())
        yield [change, item["row"]] + [item["record"].get(f) for f in names] + [moves]
