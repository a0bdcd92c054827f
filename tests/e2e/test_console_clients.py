"""API clients in the console (Administration), in real Chromium against the
real local stack: made with its scopes, its secret shown once and working,
its last use shown, revoked with its token refused at once."""
import pytest
import requests

from tests.e2e.test_console import browser, page, sign_in_as_new_school  # noqa: F401

pytestmark = pytest.mark.e2e


def test_an_admin_makes_uses_and_revokes_an_api_client(stack, page):
    base, _token = sign_in_as_new_school(stack, page, name="Juniper School", email="head@juniper.sch.uk")
    page.goto(base + "/#/admin")
    section = page.locator("#api-clients")
    section.get_by_text("No API clients yet.").wait_for()
    section.get_by_label("Name (what it is)").fill("Classroom monitoring")
    section.get_by_label("Every group, its members and staff", exact=False).check()
    section.get_by_role("button", name="Make API client").click()
    shown = section.locator("#client-secret")
    shown.wait_for()
    client_id, secret = [c.inner_text() for c in shown.locator("code").all()]
    page.shot("api-client-made")
    issued = requests.post(f"{base}/api/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, secret), timeout=10)
    assert issued.status_code == 200 and issued.json()["scope"] == "groups.read", issued.text
    access = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert requests.get(f"{base}/api/groups", headers=access, timeout=10).status_code == 200
    page.reload()
    row = page.locator("#api-clients tr").filter(has_text="Classroom monitoring")
    row.wait_for()
    assert "Never" not in row.inner_text() and "Every group" in row.inner_text()
    assert page.locator("#client-secret").count() == 0  # shown once
    with page.expect_download() as download:
        page.get_by_role("button", name="Export as a OneRoster bundle (zip)").click()
    assert download.value.suggested_filename.startswith("schoolroll-oneroster-")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Revoke").click()
    section.get_by_text("No API clients yet.").wait_for()
    assert requests.get(f"{base}/api/groups", headers=access, timeout=10).status_code == 401
