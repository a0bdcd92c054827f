"""Faults (issue 9): throttling and UnprocessedItems during a commit, SES
throttling and rejection, the import handler killed mid-file, messages
delivered twice and out of order, the sweep and the outbox sender run twice
at once. Nothing lost, nothing doubled, each email sent once.

Everything runs against moto in-process. Faults are injected either below
botocore's retry layer (moto answers 400 ProvisionedThroughputExceeded, and
botocore retries it as it would DynamoDB's) or above it, by wrapping
``BaseClient._make_api_call`` (the application itself sees the error, as it
does once botocore's retries are spent). SQS deliveries are made by hand
through the import worker's own record handler, so a redelivery is exactly
what SQS would do after the Lambda died.

Helpers here are also used by ``test_concurrency.py``.
"""
import json
import threading
import time
from types import SimpleNamespace

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from stdnum.gb.upn import calc_check_digit

from chalicelib.core import config
from tests.conftest import sent_emails, tables_of

SUITE = "faults"


# ---------------------------------------------------------------- files

def upn(n):
    body = f"9401234{n:04d}1"
    return calc_check_digit(body) + body


HEADER = "First name,Surname,Date of birth,Gender,Year group,Registration group,UPN"


def make_rows(n, start=0, without_upn_every=4, bad_every=0):
    """Pupils over three year groups and six registration groups; every
    ``without_upn_every``-th has no UPN; every ``bad_every``-th has an
    impossible date of birth (refused at validation)."""
    rows = []
    for i in range(start, start + n):
        year = "345"[i % 3]
        reg = f"{year}{'AB'[(i // 3) % 2]}"
        dob = f"{1 + i % 28:02d}/{1 + i % 12:02d}/{2017 - int(year)}"
        if bad_every and i % bad_every == bad_every - 1:
            dob = "31/02/2015"
        no_upn = without_upn_every and i % without_upn_every == without_upn_every - 1
        rows.append((f"Pupil{i:04d}", f"Surname{i:04d}", dob, "MF"[i % 2], year, reg, "" if no_upn else upn(i)))
    return rows


def valid(rows):
    return [r for r in rows if r[2] != "31/02/2015"]


def pupils_csv(rows):
    return ("\n".join([HEADER] + [",".join(r) for r in rows]) + "\n").encode("utf-8")


# ---------------------------------------------------------------- driving imports

class Driver:
    """An import driven message by message: we take each SQS message off the
    queue and hand it to the worker's record handler ourselves, so a test
    decides when (and how often) each is delivered."""

    def __init__(self, api, token=None):
        from chalicelib.core import queue
        queue.reset_clients()
        self.api, self.token = api, token
        self.sqs = boto3.client("sqs", region_name=config.region())
        self.url = self.sqs.get_queue_url(QueueName=config.queue_name("imports"))["QueueUrl"]
        self.take()  # S3's s3:TestEvent from setting up the notification

    def take(self):
        """Every message now on the imports queue (removed from it)."""
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for m in got:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])

    def deliver(self, message, receives=1):
        """One delivery, as Lambda's SQS event source makes it."""
        from chalicelib.imports import handlers
        record = SimpleNamespace(body=json.dumps(message),
                                 attributes={"ApproximateReceiveCount": str(receives)})
        return handlers.handle_record(record)

    def upload(self, data, kind="pupils"):
        """Start an import and upload the file. Returns (import id, the S3
        notification messages, undelivered)."""
        r = self.api.post("/api/imports", {"kind": kind, "filename": "pupils.csv"}, token=self.token)
        assert r.status_code == 201, r.body
        up = r.data["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": ("pupils.csv", data)})
        assert posted.status_code in (200, 201, 204), posted.text
        notes = self.take()
        assert notes and all("Records" in n for n in notes), notes
        return r.data["import_id"], notes

    def get(self, import_id):
        r = self.api.get(f"/api/imports/{import_id}", token=self.token)
        assert r.status_code == 200, r.body
        return r.data

    def map(self, import_id, mapping=None):
        """PUT the (suggested) mapping; returns the validate message, undelivered."""
        mapping = mapping or self.get(import_id)["suggested_mapping"]
        r = self.api.put(f"/api/imports/{import_id}/mapping", {"mapping": mapping}, token=self.token)
        assert r.status_code == 200, r.body
        (message,) = self.take()
        assert message["action"] == "validate"
        return message

    def request_commit(self, import_id):
        r = self.api.post(f"/api/imports/{import_id}/commit", token=self.token)
        assert r.status_code == 200, r.body
        (message,) = self.take()
        assert message["action"] == "commit"
        return message

    def to_review(self, data):
        import_id, notes = self.upload(data)
        for n in notes:
            self.deliver(n)
        assert self.get(import_id)["status"] == "mapping"
        self.deliver(self.map(import_id))
        imp = self.get(import_id)
        assert imp["status"] == "review", imp
        return import_id

    def rows(self, import_id, only="errors"):
        return self.api.all_pages(f"/api/imports/{import_id}/rows?only={only}", self.token)


