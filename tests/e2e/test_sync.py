"""Issue 17 over HTTP on the real local stack (moto server, app server, the
pump running the queue and the schedules): the reported case, a hold
approved and one discarded, the rollover and its undo, an erasure."""
import time

import boto3
import pytest

from tests.e2e.helpers import Http, api_import

pytestmark = pytest.mark.e2e
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

    def drop(self, csv, status="done"):
        self.nights += 1
        self.s3.put_object(Bucket=self.bucket, Key=f"drop/{self.id}/pupils/night{self.nights}.csv", Body=csv.encode())

        def landed():
            items = [i for i in self.get("/api/imports?limit=5")["items"] if i["source"] == "drop"]
            done = [i for i in items if i["filename"] == f"night{self.nights}.csv" and i["status"] == status]
            return done[0] if done else None
        return wait(landed)


def test_one_refused_row_and_next_night_a_correct_file_the_pupil_never_leaves(stack):
    school = School(stack, "elm-sync")
    rows = ["Bea,Khan,09/09/2014,6,6A,", "Cal,Moss,10/10/2014,6,6A,", "Dot,Reed,11/11/2014,5,5A,"]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"mark_leavers": True, "leaver_threshold": 50}).ok
    typo = HEADER + "Bea,Khan,31/13/2014,6,6A,\n" + "\n".join(rows[1:]) + "\n"
    night = school.drop(typo)
    assert night["summary"]["errors"] == 1 and night["result"]["left"] == 0
    assert school.pupils()["Bea"]["status"] == "active"
    again = school.drop(HEADER + "\n".join(rows) + "\n")
    assert again["result"]["left"] == 0 and school.pupils()["Bea"]["status"] == "active"
    groups = {g["name"]: g["member_count"] for g in school.get("/api/groups")["items"]}
    assert groups["All pupils"] == 3 and groups["Year 6"] == 2


@pytest.mark.parametrize("decision", ["approve", "discard"])
def test_a_school_of_40_dropping_30_is_held_then_approved_or_discarded(stack, decision):
    school = School(stack, f"ash-{decision}")
    rows = [f"P{n:02d},Pupil,01/02/2015,5,5A," for n in range(40)]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"mark_leavers": True}).ok
    held = school.drop(HEADER + "\n".join(rows[:30]) + "\n", status="held")
    assert school.pupils("&status=left") == {}
    leaving = school.get(f"/api/imports/{held['id']}/changes?kind=leave&limit=50")["items"]
    assert sorted(c["record"]["first_name"] for c in leaving) == [f"P{n}" for n in range(30, 40)]
    mails = wait(lambda: [m for m in school.http.mails_to(f"head@ash-{decision}.sch.uk") if "waiting for your approval" in m["subject"]])
    assert mails
    r = school.call("POST", f"/api/imports/{held['id']}/{decision}")
    assert r.status_code == 200, r.text
    end = "done" if decision == "approve" else "discarded"
    wait(lambda: school.get(f"/api/imports/{held['id']}")["status"] == end)
    assert len(school.pupils("&status=left")) == (10 if decision == "approve" else 0)


def test_the_rollover_over_http_and_its_undo(stack):
    school = School(stack, "oak-rollover")
    rows = ["Rae,R,01/05/2021,R,RA,", "Fay,F,01/05/2016,5,5A,", "Sid,S,01/05/2015,6,6A,"]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"final_year": "6"}).ok
    preview = school.call("POST", "/api/rollover", json={"dry_run": True}).json()
    assert preview["moves"] == {"R→1": 1, "5→6": 1} and preview["leaving"] == {"6": 1}
    assert school.call("POST", "/api/rollover", json={}).status_code == 202
    assert school.call("POST", "/api/rollover", json={}).json()["code"] == "already_rolled_over"
    wait(lambda: school.get("/api/rollover")["items"][0]["status"] == "applied")
    now = school.pupils()
    assert (now["Rae"]["year_group"], now["Fay"]["year_group"], now["Sid"]["status"]) == ("1", "6", "left")
    assert school.call("POST", "/api/rollover/undo").status_code == 202
    wait(lambda: school.get("/api/rollover")["items"][0]["status"] == "undone")
    now = school.pupils()
    assert (now["Rae"]["year_group"], now["Fay"]["registration_group"], now["Sid"]["status"]) == ("R", "5A", "active")


def test_delete_erases_with_a_tombstone_and_the_schedule_scrubs_the_history(stack):
    school = School(stack, "yew-erase")
    r = school.call("POST", "/api/pupils", json={"first_name": "Zed", "surname": "Zane", "date_of_birth": "2015-03-03",
                                                 "year_group": "5"})
    pupil = r.json()
    assert school.call("DELETE", f"/api/pupils/{pupil['id']}").status_code == 200
    history = school.get(f"/api/audit?entity=pupil&record_id={pupil['id']}")["items"]
    assert history[0]["action"] == "erase" and "Zed" not in repr(history[0])
    assert "Zed" in repr(history)  # the create entry, until the hourly job scrubs it
    # locally the pump runs the hourly roster_lifecycle schedule every 60 seconds
    scrubbed = wait(lambda: "Zed" not in repr(school.get(f"/api/audit?entity=pupil&record_id={pupil['id']}")),
                    seconds=75)
    assert scrubbed
    assert school.call("GET", f"/api/pupils/{pupil['id']}").status_code == 404
