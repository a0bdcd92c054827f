"""A leaving owner's groups handed on. When a member of staff is disabled or
deleted, each teacher group whose first owner they are passes to the longest
standing other owner with no end; with none, it is marked unowned (it goes
on working) for the school's admins to hand on. Audited, and safe to run
again: a group already handed on is not theirs any more."""
import time

from ..core import audit
from ..core.db import Tx, TxFailed
from ..core.maps import plain
from .models import SYSTEM, Group, GroupName, end_actions, name_claim

CLASS = "class"  # (a class group's teachers come from the MIS: the class sync keeps them)


def heirs(entries, leaving, usable):
    """Named owners with no end besides ``leaving``, longest standing first,
    among ``usable`` (a function: the ids of those still enabled)."""
    found = [uid for uid, e in entries.items() if uid != leaving and e.get("role") == "owner"
             and e.get("until") is None]
    able = usable(found) if found else set()
    return sorted((uid for uid in found if uid in able), key=lambda uid: entries[uid].get("at", 0))


def hand_over(actor, school_id, user_id, usable, now=None):
    """Pass on every group ``user_id`` is the first owner of, and take them
    off every group they are named on: one Query of the school's groups.
    ``usable``: ids -> the set of those still enabled (a disabled colleague
    inherits nothing). Returns {"handed_over": n, "unowned": n, "taken_off": n}."""
    now = time.time() if now is None else now
    counts = {"handed_over": 0, "unowned": 0, "taken_off": 0}
    for g in Group.query(school_id, consistent_read=True):
        if g.group_id == SYSTEM or g.system or g.kind == CLASS:
            continue
        entries = {uid: plain(e) for uid, e in (plain(g.staff) or {}).items()}
        if g.owner_id != user_id or g.unowned_since is not None:
            if user_id in entries:
                counts["taken_off"] += _take_off(actor, g, entries, user_id, now)
            continue
        entries.pop(user_id, None)
        for heir in heirs(entries, user_id, usable):
            if _pass_to(actor, g, entries, heir, now):
                counts["handed_over"] += 1
                break
        else:
            if _mark_unowned(actor, g, now):
                counts["unowned"] += 1
    return counts


def _held(g):
    version = Group.staff_version.does_not_exist() if g.staff_version is None else \
        Group.staff_version == int(g.staff_version)
    return Group.group_id.exists() & (Group.owner_id == g.owner_id) & version


def _pass_to(actor, g, entries, heir, now):
    """The heir becomes the first owner (the name claim moves with the group);
    False if they already have a group of that name, or the group moved."""
    rest = {uid: e for uid, e in entries.items() if uid != heir}
    tx = Tx()
    tx.update("group", Group(school_id=g.school_id, group_id=g.group_id),
              [Group.owner_id.set(heir), Group.staff.set(rest), Group.staff_version.set(int(g.staff_version or 0) + 1),
               *end_actions(g.ends_at, rest)],
              condition=_held(g), add_version_condition=False)
    tx.delete("old_name", name_claim(g.school_id, g.owner_id, g.name), add_version_condition=False)
    tx.put("name", name_claim(g.school_id, heir, g.name), condition=GroupName.key.does_not_exist())
    audit.stage(tx, audit.entry(actor, "handed_over", "group_staff", g.group_id, {"owner_id": g.owner_id},
                                {"owner_id": heir}, now))
    try:
        tx.commit()
        return True
    except TxFailed:
        return False


def _take_off(actor, g, entries, user_id, now):
    """A leaver's named role off a group (on condition of the roles read)."""
    rest = {uid: e for uid, e in entries.items() if uid != user_id}
    tx = Tx()
    tx.update("group", Group(school_id=g.school_id, group_id=g.group_id),
              [Group.staff.set(rest), Group.staff_version.set(int(g.staff_version or 0) + 1),
               *end_actions(g.ends_at, rest)], condition=_held(g), add_version_condition=False)
    audit.stage(tx, audit.entry(actor, "taken_off", "group_staff", g.group_id, {user_id: entries[user_id]}, {}, now))
    try:
        tx.commit()
        return 1
    except TxFailed:
        return 0


def _mark_unowned(actor, g, now):
    tx = Tx()
    tx.update("group", Group(school_id=g.school_id, group_id=g.group_id),
              [Group.unowned_since.set(int(now)), Group.staff_version.set(int(g.staff_version or 0) + 1)],
              condition=_held(g), add_version_condition=False)
    audit.stage(tx, audit.entry(actor, "unowned", "group_staff", g.group_id, {"owner_id": g.owner_id},
                                {"owner_id": None}, now))
    try:
        tx.commit()
        return True
    except TxFailed:
        return False
