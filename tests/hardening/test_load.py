"""Load (issue 9): concurrent clients against the real local stack, mixed
reads and writes, 0 errors, and afterwards the data is exactly what the
clients wrote.

Each client signs in with its own session and writes only its own records
(pupils whose surnames start with the client's own prefix, its own groups), so
no 409 is expected: any response other than the expected one is an error.
Every read is checked against what the client itself wrote. After the run, one
reader checks every pupil, the school's counts, the search index, every group's
members and count, and the audit log (one entry per write, none lost or
doubled). Requests/s and p50/p99 latency are printed, never asserted: the local
app server serves one request at a time, as one Lambda container does.
"""
import collections
import random
import statistics
import threading
import time

import pytest
import requests

from tests.e2e.helpers import school_token
from tests.e2e.test_local_stack import PASSWORD

SUITE = "load"
pytestmark = pytest.mark.e2e

#: make hardening: 20 clients for 60 s.
HEAVY_CLIENTS, HEAVY_SECONDS = 20, 60
#: make test: 4 clients for 5 s.
FAST_CLIENTS, FAST_SECONDS = 4, 5

YEARS = ["R", "1", "2", "3", "4", "5", "6"]
REGS = ["A", "B", "C"]
MAX_GROUPS = 3
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def letters(n, width=3):
    out = ""
    for _ in range(width):
        n, r = divmod(n, 26)
        out = ALPHABET[r] + out
    return out




class LoadClient(threading.Thread):
    """One signed-in user doing a random mix of reads and writes until the
    deadline, checking every answer against what it wrote itself."""

    def __init__(self, base, email, index, deadline, seed):
        super().__init__(name=f"load-{index}", daemon=True)
        self.base, self.index, self.deadline = base, index, deadline
        self.rng = random.Random(seed)
        self.prefix = "Zq" + letters(index, 2)  # e.g. "Zqab": no client's prefix starts another's
        self.http = requests.Session()
        r = self.http.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=60)
        assert r.status_code == 200, r.text
        self.http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        self.pupils = {}        # id -> last written values (as the server returned them)
        self.writes = collections.Counter()   # (pupil id, action) -> audit entries expected
        self.groups = {}        # id -> set of member ids
        self.errors = []
        self.latencies = []
        self.requests = 0
        self.n = 0

    # -- plumbing
    def call(self, method, path, expect, body=None):
        started = time.perf_counter()
        try:
            r = self.http.request(method, self.base + path, json=body, timeout=120)
        except requests.RequestException as exc:
            self.errors.append(f"{method} {path}: {exc!r}")
            return None
        self.latencies.append(time.perf_counter() - started)
        self.requests += 1
        if r.status_code != expect:
            self.errors.append(f"{method} {path}: {r.status_code} (expected {expect}) {r.text[:300]}")
            return None
        return r.json()

    def check(self, ok, what):
        if not ok:
            self.errors.append(what)

    # -- operations
    def add_pupil(self):
        self.n += 1
        body = {"first_name": "An" + letters(self.n), "surname": f"{self.prefix}{letters(self.n)}",
                "date_of_birth": f"201{self.rng.randint(2, 8)}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}",
                "gender": self.rng.choice(["M", "F", None]), "year_group": self.rng.choice(YEARS),
                "registration_group": self.rng.choice(YEARS) + self.rng.choice(REGS)}
        got = self.call("POST", "/api/pupils", 201, body)
        if got is None:
            return
        for field in ("first_name", "surname", "date_of_birth", "gender", "year_group", "registration_group"):
            self.check(got.get(field) == body[field], f"created pupil {field}: sent {body[field]!r}, got {got.get(field)!r}")
        self.pupils[got["id"]] = got
        self.writes[(got["id"], "create")] += 1

    def patch_pupil(self):
        if not self.pupils:
            return self.add_pupil()
        pid = self.rng.choice(sorted(self.pupils))
        last = self.pupils[pid]
        self.n += 1
        change = {"version": last["version"], "first_name": "Pat" + letters(self.n),
                  "year_group": self.rng.choice(YEARS), "registration_group": self.rng.choice(YEARS) + self.rng.choice(REGS)}
        got = self.call("PATCH", f"/api/pupils/{pid}", 200, change)
        if got is None:
            return
        self.check(got["version"] == last["version"] + 1, f"patch {pid}: version {last['version']} -> {got['version']}")
        for field in ("first_name", "year_group", "registration_group"):
            self.check(got[field] == change[field], f"patched pupil {field}: sent {change[field]!r}, got {got[field]!r}")
        self.pupils[pid] = got
        self.writes[(pid, "update")] += 1

    def get_pupil(self):
        if not self.pupils:
            return self.me()
        pid = self.rng.choice(sorted(self.pupils))
        got = self.call("GET", f"/api/pupils/{pid}", 200)
        if got is not None:
            self.check(same_pupil(got, self.pupils[pid]), f"read pupil {pid}: {got} != last written {self.pupils[pid]}")

    def search_own(self):
        q = self.prefix.lower() if self.rng.random() < 0.5 else self.prefix.upper()
        got = self.call("GET", f"/api/pupils?q={q}&limit=500", 200)
        if got is not None:
            ids = {p["id"] for p in got["items"]}
            self.check(ids == set(self.pupils), f"search {q}: {len(ids)} ids, wrote {len(self.pupils)}")

    def list_page(self):
        got = self.call("GET", f"/api/pupils?limit={self.rng.randint(1, 50)}", 200)
        if got is not None:
            self.check(isinstance(got["items"], list), "list pupils: no items")

    def create_group(self):
        if len(self.groups) >= MAX_GROUPS:
            return self.group_members()
        got = self.call("POST", "/api/groups", 201, {"name": f"Load {self.prefix} {len(self.groups)}",
                                                     "priority": "normal", "member_type": "user", "shared": False})
        if got is not None:
            self.groups[got["id"]] = set()

    def add_members(self):
        if not self.groups or not self.pupils:
            return self.create_group() if not self.groups else self.add_pupil()
        gid = self.rng.choice(sorted(self.groups))
        ids = self.rng.sample(sorted(self.pupils), min(len(self.pupils), self.rng.randint(1, 5)))
        got = self.call("POST", f"/api/groups/{gid}/members", 200, {"member_ids": ids, "until": None})
        if got is None:
            return
        new = set(ids) - self.groups[gid]
        self.check(got["added"] == len(new) and got["updated"] == len(ids) - len(new),
                   f"add members to {gid}: {got['added']} added / {got['updated']} updated, expected {len(new)}")
        self.groups[gid] |= set(ids)

    def remove_member(self):
        candidates = [(g, m) for g, members in sorted(self.groups.items()) for m in sorted(members)]
        if not candidates:
            return self.add_members()
        gid, mid = self.rng.choice(candidates)
        got = self.call("DELETE", f"/api/groups/{gid}/members/{mid}", 200)
        if got is not None:
            self.groups[gid].discard(mid)

    def group_members(self):
        if not self.groups:
            return self.create_group()
        gid = self.rng.choice(sorted(self.groups))
        got = self.call("GET", f"/api/groups/{gid}/members", 200)
        if got is not None:
            ids = {m["id"] for m in got["items"]}
            self.check(ids == self.groups[gid], f"members of {gid}: {sorted(ids)} != {sorted(self.groups[gid])}")

    def me(self):
        got = self.call("GET", "/api/me", 200)
        if got is not None:
            self.check(got["user_group"] == "Admin Team", f"me: {got}")

    OPERATIONS = (("add_pupil", 3), ("patch_pupil", 3), ("get_pupil", 2), ("search_own", 2), ("list_page", 1),
                  ("create_group", 1), ("add_members", 2), ("remove_member", 1), ("group_members", 1), ("me", 2))

    def run(self):
        names = [n for n, _ in self.OPERATIONS]
        weights = [w for _, w in self.OPERATIONS]
        try:
            while time.time() < self.deadline:
                getattr(self, self.rng.choices(names, weights)[0])()
        except Exception as exc:  # noqa: BLE001 - any crash of a client is an error of the run
            self.errors.append(f"client {self.index} crashed: {exc!r}")


