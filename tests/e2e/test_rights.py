"""Rights that can't be bent (issue 14), each finding tried over HTTP on the
real local stack, as an attacker inside the school would: an SLT (who may
manage the roster but not settings) trying every way to make or unmake an
admin, a link outliving the address it was sent to, tampered cursors, and the
headers a browser needs."""
import base64
import json
import re
import time

import pytest
import requests

from tests.e2e.helpers import Http
from tests.e2e.test_local_stack import PASSWORD, wait_for_mail

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def oak(stack):
    """A school with its admin, an SLT and a second admin (invited, not yet accepted)."""
    http = Http(stack)
    admin = http.school("oakrights")
    slt, slt_token = http.staff(admin, "slt@oakrights.sch.uk", "SLTs")
    other_admin, _ = http.staff(admin, "admin2@oakrights.sch.uk", "Admin Team", accept=False)
    return dict(http=http, admin=admin, slt=slt, slt_token=slt_token, other_admin=other_admin)


def _refused(r, missing="manage_settings"):
    assert r.status_code == 403, (r.status_code, r.text)
    body = r.json()
    assert body["code"] == "exceeds_caller_rights" and missing in body["missing"] and missing in body["message"]


def test_an_slt_cannot_create_an_admin(oak):
    http = oak["http"]
    r = http.call("POST", "/api/staff", oak["slt_token"], json={
        "first_name": "My", "surname": "Other", "email": "my-other@example.org", "user_group": "Admin Team"})
    _refused(r)
    # nothing was written: no staff member, no invitation
    staff = http.call("GET", "/api/staff?q=other", oak["admin"]).json()["items"]
    assert not [s for s in staff if s["email"] == "my-other@example.org"]
    assert http.mails_to("my-other@example.org") == []
    # within the ceiling it works
    r = http.call("POST", "/api/staff", oak["slt_token"], json={
        "first_name": "Tia", "surname": "Ta", "email": "tia@example.org", "user_group": "TAs"})
    assert r.status_code == 201, r.text


def test_an_slt_cannot_retarget_resend_or_delete_an_admin(oak):
    http, target = oak["http"], oak["other_admin"]
    r = http.call("PATCH", f"/api/staff/{target['id']}", oak["slt_token"],
                  json={"version": target["version"], "email": "slt-alt@example.org"})
    _refused(r)
    _refused(http.call("POST", f"/api/staff/{target['id']}/invite", oak["slt_token"]))
    _refused(http.call("DELETE", f"/api/staff/{target['id']}", oak["slt_token"]))
    me = http.call("GET", f"/api/staff/{oak['slt']['id']}", oak["slt_token"]).json()
    _refused(http.call("PATCH", f"/api/staff/{me['id']}", oak["slt_token"],
                       json={"version": me["version"], "user_group": "Admin Team"}))
    after = http.call("GET", f"/api/staff/{target['id']}", oak["admin"]).json()
    assert after["email"] == "admin2@oakrights.sch.uk" and after["user_group"] == "Admin Team"


def test_an_slts_staff_import_naming_admin_team_is_refused_row_by_row(oak):
    http = oak["http"]
    imp = http.import_to_review(oak["slt_token"], "First name,Surname,Email,User group\n"
                                "Eve,Sneak,eve.sneak@example.org,Admin Team\n"
                                "Tom,Fine,tom.fine@example.org,Teachers\n")
    assert imp["summary"]["errors"] == 1 and imp["summary"]["create"] == 1, imp["summary"]
    (row,) = http.rows(oak["slt_token"], imp["id"])
    assert row["errors"][0]["field"] == "user_group" and row["errors"][0]["code"] == "exceeds_caller_rights"
    assert http.call("POST", f"/api/imports/{imp['id']}/commit", oak["slt_token"]).status_code == 200
    done = http.wait_import(oak["slt_token"], imp["id"], "committed")
    assert done["result"]["created"] == 1
    emails = {s["email"] for s in http.call("GET", "/api/staff?limit=500", oak["admin"]).json()["items"]}
    assert "tom.fine@example.org" in emails and "eve.sneak@example.org" not in emails


def test_an_slt_cannot_escalate_through_an_admins_import(oak):
    """The admin's file has one bad row; the SLT fixes it to their own new
    address in Admin Team and commits: the fix is refused, and so is the
    commit of the admin's own Admin Team row, now done with the SLT's rights."""
    http = oak["http"]
    imp = http.import_to_review(oak["admin"], "First name,Surname,Email,User group\n"
                                "Bad,Row,not-an-email,Teachers\n"
                                "New,Admin,new.admin@example.org,Admin Team\n")
    assert imp["summary"]["errors"] == 1 and imp["summary"]["create"] == 1, imp["summary"]
    (bad,) = http.rows(oak["admin"], imp["id"])
    r = http.call("PATCH", f"/api/imports/{imp['id']}/rows/{bad['row']}", oak["slt_token"],
                  json={"values": {"email": "slt-second@example.org", "user_group": "Admin Team"}})
    assert r.status_code == 200, r.text
    assert [e["code"] for e in r.json()["errors"]] == ["exceeds_caller_rights"] and r.json()["status"] == "error"
    assert http.call("POST", f"/api/imports/{imp['id']}/commit", oak["slt_token"]).status_code == 200
    done = http.wait_import(oak["admin"], imp["id"], "committed")
    assert done["result"]["created"] == 0 and done["result"]["refused"] >= 1, done["result"]
    emails = {s["email"] for s in http.call("GET", "/api/staff?limit=500", oak["admin"]).json()["items"]}
    assert not emails & {"slt-second@example.org", "new.admin@example.org"}
    refused = {r["values"].get("email"): r["errors"][0]["code"] for r in http.rows(oak["admin"], imp["id"])}
    assert refused.get("new.admin@example.org") == "exceeds_caller_rights"


