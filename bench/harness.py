"""Shared set-up for benchmarks: the same in-process moto the tests use, a
signed-up school, a JSON client over chalice.test, and a DynamoDB call counter."""
import contextlib
import json
import os
import re

PASSWORD = "correct horse battery"


def environment():
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
                       "AWS_DEFAULT_REGION": "eu-west-2", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    os.environ.setdefault("STAGE", "bench")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from devstack import moto_patches
    moto_patches.apply()


class Calls:
    """Counts AWS calls by operation (and DynamoDB table) via botocore."""

    def __init__(self):
        import botocore.client
        self._cls = botocore.client.BaseClient
        self._real = self._cls._make_api_call
        self.ops = []
        #: DynamoDB items put, updated, deleted or checked (a transaction's or a batch's each count)
        self.items = 0
        calls = self

        def counting(client, operation, params):
            calls.ops.append((client.meta.service_model.service_name, operation))
            calls.items += _items_written(operation, params)
            return calls._real(client, operation, params)
        self._cls._make_api_call = counting

    def dynamodb(self):
        return [op for service, op in self.ops if service == "dynamodb"]

    def clear(self):
        self.ops.clear()
        self.items = 0

    def close(self):
        self._cls._make_api_call = self._real


def _items_written(operation, params):
    if operation == "TransactWriteItems":
        return len(params.get("TransactItems") or ())
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in (params.get("RequestItems") or {}).values())
    return 1 if operation in ("PutItem", "UpdateItem", "DeleteItem") else 0


class Client:
    def __init__(self, app):
        from chalice.test import Client as ChaliceClient
        self._ctx = ChaliceClient(app, stage_name="bench")
        self.http = self._ctx.__enter__().http
        self.token = None

    def call(self, method, path, body=None, token=None, headers=None):
        """``token``: another bearer token than the signed-in admin's; ``headers``: more
        (a form body is sent as the string given)."""
        sent = {"Content-Type": "application/json"}
        if token or self.token:
            sent["Authorization"] = f"Bearer {token or self.token}"
        sent.update(headers or {})
        kwargs = {"headers": sent}
        if body is not None:
            kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
        r = getattr(self.http, method.lower())(path, **kwargs)
        r.data = json.loads(r.body) if r.body else None
        return r


def school(client, email="bench@bench.sch.uk"):
    """Sign up, verify (token from moto's SES store), sign in."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.notify.outbox import send_due
    password = PASSWORD
    r = client.call("POST", "/api/schools", {"name": "Bench School", "admin": {
        "first_name": "B", "surname": "Ench", "email": email, "password": password}})
    send_due()
    body = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].sent_messages[-1].body
    client.call("POST", "/api/auth/verify", {"token": re.search(r"token=([A-Za-z0-9_\-]+)", body).group(1)})
    client.token = client.call("POST", "/api/auth/login", {"email": email, "password": password}).data["token"]
    return r.data


def drain(pump, idle_rounds=2, limit=100_000):
    """Deliver queued messages until the queues stay empty; returns how many."""
    return pump.drain(limit, idle_rounds)


@contextlib.contextmanager
def signed_in_app():
    """A fresh in-process moto with every resource, and (JSON client of a
    signed-in school, event pump) over the app."""
    from moto import mock_aws
    with mock_aws():
        from devstack.bootstrap import create_resources
        create_resources()
        from app import app
        from chalicelib.core import queue
        from devstack.pump import Pump
        queue.reset_clients()
        client = Client(app)
        school(client)
        yield client, Pump(app, seconds_per_minute=1, print_mail=False)
