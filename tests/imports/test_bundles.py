"""Bundles through the API (issue 18): a OneRoster or SDS zip is one import
whose school and grades are chosen at the mapping step, whose pupils and
staff are checked as parts and written with one commit; matched again by
their source ids; a drop of a bundle; a part never moves alone."""
import boto3

from chalicelib.core import config
from tests.imports.conftest import bundle, bundle_file, drain, upn


def choose(api, importer, imp, token=None, **choice):
    r = api.put(f"/api/imports/{imp['id']}/mapping", choice, token=token)
    assert r.status_code == 200, r.body
    drain(importer.pump)
    return importer.get(imp["id"], token=token)


def records(api):
    pupils = {p["external_id"]: p for p in api.all_pages("/api/pupils")}
    staff = {s["external_id"]: s for s in api.all_pages("/api/staff") if s["external_id"]}
    return pupils, staff


def test_a_oneroster_1_2_bundle_asks_for_its_school_and_imports_it_in_one_commit(api, importer):
    imp = importer.upload("bundle", bundle("oneroster_1_2"), filename="oneroster.zip")
    assert imp["status"] == "mapping" and imp["file_format"] == "zip", imp
    assert imp["bundle"]["flavour"] == "oneroster_1.2" and "demographics.csv" in imp["bundle"]["files"]
    assert [o["sourcedId"] for o in imp["bundle"]["orgs"]] == ["org-oak", "org-birch"]
    r = api.put(f"/api/imports/{imp['id']}/mapping", {})
    assert r.status_code == 422 and r.data["errors"][0]["field"] == "org", r.body
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"org": "org-oak", "mapping": {"a": "b"}})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "unknown_field", r.body
    imp = choose(api, importer, imp, org="org-oak")
    assert imp["status"] == "review", imp["error"]
    parts = imp["summary"]["parts"]
    assert (parts["staff"]["create"], parts["pupils"]["create"], imp["summary"]["create"]) == (4, 4, 8), parts
    assert imp["summary"]["skipped"] == {"inactive": 1, "guardian": 1, "other_school": 2}
    assert set(imp["parts"]) == {"staff", "pupils"}
    listed = [i["id"] for i in api.get("/api/imports").data["items"]]
    assert imp["id"] in listed and not set(imp["parts"].values()) & set(listed)  # parts move with the bundle
    assert api.post(f"/api/imports/{imp['parts']['pupils']}/commit").status_code == 409
    done = importer.commit(imp)
    assert done["status"] == "committed" and done["result"]["created"] == 8, done
    pupils, staff = records(api)
    assert {k: (p["first_name"], p["surname"], p["date_of_birth"], p["gender"], p["year_group"], p["upn"])
            for k, p in pupils.items()} == {
        "stu-1": ("Amara", "Okafor", "2018-03-14", "F", "3", upn(11)),
        "stu-2": ("Ben", "Hughes", "2017-11-02", "M", "3", upn(12)),
        "stu-3": ("Chloé", "Martin", "2021-06-30", "F", "R", None),
        "stu-4": ("Dev", "Patel", "2015-01-09", "M", "6", upn(14))}
    assert {k: (s["email"], s["user_group"], s["job_role"]) for k, s in staff.items()} == {
        "tch-1": ("g.hopper@oakfield.sch.uk", "Teachers", "Teacher"),
        "tch-2": ("h.singh@oakfield.sch.uk", "Teachers", "Teacher"),
        "adm-1": ("i.reid@oakfield.sch.uk", "Admin Team", "Administrator"),
        "aide-1": ("j.marsh@oakfield.sch.uk", "TAs", "Aide")}
    assert importer.get(imp["parts"]["staff"])["status"] == "committed"

    again = choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2")), org="org-oak")
    assert (again["summary"]["create"], again["summary"]["update"], again["summary"]["unchanged"]) == (0, 0, 8)


def test_a_later_bundle_matches_by_source_id_first_and_changes_only_what_changed(api, importer):
    first = choose(api, importer, importer.upload("bundle", bundle("oneroster_1_1")), org="sch-1")
    importer.commit(first)
    users = bundle_file("oneroster_1_1", "users.csv").replace(f"Nia,Jones,,{upn(22)}", f"Nia,Jones-Smith,,{upn(23)}")
    imp = choose(api, importer, importer.upload("pupils", bundle("oneroster_1_1", replace={"users.csv": users})),
                 org="sch-1")
    assert imp["kind"] == "bundle" and imp["summary"]["parts"]["pupils"]["update"] == 1, imp["summary"]
    assert imp["summary"]["unchanged"] == 3, imp["summary"]
    importer.commit(imp)
    pupils, _staff = records(api)
    assert (pupils["p-101"]["surname"], pupils["p-101"]["upn"]) == ("Jones-Smith", upn(23)) and len(pupils) == 3


def test_us_grades_read_as_grade_plus_one(api, importer):
    imp = choose(api, importer, importer.upload("bundle", bundle("sds_v2_1")), org="100", grades_as="us_grade")
    assert imp["bundle"]["flavour"] == "sds_v2.1"
    importer.commit(imp)
    pupils, staff = records(api)
    assert (pupils["s-1"]["year_group"], pupils["s-2"]["year_group"]) == ("10", "11")
    assert staff["t-2"]["email"] == "uford.staff@ashtree.sch.uk" and staff["t-2"]["user_group"] == "Admin Team"