def same_pupil(got, written):
    fields = ("first_name", "surname", "date_of_birth", "gender", "year_group", "registration_group", "version")
    return all(got.get(f) == written.get(f) for f in fields)


def read_all(http, base, path, limit=500):
    items, cursor = [], None
    while True:
        url = f"{base}{path}{'&' if '?' in path else '?'}limit={limit}" + (f"&next={cursor}" if cursor else "")
        r = http.get(url, timeout=120)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cursor = page.get("next")
        if not cursor:
            return items


def run_load(stack, clients, seconds, name, report=lambda line: None):
    base = f"http://127.0.0.1:{stack.port}"
    email = f"head@{name}.load.sch.uk"
    token = school_token(stack, email, name=f"Load {name.title()}")
    signing_in = time.time()
    team = [LoadClient(base, email, i, 0, seed=f"{name}-{i}") for i in range(clients)]
    started = time.time()
    for c in team:
        c.deadline = started + seconds
    for c in team:
        c.start()
    for c in team:
        c.join(timeout=seconds + 300)
    elapsed = time.time() - started
    assert not any(c.is_alive() for c in team), "a client did not finish"

    latencies = sorted(x for c in team for x in c.latencies)
    total = sum(c.requests for c in team)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    line = (f"load {name}: {clients} clients x {seconds}s: {total} requests in {elapsed:.1f}s = "
            f"{total / elapsed:.1f} req/s, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
            f"(sign-ins took {started - signing_in:.1f}s)")
    print("\n" + line)
    report(line)
    errors = [e for c in team for e in c.errors]
    assert not errors, f"{len(errors)} errors, e.g.:\n" + "\n".join(errors[:20])
    assert total >= clients, "the clients made almost no requests"
    report(f"load {name} " + verify_data(base, token, team, thorough=clients >= HEAVY_CLIENTS))
    return team


