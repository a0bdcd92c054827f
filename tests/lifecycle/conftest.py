"""A school with pupils in several years, a teacher group, and the pump
that runs the queue's steps the way Lambda would."""
import pytest

from tests.imports.conftest import drain, pump  # noqa: F401 (the pump fixture, shared)

PUPILS = [("Rae", "Reception", "2021-05-01", "R", "RA"), ("Uma", "One", "2020-05-01", "1", "1A"),
          ("Fay", "Five", "2016-05-01", "5", "5A"), ("Fin", "Five", "2016-06-01", "5", "5B"),
          ("Sid", "Six", "2015-05-01", "6", "6A"), ("Sue", "Six", "2015-06-01", "6", "6A")]


@pytest.fixture
def school(api, admin, pump):  # noqa: F811
    """{first name: pupil} of a primary (final year 6), with a teacher group
    holding Sid (a leaver) and Fay (moving up)."""
    made = {}
    for first, surname, born, year, reg in PUPILS:
        r = api.post("/api/pupils", {"first_name": first, "surname": surname, "date_of_birth": born,
                                     "year_group": year, "registration_group": reg})
        assert r.status_code == 201, r.body
        made[first] = r.data
    assert api.patch("/api/settings", {"final_year": "6"}).status_code == 200
    group = api.post("/api/groups", {"name": "Chess club"}).data
    added = api.post(f"/api/groups/{group['id']}/members", {"member_ids": [made["Sid"]["id"], made["Fay"]["id"]]})
    assert added.status_code == 200, added.body
    made["_group"] = group
    return made


def pupils_now(api):
    return {p["first_name"]: p for p in api.all_pages("/api/pupils")}


def members(api, group):
    return sorted(m["name"] for m in api.get(f"/api/groups/{group['id']}/members").data["items"])


def counts(api):
    return {g["name"]: g["member_count"] for g in api.get("/api/groups").data["items"]}
