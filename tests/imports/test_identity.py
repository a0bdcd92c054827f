"""Identity that can't be crossed (issue 17): a row's ways of naming a pupil
must agree, a fixed row is checked against its whole file, and a row counts
once however often it is fixed."""
from tests.imports.conftest import ROWS, pupils_csv, upn


def pupils_by_name(api):
    return {f"{p['first_name']} {p['surname']}": p for p in api.all_pages("/api/pupils")}


def test_a_fixed_row_given_another_rows_upn_is_refused_and_no_two_pupils_share_one(api, importer):
    """(a) The row is refused as duplicate_upn; nothing sticks; the older
    pupil can still be deleted and have her UPN cleared."""
    rows = ROWS + [("Bad", "Date", "31/02/2015", "", "5", "", upn(7))]
    imp = importer.map(importer.upload("pupils", pupils_csv(rows)))
    fix = api.patch(f"/api/imports/{imp['id']}/rows/5", {"values": {"date_of_birth": "28/02/2015", "upn": upn(1)}})
    assert fix.status_code == 200 and [e["code"] for e in fix.data["errors"]] == ["duplicate_upn"]
    assert "row 2" in fix.data["errors"][0]["message"] and fix.data["status"] == "error"
    done = importer.commit(imp)
    assert done["status"] == "committed" and done["result"]["created"] == 3
    upns = [p["upn"] for p in api.all_pages("/api/pupils") if p["upn"]]
    assert sorted(upns) == sorted({upn(1), upn(2)})
    zoe = pupils_by_name(api)["Zoë Smith"]
    cleared = api.patch(f"/api/pupils/{zoe['id']}", {"version": zoe["version"], "upn": None})
    assert cleared.status_code == 200 and cleared.data["upn"] is None
    assert api.delete(f"/api/pupils/{zoe['id']}").status_code == 200


def test_two_fixed_rows_given_one_upn_the_second_is_refused(api, importer):
    rows = ROWS[:2] + [("Bad", "One", "31/02/2015", "", "5", "", ""), ("Bad", "Two", "31/02/2015", "", "5", "", "")]
    imp = importer.map(importer.upload("pupils", pupils_csv(rows)))
    first = api.patch(f"/api/imports/{imp['id']}/rows/4", {"values": {"date_of_birth": "01/02/2015", "upn": upn(9)}})
    assert first.data["status"] == "fixed"
    second = api.patch(f"/api/imports/{imp['id']}/rows/5", {"values": {"date_of_birth": "01/02/2015",
                                                                        "upn": upn(9)}})
    assert [e["code"] for e in second.data["errors"]] == ["duplicate_upn"] and "row 4" in second.data["errors"][0]["message"]
    assert importer.commit(imp)["result"]["created"] == 3


def test_an_export_reimported_with_a_typo_never_overwrites_the_pupil_the_upn_belongs_to(api, importer):
    """(b) The Pupil ID names Ann; the UPN is Bob's: identity_conflict, and
    neither changes."""
    importer.full("pupils", pupils_csv([("Ann", "Lee", "01/02/2015", "F", "5", "5A", upn(1)),
                                        ("Bob", "Ray", "02/03/2015", "M", "5", "5A", upn(2))]))
    known = pupils_by_name(api)
    header = "Pupil ID,First name,Surname,Date of birth,Gender,Year group,Registration group,UPN"
    body = f"{header}\n{known['Ann Lee']['id']},Ann,Lee,01/02/2015,F,5,5A,{upn(2)}\n"
    imp = importer.map(importer.upload("pupils", body.encode()))
    assert imp["summary"]["errors"] == 1
    error = importer.rows(imp)[0]["errors"][0]
    assert error["code"] == "identity_conflict" and "Ann Lee" in error["message"] and "Bob Ray" in error["message"]
    importer.commit(imp)
    after = pupils_by_name(api)
    assert after["Bob Ray"]["version"] == known["Bob Ray"]["version"] and after["Ann Lee"]["upn"] == upn(1)


def test_a_namesake_with_another_upn_is_refused_not_merged(api, importer):
    """(c) Same name and birth date as a pupil, a different UPN: never
    replaces hers. And a row with Bob's UPN but Ann's name and birth date."""
    importer.full("pupils", pupils_csv([("Ann", "Lee", "01/02/2015", "F", "5", "5A", upn(1)),
                                        ("Bob", "Ray", "02/03/2015", "M", "5", "5A", upn(2))]))
    imp = importer.map(importer.upload("pupils", pupils_csv([("Ann", "Lee", "01/02/2015", "F", "5", "5A", upn(3)),
                                                             ("Ann", "Lee", "01/02/2015", "F", "5", "5A", upn(2))])))
    codes = [r["errors"][0]["code"] for r in importer.rows(imp)]
    assert codes == ["identity_conflict", "identity_conflict"]
    importer.commit(imp)
    after = pupils_by_name(api)
    assert after["Ann Lee"]["upn"] == upn(1) and after["Bob Ray"]["upn"] == upn(2) and len(after) == 2


def test_a_row_counts_once_however_often_it_is_fixed_and_a_failed_fix_puts_it_back(api, importer):
    """(d) Three fixes of one row: valid goes up by one. A later fix that
    fails puts the row back to error with its new values: the commit writes
    nothing of the earlier ones."""
    rows = ROWS[:2] + [("Bad", "Date", "31/02/2015", "", "5", "", "")]
    imp = importer.map(importer.upload("pupils", pupils_csv(rows)))
    path = f"/api/imports/{imp['id']}/rows/4"
    for day in ("01", "02", "03"):
        assert api.patch(path, {"values": {"date_of_birth": f"{day}/02/2015"}}).data["status"] == "fixed"
    summary = importer.get(imp["id"])["summary"]
    assert (summary["valid"], summary["errors"], summary["create"]) == (3, 0, 3)
    failed = api.patch(path, {"values": {"date_of_birth": "30/02/2015"}})
    assert failed.data["status"] == "error" and failed.data["values"]["date_of_birth"] == "30/02/2015"
    summary = importer.get(imp["id"])["summary"]
    assert (summary["valid"], summary["errors"], summary["create"]) == (2, 1, 2)
    assert importer.commit(imp)["result"]["created"] == 2
    assert "Bad Date" not in pupils_by_name(api)


def test_a_second_row_with_the_same_external_id_is_refused_and_the_first_stands(api, importer):
    """Two rows a source system gives one id are one person at most: the
    second is refused, for a new school and for one with pupils already."""
    csv = ("First name,Surname,Date of birth,Year group,External ID\n"
           "Ada,Lovelace,10/12/2015,4,mis-1\nAda,Byron,10/12/2015,4,mis-1\nAlan,Turing,23/06/2015,4,mis-2\n")
    imp = importer.map(importer.upload("pupils", csv.encode()))
    assert (imp["summary"]["valid"], imp["summary"]["errors"]) == (2, 1), imp["summary"]
    (refused,) = importer.rows(imp)
    assert refused["row"] == 3 and refused["errors"][0]["code"] == "duplicate_external_id"
    assert "row 2" in refused["errors"][0]["message"]
    importer.commit(imp)
    again = importer.map(importer.upload("pupils", csv.encode()))  # now matched: the repeat still refused
    assert (again["summary"]["unchanged"], again["summary"]["errors"]) == (2, 1), again["summary"]
