"""Writing the staged rows (imports/committing.py): new pupils in bulk,
updates and staff through the roster's code, a commit that dies part way,
machines, and what reaches the groups."""


import pytest

from chalicelib.imports.acting import actor_for
from chalicelib.imports.kinds import KINDS
from chalicelib.imports.models import Import
from chalicelib.roster.models import Pupil
from tests.conftest import link_token
from tests.imports.conftest import ROWS, pupils_csv, roster_writes, upn


def test_pupils_flow_and_reimport_changes_nothing(api, importer, aws_calls):
    imp = importer.upload("pupils", pupils_csv(ROWS))
    assert imp["status"] == "mapping" and imp["rows_total"] == 3
    assert [c["name"] for c in imp["columns"]][:2] == ["First name", "Surname"]
    assert imp["columns"][0]["samples"] == ["Zoë", "Adam", "Siân"]
    assert imp["suggested_mapping"]["Date of birth"] == "date_of_birth"
    imp = importer.map(imp)
    assert imp["status"] == "review"
    assert imp["summary"] == {"rows": 3, "valid": 3, "errors": 0, "create": 3, "update": 0, "unchanged": 0,
                              "restore": 0}
    assert api.get("/api/pupils").data["items"] == []  # nothing written before commit
    imp = importer.commit(imp)
    assert imp["status"] == "committed"
    assert imp["result"] == {"created": 3, "updated": 0, "unchanged": 0, "refused": 0, "restored": 0}
    listed = {p["first_name"]: p for p in api.get("/api/pupils").data["items"]}
    assert listed["Siân"]["date_of_birth"] == "2015-04-03" and listed["Siân"]["gender"] == "F"
    assert listed["Zoë"]["upn"] == upn(1)
    # The same file again: every row unchanged, no roster write at all.
    assert len(roster_writes(aws_calls)) > 0  # the first import did write, and we saw it
    aws_calls.clear()
    again = importer.full("pupils", pupils_csv(ROWS))
    assert again["summary"]["unchanged"] == 3 and again["result"]["created"] == 0
    assert again["result"]["unchanged"] == 3
    assert roster_writes(aws_calls) == []
    assert len(api.get("/api/pupils").data["items"]) == 3


def test_next_years_file_updates_rather_than_duplicates(api, importer):
    importer.full("pupils", pupils_csv(ROWS))
    moved = [(f, s, d, g, "Year 6", "6" + r[-1], u) for f, s, d, g, y, r, u in ROWS]
    imp = importer.full("pupils", pupils_csv(moved))
    assert imp["summary"]["update"] == 3 and imp["result"]["updated"] == 3
    pupils = api.get("/api/pupils").data["items"]
    assert len(pupils) == 3 and {p["year_group"] for p in pupils} == {"6"}
    # Matched by name + date of birth when there is no UPN.
    sian = next(p for p in pupils if p["first_name"] == "Siân")
    assert sian["registration_group"] == "6A" and sian["version"] == 2


def test_staff_import_invites_and_refuses_in_file_duplicates(api, importer, mailbox):
    csv = ("First name,Surname,Email,Job role,User group\n"
           "Tess,Teacher,tess@example.org,Class teacher,Teachers\n"
           "Tom,Assistant,tom@example.org,TA,TAs\n"
           "Dup,Licate,TESS@example.org,,\n").encode()
    imp = importer.map(importer.upload("staff", csv))
    assert imp["summary"]["valid"] == 2 and imp["summary"]["errors"] == 1
    assert importer.rows(imp)[0]["errors"][0]["code"] == "duplicate_email"
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 2
    staff = {s["email"]: s for s in api.get("/api/staff").data["items"]}
    assert staff["tom@example.org"]["user_group"] == "TAs" and staff["tom@example.org"]["status"] == "invited"
    invite = mailbox(to="tess@example.org")
    assert len(invite) == 1
    ok = api.post("/api/auth/accept-invite", {"token": link_token(invite[0].body), "password": "correct horse battery"}, token="")
    assert ok.status_code == 200
    again = importer.full("staff", csv)
    assert again["result"]["unchanged"] == 2 and len(mailbox(to="tess@example.org")) == 1


