"""End to end on the real local stack: HTTP to the app, the app to moto over
HTTP, the pump running the scheduled outbox sender, mail read from moto's SES
store."""
import re
import time

import pytest
import requests

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def wait_for_mail(stack, to, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        data = requests.get(f"http://127.0.0.1:{stack.aws_port}/moto-api/data.json", timeout=5).json()
        for message in data.get("ses", {}).get("Message", []):
            if to in message["destinations"]["ToAddresses"]:
                return message
        time.sleep(0.3)
    raise AssertionError(f"no email to {to} within {seconds}s")


def test_sign_up_email_verify_login_logout(stack):
    base = f"http://127.0.0.1:{stack.port}"
    assert requests.get(f"{base}/api/health").json() == {"status": "ok"}
    r = requests.post(f"{base}/api/schools", json={"name": "Rowan Academy", "admin": {
        "first_name": "Rae", "surname": "Head", "email": "head@rowan.sch.uk", "password": PASSWORD}})
    assert r.status_code == 201, r.text

    mail = wait_for_mail(stack, "head@rowan.sch.uk")
    assert "Confirm your email" in mail["subject"]
    link = re.search(r'https?://[^\s"<>]+token=[A-Za-z0-9_.\-]+', mail["body"]).group(0)
    assert link.startswith(f"{base}/#action=verify&token=")
    token = link.split("token=")[1]

    login = requests.post(f"{base}/api/auth/login", json={"email": "head@rowan.sch.uk", "password": PASSWORD})
    assert login.status_code == 200
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    assert requests.get(f"{base}/api/me", headers=auth).json()["email_verified"] is False

    assert requests.post(f"{base}/api/auth/verify", json={"token": token}).status_code == 200
    me = requests.get(f"{base}/api/me", headers=auth).json()
    assert me["email_verified"] is True and me["school"]["name"] == "Rowan Academy"

    assert requests.post(f"{base}/api/auth/logout", headers=auth).status_code == 200
    after = requests.get(f"{base}/api/me", headers=auth)
    assert after.status_code == 401 and after.json()["code"] == "unauthorized"


def test_unknown_routes_and_the_console(stack):
    base = f"http://127.0.0.1:{stack.port}"
    for path in ("/api/nope", "/nothing/here"):
        r = requests.get(base + path)
        assert r.status_code == 404 and r.json()["code"] == "not_found", path
    r = requests.get(base + "/api/nope", headers={"Authorization": "Bearer x"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = requests.patch(f"{base}/api/health")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    page = requests.get(base + "/")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for asset in ("app.js", "home.js", "imports.js", "groups.js", "account.js", "console.css"):
        assert requests.get(base + "/assets/" + asset).status_code == 200, asset
    missing = requests.get(base + "/assets/nope.js")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_csv_import_through_the_local_stack(stack):
    """Presigned POST to the moto server, moto's real S3 -> SQS notification,
    the pump calling the import worker, mapping, commit."""
    base = f"http://127.0.0.1:{stack.port}"
    email = "head@birch.sch.uk"
    requests.post(f"{base}/api/schools", json={"name": "Birch", "admin": {
        "first_name": "B", "surname": "Head", "email": email, "password": PASSWORD}})
    mail = wait_for_mail(stack, email)
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"]).group(1)
    requests.post(f"{base}/api/auth/verify", json={"token": token})
    login = requests.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {login['token']}"}

    started = requests.post(f"{base}/api/imports", json={"kind": "pupils", "filename": "p.csv"}, headers=auth).json()
    assert started["upload"]["url"].startswith(f"http://127.0.0.1:{stack.aws_port}/")
    csv = "First name,Surname,Date of birth,Year group\nZoë,Smith,01/02/2015,Year 5\nAdam,Jones,3/4/15,5\n"
    posted = requests.post(started["upload"]["url"], data=started["upload"]["fields"],
                           files={"file": ("p.csv", csv.encode("utf-8"))})
    assert posted.status_code in (200, 204), posted.text

    def wait(status):
        deadline = time.time() + 30
        while time.time() < deadline:
            imp = requests.get(f"{base}/api/imports/{started['import_id']}", headers=auth).json()
            if imp["status"] == status:
                return imp
            assert imp["status"] != "failed", imp
            time.sleep(0.3)
        raise AssertionError(f"import never reached {status}: {imp}")

    imp = wait("mapping")
    requests.put(f"{base}/api/imports/{imp['id']}/mapping", json={"mapping": imp["suggested_mapping"]}, headers=auth)
    imp = wait("review")
    assert imp["summary"]["create"] == 2
    requests.post(f"{base}/api/imports/{imp['id']}/commit", headers=auth)
    imp = wait("committed")
    pupils = requests.get(f"{base}/api/pupils", headers=auth).json()["items"]
    assert sorted(p["first_name"] for p in pupils) == ["Adam", "Zoë"]