def test_an_invitation_dies_with_the_address_it_was_sent_to(oak):
    http, admin = oak["http"], oak["admin"]
    tom, _ = http.staff(admin, "tom@wrong.example.org", "Teachers", accept=False)
    wrong_link = http.link_token("tom@wrong.example.org")
    r = http.call("PATCH", f"/api/staff/{tom['id']}", admin, json={"version": tom["version"], "email": "tom@right.example.org"})
    assert r.status_code == 200 and r.json()["email_verified"] is False
    used = http.call("POST", "/api/auth/accept-invite", json={"token": wrong_link, "password": PASSWORD})
    assert used.status_code == 400 and used.json()["code"] == "invalid_token"
    assert "right.example" not in used.text
    # the new address gets a working link by a fresh invitation, once
    assert http.call("POST", f"/api/staff/{tom['id']}/invite", admin).json()["queued"] is True
    right_link = http.link_token("tom@right.example.org")
    ok = http.call("POST", "/api/auth/accept-invite", json={"token": right_link, "password": PASSWORD})
    assert ok.status_code == 200 and "email" not in ok.json()
    again = http.call("POST", "/api/auth/accept-invite", json={"token": right_link, "password": PASSWORD})
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    assert http.login("tom@right.example.org")


def test_a_queued_invitation_to_an_old_address_is_never_sent(oak):
    http, admin = oak["http"], oak["admin"]
    r = http.call("POST", "/api/staff", admin, json={"first_name": "Quick", "surname": "Fix",
                                                      "email": "quick@typo.example.org", "user_group": "TAs"})
    staff = r.json()
    http.call("PATCH", f"/api/staff/{staff['id']}", admin, json={"version": staff["version"], "email": "quick@fixed.example.org"})
    http.call("POST", f"/api/staff/{staff['id']}/invite", admin)
    http.link_token("quick@fixed.example.org")  # the new address's email is out, so the old one's turn came
    assert http.mails_to("quick@typo.example.org") == []


def _cursor(state):
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def test_tampered_cursors_are_400_bad_cursor(oak):
    http, admin = oak["http"], oak["admin"]
    for i in range(3):
        http.call("POST", "/api/pupils", admin, json={"first_name": f"P{i}", "surname": "Cursor",
                                                       "date_of_birth": "2015-01-01", "year_group": "5"})
    pupils_next = http.call("GET", "/api/pupils?limit=1", admin).json()["next"]
    school_id = json.loads(base64.urlsafe_b64decode(pupils_next + "=" * (-len(pupils_next) % 4)))["school_id"]
    cases = [
        ("/api/pupils", _cursor({"school_id": school_id, "pupil_id": "x", "sort_name": "a", "nope": "1"})),
        ("/api/staff", pupils_next),  # a pupils cursor on the staff list
        ("/api/audit", _cursor({"school_id": school_id})),  # without its key
        ("/api/pupils", _cursor({"school_id": school_id, "pupil_id": 5, "sort_name": "a"})),
        ("/api/pupils", _cursor([1, 2])),
        ("/api/imports", _cursor({"school_id": school_id, "import_id": {"S": "x"}})),
    ]
    for path, cursor in cases:
        r = http.call("GET", f"{path}?next={cursor}", admin)
        assert r.status_code == 400 and r.json()["code"] == "bad_cursor", (path, r.status_code, r.text)


def test_look_alike_emails_are_one_address(oak):
    import unicodedata
    http, admin = oak["http"], oak["admin"]
    composed = unicodedata.normalize("NFC", "josé@oakrights.sch.uk")
    decomposed = unicodedata.normalize("NFD", "José@oakrights.sch.uk")
    r = http.call("POST", "/api/staff", admin, json={"first_name": "José", "surname": "A", "email": composed})
    assert r.status_code == 201, r.text
    r = http.call("POST", "/api/staff", admin, json={"first_name": "José", "surname": "B", "email": decomposed})
    assert r.status_code == 409 and r.json()["code"] == "duplicate_email", r.text


def test_the_console_and_the_api_send_safe_headers(oak):
    http = oak["http"]
    page = http.call("GET", "/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page.text  # every script is a file the CSP allows
    assert "Strict-Transport-Security" not in page.headers  # plain HTTP on loopback
    https = http.call("GET", "/", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")
    me = http.call("GET", "/api/me", oak["admin"])
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    denied = http.call("GET", "/api/me")
    assert denied.status_code == 401 and denied.headers["Cache-Control"] == "no-store"
