"""Roster exports of any size: the CSV in the response while it fits one,
else a short-lived link to a stored copy (303 on GET; the console asks for
the link with POST /api/exports). Each school only ever gets its own."""
import csv
import io

import pytest
import requests

from chalicelib.core import config, downloads


def add_pupils(api, names, token=None):
    for first, surname in names:
        r = api.post("/api/pupils", {"first_name": first, "surname": surname, "date_of_birth": "01/02/2015",
                                     "year_group": "5"}, token=token)
        assert r.status_code == 201, r.body


def rows_of(text):
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def names_in(text):
    return sorted((r[0], r[1]) for r in rows_of(text)[1:])


def fetch(url):
    got = requests.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["Content-Disposition"].startswith("attachment; filename=\"schoolroll-")
    return got.content.decode("utf-8")


def stored_keys():
    import boto3
    s3 = boto3.client("s3", region_name=config.region())
    listed = s3.list_objects_v2(Bucket=config.bucket_name(), Prefix=config.EXPORT_PREFIX)
    return [o["Key"] for o in listed.get("Contents", [])]


PUPILS = [("Zoë", "Smith"), ("Adam", "Jones"), ("=1+1", "Evans")]


def test_the_console_link_downloads_the_same_csv_the_get_route_sends(api, admin):
    add_pupils(api, PUPILS)
    inline = api.get("/api/pupils/export")
    assert inline.status_code == 200
    made = api.post("/api/exports", {"kind": "pupils"})
    assert made.status_code == 201, made.body
    assert made.data["kind"] == "pupils" and made.data["filename"].endswith(".csv")
    text = fetch(made.data["url"])
    assert text == inline.body.decode("utf-8") and made.data["bytes"] == len(inline.body)
    assert names_in(text) == sorted([("Zoë", "Smith"), ("Adam", "Jones"), ("'=1+1", "Evans")])
    (key,) = stored_keys()
    assert key.startswith(f"{config.EXPORT_PREFIX}{admin['school_id']}/")


def test_an_export_too_big_for_a_response_is_a_redirect_to_a_stored_copy(api, admin, monkeypatch):
    add_pupils(api, PUPILS)
    small = api.get("/api/staff/export").body.decode("utf-8")
    whole = api.get("/api/pupils/export").body.decode("utf-8")
    monkeypatch.setattr(downloads, "INLINE_MAX_BYTES", len(small.encode()) + 1)  # staff fit, pupils don't
    assert api.get("/api/staff/export").status_code == 200
    r = api.get("/api/pupils/export")
    assert r.status_code == 303, r.body
    assert r.data["url"] == r.headers["Location"] and "too big" in r.data["message"]
    assert fetch(r.headers["Location"]) == whole


def test_a_link_lasts_minutes_and_each_export_is_a_new_file(api, admin):
    first = api.post("/api/exports", {"kind": "staff"}).data
    second = api.post("/api/exports", {"kind": "staff"}).data
    assert first["url"] != second["url"] and len(stored_keys()) == 2
    assert f"X-Amz-Expires={config.EXPORT_LINK_SECONDS}" in first["url"]
    assert names_in(fetch(first["url"])) == [("Ada", "Admin")]


def test_each_school_exports_only_its_own_roster(api, signup):
    a, b = signup("Oak School"), signup("Elm School")
    add_pupils(api, [("Anna", "Oak")], token=a["token"])
    add_pupils(api, [("Ben", "Elm")], token=b["token"])
    made = api.post("/api/exports", {"kind": "pupils"}, token=b["token"]).data
    assert names_in(fetch(made["url"])) == [("Ben", "Elm")]
    assert "/" + b["school_id"] + "/" in made["url"] and a["school_id"] not in made["url"]
    staff = api.post("/api/exports", {"kind": "staff"}, token=b["token"]).data
    assert [r[2] for r in rows_of(fetch(staff["url"]))[1:]] == [b["email"]]


@pytest.mark.parametrize("body", [{"kind": "machines"}, {"kind": ""}, {}, {"kind": ["pupils"]}])
def test_an_unknown_kind_is_refused_and_nothing_is_stored(api, admin, body):
    r = api.post("/api/exports", body)
    assert r.status_code == 422 and r.data["code"] == "validation_failed", r.body
    assert stored_keys() == []


def test_a_governor_cannot_export(api, admin, member):
    governor = member(admin, user_group="Governors")
    r = api.post("/api/exports", {"kind": "pupils"}, token=governor["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied"
    assert stored_keys() == []


def test_the_audit_log_says_who_exported_what(api, admin):
    add_pupils(api, PUPILS)
    api.get("/api/pupils/export")
    api.post("/api/exports", {"kind": "staff"})
    entries = api.get("/api/audit").data["items"]
    exported = [(e["action"], e["record_type"], e["changes"], e["actor_name"]) for e in entries
                if e["action"] == "export"]
    assert exported == [("export", "staff", {"rows": [None, 1]}, "Ada Admin"),
                        ("export", "pupils", {"rows": [None, 3]}, "Ada Admin")]  # newest first
    assert entries[0]["record_id"].startswith("schoolroll-staff-")
