"""Shared fixtures. Route tests run the real app through chalice.test.Client
against moto's in-process AWS (mock_aws); tables come from the models."""
import copy
import os
import re

# Before anything imports boto3/pynamodb: a fake account on a fixed region,
# and never a real endpoint.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-2",
    "STAGE": "test", "POWERTOOLS_LOG_LEVEL": "WARNING",
    # Every test signs in from 127.0.0.1, hundreds of times with a wrong password
    # on purpose: the per-address budget is tried on its own stack (tests/e2e/test_throttle.py).
    "LOGIN_MAX_FAILURES_PER_SOURCE": "100000",
    # the OpenID provider of the sign-in tests runs on loopback, over http (tests/sso.py)
    "SSO_LOOPBACK_ISSUERS": "1",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from devstack import moto_patches  # noqa: E402

moto_patches.apply()


#: the empty tables and the two-factor key as first created, copied into each
#: test's fresh moto: creating seventeen tables with their indexes and a KMS
#: key was most of a typical test's set-up
_CREATED = {}


@pytest.fixture
def aws():
    """moto's in-process AWS with every table, queue and the bucket created."""
    with mock_aws():
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.kms.models import kms_backends
        from devstack.bootstrap import create_resources
        region = os.environ["AWS_DEFAULT_REGION"]
        dynamodb = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
        if _CREATED:
            dynamodb.tables = copy.deepcopy(_CREATED["tables"])
            kms_backends[DEFAULT_ACCOUNT_ID][region] = copy.deepcopy(_CREATED["kms"])
        create_resources()  # (the tables and key there already: the rest, and a check of them)
        if not _CREATED:
            _CREATED.update(tables=copy.deepcopy(dynamodb.tables),
                            kms=copy.deepcopy(kms_backends[DEFAULT_ACCOUNT_ID][region]))
        yield


@pytest.fixture
def app(aws):
    from app import app as chalice_app
    return chalice_app


@pytest.fixture
def client(app):
    from chalice.test import Client
    with Client(app, stage_name="test") as c:
        yield c


class Api:
    """A little JSON client over chalice.test.Client."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def call(self, method, path, body=None, token=None, headers=None):
        import json
        h = {"Content-Type": "application/json"}
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        h.update(headers or {})
        fn = getattr(self.client.http, method.lower())
        kwargs = {"headers": h}
        if body is not None:
            kwargs["body"] = body if isinstance(body, (bytes, str)) else json.dumps(body)
        resp = fn(path, **kwargs)
        resp.data = json.loads(resp.body) if resp.body and resp.headers.get("Content-Type", "").startswith("application/json") else None
        return resp

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def all_pages(self, path, token=None):
        """Every item of a paged list route, following ``next`` cursors."""
        items, cursor = [], None
        while True:
            sep = "&" if "?" in path else "?"
            r = self.get(f"{path}{sep}limit=500" + (f"&next={cursor}" if cursor else ""), token=token)
            assert r.status_code == 200, (path, r.body)
            items += r.data["items"]
            cursor = r.data.get("next")
            if not cursor:
                return items

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def api(client):
    return Api(client)


def sent_emails():
    """Emails in moto's SES store (in-process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].sent_messages)


def link_token(body):
    match = re.search(r"token=([A-Za-z0-9_\-.]+)", body)
    assert match, f"no token link in: {body!r}"
    return match.group(1)


@pytest.fixture
def mailbox():
    """Runs the outbox sender and returns the emails sent so far."""
    from chalicelib.notify.outbox import send_due

    def deliver(to=None):
        send_due()
        emails = sent_emails()
        if to:
            emails = [m for m in emails if to in m.destinations.get("ToAddresses", [])]
        return emails
    return deliver


PASSWORD = "correct horse battery"


@pytest.fixture
def signup(api, mailbox):
    """Signs a school up; verify=True also verifies. Returns a dict with ids,
    email and a logged-in token."""
    counter = {"n": 0}

    def make(name="Hill School", email=None, verify=True):
        counter["n"] += 1
        email = email or f"admin{counter['n']}@{name.split()[0].lower()}.sch.uk"
        r = api.post("/api/schools", {"name": name, "admin": {
            "first_name": "Ada", "surname": "Admin", "email": email, "password": PASSWORD}})
        assert r.status_code == 201, r.body
        out = dict(r.data, email=email)
        if verify:
            mail = mailbox(to=email)[-1]
            v = api.post("/api/auth/verify", {"token": link_token(mail.body)}, token="")
            assert v.status_code == 200, v.body
        login = api.post("/api/auth/login", {"email": email, "password": PASSWORD}, token="")
        assert login.status_code == 200, login.body
        out["token"] = login.data["token"]
        return out
    return make


