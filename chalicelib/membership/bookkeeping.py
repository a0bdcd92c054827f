"""The bookkeeping a roster write needs: a member's name copied onto each of
their memberships, and a deleted member taken out of every group. Roster code
calls these after its own transaction; each is safe to repeat."""
from pynamodb.exceptions import DeleteError, UpdateError

from .models import Group, Membership


def group_key(school_id, group_id):
    """A Membership's hash key: the group, within its school."""
    return f"{school_id}#{group_id}"


def live(now):
    """The filter for memberships that have not ended at ``now``."""
    return Membership.until.does_not_exist() | (Membership.until > int(now))


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


def forget_member(school_id, member_id):
    """A deleted pupil, staff member or machine leaves every group."""
    for m in Membership.by_member.query(f"{school_id}#{member_id}"):
        try:
            Membership(group_key=m.group_key, member_id=m.member_id).delete(
                condition=Membership.member_id.exists())
        except DeleteError:
            continue
        try:  # counted until deleted, ended or not
            Group(school_id=school_id, group_id=m.group_id).update(
                actions=[Group.member_count.add(-1)], condition=Group.group_id.exists(),
                add_version_condition=False)
        except UpdateError:
            pass  # the group went meanwhile
