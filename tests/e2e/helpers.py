"""Shared steps of the end-to-end tests."""
import re
import time

import boto3
import requests

from tests.e2e.test_local_stack import PASSWORD, wait_for_mail


def school_token(stack, email, name="Oak Primary", first_name="Olu"):
    """Sign a school up through the API, verify it from the emailed link, sign
    in; returns the bearer token."""
    base = f"http://127.0.0.1:{stack.port}"
    r = requests.post(f"{base}/api/schools", json={"name": name, "admin": {
        "first_name": first_name, "surname": "Head", "email": email, "password": PASSWORD}})
    assert r.status_code == 201, r.text
    mail = wait_for_mail(stack, email)
    token = re.search(r"token=([A-Za-z0-9_\-.]+)", mail["body"]).group(1)
    assert requests.post(f"{base}/api/auth/verify", json={"token": token}).status_code == 200
    login = requests.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()["token"]


class Http:
    """A JSON client of the local stack for one school."""

    def __init__(self, stack):
        self.stack = stack
        self.base = f"http://127.0.0.1:{stack.port}"

    def call(self, method, path, token=None, headers=None, **kw):
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def link_token(self, to, after=0):
        """The token of the newest email to ``to`` (waiting for the ``after``+1-th)."""
        deadline = time.time() + 20
        while time.time() < deadline:
            data = requests.get(f"http://127.0.0.1:{self.stack.aws_port}/moto-api/data.json", timeout=5).json()
            mails = [m for m in data.get("ses", {}).get("Message", []) if to in m["destinations"]["ToAddresses"]]
            if len(mails) > after:
                return re.search(r"token=([A-Za-z0-9_\-.]+)", mails[-1]["body"]).group(1)
            time.sleep(0.3)
        raise AssertionError(f"no email {after + 1} to {to}")

    def mails_to(self, to):
        data = requests.get(f"http://127.0.0.1:{self.stack.aws_port}/moto-api/data.json", timeout=5).json()
        return [m for m in data.get("ses", {}).get("Message", []) if to in m["destinations"]["ToAddresses"]]

    def school(self, tag):
        email = f"head@{tag}.sch.uk"
        r = self.call("POST", "/api/schools", json={"name": f"{tag.title()} School", "admin": {
            "first_name": "Ada", "surname": "Head", "email": email, "password": PASSWORD}})
        assert r.status_code == 201, r.text
        assert self.call("POST", "/api/auth/verify", json={"token": self.link_token(email)}).status_code == 200
        return self.login(email)

    def login(self, email):
        r = self.call("POST", "/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def staff(self, token, email, user_group, accept=True):
        r = self.call("POST", "/api/staff", token, json={"first_name": "Sam", "surname": user_group.split()[0],
                                                          "email": email, "user_group": user_group})
        assert r.status_code == 201, r.text
        if accept:
            ok = self.call("POST", "/api/auth/accept-invite",
                           json={"token": self.link_token(email), "password": PASSWORD})
            assert ok.status_code == 200, ok.text
            return r.json(), self.login(email)
        return r.json(), None

    def wait_import(self, token, import_id, status):
        deadline = time.time() + 30
        while time.time() < deadline:
            imp = self.call("GET", f"/api/imports/{import_id}", token).json()
            if imp["status"] == status:
                return imp
            assert imp["status"] != "failed", imp
            time.sleep(0.3)
        raise AssertionError(f"import never reached {status}: {imp}")

    def import_to_review(self, token, csv_text):
        started = self.call("POST", "/api/imports", token, json={"kind": "staff", "filename": "s.csv"}).json()
        up = started["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": ("s.csv", csv_text.encode())})
        assert posted.status_code in (200, 204), posted.text
        imp = self.wait_import(token, started["import_id"], "mapping")
        r = self.call("PUT", f"/api/imports/{imp['id']}/mapping", token, json={"mapping": imp["suggested_mapping"]})
        assert r.status_code == 200, r.text
        return self.wait_import(token, imp["id"], "review")

    def rows(self, token, import_id):
        return self.call("GET", f"/api/imports/{import_id}/rows", token).json()["items"]


def api_import(base, auth, csv, kind="pupils", waits=150):
    """An import through the API as the console would do it, to its end
    (each step waited for up to ``waits`` times 0.2 s)."""
    started = requests.post(f"{base}/api/imports", json={"kind": kind, "filename": f"{kind}.csv"}, headers=auth).json()
    up = started["upload"]
    assert requests.post(up["url"], data=up["fields"], files={"file": (f"{kind}.csv", csv.encode())}).status_code < 300
    path = f"{base}/api/imports/{started['import_id']}"
    for want, then in (("mapping", "mapping"), ("review", "commit"), ("committed", None)):
        for _ in range(waits):
            imp = requests.get(path, headers=auth).json()
            if imp["status"] == want:
                break
            time.sleep(0.2)
        assert imp["status"] == want, imp
        if then == "mapping":
            assert requests.put(f"{path}/mapping", json={"mapping": imp["suggested_mapping"]}, headers=auth).ok
        elif then == "commit":
            assert requests.post(f"{path}/commit", headers=auth).ok


HEADER = "First name,Surname,Date of birth,Year group,Registration group,UPN\n"


def wait(check, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("never happened")


class School:
    """A signed-up school on the local stack, its admin signed in, with its drop folder."""

    def __init__(self, stack, tag):
        self.http = Http(stack)
        self.token = self.http.school(tag)
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.id = self.get("/api/me")["school"]["id"]
        self.s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="eu-west-2",
                               aws_access_key_id="local", aws_secret_access_key="local")
        self.bucket = stack.env.get("DROP_BUCKET") or f"schoolroll-{stack.env['STAGE']}-drop"
        self.nights = 0

    def call(self, method, path, **kw):
        return self.http.call(method, path, self.token, **kw)

    def get(self, path):
        r = self.call("GET", path)
        assert r.status_code == 200, r.text
        return r.json()

    def pupils(self, query=""):
        return {p["first_name"]: p for p in self.get(f"/api/pupils?limit=500{query}")["items"]}

    def drop(self, csv, status="done", kind="pupils"):
        """Put a file in the drop folder as a school's nightly job would; the import once it is ``status``."""
        self.nights += 1
        self.s3.put_object(Bucket=self.bucket, Key=f"drop/{self.id}/{kind}/night{self.nights}.csv", Body=csv.encode())

        def landed():
            items = [i for i in self.get("/api/imports?limit=5")["items"] if i["source"] == "drop"]
            done = [i for i in items if i["filename"] == f"night{self.nights}.csv" and i["status"] == status]
            return done[0] if done else None
        return wait(landed)


def school_clock(page, *minutes_ahead, tz="Europe/London"):
    """The school's clock ("HH:MM", as the console reads a time typed in)
    that many minutes ahead, and whether any of them is on another day."""
    return page.evaluate("""([tz, ahead]) => {
        const at = (m) => Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: tz, day: "2-digit",
            hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(Date.now() + m * 60000))
            .map((p) => [p.type, p.value]));
        const today = at(0).day, times = ahead.map(at);
        return [times.map((t) => t.hour + ":" + t.minute), times.some((t) => t.day !== today)];
    }""", [tz, list(minutes_ahead)])