def test_an_slt_importing_a_bundle_can_not_make_an_admin(api, importer, admin, member):
    slt = member(admin, user_group="SLTs")
    imp = importer.upload("bundle", bundle("sds_v2_1"), token=slt["token"])
    imp = choose(api, importer, imp, token=slt["token"], org="100")
    assert imp["summary"]["parts"]["staff"]["errors"] == 1, imp["summary"]
    (refused,) = importer.rows({"id": imp["parts"]["staff"]}, token=slt["token"])
    assert refused["values"]["user_group"] == "Admin Team"
    importer.commit(imp, token=slt["token"])
    _pupils, staff = records(api)
    assert set(staff) == {"t-1"}


def test_an_unsafe_zip_fails_the_import_saying_why(api, importer):
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("users.csv", "sourcedId\n" + "1\n" * (2 << 20))
    imp = importer.upload("bundle", out.getvalue())
    assert imp["status"] == "failed" and imp["error"]["code"] == "bundle_unreadable", imp
    assert "times its size" in imp["error"]["message"]


def drop(api, pump, admin, data, name):
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/bundle/{name}", Body=data)
    drain(pump)
    return api.get("/api/imports").data["items"][0]


def test_a_bundle_drop_of_one_school_runs_hands_off_and_of_several_uses_the_school_chosen(api, importer, pump,
                                                                                          admin):
    one = drop(api, pump, admin, bundle("oneroster_1_1"), "night1.zip")
    assert one["status"] == "done" and one["result"]["created"] == 4, one
    several = drop(api, pump, admin, bundle("oneroster_1_2"), "night2.zip")
    assert several["status"] == "failed" and several["error"]["code"] == "no_mapping", several
    importer.commit(choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2")), org="org-birch"))
    again = drop(api, pump, admin, bundle("oneroster_1_2"), "night3.zip")
    assert again["status"] == "done" and again["result"]["unchanged"] == 3, again  # Ella, Lena, and Hari (a second role)
    pupils, _staff = records(api)
    assert "stu-5" in pupils and "stu-1" not in pupils


def test_a_later_bundle_keeps_what_the_school_set_and_what_it_has_no_data_for(api, importer):
    """A known colleague's user group and role are the school's (a bundle sets
    them only for someone new); a blank identifier or no demographics.csv
    never wipes a pupil's UPN or sex."""
    importer.commit(choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2")), org="org-oak"))
    pupils, staff = records(api)
    hopper = staff["tch-1"]
    r = api.patch(f"/api/staff/{hopper['id']}", {"user_group": "SLTs", "job_role": "Deputy head",
                                                 "version": hopper["version"]})
    assert r.status_code == 200, r.body
    users = bundle_file("oneroster_1_2", "users.csv").replace("T940123420111", "")
    demographics = "sourcedId,status,dateLastModified,birthDate,sex\n" + "\n".join(
        f"{k},active,,{p['date_of_birth']}," for k, p in pupils.items()) + "\n"
    imp = choose(api, importer, importer.upload("bundle", bundle(
        "oneroster_1_2", replace={"users.csv": users, "demographics.csv": demographics})), org="org-oak")
    assert (imp["summary"]["update"], imp["summary"]["unchanged"], imp["summary"]["errors"]) == (0, 8, 0), imp
    importer.commit(imp)
    after, staff = records(api)
    assert (staff["tch-1"]["user_group"], staff["tch-1"]["job_role"]) == ("SLTs", "Deputy head")
    assert (after["stu-1"]["upn"], after["stu-1"]["gender"]) == (pupils["stu-1"]["upn"], "F")


def test_a_csv_uploaded_as_a_bundle_fails_saying_what_a_bundle_is(api, importer):
    imp = importer.upload("bundle", bundle_file("oneroster_1_2", "users.csv").encode(), filename="users.csv")
    assert imp["status"] == "failed" and imp["error"]["code"] == "bundle_unreadable", imp
    assert "zip" in imp["error"]["message"]


def test_a_bundle_drops_report_names_its_parts_refused_rows_and_its_classes(api, importer, pump, admin, mailbox):
    importer.commit(choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2")), org="org-oak"))
    demographics = bundle_file("oneroster_1_2", "demographics.csv").replace("2018-03-14", "2018-02-30")
    classes = bundle_file("oneroster_1_2", "classes.csv").replace("Reception Robins", "Reception Wrens")
    night = drop(api, pump, admin, bundle("oneroster_1_2", replace={"demographics.csv": demographics,
                                                                    "classes.csv": classes}), "night.zip")
    assert night["status"] == "done" and night["summary"]["errors"] == 1, night
    (report,) = [m for m in mailbox(to=admin["email"]) if "roster import" in (m.subject or "")]
    assert "Pupils row 2: date of birth: invalid date" in report.body, report.body
    assert "1 class groups changed" in report.body and "Okafor" not in report.body
