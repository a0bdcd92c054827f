"""Paged reads: opaque cursors, ``limit`` parsing, and the two-index name
search (first name or surname prefix) shared by pupils, staff and people."""
import base64
import json

from .errors import ApiError
from .text import search_prefixes

DEFAULT_LIMIT = 50
#: Our cursors are a few hundred characters (a name search split 4 ways, up to ~3,000); anything
#: far longer is not one of ours.
MAX_CURSOR_CHARS = 4000
MAX_LIMIT = 500


def parse_limit(query, default=DEFAULT_LIMIT, maximum=MAX_LIMIT):
    raw = (query or {}).get("limit")
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError("bad_request", f"limit must be a whole number from 1 to {maximum}.")
    if not 1 <= value <= maximum:
        raise ApiError("bad_request", f"limit must be a whole number from 1 to {maximum}.")
    return value


def encode_cursor(state):
    if state is None:
        return None
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def bad_cursor():
    return ApiError("bad_cursor", "The 'next' cursor is not one this list gave out (or not for your "
                    "school); start again from the first page.")


def decode_cursor(cursor, school_id, keys=None):
    """The state behind a cursor, refusing any that names another school.
    ``keys``: the exact attribute names this list's cursors hold (checked here;
    lists read through query_page/name_search are checked there)."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        scoped = isinstance(state, dict) and _scoped(state, school_id)
    except (ValueError, UnicodeError, RecursionError):
        raise bad_cursor()
    if not scoped:
        raise bad_cursor()
    if keys is not None:
        types = keys if isinstance(keys, dict) else {k: (str, int) for k in keys}
        if set(state) != set(types) or not all(isinstance(state[k], t) and not isinstance(state[k], bool)
                                                for k, t in types.items()):
            raise bad_cursor()
    return state


#: Cursor attributes whose value begins "<school_id>#".
SCHOOL_PREFIXED = {"year_key", "reg_key", "group_key", "member_key"}


def _scoped(value, school_id):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "school_id" and item != school_id:
                return False
            if key in SCHOOL_PREFIXED and not (isinstance(item, str) and item.startswith(school_id + "#")):
                return False
            if not _scoped(item, school_id):
                return False
        return True
    if isinstance(value, list):
        return all(_scoped(v, school_id) for v in value)
    return isinstance(value, (str, int, float, bool)) or value is None


def _lek(item, attrs):
    return {a: getattr(item, a) for a in attrs}


_PLAIN = {"S": str, "N": int}


def _to_pynamo_lek(model, state, key_attrs, hash_attr, hash_value):
    """Plain {attr: value} -> DynamoDB's typed ExclusiveStartKey, once the
    state is shown to be a position in this very query (its exact keys, of
    their types, under this hash key): anything else is a bad cursor."""
    if not state:
        return None
    attributes = model.get_attributes()
    if not isinstance(state, dict) or set(state) != set(key_attrs) or state.get(hash_attr) != hash_value:
        raise bad_cursor()
    lek = {}
    for name, value in state.items():
        attr = attributes[name]
        wanted = _PLAIN.get(attr.attr_type)
        if wanted is None or not isinstance(value, wanted) or isinstance(value, bool):
            raise bad_cursor()
        lek[name] = {attr.attr_type: attr.serialize(value)}
    return lek


def query_page(model, index, hash_value, range_condition, limit, start, key_attrs,
               filter_condition=None):
    """One page of an index query: (items, state of the next page or None)."""
    source = getattr(model, index) if index else model
    hash_attr = source._hash_key_attribute().attr_name  # the query's own hash key, which a cursor must hold
    lek = _to_pynamo_lek(model, start, key_attrs, hash_attr, hash_value)
    results = source.query(hash_value, range_condition, filter_condition=filter_condition,
                           limit=limit, last_evaluated_key=lek,
                           page_size=limit)
    items = list(results)
    if len(items) < limit:
        return items, None
    return items, _lek(items[-1], key_attrs)


def name_search(model, school_id, q, limit, state, base_keys, filter_condition=None):
    """Name prefix search over two indexes, merged in name order, each
    person once. ``model`` has ``sort_name`` (surname first) and
    ``first_sort`` (first name first) on indexes ``by_name`` and
    ``by_first``; ``q`` (folded) is read as text.search_prefixes says:
    either name, "first surname", "surname first" or "surname, first".

    Each prefix is a stream; a stream yields only the people no earlier
    stream matches (that one yields them), so no one appears twice, even
    across pages. The cursor holds each stream's position.
    Returns (items, next state or None).
    """
    streams = [(chr(ord("a") + i), index, attr, prefix)
               for i, (index, attr, prefix) in enumerate(search_prefixes(q))]
    state = state or {}
    names = {s[0] for s in streams}
    _check_search_state(state, names, q)
    if not streams:
        return [], None

    checks = [_unclaimed(streams[:i]) for i in range(len(streams))]
    fetched = {name: [] if state.get(f"{name}_done") else
               query_page(model, index, school_id, getattr(model, sort_attr).startswith(prefix), limit,
                          state.get(name), base_keys + [sort_attr], filter_condition)[0]
               for name, index, sort_attr, prefix in streams}
    candidates = []
    for (name, _index, sort_attr, _prefix), ok in zip(streams, checks):
        candidates += [(getattr(i, sort_attr), name, i) for i in fetched[name] if ok(i)]
    page = sorted(candidates, key=lambda t: t[0])[:limit]
    taken = {id(item) for _k, _n, item in page}
    new = {"q": q}
    for (name, _index, sort_attr, _prefix), ok in zip(streams, checks):
        position, done = _advance(fetched[name], ok, taken, limit)
        new[name] = _lek(position, base_keys + [sort_attr]) if position is not None else state.get(name)
        new[f"{name}_done"] = bool(state.get(f"{name}_done")) or done
    items = [item for _k, _n, item in page]
    if all(new[f"{n}_done"] for n in names):
        return items, None
    return items, new


def _check_search_state(state, names, q):
    """A cursor is for the query that gave it out (another's place may lie
    outside this one's prefix), with a place and a done flag per stream."""
    if set(state) - names - {f"{n}_done" for n in names} - {"q"} or (state and state.get("q") != q) or \
            not all(isinstance(state.get(f"{n}_done", False), bool) for n in names):
        raise bad_cursor()


def _unclaimed(earlier):
    """A stream's test: an item no earlier stream's prefix matches (that one yields it)."""
    return lambda item: not any(getattr(item, attr).startswith(prefix) for _n, _i, attr, prefix in earlier)


def _advance(raw, valid, taken, limit):
    """(last item consumed from this stream's page, stream finished?).
    Consumed: everything before the first valid item not on the page."""
    position = None
    for item in raw:
        if valid(item) and id(item) not in taken:
            return position, False
        position = item
    return position, len(raw) < limit
