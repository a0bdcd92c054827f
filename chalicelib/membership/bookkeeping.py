"""The bookkeeping a roster write needs: a member's name copied onto each of
their memberships, a leaver's memberships set aside and given back, and a
deleted member taken out of every group. Roster code calls these after its
own transaction; each is safe to repeat."""
import time

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from ..core.db import Tx, TxFailed
from .models import Group, Membership


def group_key(school_id, group_id):
    """A Membership's hash key: the group, within its school."""
    return f"{school_id}#{group_id}"


def live(now):
    """The filter for memberships that have not ended at ``now`` (and whose
    pupil has not left): current ones and those still to start (what a
    leaver's or the rollover's bookkeeping must reach)."""
    return (Membership.until.does_not_exist() | (Membership.until > int(now))) & here()


def current(now):
    """The filter for memberships in force at ``now``: live and started (what
    every read of a group's members shows)."""
    return live(now) & (Membership.starts.does_not_exist() | (Membership.starts <= int(now)))


def here():
    """The filter for memberships counted in their group: not set aside for a leaver."""
    return Membership.away_since.does_not_exist()


def as_read(m):
    """The condition that a membership is still away or here as it was read
    (what its group's count assumed)."""
    return Membership.away_since.exists() if m.away_since is not None else here()


def full_name(values):
    """How a pupil or staff member is named in a group's member list."""
    return f"{values.get('first_name')} {values.get('surname')}"


def member_renamed(school_id, member_id, before, after):
    """After a pupil's or staff member's change ({field: value} before and
    after): if their name changed, every group they are in shows the new one.
    The name is copied onto each membership so a member list is one query;
    this keeps the copies right. Safe to repeat."""
    name = full_name(after)
    if name == full_name(before):
        return
    for m in Membership.by_member.query(f"{school_id}#{member_id}"):
        if m.name == name:
            continue
        try:
            Membership(group_key=m.group_key, member_id=m.member_id).update(
                actions=[Membership.name.set(name)], condition=Membership.member_id.exists())
        except UpdateError:
            continue  # left the group meanwhile


def member_left(school_id, member_id, now, still=None):
    """A pupil who left is out of her teacher groups: not listed, not counted,
    but kept, so that if she comes back she is back in those that have not
    ended by then. Each membership and its group's count in one transaction,
    with ``still`` (model, hash key, range key, condition: she is still
    left), so a late call after a newer change of hers does nothing."""
    for m in Membership.by_member.query(f"{school_id}#{member_id}", filter_condition=here()):
        _set_aside(m, int(now), True, still)


def member_back(school_id, member_id, now, still=None):
    """A leaver back on roll is back in each group she left that has not
    ended (an ended one stays aside until the sweep removes it); ``still``
    as for member_left (she is still on roll)."""
    for m in Membership.by_member.query(f"{school_id}#{member_id}",
                                        filter_condition=Membership.away_since.exists()):
        if m.until is None or m.until > now:
            _set_aside(m, int(now), False, still)


#: tries of a transaction that clashed with another on the same group's count
TRIES = 4


def _set_aside(m, now, away, still):
    for attempt in range(TRIES):
        tx = Tx()
        key = Membership(group_key=m.group_key, member_id=m.member_id)
        tx.update("membership", key, [Membership.away_since.set(now) if away else Membership.away_since.remove()],
                  condition=Membership.member_id.exists() & as_read(m), add_version_condition=False)
        tx.update("count", Group(school_id=m.school_id, group_id=m.group_id),
                  [Group.member_count.add(-1 if away else 1)], condition=Group.group_id.exists(),
                  add_version_condition=False)
        if still is not None:
            tx.check("still", *still)
        try:
            tx.commit()
            return
        except TxFailed as exc:
            if exc.failed or not exc.conflict:
                return  # removed, set aside or given back meanwhile, the group went, or her status moved on
            time.sleep(0.05 * 2 ** attempt)  # another write to the group's count at the same moment


def forget_member(school_id, member_id):
    """A deleted pupil, staff member or machine leaves every group."""
    for m in Membership.by_member.query(f"{school_id}#{member_id}"):
        if not _delete_as_read(m):
            continue
        if m.away_since is not None:
            continue  # a leaver's: not counted
        try:  # counted until deleted, ended or not
            Group(school_id=school_id, group_id=m.group_id).update(
                actions=[Group.member_count.add(-1)], condition=Group.group_id.exists(),
                add_version_condition=False)
        except UpdateError:
            pass  # the group went meanwhile


def _delete_as_read(m, tries=3):
    """Delete a membership on condition it is away or here as read (so the
    count it takes off is right), reading it again if that moved. In place
    (``m.away_since``) it says which it was when deleted; False if gone."""
    for _ in range(tries):
        try:
            Membership(group_key=m.group_key, member_id=m.member_id).delete(
                condition=Membership.member_id.exists() & as_read(m))
            return True
        except DeleteError:
            try:
                m.refresh(consistent_read=True)
            except DoesNotExist:
                return False
    return False