# ---------------------------------------------------------------- checking

class GroupCountsWrong(AssertionError):
    """The system groups' member counts disagree with the roster."""


def roster(api, token=None):
    return api.all_pages("/api/pupils", token)


def assert_roster_is(api, rows, token=None):
    """The school's pupils are exactly these file rows, each once."""
    pupils = roster(api, token)
    got = sorted((p["first_name"], p["surname"], p["upn"] or "") for p in pupils)
    want = sorted((r[0], r[1], r[6]) for r in rows)
    missing = sorted(set(want) - set(got))
    doubled = sorted({g for g in got if got.count(g) > 1})
    assert got == want, f"{len(got)} pupils for {len(want)} rows; missing {missing[:5]}, doubled {doubled[:5]}"
    upns = [p["upn"] for p in pupils if p["upn"]]
    assert len(upns) == len(set(upns)), "a UPN is held twice"
    return pupils


def assert_upn_claims_match(school_id, pupils):
    """Every UPN claim belongs to the pupil holding that UPN; none left over."""
    from chalicelib.roster.models import UniqueKey
    claims = {u.key[len("upn#"):]: u.owner_id
              for u in UniqueKey.query(school_id, UniqueKey.key.startswith("upn#"), consistent_read=True)}
    held = {p["upn"]: p["id"] for p in pupils if p["upn"]}
    assert claims == held


def expected_counts(pupils, staff=1):
    from chalicelib.membership import rules
    counts = {"All staff": staff} if staff else {}
    for p in pupils:
        if p["status"] != "active":
            continue
        for _gid, (_kind, _value, name) in rules.pupil_groups(p).items():
            counts[name] = counts.get(name, 0) + 1
    return counts


def system_counts(api, token=None):
    r = api.get("/api/groups", token=token)
    assert r.status_code == 200, r.body
    return {g["name"]: g["member_count"] for g in r.data["items"] if g["system"]}


def assert_group_counts(api, pupils, staff=1, token=None):
    got, want = system_counts(api, token), expected_counts(pupils, staff)
    if got != want:
        diff = {k: (got.get(k), want.get(k)) for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)}
        raise GroupCountsWrong(f"system group counts (shown, true): {diff}")


def import_audit_ids(api, import_id, token=None):
    """The pupil ids the import's audit entries say it created (with repeats)."""
    ids = []
    for e in api.all_pages("/api/audit", token):
        if e["record_id"] == f"import:{import_id}":
            ids += e["changes"].get("created") or []
    return ids


def assert_import_complete(api, driver, import_id, rows, school_id, staff=1):
    """After a commit: the roster is exactly the file's valid rows, UPN claims
    match, the audit names each new pupil once, the import's result adds up,
    and (last, so other failures show first) the system group counts."""
    imp = driver.get(import_id)
    assert imp["status"] == "committed", imp
    good = valid(rows)
    assert imp["result"] == {"created": len(good), "updated": 0, "unchanged": 0, "refused": 0,
                             "restored": 0}, imp["result"]
    pupils = assert_roster_is(api, good)
    assert_upn_claims_match(school_id, pupils)
    audited = import_audit_ids(api, import_id)
    assert sorted(audited) == sorted(p["id"] for p in pupils), \
        f"audit names {len(audited)} creations ({len(set(audited))} distinct) for {len(pupils)} pupils"
    assert_group_counts(api, pupils, staff)