def test_a_commit_that_dies_part_way_resumes_without_duplicates(api, importer, monkeypatch):
    from chalicelib.imports import committing
    from chalicelib.imports import worker
    from chalicelib.imports.models import Import
    rows = [(f"P{i}", f"Surname{i:02d}", "01/02/2015", "", "5", "", upn(i) if i % 2 else "") for i in range(12)]
    imp = importer.map(importer.upload("pupils", pupils_csv(rows)))
    monkeypatch.setattr(committing, "PUPILS_PER_TX", 5)
    real_flush = committing.Committer.flush
    calls = {"n": 0}

    def dying_flush(self):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("Lambda timed out")
        return real_flush(self)

    monkeypatch.setattr(committing.Committer, "flush", dying_flush)
    api.post(f"/api/imports/{imp['id']}/commit")
    record = Import.get(api.get("/api/me").data["school"]["id"], imp["id"])
    with pytest.raises(RuntimeError):
        worker.handle_message({"action": "commit", "school_id": record.school_id,
                                 "import_id": record.import_id, "run": record.run})
    assert Pupil.count(record.school_id) == 5
    worker.handle_message({"action": "commit", "school_id": record.school_id,
                             "import_id": record.import_id, "run": record.run})
    assert Pupil.count(record.school_id) == 12
    assert importer.get(imp["id"])["status"] == "committed"
    assert len({p["upn"] for p in api.get("/api/pupils").data["items"] if p["upn"]}) == 6


def test_machines_import_fills_machine_groups(api, importer):
    csv = b"Name,Location\nLIB-PC-01,Library\nLIB-PC-02,Library\nLIB-PC-01,Room 4\n"
    imp = importer.map(importer.upload("machines", csv))
    assert imp["summary"]["valid"] == 2 and importer.rows(imp)[0]["errors"][0]["code"] == "duplicate_name"
    assert importer.commit(imp)["result"]["created"] == 2
    machines = api.get("/api/machines").data["items"]
    assert [m["name"] for m in machines] == ["LIB-PC-01", "LIB-PC-02"]
    group = api.post("/api/groups", {"name": "Library PCs", "member_type": "machine"}).data
    r = api.post(f"/api/groups/{group['id']}/members", {"member_ids": [m["id"] for m in machines]})
    assert r.status_code == 200 and r.data["added"] == 2
    moved = importer.full("machines", b"Name,Location\nLIB-PC-01,Room 4\nLIB-PC-02,Library\n")
    assert moved["result"] == {"created": 0, "updated": 1, "unchanged": 1, "refused": 0}
    assert api.get("/api/machines").data["items"][0]["location"] == "Room 4"


def test_a_rename_by_import_reaches_the_groups_too(api, admin, importer):
    pupil = api.post("/api/pupils", {"first_name": "Cat", "surname": "Smith", "date_of_birth": "01/02/2015",
                                     "year_group": "6"}).data
    group = api.post("/api/groups", {"name": "Choir"}).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [pupil["id"]]})
    body = ("Pupil ID,First name,Surname,Date of birth,Year group\n"
            f"{pupil['id']},Catrin,Smith,01/02/2015,6\n").encode()
    imp = importer.full("pupils", body)
    assert imp["result"]["updated"] == 1, imp
    assert [m["name"] for m in api.get(f"/api/groups/{group['id']}/members").data["items"]] == ["Catrin Smith"]


def test_machines_written_by_an_import_are_audited_once_whatever_the_redeliveries(api, admin, importer):
    """A machine row goes through groups/machines.py with an audit entry
    under a key fixed by the import, its row and the commit's start: the
    same row written again (a redelivered commit) writes and audits nothing more."""
    imp = importer.map(importer.upload("machines", b"Name,Location\nLIB-PC-01,Library\nLIB-PC-02,Hall\n"))
    assert importer.commit(imp)["result"]["created"] == 2
    assert sorted(e["action"] for e in api.get("/api/audit?entity=machine").data["items"]) == ["create", "create"]
    record = Import.get(admin["school_id"], imp["id"])
    machines = {m["name"]: m["id"] for m in api.get("/api/machines").data["items"]}
    again = {"row": 2, "action": "create", "id": machines["LIB-PC-01"],
             "values": {"name": "LIB-PC-01", "location": "Library"}}
    KINDS["machines"].write(actor_for(record), record, again)
    assert len(api.get("/api/audit?entity=machine").data["items"]) == 2
    assert sorted(machines) == sorted(m["name"] for m in api.get("/api/machines").data["items"])