@pytest.fixture
def admin(api, signup):
    """A signed-up, verified school whose admin the ``api`` client acts as."""
    school = signup()
    api.token = school["token"]
    return school


@pytest.fixture
def member(api, mailbox):
    """Adds a staff member to a school (as its admin), accepts the emailed
    invitation, signs in. Returns the staff record plus 'token'."""
    counter = {"n": 0}

    def make(school, user_group="Teachers", first_name="Sam", surname=None):
        counter["n"] += 1
        email = f"staff{counter['n']}.{school['school_id'][:6]}@example.org"
        r = api.post("/api/staff", {"first_name": first_name, "surname": surname or f"Member{counter['n']}",
                                    "email": email, "user_group": user_group}, token=school["token"])
        assert r.status_code == 201, r.body
        invite = mailbox(to=email)[-1]
        accepted = api.post("/api/auth/accept-invite", {"token": link_token(invite.body), "password": PASSWORD}, token="")
        assert accepted.status_code == 200, accepted.body
        login = api.post("/api/auth/login", {"email": email, "password": PASSWORD}, token="")
        assert login.status_code == 200, login.body
        return dict(r.data, token=login.data["token"])
    return make


def basic(client_id, secret):
    """An HTTP Basic Authorization header for a client's credentials."""
    import base64
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def api_client(api):
    """Makes an API client of a school (as its admin) and returns a token
    for it: make(school, scopes) -> {"client_id", "client_secret", "token"}."""
    def make(school, scopes, scope=None):
        made = api.post("/api/clients", {"name": "Monitoring", "scopes": list(scopes)}, token=school["token"])
        assert made.status_code == 201, made.body
        form = "grant_type=client_credentials" + (f"&scope={scope}" if scope else "")
        issued = api.call("POST", "/api/oauth/token", form, token="", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": basic(made.data["client_id"], made.data["client_secret"])})
        assert issued.status_code == 200, issued.body
        return dict(made.data, token=issued.data["access_token"])
    return make


@pytest.fixture(scope="session")
def oidc_op():
    """A real OpenID provider on loopback for the whole run (tests/sso.py)."""
    from chalicelib.core import config
    from tests import sso
    with sso.start_provider([config.sso_redirect_uri()]) as op:
        yield op


@pytest.fixture
def fresh_oidc_caches():
    """Discovery documents and keys read anew (each test's provider state is its own)."""
    from chalicelib.accounts import oidc
    oidc.documents.clear()
    oidc.keys.clear()
    yield
    oidc.documents.clear()
    oidc.keys.clear()


@pytest.fixture(autouse=True)
def no_scan(monkeypatch):
    """Requests and schedules must never Scan: any Scan made while the app
    handles something fails the test. Tests may scan for their own checks
    by setting ``no_scan["allowed"]``. Every AWS call is also recorded in
    ``no_scan["calls"]`` as (operation, params), for tests that count them."""
    import botocore.client
    real = botocore.client.BaseClient._make_api_call
    state = {"allowed": False, "calls": []}

    def guarded(self, operation_name, api_params):
        if operation_name == "Scan" and not state["allowed"]:
            raise AssertionError("DynamoDB Scan called")
        state["calls"].append((operation_name, api_params))
        return real(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", guarded)
    return state


@pytest.fixture
def aws_calls(no_scan):
    """The AWS calls made from now on: a list of (operation, params)."""
    no_scan["calls"].clear()
    return no_scan["calls"]


DYNAMO_READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
DYNAMO_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def tables_of(params):
    """The DynamoDB tables a call's parameters name."""
    tables = set()
    if "TableName" in params:
        tables.add(params["TableName"])
    tables |= set(params.get("RequestItems") or {})
    for item in params.get("TransactItems") or []:
        tables |= {v["TableName"] for v in item.values()}
    return tables
