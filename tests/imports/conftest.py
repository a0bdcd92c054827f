"""Drive imports the way production does: presigned POST into (moto's) S3,
S3's real ObjectCreated notification into SQS, and the event pump handing
the queue's messages to the very import handler Lambda would call."""
import pytest
import requests
from stdnum.gb.upn import calc_check_digit

from chalicelib.core import config


@pytest.fixture
def pump(app):
    from chalicelib.core import queue
    from devstack.pump import Pump
    queue.reset_clients()
    return Pump(app, seconds_per_minute=1, print_mail=False)


def drain(pump, rounds=50):
    """Deliver queued messages until the queue stays empty."""
    return pump.drain(rounds)


class Importer:
    def __init__(self, api, pump):
        self.api, self.pump = api, pump

    def upload(self, kind, data, filename="file.csv", token=None):
        r = self.api.post("/api/imports", {"kind": kind, "filename": filename}, token=token)
        assert r.status_code == 201, r.body
        up = r.data["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": (filename, data)})
        assert posted.status_code in (200, 201, 204), posted.text
        drain(self.pump)
        return self.get(r.data["import_id"], token=token)

    def get(self, import_id, token=None):
        r = self.api.get(f"/api/imports/{import_id}", token=token)
        assert r.status_code == 200, r.body
        return r.data

    def map(self, imp, mapping=None, token=None):
        mapping = mapping if mapping is not None else imp["suggested_mapping"]
        r = self.api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": mapping}, token=token)
        assert r.status_code == 200, r.body
        drain(self.pump)
        return self.get(imp["id"], token=token)

    def commit(self, imp, token=None):
        r = self.api.post(f"/api/imports/{imp['id']}/commit", token=token)
        assert r.status_code == 200, r.body
        drain(self.pump)
        return self.get(imp["id"], token=token)

    def rows(self, imp, only="errors", token=None):
        return self.api.all_pages(f"/api/imports/{imp['id']}/rows?only={only}", token=token)

    def full(self, kind, data, filename="file.csv", mapping=None):
        imp = self.upload(kind, data, filename)
        assert imp["status"] == "mapping", imp
        imp = self.map(imp, mapping)
        assert imp["status"] == "review", imp
        return self.commit(imp)


@pytest.fixture
def importer(api, pump, admin):
    return Importer(api, pump)


def data(name):
    import os
    with open(os.path.join(os.path.dirname(__file__), "..", "data", name), "rb") as fh:
        return fh.read()


def upn(n):
    body = f"94012342{n:03d}1"[:12]
    return calc_check_digit(body) + body


def pupils_csv(rows):
    lines = ["First name,Surname,Date of birth,Gender,Year group,Registration group,UPN"]
    lines += [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


ROWS = [("Zoë", "Smith", "01/02/2015", "F", "Year 5", "5B", upn(1)),
        ("Adam", "Jones", "2014-03-04", "M", "5", "5A", upn(2)),
        ("Siân", "Evans", "3/4/15", "Female", "Y5", "5A", "")]


def roster_writes(calls):
    from tests.conftest import DYNAMO_WRITES, tables_of
    names = {config.table_name(t) for t in ("pupils", "uniques", "users", "logins")}
    return [(op, tables_of(params)) for op, params in calls
            if op in DYNAMO_WRITES and tables_of(params) & names]


def bundle(name, replace=None, drop=(), folder=""):
    """The zip of the bundle in tests/data/bundles/<name> (each file as
    written there), with ``replace`` {file: text} and without ``drop``;
    ``folder``: the files under a folder inside the zip, as a zipped export is."""
    import io
    import os
    import zipfile
    root = os.path.join(os.path.dirname(__file__), "..", "data", "bundles", name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for file in sorted(os.listdir(root)):
            if file not in drop and file not in (replace or {}):
                book.write(os.path.join(root, file), folder + file)
        for file, text in (replace or {}).items():
            book.writestr(folder + file, text)
    return out.getvalue()


def zipped(members, compress=None):
    """A zip of {name: text or bytes}, as written (deflated unless ``compress`` says)."""
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED if compress is None else compress) as book:
        for name, body in members.items():
            book.writestr(name, body)
    return out.getvalue()


def bundle_file(name, file):
    return data(f"bundles/{name}/{file}").decode()
