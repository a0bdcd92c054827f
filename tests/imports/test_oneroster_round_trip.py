"""A school exported as a OneRoster 1.2 CSV bundle (GET /api/exports/oneroster)
and read back into a new school by the bundle import: the same pupils, staff,
classes and memberships."""
import io
import zipfile
from urllib.parse import urlparse

import boto3

from chalicelib.core import config
from tests.imports.test_bundles import choose


def exported(api, token=None):
    r = api.get("/api/exports/oneroster?link=json", token=token)
    assert r.status_code == 200, r.body
    key = urlparse(r.data["url"]).path.split(f"/{config.bucket_name()}/", 1)[-1].lstrip("/")
    if key.startswith(config.bucket_name() + "/"):
        key = key[len(config.bucket_name()) + 1:]
    body = boto3.client("s3", region_name=config.region()).get_object(Bucket=config.bucket_name(), Key=key)["Body"]
    return r.data, body.read()


def test_the_bundle_has_every_file_and_a_manifest(api, admin):
    api.post("/api/pupils", {"first_name": "Ada", "surname": "Pupil", "date_of_birth": "2014-02-03", "year_group": "7"})
    link, data = exported(api)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv",
                     "roles.csv", "enrollments.csv", "demographics.csv"]
    assert link["files"]["users"] == 2 and link["filename"].endswith(".zip")
    assert api.get("/api/exports/oneroster").status_code == 303
    assert "export" in [e["action"] for e in api.get("/api/audit?entity=oneroster").data["items"]]


def test_only_manage_settings_exports_it(api, admin, member):
    slt = member(admin, "SLTs")
    assert api.get("/api/exports/oneroster?link=json", token=slt["token"]).status_code == 403


def test_a_round_trip_into_a_new_school(api, importer, admin, member, signup):
    pupils = {}
    for first, year, gender, reg in (("Amara", "3", "F", "3A"), ("Ben", "R", "M", ""), ("Cleo", "11", "", "11C")):
        r = api.post("/api/pupils", {"first_name": first, "surname": "Okafor", "date_of_birth": "2015-06-07",
                                     "year_group": year, "gender": gender or None, "registration_group": reg or None})
        assert r.status_code == 201, r.body
        pupils[first] = r.data
    teacher = member(admin, "Teachers", first_name="Grace", surname="Hopper")
    aide = member(admin, "TAs", first_name="Jo", surname="Marsh")
    group = api.post("/api/groups", {"name": "Chess club"}, token=teacher["token"]).data
    added = api.post(f"/api/groups/{group['id']}/members", {"member_ids": [pupils["Amara"]["id"], pupils["Ben"]["id"]]},
                     token=teacher["token"])
    assert added.status_code == 200, added.body
    _link, data = exported(api)
    # emails sign people in, so they are unique across the service: the old school's staff go first
    for person in (teacher, aide):
        assert api.delete(f"/api/staff/{person['id']}").status_code == 200

    other = signup("Birch School")
    imp = importer.upload("bundle", data, filename="oneroster.zip", token=other["token"])
    assert imp["bundle"]["flavour"] == "oneroster_1.2", imp
    imp = choose(api, importer, imp, token=other["token"], org=admin["school_id"])
    assert imp["status"] == "review", imp.get("error")
    done = importer.commit(imp, token=other["token"])
    assert done["status"] == "committed", done
    refused = importer.rows({"id": imp["parts"]["staff"]}, token=other["token"])
    assert [r["values"]["email"] for r in refused] == [admin["email"]]  # the exporting admin's, still taken

    got = {p["first_name"]: p for p in api.all_pages("/api/pupils", token=other["token"])}
    for first, was in pupils.items():
        now = got[first]
        assert (now["surname"], now["date_of_birth"], now["year_group"], now["gender"]) == \
            (was["surname"], was["date_of_birth"], was["year_group"], was["gender"]), first
        assert now["external_id"] == was["id"]  # the sourcedId it came with
    staff = {s["first_name"]: s for s in api.all_pages("/api/staff", token=other["token"])}
    assert (staff["Grace"]["user_group"], staff["Jo"]["user_group"]) == ("Teachers", "TAs")
    classes = [g for g in api.get("/api/groups", token=other["token"]).data["items"] if g["name"].startswith("Chess club")]
    assert len(classes) == 1, classes
    members = api.get(f"/api/groups/{classes[0]['id']}/members", token=other["token"]).data["items"]
    assert sorted(x["name"] for x in members) == ["Amara Okafor", "Ben Okafor"]
    roles = api.get(f"/api/groups/{classes[0]['id']}/staff", token=other["token"]).data["items"]
    assert [r["name"] for r in roles if r["role"] == "owner"] == ["Grace Hopper"]


def test_a_formula_in_a_name_is_guarded_in_the_bundle_and_read_back_as_it_was(api, importer, admin, signup):
    r = api.post("/api/pupils", {"first_name": "=HYPERLINK(\"http://x\")", "surname": "Smith",
                                 "date_of_birth": "2015-06-07", "year_group": "3"})
    assert r.status_code == 201, r.body
    _link, data = exported(api)
    users = zipfile.ZipFile(io.BytesIO(data)).read("users.csv").decode()
    assert "'=HYPERLINK" in users and ",=HYPERLINK" not in users
    other = signup("Ash School")
    imp = choose(api, importer, importer.upload("bundle", data, filename="b.zip", token=other["token"]),
                 token=other["token"], org=admin["school_id"])
    importer.commit(imp, token=other["token"])
    names = [p["first_name"] for p in api.all_pages("/api/pupils", token=other["token"])]
    assert names == ['=HYPERLINK("http://x")']