# ---------------------------------------------------------------- fault injection

class LambdaKilled(Exception):
    """The worker died here (timeout, out of memory, redeploy)."""


@pytest.fixture
def faults(monkeypatch):
    """Wraps BaseClient._make_api_call: ``faults.hook(client, op, params, go)``
    sees every AWS call the code makes; ``go()`` makes the real call."""
    import botocore.client
    real = botocore.client.BaseClient._make_api_call
    state = SimpleNamespace(hook=None, real=real)

    def call(client, op, params):
        hook = state.hook
        if hook is None:
            return real(client, op, params)
        return hook(client, op, params, lambda: real(client, op, params))

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    return state


def killer(pred, when="before", nth=1):
    """A hook that kills the worker at the nth call matching ``pred``: before
    the call is made, or after it took effect (the reply never arrived)."""
    state = {"seen": 0, "fired": False}

    def hook(client, op, params, go):
        if not state["fired"] and pred(op, params):
            state["seen"] += 1
            if state["seen"] == nth:
                state["fired"] = True
                if when == "after":
                    go()
                raise LambdaKilled(f"killed {when} {op} #{nth}")
        return go()
    hook.state = state
    return hook


@pytest.fixture
def atomic_moto(monkeypatch):
    """DynamoDB handles each request atomically; moto in-process does not lock.
    Serialise moto's request handling (threads still interleave between
    requests, which is the concurrency that matters)."""
    from moto.core.botocore_stubber import BotocoreStubber
    lock = threading.RLock()
    real = BotocoreStubber.process_request

    def process(self, request):
        with lock:
            return real(self, request)
    monkeypatch.setattr(BotocoreStubber, "process_request", process)


@pytest.fixture
def no_retry_sleep(monkeypatch):
    """botocore's retry back-off, made instant (the retries still happen)."""
    from botocore.retries import standard
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def op_target(request):
    target = request.headers.get("X-Amz-Target") or b""
    return (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]


def is_table(op, params, logical, ops):
    return op in ops and config.table_name(logical) in tables_of(params)


def pupil_tx(op, params):
    return is_table(op, params, "pupils", {"TransactWriteItems"})


def counts_update(op, params):
    """The transaction applying a step of the school's system-group counts."""
    if op != "TransactWriteItems":
        return False
    return any((item.get("Update") or {}).get("Key", {}).get("group_id", {}).get("S") == "~system"
               for item in params.get("TransactItems", []))


def marking(status):
    def pred(op, params):
        return op == "UpdateItem" and params.get("TableName") == config.table_name("imports") and \
            {"S": status} in (params.get("ExpressionAttributeValues") or {}).values()
    return pred


def count_in(params):
    return sum(len(v) for v in (params.get("RequestItems") or {}).values())


@pytest.fixture
def school(api, admin):
    return admin


@pytest.fixture
def driver(api, school):
    return Driver(api)


# ---------------------------------------------------------------- throttling during commit

