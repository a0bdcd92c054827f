"""Reading a group's members: a page of them (``next`` for the rest), a
search within a group by name, and the people a teacher may add. A system
group's pupils come from the roster's own indexes; a teacher group's from
its memberships, current at the second (``from`` come, ``until`` not
passed) before any sweep.
"""
import time

from ..accounts.models import User
from ..core.clock import iso
from ..core.errors import ApiError, FieldError, validation_failed
from ..core.paging import bad_cursor, decode_cursor, encode_cursor, name_search, parse_limit, query_page
from ..core.text import fold, name_matches
from ..membership.bookkeeping import current, group_key, live
from ..membership.rules import parse_until
from ..membership.models import Membership
from ..roster.models import Pupil
from .service import get_visible


def member_json(kind, member_id, name, until=None, starts=None, pupil=None):
    """A member as listed; a pupil with her year and registration group, so
    two of one name are told apart."""
    item = {"id": member_id, "kind": kind, "name": name, "until": iso(until), "from": iso(starts)}
    if kind == "pupil":
        item["year_group"] = pupil.year_group if pupil else None
        item["registration_group"] = pupil.registration_group if pupil else None
    return item


def pupil_json(p):
    return member_json("pupil", p.pupil_id, f"{p.first_name} {p.surname}", pupil=p)


def _pupils_of(school_id, members):
    """{pupil id: Pupil (year and registration group only)} for a page of
    memberships: a membership holds a copy of the name, not of the year,
    which the rollover and every import change. Read by key, 100 a call."""
    ids = [m.member_id for m in members if m.kind == "pupil"]
    if not ids:
        return {}
    found = Pupil.batch_get([(school_id, i) for i in ids],
                            attributes_to_get=["pupil_id", "year_group", "registration_group"])
    return {p.pupil_id: p for p in found}


def list_members(caller, group_id, query, now=None):
    """A page of a group's current members, with ``next`` for the rest;
    ``q``: those it names (either name's start, "first surname",
    "surname, first"). A system group's
    come from the roster's own indexes in name order; a teacher group's
    (at most the school's cap) by name within the page."""
    now = now or time.time()
    g = get_visible(caller, group_id, now)
    at = _moment(query, now)
    limit = parse_limit(query, default=500, maximum=1000)
    state = decode_cursor(query.get("next"), g.school_id)
    q = fold(query.get("q") or "")
    if g.system in ("year", "reg", "all_pupils"):
        people, nxt = _system_pupils(g, q, limit, state)
        items = [pupil_json(p) for p in people]
    elif g.system == "all_staff":
        people, nxt = (name_search(User, g.school_id, q, limit, state, ["school_id", "user_id"]) if q else
                       query_page(User, "by_name", g.school_id, None, limit, state,
                                  ["school_id", "user_id", "sort_name"]))
        items = [member_json("staff", u.user_id, f"{u.first_name} {u.surname}") for u in people]
    else:
        key = group_key(g.school_id, g.group_id)
        if at is not None and g.ends_at is not None and g.ends_at <= at:
            return {"items": [], "next": None}  # (the group has ended by then)
        shown = current(at) if at is not None else live(now) if flag(query, "scheduled") else current(now)
        if q:  # (a teacher group is at most the school's cap: searched whole, in name order, paged by place)
            skip = _search_place(state, key)
            found = sorted((m for m in Membership.query(key, filter_condition=shown)
                            if name_matches(m.name, q)), key=lambda m: fold(m.name))
            members = found[skip:skip + limit]
            nxt = {"group_key": key, "skip": skip + limit} if skip + limit < len(found) else None
        else:
            members, nxt = query_page(Membership, None, key, None, limit, state, ["group_key", "member_id"], shown)
        pupils = _pupils_of(g.school_id, members)
        items = sorted((member_json(m.kind, m.member_id, m.name, m.until, m.starts, pupils.get(m.member_id))
                        for m in members),
                       key=lambda m: fold(m["name"]))
    return {"items": items, "next": encode_cursor(nxt)}


#: how far ahead ``at`` may look: a monitoring agent's week of lessons
AT_AHEAD_SECONDS = 7 * 86400


def _moment(query, now):
    """``at`` as epoch seconds (None: now), within the next 7 days, or a 422."""
    value = (query or {}).get("at")
    if value in (None, ""):
        return None
    moment, problem = parse_until(value, now - 1, field="at")
    if (problem is None and moment > now + AT_AHEAD_SECONDS) or (problem is not None and problem.code == "too_far_ahead"):
        problem = FieldError("at", "too_far_ahead", "Ask for a moment within the next 7 days.")
    if problem is not None:
        raise validation_failed([problem])
    return moment


def flag(query, name):
    value = (query or {}).get(name)
    if value in (None, "", "false"):
        return False
    if value == "true":
        return True
    raise ApiError("bad_request", f"{name} must be true or false.")


def _search_place(state, key):
    """How many of a teacher group's search results earlier pages showed
    (a cursor of this group's search, or a 400)."""
    if state is None:
        return 0
    if set(state) != {"group_key", "skip"} or state["group_key"] != key or not isinstance(state["skip"], int) \
            or isinstance(state["skip"], bool) or state["skip"] < 0:
        raise bad_cursor()
    return state["skip"]


def _system_pupils(g, q, limit, state):
    """(a page of a year, registration or All pupils group's pupils on roll, next state)."""
    on_roll = Pupil.status == "active"
    if g.system == "year":
        where, index, value, keys = Pupil.year_group == g.system_value, "by_year", \
            f"{g.school_id}#{g.system_value}", ["school_id", "pupil_id", "year_key", "sort_name"]
    elif g.system == "reg":
        where, index, value, keys = Pupil.reg_key == f"{g.school_id}#{fold(g.system_value)}", "by_reg", \
            f"{g.school_id}#{fold(g.system_value)}", ["school_id", "pupil_id", "reg_key", "sort_name"]
    else:
        where, index, value, keys = None, "by_name", g.school_id, ["school_id", "pupil_id", "sort_name"]
    if q:
        return name_search(Pupil, g.school_id, q, limit, state, ["school_id", "pupil_id"],
                           on_roll if where is None else on_roll & where)
    return query_page(Pupil, index, value, None, limit, state, keys, on_roll)


def people(caller, query):
    q = fold(query.get("q") or "")
    if not q:
        raise validation_failed([FieldError("q", "required", "Type the start of a name.")])
    limit = parse_limit(query, default=20, maximum=50)
    pupils, _ = name_search(Pupil, caller.school_id, q, limit, None, ["school_id", "pupil_id"],
                            Pupil.status == "active")
    staff, _ = name_search(User, caller.school_id, q, limit, None, ["school_id", "user_id"])
    # (a pupil's year and registration group only for those who may see pupils' records)
    items = [pupil_json(p) if caller.has("view_roster") else member_json("pupil", p.pupil_id,
                                                                          f"{p.first_name} {p.surname}")
             for p in pupils]
    items += [member_json("staff", u.user_id, f"{u.first_name} {u.surname}") for u in staff]
    items.sort(key=lambda m: fold(m["name"]))
    return {"items": items[:limit]}
