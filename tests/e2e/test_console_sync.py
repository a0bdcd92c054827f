"""The Sync & year screen in real Chromium on the local stack: the sync
settings saved, the rollover previewed, applied, then undone."""
import re

import pytest
import requests

from tests.e2e.test_console import browser, page, sign_in_as_new_school  # noqa: F401

pytestmark = pytest.mark.e2e


def test_an_admin_previews_applies_and_undoes_the_rollover(stack, page):  # noqa: F811
    base, token = sign_in_as_new_school(stack, page, name="Birch Primary", email="head@birch-year.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    for first, year in (("Ava", "5"), ("Ben", "6")):
        r = requests.post(f"{base}/api/pupils", headers=auth, json={"first_name": first, "surname": "Birch",
                                                                   "date_of_birth": "2015-09-09", "year_group": year})
        assert r.status_code == 201, r.text
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(base + "/#/sync")
    page.get_by_role("heading", name="Keeping the roster in sync").wait_for()
    page.get_by_label("Pupils leave from").select_option("6")
    page.get_by_label("Erase leavers this many years after they left").fill("7")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Sync settings saved.").wait_for()
    settings = requests.get(f"{base}/api/settings", headers=auth).json()
    assert settings["final_year"] == "6" and settings["keep_leavers_years"] == 7
    page.get_by_role("button", name="Preview").click()
    page.get_by_text(re.compile(r"2 pupils, 1 leaving")).wait_for()
    assert page.get_by_role("cell", name="5 → 6").is_visible()
    page.shot("rollover-preview")
    page.get_by_role("button", name="Roll over now").click()
    page.get_by_text("Rollover started.").wait_for()
    for _ in range(100):  # the worker runs it from the queue
        if requests.get(f"{base}/api/rollover", headers=auth).json()["items"][0]["status"] == "applied":
            break
        page.wait_for_timeout(200)
    page.reload()
    undo = page.get_by_role("button", name=re.compile("^Undo"))
    undo.wait_for()
    assert page.get_by_text(re.compile(r"applied \(1 moved up, 1 left\)")).is_visible()
    pupils = {p["first_name"]: p for p in requests.get(f"{base}/api/pupils", headers=auth).json()["items"]}
    assert pupils["Ava"]["year_group"] == "6" and pupils["Ben"]["status"] == "left"
    page.shot("rollover-applied")
    undo.click()
    page.get_by_text("Undoing…").wait_for()
    for _ in range(100):  # until the undo is over (it puts pupils back one by one)
        if requests.get(f"{base}/api/rollover", headers=auth).json()["items"][0]["status"] == "undone":
            break
        page.wait_for_timeout(200)
    pupils = {p["first_name"]: p for p in requests.get(f"{base}/api/pupils", headers=auth).json()["items"]}
    assert pupils["Ava"]["year_group"] == "5" and pupils["Ben"]["status"] == "active"