@pytest.mark.heavy
def test_commit_rides_out_throttling_and_unprocessed_items(api, school, driver, monkeypatch, faults,
                                                           no_retry_sleep):
    """Every third DynamoDB request is answered ProvisionedThroughputExceeded
    (botocore retries it), and every BatchWriteItem leaves half its items
    unprocessed (the commit writes in transactions; validation batch-writes
    the refused rows): one delivery each still keeps every refused row once
    and commits every valid row exactly once."""
    from chalicelib.imports import committing
    from moto.core.botocore_stubber import BotocoreStubber
    monkeypatch.setattr(committing, "PUPILS_PER_TX", 8)
    rows = make_rows(180, bad_every=3)
    import_id, notes = driver.upload(pupils_csv(rows))
    for n in notes:
        driver.deliver(n)
    validate = driver.map(import_id)

    seen = {"dynamo": 0, "throttled": 0, "unprocessed": 0}
    real_process = BotocoreStubber.process_request

    def throttling(self, request):
        if "dynamodb" in request.url:
            seen["dynamo"] += 1
            if seen["dynamo"] % 3 == 0:
                seen["throttled"] += 1
                body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                                   "message": f"Throttled {op_target(request)}"})
                return 400, {"Content-Type": "application/x-amz-json-1.0"}, body
        return real_process(self, request)

    def unprocessing(client, op, params, go):
        if op != "BatchWriteItem" or count_in(params) < 2:
            return go()
        flat = [(t, r) for t, reqs in params["RequestItems"].items() for r in reqs]
        keep = len(flat) // 2
        now, later = {}, {}
        for n, (t, r) in enumerate(flat):
            (now if n < keep else later).setdefault(t, []).append(r)
        reply = faults.real(client, op, {**params, "RequestItems": now})
        for t, reqs in (reply.get("UnprocessedItems") or {}).items():
            later.setdefault(t, []).extend(reqs)
        seen["unprocessed"] += sum(map(len, later.values()))
        return {**reply, "UnprocessedItems": later}

    monkeypatch.setattr(BotocoreStubber, "process_request", throttling)
    faults.hook = unprocessing
    driver.deliver(validate)
    refused = driver.rows(import_id)
    commit = driver.request_commit(import_id)
    driver.deliver(commit)
    faults.hook = None
    monkeypatch.setattr(BotocoreStubber, "process_request", real_process)
    assert seen["throttled"] >= 5 and seen["unprocessed"] >= 10, seen  # the faults did happen
    good = valid(rows)
    assert sorted(r["row"] for r in refused) == [i + 2 for i, r in enumerate(rows) if r not in good]
    assert_import_complete(api, driver, import_id, rows, school["school_id"])


# The application itself sees the error (botocore's retries spent, or a
# transaction cancelled for throttling, which botocore never retries): the
# worker dies and SQS redelivers until it gets through.

THROTTLES = [
    ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}},
                "X"),
    ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate of requests exceeds the allowed"}},
                "X"),
]


def throttled_until_through(driver, message, fault_at=(2, 4, 3)):
    """Deliver ``message`` until it goes through; in delivery d the
    fault_at[d]-th DynamoDB call is refused for throttling (a transaction is
    cancelled with ThrottlingError). Fewer deliveries than SQS's
    maxReceiveCount, so the message never reaches the dead-letter queue.
    Returns the number of deliveries made."""
    for d in range(config.MAX_RECEIVE_COUNT - 1):
        state = {"n": 0}

        def hook(client, op, params, go):
            if d < len(fault_at) and client.meta.service_model.service_name == "dynamodb":
                state["n"] += 1
                if state["n"] == fault_at[d]:
                    if op == "TransactWriteItems":
                        reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the limit"}] + \
                            [{"Code": "None"}] * (len(params["TransactItems"]) - 1)
                        raise ClientError({"Error": {"Code": "TransactionCanceledException",
                                                     "Message": "Transaction cancelled"},
                                           "CancellationReasons": reasons}, op)
                    raise THROTTLES[d % 2]
            return go()
        driver.faults.hook = hook
        try:
            driver.deliver(message, receives=d + 1)
            return d + 1
        except Exception:  # noqa: BLE001 - the worker died of it; SQS redelivers
            continue
        finally:
            driver.faults.hook = None
    raise AssertionError("still failing")


@pytest.fixture
def throttled_commit(api, school, driver, faults, monkeypatch):
    from chalicelib.imports import committing
    monkeypatch.setattr(committing, "PUPILS_PER_TX", 15)
    rows = make_rows(60)
    import_id = driver.to_review(pupils_csv(rows))
    driver.faults = faults
    deliveries = throttled_until_through(driver, driver.request_commit(import_id))
    assert deliveries == 4  # three deliveries died of throttling
    return import_id, rows


def test_throttled_commit_redelivered_loses_and_doubles_nothing(api, school, driver, throttled_commit):
    import_id, rows = throttled_commit
    imp = driver.get(import_id)
    assert imp["status"] == "committed"
    assert imp["result"]["created"] == len(rows) and imp["result"]["refused"] == 0
    pupils = assert_roster_is(api, rows)
    assert_upn_claims_match(school["school_id"], pupils)
    assert sorted(import_audit_ids(api, import_id)) == sorted(p["id"] for p in pupils)


def test_throttled_commit_redelivered_keeps_group_counts_right(api, school, driver, throttled_commit):
    import_id, rows = throttled_commit
    assert driver.get(import_id)["status"] == "committed"
    assert_group_counts(api, roster(api))