def verify_data(base, token, team, thorough):
    """One reader, after the run: the data is exactly what the clients wrote."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    problems = []
    written = {pid: p for c in team for pid, p in c.pupils.items()}

    # every pupil exists with its last written values, and no other does
    everyone = read_all(http, base, "/api/pupils?q=zq")
    problems += [f"search zq: {len(everyone)} pupils, clients wrote {len(written)}"] * (
        {p["id"] for p in everyone} != set(written))
    listed = read_all(http, base, "/api/pupils", limit=97)
    if len(listed) != len(written) or {p["id"] for p in listed} != set(written):
        problems.append(f"list: {len(listed)} pupils ({len({p['id'] for p in listed})} distinct), wrote {len(written)}")
    for p in listed:
        if p["id"] in written and not same_pupil(p, written[p["id"]]):
            problems.append(f"listed pupil {p['id']}: {p} != last written {written[p['id']]}")
    if thorough:  # each record read back from the table itself too
        for pid, last in written.items():
            r = http.get(f"{base}/api/pupils/{pid}", timeout=60)
            if r.status_code != 200 or not same_pupil(r.json(), last):
                problems.append(f"pupil {pid}: {r.status_code} {r.text[:200]} != last written {last}")
    for c in team:
        own = read_all(http, base, f"/api/pupils?q={c.prefix}")
        if {p["id"] for p in own} != set(c.pupils):
            problems.append(f"client {c.index}: search finds {len(own)}, wrote {len(c.pupils)}")

    # groups: each client's groups with exactly their members and counts
    groups = {g["id"]: g for g in http.get(f"{base}/api/groups", timeout=60).json()["items"]}
    for c in team:
        for gid, members in c.groups.items():
            if gid not in groups:
                problems.append(f"group {gid} of client {c.index} is missing")
                continue
            if groups[gid]["member_count"] != len(members):
                problems.append(f"group {gid}: member_count {groups[gid]['member_count']}, expected {len(members)}")
            got = http.get(f"{base}/api/groups/{gid}/members", timeout=60).json()["items"]
            if sorted(m["id"] for m in got) != sorted(members):
                problems.append(f"group {gid}: members {len(got)}, expected {len(members)}")
    mine = {gid for c in team for gid in c.groups}
    teacher_groups = {gid for gid, g in groups.items() if not g.get("system")}
    if teacher_groups != mine:
        problems.append(f"teacher groups {len(teacher_groups)} != created {len(mine)}")

    # system groups follow the roster: All pupils, each year and registration group
    all_pupils = [g for g in groups.values() if g.get("system") == "all_pupils"]
    if not all_pupils or all_pupils[0]["member_count"] != len(written):
        problems.append(f"All pupils: {all_pupils}, pupils {len(written)}")
    for kind, field in (("year", "year_group"), ("reg", "registration_group")):
        covered = collections.Counter()
        for g in (g for g in groups.values() if g.get("system") == kind):
            got = http.get(f"{base}/api/groups/{g['id']}/members", timeout=60).json()["items"]
            values = {written[m["id"]][field] if m["id"] in written else None for m in got}
            if g["member_count"] != len(got) or len(values) > 1 or None in values:
                problems.append(f"{g['name']}: member_count {g['member_count']}, {len(got)} members, {values}")
            covered.update(m["id"] for m in got)
        if covered != collections.Counter(set(written)):
            problems.append(f"{kind} groups: {sum(covered.values())} memberships over {len(covered)} pupils, "
                            f"pupils {len(written)}")

    # the audit log: one entry per pupil write, none lost, none doubled
    expected = collections.Counter()
    for c in team:
        expected.update(c.writes)
    audit = read_all(http, base, "/api/audit")
    seen = collections.Counter((e["record_id"], e["action"]) for e in audit if e["record_type"] == "pupil")
    if seen != expected:
        diff = (seen - expected) + (expected - seen)
        problems.append(f"audit: {sum(seen.values())} pupil entries, expected {sum(expected.values())}; "
                        f"differences e.g. {list(diff.items())[:5]}")
    line = (f"verified: {len(written)} pupils ({sum(expected.values())} audited writes), "
            f"{len(mine)} groups with {sum(len(m) for c in team for m in c.groups.values())} members")
    print(line)
    assert not problems, "\n".join(problems[:30])
    return line


@pytest.mark.heavy  # (under `make hardening`, with the long load run)
def test_load_fast(stack, report_figure):
    run_load(stack, FAST_CLIENTS, FAST_SECONDS, "fast", report_figure)


@pytest.mark.heavy
def test_load_heavy(stack, report_figure):
    run_load(stack, HEAVY_CLIENTS, HEAVY_SECONDS, "heavy", report_figure)
