"""The sweep of what has ended on a group: a group past its ``ends_at`` is
deleted (first marked closing, so no renewal races its members' removal,
then its memberships, then the group); a named colleague's role past its
``until`` is taken off. Reads never wait for it: an ended group or role is
in no response from the second it ends.

One Query finds them all (a sparse index on each group's soonest end); a
run stopped part way is finished by the next, and a repeat changes nothing.
"""
import time

from pynamodb.exceptions import DeleteError, UpdateError

from ..core import audit
from ..core.clock import iso
from ..core.db import Tx, TxFailed
from ..core.maps import plain
from ..membership.bookkeeping import group_key
from ..membership.models import ENDING, Group, Membership, end_actions, name_claim
from .classes import CLASS


def sweep_ends(now=None, page=100):
    """{"groups_ended": n, "roles_ended": n} of this run."""
    now = time.time() if now is None else now
    counts = {"groups_ended": 0, "roles_ended": 0}
    for g in Group.by_next_end.query(ENDING, Group.next_end <= int(now), page_size=page):
        if g.ends_at is not None and g.ends_at <= now:
            counts["groups_ended"] += _close(g, now)
        else:
            counts["roles_ended"] += _drop_ended_roles(g, now)
    return counts


def _drop_ended_roles(g, now):
    """Take the roles whose until has passed off the group (on condition of
    the roles read: a renewal meanwhile wins); how many."""
    entries = {uid: plain(e) for uid, e in plain(g.staff).items()}
    ended = sorted(uid for uid, e in entries.items() if e.get("until") is not None and e["until"] <= now)
    rest = {uid: e for uid, e in entries.items() if uid not in ended}
    version = int(g.staff_version or 0)
    held = Group.staff_version.does_not_exist() if g.staff_version is None else Group.staff_version == version
    tx = Tx()
    tx.update("group", Group(school_id=g.school_id, group_id=g.group_id),
              [Group.staff.set(rest), Group.staff_version.set(version + 1), *end_actions(g.ends_at, rest)],
              condition=Group.group_id.exists() & held, add_version_condition=False)
    audit.stage(tx, audit.entry(audit.Actor(g.school_id), "role_ended", "group_staff", g.group_id,
                                {uid: entries[uid] for uid in ended}, {}, now))
    try:
        tx.commit()
    except TxFailed:
        return 0  # changed meanwhile: the next run reads it again
    return len(ended)


def _close(g, now):
    """Mark the group closing (unless renewed meanwhile), delete its
    memberships, then the group and its name claim; 1 if it went."""
    if g.closing_since is None:
        try:
            Group(school_id=g.school_id, group_id=g.group_id).update(
                actions=[Group.closing_since.set(int(now))],
                condition=(Group.ends_at == g.ends_at) & Group.closing_since.does_not_exist(),
                add_version_condition=False)
        except UpdateError:
            return 0  # renewed (or gone) since it was read
    key = group_key(g.school_id, g.group_id)
    members = list(Membership.query(key, attributes_to_get=["group_key", "member_id"]))
    with Membership.batch_write() as batch:
        for m in members:
            batch.delete(Membership(group_key=key, member_id=m.member_id))
    tx = Tx()
    tx.delete("group", Group(school_id=g.school_id, group_id=g.group_id), condition=Group.closing_since.exists(),
              add_version_condition=False)
    if g.kind != CLASS and g.owner_id:
        tx.delete("name", name_claim(g.school_id, g.owner_id, g.name), add_version_condition=False)
    audit.stage(tx, audit.entry(audit.Actor(g.school_id), "ended", "group", g.group_id,
                                {"name": g.name, "ends_at": iso(g.ends_at), "members": len(members)}, {}, now))
    try:
        tx.commit()
    except (TxFailed, DeleteError):
        return 0
    return 1