# ---------------------------------------------------------------- the worker killed mid-file

KILL_POINTS = {
    # after the 2nd transaction of pupils + UPN claims (+ audit + progress) took effect
    "commit: after a chunk's transaction": (pupil_tx, "after", 2),
    # every chunk written; dies before the first group-count step
    "commit: before a group-count step": (counts_update, "before", 1),
    # dies just after a group-count step took effect
    "commit: after a group-count step": (counts_update, "after", 1),
    # every row written and counted; dies before the import says committed
    "commit: before marking committed": (marking("committed"), "before", 1),
    "commit: after marking committed": (marking("committed"), "after", 1),
}


FAST_POINTS = {"commit: after a chunk's transaction", "commit: after a group-count step"}


def _kill_marks(point):
    return [] if point in FAST_POINTS else [pytest.mark.heavy]


@pytest.mark.parametrize("point", [pytest.param(p, marks=_kill_marks(p)) for p in KILL_POINTS])
def test_commit_killed_mid_file_then_redelivered(api, school, driver, faults, monkeypatch, point):
    from chalicelib.imports import committing
    monkeypatch.setattr(committing, "PUPILS_PER_TX", 12)
    rows = make_rows(40)
    import_id = driver.to_review(pupils_csv(rows))
    commit = driver.request_commit(import_id)
    pred, when, nth = KILL_POINTS[point]
    faults.hook = killer(pred, when, nth)
    with pytest.raises(LambdaKilled):
        driver.deliver(commit)
    faults.hook = None
    driver.deliver(commit, receives=2)  # SQS redelivers the same message
    driver.deliver(commit, receives=3)  # and, at least once, maybe again: a no-op
    assert_import_complete(api, driver, import_id, rows, school["school_id"])


@pytest.mark.parametrize("at_row", [pytest.param(10, marks=pytest.mark.heavy), 70])
def test_validation_killed_mid_file_then_redelivered(api, school, driver, monkeypatch, at_row):
    """Killed after writing some refused rows (at row 70, a batch of 25 has
    been flushed): the redelivery gives the same summary and each refused row
    once; the commit then writes exactly the valid rows."""
    from chalicelib.imports import rows as row_checking
    rows = make_rows(80, bad_every=3)
    import_id, notes = driver.upload(pupils_csv(rows))
    for n in notes:
        driver.deliver(n)
    validate = driver.map(import_id)
    real_check_all = row_checking.RowChecker.check_all

    def dying_check_all(self, records):
        for n, result in enumerate(real_check_all(self, records), start=1):
            if n == at_row:
                raise LambdaKilled(f"killed at row {at_row}")
            yield result

    monkeypatch.setattr(row_checking.RowChecker, "check_all", dying_check_all)
    with pytest.raises(LambdaKilled):
        driver.deliver(validate)
    assert driver.get(import_id)["status"] == "validating"
    monkeypatch.setattr(row_checking.RowChecker, "check_all", real_check_all)
    driver.deliver(validate, receives=2)
    imp = driver.get(import_id)
    good = valid(rows)
    assert imp["status"] == "review"
    assert imp["summary"] == {"rows": 80, "valid": len(good), "errors": 80 - len(good), "create": len(good),
                              "update": 0, "unchanged": 0, "restore": 0}
    refused = driver.rows(import_id)
    assert [r["row"] for r in refused] == [i + 2 for i, r in enumerate(rows) if r not in good]
    assert {e["code"] for r in refused for e in r["errors"]} == {"invalid_date"}
    driver.deliver(driver.request_commit(import_id))
    assert_import_complete(api, driver, import_id, rows, school["school_id"])


@pytest.mark.heavy
def test_validation_killed_after_staging_then_redelivered(api, school, driver, faults):
    """Dies after the staging file is in S3 but before the import says review."""
    rows = make_rows(30)
    import_id, notes = driver.upload(pupils_csv(rows))
    for n in notes:
        driver.deliver(n)
    validate = driver.map(import_id)
    faults.hook = killer(marking("review"), "before", 1)
    with pytest.raises(LambdaKilled):
        driver.deliver(validate)
    faults.hook = None
    driver.deliver(validate, receives=2)
    assert driver.get(import_id)["summary"]["create"] == 30
    driver.deliver(driver.request_commit(import_id))
    assert_import_complete(api, driver, import_id, rows, school["school_id"])


