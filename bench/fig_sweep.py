"""Figure 5: the minute sweep's DynamoDB reads with 10,000 live and 10
expired memberships and 10 ended staff roles on groups (among live ones),
and Scan calls anywhere in the code (none allowed)."""
import os
import re
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scans_in_code():
    """Places in chalicelib that could issue a Scan."""
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "chalicelib")):
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                found += [f"{name}: {m.group(0)}" for m in re.finditer(r"\.scan\(|\bscan\(|'Scan'|\"Scan\"", text)]
    return found


def run(quick=False):
    from bench.harness import Calls, environment
    environment()
    from moto import mock_aws
    live = 1000 if quick else 10_000
    with mock_aws():
        from devstack.bootstrap import create_tables
        create_tables()
        from chalicelib.core.db import batch_put
        from chalicelib.membership.models import Group, Membership
        from chalicelib.groups.ending import sweep_ends
        from chalicelib.groups.members import sweep_expired
        now = time.time()

        def staff(i):  # every group a colleague for a while; ten of those roles ended a minute ago
            until = int(now - 60) if i < 10 else int(now + 3600 + i)
            return {f"u{i}": {"role": "teacher", "until": until}, f"v{i}": {"role": "viewer"}}, until
        items = []
        for i in range(50):
            roles, soonest = staff(i)
            items.append(Group(school_id="s", group_id=f"g{i}", name=f"G{i}", member_count=live, staff=roles,
                               staff_version=1, next_end=soonest, ending="ending"))
        items += [Membership(group_key=f"s#g{i % 50}", member_id=f"m{i}", school_id="s", group_id=f"g{i % 50}",
                             member_key=f"s#m{i}", kind="pupil", name="x", until=int(now + 3600),
                             expiring="expiring", added_by="b", added_at=int(now)) for i in range(live)]
        items += [Membership(group_key="s#g0", member_id=f"old{i}", school_id="s", group_id="g0",
                             member_key=f"s#old{i}", kind="pupil", name="x", until=int(now - 60),
                             expiring="expiring", added_by="b", added_at=int(now)) for i in range(10)]
        batch_put(items)
        calls = Calls()
        try:
            result = {**sweep_expired(now=now), **sweep_ends(now=now)}
            reads = [op for op in calls.dynamodb() if op in ("GetItem", "BatchGetItem", "Query", "Scan")]
        finally:
            calls.close()
    assert result["removed"] == 10 and result["roles_ended"] == 10, result
    scans = scans_in_code()
    return [
        {"figure": f"sweep reads ({live} live, 10 expired memberships, 10 ended staff roles)", "value": len(reads), "unit": "calls", "goal": "<= 3",
         "passed": len(reads) <= 3},
        {"figure": "Scan calls in the code", "value": len(scans), "unit": "places", "goal": "0",
         "passed": not scans, "detail": scans},
    ]
