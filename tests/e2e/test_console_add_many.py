"""Groups in seconds (issue 20), in real Chromium on the local stack: a
teacher builds an 8-pupil group for the end of the school day in four
actions; the times offered fit the school's day (its periods, after its
end the next school day's); namesakes are told apart; a pupil is found by
name, as typed either way round, among 1,200."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.test_console import browser, page  # noqa: F401
from tests.e2e.helpers import HEADER, Http, School, api_import
from tests.e2e.test_console_sharing import sign_in

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")


def next_weekday(weekday, hour, minute):
    """The school's next such weekday (0 Monday) at that time, at least a day ahead."""
    day = datetime.now(LONDON).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


class Actions:
    """Counts what the teacher does: each click or tick is one action."""

    def __init__(self):
        self.count = 0

    def __call__(self, locator, verb="click"):
        self.count += 1
        getattr(locator, verb)()


def test_a_teacher_builds_an_8_pupil_group_for_the_end_of_the_school_day_in_4_actions(stack, page):  # noqa: F811
    school = School(stack, "alder-many")
    http = Http(stack)
    rows = [f"Pupil{i},Nine,01/02/2012,9,9M," for i in range(7)]
    rows += ["Arjun,Mensah,03/04/2012,9,9M,", "Arjun,Mensah,05/06/2012,9,9K,", "Other,Pupil,01/02/2013,8,8A,"]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"periods": [
        {"name": "P1", "starts": "08:50", "ends": "09:50"}, {"name": "P2", "starts": "09:50", "ends": "10:50"}]}).ok
    _teacher, token = http.staff(school.token, "tess@alder-many.sch.uk", "Teachers")
    group = http.call("POST", "/api/groups", token, json={"name": "Maths set 3"}).json()
    tuesday = next_weekday(1, 10, 5)
    page.clock.set_fixed_time(tuesday)  # (a school day, mid-morning, in period 2)
    sign_in(page, school.http.base, token)
    groups = page.locator("#group-list")
    nine_m = groups.get_by_role("button", name=re.compile(r"^9M"))
    nine_m.wait_for()

    act = Actions()
    act(nine_m)
    members = page.locator("#group-members")
    expect(members.locator("li.member")).to_have_count(8)
    act(members.get_by_role("checkbox", name="Select all 8 shown"), "check")
    expect(page.locator("#picked-count")).to_have_text("8 selected")
    act(page.get_by_role("button", name="Add selected to…"))
    dialog = page.locator("dialog[open]")
    assert dialog.get_by_label("Group", exact=True).input_value() == group["id"]  # (her only group)
    assert "Add 8 people (Arjun Mensah, Pupil0 Nine and 6 more)" in dialog.inner_text()
    assert dialog.get_by_role("button", name="Until the end of this lesson (P2, 10:50)").is_visible()
    page.shot("add-selected")
    act(dialog.get_by_role("button", name="Until the end of the school day (15:30)"))
    dialog.wait_for(state="detached")
    assert act.count == 4  # open 9M, select all, Add selected to…, the end of the day
    listed = http.call("GET", f"/api/groups/{group['id']}/members", token).json()["items"]
    assert sorted(m["name"] for m in listed) == ["Arjun Mensah"] + [f"Pupil{i} Nine" for i in range(7)]
    ends = tuesday.replace(hour=15, minute=30)
    assert {datetime.fromisoformat(m["until"]) for m in listed} == {ends}, listed
    expect(groups.get_by_role("button", name=re.compile(r"^Maths set 3"))).to_contain_text("8 members")

    # two of one name are told apart by their registration group
    groups.get_by_role("button", name=re.compile(r"^All pupils")).click()
    members.get_by_role("checkbox", name="Select Arjun Mensah, Year 9, 9M").wait_for()
    # at 19:05 on a Friday, "the end of the school day" is Monday's
    page.clock.set_fixed_time(next_weekday(4, 19, 5))
    members.get_by_role("button", name="Add to group… Arjun Mensah, Year 9, 9K").click()
    dialog = page.locator("dialog[open]")
    presets = dialog.locator(".presets button").all_inner_texts()
    assert presets[0] == "Until the end of Monday's school day (15:30)", presets
    assert not any("this lesson" in p or p.startswith("Until the end of the school day") for p in presets)
    page.shot("after-school-presets")
    dialog.get_by_role("button", name="Cancel").click()

    # a new group made in the same dialog: its name, then the same one click
    groups.get_by_role("button", name=re.compile(r"^9M")).click()
    expect(members.locator("li.member")).to_have_count(8)
    members.get_by_role("checkbox", name="Select all 8 shown").check()
    page.get_by_role("button", name="Add selected to…").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Group", exact=True).select_option(label="A new group…")
    dialog.get_by_label("New group's name").fill("Science club")
    dialog.get_by_role("button", name="Until removed").click()
    dialog.wait_for(state="detached")
    club = groups.get_by_role("button", name=re.compile(r"^Science club"))
    expect(club).to_contain_text("8 members")
    made = next(g for g in http.call("GET", "/api/groups?mine=true", token).json()["items"] if g["name"] == "Science club")
    assert made["role"] == "owner"