# ---------------------------------------------------------------- duplicates and out of order

def state_of(api, driver, import_id, school_id):
    """Everything a repeated message could change."""
    from chalicelib.roster.models import UniqueKey
    imp = {k: v for k, v in driver.get(import_id).items() if k != "updated_at"}
    return {
        "import": imp,
        "rows": driver.rows(import_id, only="all"),
        "pupils": roster(api),
        "groups": system_counts(api),
        "audit": len(api.all_pages("/api/audit")),
        "claims": sorted((u.key, u.owner_id) for u in UniqueKey.query(school_id, consistent_read=True)),
        "imports": [i["id"] for i in api.all_pages("/api/imports")],
    }


REPEATS = ["validate twice", "commit twice", "stale validate after a new mapping",
           "validate redelivered after commit was requested", "S3 notification again in review",
           "S3 notification again after commit", "commit before a stale validate redelivery"]


FAST_REPEATS = {"commit twice", "stale validate after a new mapping", "S3 notification again after commit"}


@pytest.mark.parametrize("case", [pytest.param(c, marks=[] if c in FAST_REPEATS else [pytest.mark.heavy])
                                  for c in REPEATS])
def test_repeated_and_out_of_order_messages_change_nothing(api, school, driver, case):
    rows = make_rows(12, bad_every=5)
    import_id, notes = driver.upload(pupils_csv(rows))
    for n in notes:
        driver.deliver(n)
    sid = school["school_id"]
    validate = driver.map(import_id)
    driver.deliver(validate)

    def repeat(message, expect):
        before = state_of(api, driver, import_id, sid)
        outcome = driver.deliver(message)
        assert outcome == expect, outcome
        assert state_of(api, driver, import_id, sid) == before

    if case == "validate twice":
        repeat(validate, ["duplicate"])
    elif case == "stale validate after a new mapping":
        validate2 = driver.map(import_id)
        assert validate2["run"] == validate["run"] + 1
        driver.deliver(validate2)
        repeat(validate, ["stale"])
        commit = driver.request_commit(import_id)
        repeat(validate, ["stale"])
        driver.deliver(commit)
        repeat(validate, ["stale"])
    elif case == "S3 notification again in review":
        repeat(notes[0], ["duplicate or ignored"])
    elif case == "validate redelivered after commit was requested":
        commit = driver.request_commit(import_id)
        repeat(validate, ["duplicate"])
        driver.deliver(commit)
    if driver.get(import_id)["status"] == "review":
        commit = driver.request_commit(import_id)
        if case == "commit before a stale validate redelivery":
            driver.deliver(commit)
            repeat(validate, ["duplicate"])
        else:
            driver.deliver(commit)
    if case == "commit twice":
        repeat(commit, ["duplicate"])
    if case == "S3 notification again after commit":
        repeat(notes[0], ["duplicate or ignored"])
    imp = driver.get(import_id)
    good = valid(rows)
    assert imp["status"] == "committed" and imp["result"]["created"] == len(good)
    pupils = assert_roster_is(api, good)
    assert_group_counts(api, pupils)


@pytest.mark.heavy
def test_drop_notified_twice_and_after_done_changes_nothing(api, school, driver):
    """A hands-off drop: the same S3 notification delivered twice at the
    start, and again after the import is done."""
    rows = make_rows(10)
    driver.deliver(driver.request_commit(driver.to_review(pupils_csv(rows[:2]))))  # confirms a mapping
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{school['school_id']}/pupils/nightly.csv",
                  Body=pupils_csv(rows))
    (note,) = driver.take()
    assert driver.deliver(note) == ["imported"]
    drop = api.all_pages("/api/imports")[0]
    assert drop["source"] == "drop" and drop["status"] == "done"
    assert drop["result"]["created"] == 8 and drop["result"]["unchanged"] == 2
    before = state_of(api, driver, drop["id"], school["school_id"])
    assert driver.deliver(note) == ["duplicate"]
    assert state_of(api, driver, drop["id"], school["school_id"]) == before
    assert_roster_is(api, rows)


