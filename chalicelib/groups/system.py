"""Keeping system groups' member counts in step with the roster: every
roster write adds its count changes, in its own transaction where it has one."""
from ..core.db import Tx  # noqa: F401 - callers pass a Tx
from .models import Group


def _actions(kind, value, name, delta):
    actions = [Group.name.set(name), Group.system.set(kind), Group.member_count.add(delta)]
    if value is not None:
        actions.append(Group.system_value.set(value))
    return actions


def stage(tx, school_id, deltas):
    """Add count updates to a transaction (one per affected system group)."""
    for gid, (kind, value, name, delta) in deltas.items():
        tx.update(f"count:{gid}", Group(school_id=school_id, group_id=gid), _actions(kind, value, name, delta),
                  add_version_condition=False)


def apply(school_id, deltas):
    """Apply count updates directly (bulk import paths)."""
    for gid, (kind, value, name, delta) in deltas.items():
        Group(school_id=school_id, group_id=gid).update(actions=_actions(kind, value, name, delta),
                                                        add_version_condition=False)