def test_a_teacher_finds_a_pupil_by_name_among_1200(stack, page):  # noqa: F811
    school = School(stack, "birch-many")
    http = Http(stack)
    rows = [f"Child{i:04d},Surname{i % 97},01/02/2012,{7 + i % 5},{7 + i % 5}{'ABC'[i % 3]}," for i in range(1199)]
    rows.append("Ngozi,Ókafor,01/02/2012,9,9M,")
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n", waits=600)
    _teacher, token = http.staff(school.token, "tom@birch-many.sch.uk", "Teachers")
    group = http.call("POST", "/api/groups", token, json={"name": "Reading club"}).json()
    sign_in(page, school.http.base, token)
    groups = page.locator("#group-list")
    groups.get_by_role("button", name=re.compile(r"^All pupils")).click()
    members = page.locator("#group-members")
    expect(page.locator("#members-more")).to_contain_text("500 of 1200 shown")
    for typed in ("Ngozi Ó", "okafor, ngozi"):
        page.get_by_label("Find in this group").fill(typed)
        expect(members.locator("li.member")).to_have_count(1)
        assert members.locator("li.member").inner_text().startswith("Ngozi Ókafor")
    page.shot("found-among-1200")
    # and the finder: from her own group, a pupil found by name is added there
    page.get_by_label("Find in this group").fill("")
    groups.get_by_role("button", name=re.compile(r"^Reading club")).click()
    page.get_by_label("Find a pupil to add").fill("ngozi ok")
    page.get_by_role("button", name="Ngozi Ókafor (Year 9, 9M)").click()
    dialog = page.locator("dialog[open]")
    assert "Add Ngozi Ókafor to Reading club." in dialog.inner_text()
    dialog.get_by_role("button", name="Until removed").click()
    dialog.wait_for(state="detached")
    expect(members.locator("li.member")).to_have_count(1)
    listed = http.call("GET", f"/api/groups/{group['id']}/members", token).json()["items"]
    assert [(m["name"], m["until"]) for m in listed] == [("Ngozi Ókafor", None)]


def test_the_school_day_is_set_in_administration_and_the_log_says_it_in_sentences(stack, page):  # noqa: F811
    school = School(stack, "alder-day")
    sam = school.call("POST", "/api/pupils", json={"first_name": "Sam", "surname": "Smith", "date_of_birth": "01/02/2013",
                                                     "year_group": "8", "registration_group": "8A"}).json()
    assert school.call("PATCH", f"/api/pupils/{sam['id']}", json={"version": sam["version"],
                                                                   "registration_group": "8B"}).ok
    sign_in(page, school.http.base, school.token)
    page.goto(school.http.base + "/#/admin")
    periods = page.get_by_label("Periods, one a line (name, start and end)")
    periods.fill("P1 08:50-09:50\nP2 9:50 10:50")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#periods-error")).to_contain_text("Line 2 of the periods")
    periods.fill("P1 08:50-09:50\nP2 10:50-09:50")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#periods-error")).to_contain_text("A period must end after it starts.")
    periods.fill("P1 08:50-09:50\nP2 9:50–10:50\n")
    page.get_by_label("The school day ends at").fill("15:10")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#toast")).to_contain_text("Settings saved.")
    got = school.get("/api/settings")
    assert (got["day_ends"], got["periods"]) == ("15:10", [
        {"name": "P1", "starts": "08:50", "ends": "09:50"}, {"name": "P2", "starts": "09:50", "ends": "10:50"}])
    # the audit log in sentences, each with a link to its record
    page.reload()
    log = page.locator("table", has=page.locator("caption", has_text="Audit log"))
    expect(log).to_contain_text("Ada Head changed the school's end of the school day and periods")
    expect(log).to_contain_text("Ada Head moved Sam Smith from 8A to 8B")
    assert "created:" not in log.inner_text() and sam["id"] not in log.inner_text()
    page.shot("audit-sentences")
    log.get_by_role("link", name="Sam Smith").first.click()
    expect(page.locator("table.cards tbody tr")).to_have_count(1)
    expect(page.locator("table.cards tbody")).to_contain_text("Smith")