# ---------------------------------------------------------------- email

def queue_signups(api, n):
    emails = [f"head{i}@school{i}.sch.uk" for i in range(n)]
    for i, email in enumerate(emails):
        r = api.post("/api/schools", {"name": f"School {i}", "admin": {
            "first_name": "H", "surname": "T", "email": email, "password": "correct horse battery"}}, token="")
        assert r.status_code == 201, r.body
    return emails


def sent_to(address):
    return [m for m in sent_emails() if address in m.destinations.get("ToAddresses", [])]


def test_ses_throttling_and_rejection(api, faults, no_scan):
    """One address is throttled twice, one always rejected: the throttled mail
    goes later, exactly once and not before its back-off; the rejected one is
    given up and recorded failed; the rest go at once."""
    from chalicelib.notify import outbox
    from chalicelib.notify.models import OutboxMessage
    emails = queue_signups(api, 6)
    throttled, rejected, others = emails[0], emails[1], emails[2:]
    calls = {throttled: 0, rejected: 0}

    def ses(client, op, params, go):
        if op == "SendEmail":
            to = params["Destination"]["ToAddresses"][0]
            if to in calls:
                calls[to] += 1
            if to == throttled and calls[to] <= 2:
                raise ClientError({"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}, op)
            if to == rejected:
                raise ClientError({"Error": {"Code": "MessageRejected",
                                             "Message": "Email address is not verified."}}, op)
        return go()

    faults.hook = ses
    now = time.time()
    first = outbox.send_due(now=now)
    assert first["sent"] == len(others) and first["retry"] == 1 and first["failed"] == 1
    assert all(len(sent_to(e)) == 1 for e in others)  # other mail kept flowing
    assert outbox.send_due(now=now + 1)["sent"] == 0  # back-off honoured: nothing due yet
    assert sent_to(throttled) == []
    for step in range(1, 40):
        outbox.send_due(now=now + step * 3601)
    assert len(sent_to(throttled)) == 1 and calls[throttled] == 3
    assert sent_to(rejected) == []
    assert calls[rejected] == 1  # a rejection is permanent: not tried again
    failed = outbox_for(no_scan, rejected)
    assert len(failed) == 1 and failed[0].status == "failed" and failed[0].pending is None
    assert "MessageRejected" in failed[0].last_error
    (done,) = outbox_for(no_scan, throttled)
    assert done.status == "sent" and done.attempts == 3 and done.pending is None
    assert all(len(sent_to(e)) == 1 for e in others)
    assert list(OutboxMessage.pending_index.query("pending")) == []


def outbox_for(no_scan, address):
    """The outbox messages to an address (a Scan, for this check only)."""
    from chalicelib.notify.models import OutboxMessage
    no_scan["allowed"] = True
    try:
        return list(OutboxMessage.scan(OutboxMessage.to == address, consistent_read=True))
    finally:
        no_scan["allowed"] = False


@pytest.mark.parametrize("senders", [2, pytest.param(4, marks=pytest.mark.heavy)])
def test_outbox_senders_at_once_send_each_email_once(api, atomic_moto, monkeypatch, senders):
    """Several senders read the same due messages at the same moment (a
    barrier after their query) and race to claim each one."""
    from chalicelib.notify import outbox
    from chalicelib.notify.models import OutboxMessage
    from chalicelib.core.db import batch_put
    addresses = [f"person{i}@example.org" for i in range(30)]
    # a plain message (a verification renders only for a real account's current address)
    monkeypatch.setitem(outbox.RENDERERS, "plain", lambda m: {"subject": "Hello", "text": "Hi", "html": "<p>Hi</p>"})
    batch_put([outbox.new_message("plain", "school-x", f"user{i}", a) for i, a in enumerate(addresses)])
    real_query = OutboxMessage.pending_index.query
    barrier = threading.Barrier(senders, timeout=30)

    def query_then_wait(*args, **kwargs):
        found = list(real_query(*args, **kwargs))
        barrier.wait()
        return iter(found)

    monkeypatch.setattr(OutboxMessage.pending_index, "query", query_then_wait)
    results, errors = [], []

    def run():
        try:
            results.append(outbox.send_due(limit=50))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r["sent"] for r in results) == 30 and sum(r["skipped"] for r in results) == 30 * (senders - 1)
    got = sorted(m.destinations["ToAddresses"][0] for m in sent_emails())
    assert got == sorted(addresses)  # each exactly once


# ---------------------------------------------------------------- the sweep twice

def later(**delta):
    from datetime import datetime, timedelta, timezone
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


@pytest.fixture
def memberships(api, school):
    """A group with 8 memberships ending in 10 minutes, 6 in a day and 4 with
    no end; a second group with 3 ending in 10 minutes. The sweep is run
    'an hour from now', so the 11 have expired and 10 are live."""
    pupils = []
    for i in range(18):
        r = api.post("/api/pupils", {"first_name": f"M{i:02d}", "surname": "Member", "date_of_birth": "01/02/2015",
                                     "year_group": "5"})
        assert r.status_code == 201, r.body
        pupils.append(r.data["id"])
    g1 = api.post("/api/groups", {"name": "Catch-up"}).data
    g2 = api.post("/api/groups", {"name": "Reading"}).data
    for ids, until, group in [(pupils[:8], later(minutes=10), g1), (pupils[8:14], later(days=1), g1),
                              (pupils[14:], None, g1), (pupils[:3], later(minutes=10), g2)]:
        r = api.post(f"/api/groups/{group['id']}/members", {"member_ids": ids, "until": until})
        assert r.status_code == 200, r.body
    return SimpleNamespace(pupils=pupils, g1=g1, g2=g2, expired={g1["id"]: set(pupils[:8]), g2["id"]: set(pupils[:3])},
                           live={g1["id"]: set(pupils[8:]), g2["id"]: set()})


def assert_swept(api, school, ms):
    from chalicelib.membership.models import Membership
    for gid in (ms.g1["id"], ms.g2["id"]):
        left = {m.member_id for m in Membership.query(f"{school['school_id']}#{gid}", consistent_read=True)}
        assert left == ms.live[gid]
    counts = {g["id"]: g["member_count"] for g in api.get("/api/groups").data["items"] if not g["system"]}
    assert counts == {ms.g1["id"]: 10, ms.g2["id"]: 0}
    removals = [e for e in api.all_pages("/api/audit") if e["actor_id"] == "system"]
    assert sorted(e["record_id"] for e in removals) == sorted(
        f"{gid}/{m}" for gid, ids in ms.expired.items() for m in ids)  # each removal audited once


@pytest.mark.parametrize("how", ["two threads", "interleaved"])
def test_sweep_twice_at_once_then_again(api, school, memberships, atomic_moto, monkeypatch, how):
    from chalicelib.groups import members as group_members
    from chalicelib.membership.models import Membership
    sweep_at = time.time() + 3600
    real_query = Membership.by_expiry.query
    results, errors = [], []

    def run():
        try:
            results.append(group_members.sweep_expired(now=sweep_at))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    if how == "two threads":
        barrier = threading.Barrier(2, timeout=30)

        def query_then_wait(*args, **kwargs):
            found = list(real_query(*args, **kwargs))
            barrier.wait()  # both sweeps have read all 11 before either deletes
            return iter(found)
        monkeypatch.setattr(Membership.by_expiry, "query", query_then_wait)
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    else:
        nested = {"done": False}

        def query_then_other_sweep(*args, **kwargs):
            found = list(real_query(*args, **kwargs))
            if not nested["done"]:
                nested["done"] = True
                run()  # a whole second sweep between this one's read and its deletes
            return iter(found)
        monkeypatch.setattr(Membership.by_expiry, "query", query_then_other_sweep)
        run()
    assert errors == []
    assert sum(r["removed"] for r in results) == 11 and sum(r["skipped"] for r in results) == 11
    monkeypatch.setattr(Membership.by_expiry, "query", real_query)
    assert group_members.sweep_expired(now=sweep_at) == {"removed": 0, "skipped": 0}  # and again in a row
    assert group_members.sweep_expired(now=sweep_at + 1) == {"removed": 0, "skipped": 0}
    assert_swept(api, school, memberships)
