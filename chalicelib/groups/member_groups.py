"""The groups one pupil, member of staff or machine is in right now (what a
monitoring agent asks many times a minute): one Query of the member's
memberships in force, then one BatchGetItem of their groups, the school's
system groups and the member's own record (her year and registration group
say which system groups hold her). Only the groups the caller can see."""
import time
from dataclasses import dataclass

from ..accounts.models import User
from ..core.clock import iso
from ..core.db import batch_get
from ..core.errors import not_found
from ..core.text import fold
from ..membership import rules, system
from ..membership.bookkeeping import current
from ..membership.models import SYSTEM, Group, Machine, Membership
from ..roster.models import Pupil
from ..roster.pupils import reg_key

#: (kind, model, its id's key) a member may be
KINDS = (("pupil", Pupil, "pupil_id"), ("staff", User, "user_id"), ("machine", Machine, "machine_id"))


@dataclass(frozen=True)
class InGroup:
    """A group the member is in, and the membership's window (a system group's has none)."""
    group: Group
    until: int = None
    starts: int = None


def groups_of(caller, member_id, now=None):
    now = time.time() if now is None else now
    school = caller.school_id
    memberships = list(Membership.by_member.query(f"{school}#{member_id}", filter_condition=current(now)))
    wanted = {("member", kind): (model, {"school_id": school, key: member_id}) for kind, model, key in KINDS}
    wanted["system"] = (Group, {"school_id": school, "group_id": SYSTEM})
    wanted.update({("group", m.group_id): (Group, {"school_id": school, "group_id": m.group_id}) for m in memberships})
    got = batch_get(wanted)
    kind, record = next(((k, got[("member", k)]) for k, _m, _key in KINDS if got[("member", k)] is not None),
                        (None, None))
    if record is None:
        raise not_found("member")
    found = [InGroup(g) for g in _system_groups(kind, record, got["system"])]
    found += [InGroup(got[("group", m.group_id)], m.until, m.starts) for m in memberships
              if got.get(("group", m.group_id)) is not None]
    shown = [f for f in found if rules.can_see(caller, f.group, now)]
    return {"kind": kind, "items": [_json(f) for f in sorted(shown, key=lambda f: (not f.group.system, fold(f.group.name)))]}


def _system_groups(kind, record, item):
    """The school's groups that hold a pupil on roll (All pupils, her year and
    registration group) or an enabled member of staff (All staff)."""
    groups = system.virtual_groups(item)
    if kind == "pupil" and (record.status or "active") == "active":
        return [g for g in groups if g.system == "all_pupils" or (g.system == "year" and g.system_value == record.year_group)
                or (g.system == "reg" and record.reg_key and reg_key(record.school_id, g.system_value) == record.reg_key)]
    if kind == "staff" and getattr(record, "status", None) != "disabled":
        return [g for g in groups if g.system == "all_staff"]
    return []


def _json(found):
    g = found.group
    return {"id": g.group_id, "name": g.name, "system": g.system, "kind": "system" if g.system else (g.kind or "teacher"),
            "priority": g.priority or "low", "member_type": g.member_type or "user",
            "until": iso(found.until), "from": iso(found.starts)}
