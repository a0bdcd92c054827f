"""The console in real Chromium (Debian's, driven by Playwright) against the
real local stack. Screenshots of every screen go to .artifacts/screenshots/."""
import os
import re

import pytest

from tests.e2e.test_local_stack import PASSWORD, wait_for_mail

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", ".artifacts", "screenshots")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    assert os.path.exists(CHROMIUM), "make test installs Debian's chromium; run it through make"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(10000)
    pg.shots = []

    def shot(name):
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, f"{request.node.name}-{len(pg.shots):02d}-{name}.png")
        pg.screenshot(path=path, full_page=True)
        pg.shots.append(path)

    pg.shot = shot
    # Every browser test also checks the console runs under its Content-Security-Policy:
    # Chromium reports each refused script, style or connection on the console.
    pg.csp_violations = []
    pg.on("console", lambda m: pg.csp_violations.append(m.text)
          if "Content Security Policy" in m.text else None)
    yield pg
    context.close()
    assert pg.csp_violations == [], pg.csp_violations


def test_sign_up_verify_sign_in_and_out(stack, page):
    base = f"http://127.0.0.1:{stack.port}"
    page.goto(base + "/")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("School name").fill("Larch Primary")
    page.get_by_label("Your first name").fill("Lee")
    page.get_by_label("Your surname").fill("Head")
    page.get_by_label("Your email").fill("lee@larch.sch.uk")
    page.get_by_label("Password (10+ characters)").fill("short")
    page.shot("sign-up-form")
    page.get_by_role("button", name="Sign up").click()
    page.locator("#password-error").filter(has_text="10 characters").wait_for()
    page.shot("weak-password")
    page.get_by_label("Password (10+ characters)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text("Check your email").wait_for()
    page.shot("check-email")

    mail = wait_for_mail(stack, "lee@larch.sch.uk")
    link = re.search(r'https?://[^\s"<>]+token=[A-Za-z0-9_.\-]+', mail["body"]).group(0)
    page.goto(link)
    page.get_by_text("Your email is verified").wait_for()
    page.shot("verified")
    page.get_by_label("Email").fill("lee@larch.sch.uk")
    page.get_by_label("Password").fill("wrong password 1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Wrong email or password").wait_for()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Larch Primary").wait_for()
    assert not page.locator("#banner").is_visible()  # nothing is locked
    assert "done" in page.get_by_role("listitem").filter(has_text="Verify your email").get_attribute("class")
    page.shot("signed-in")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    page.shot("signed-out")
    assert len(page.shots) == 6


def test_a_used_link_says_so_in_words(stack, page):
    page.goto(f"http://127.0.0.1:{stack.port}/#action=verify&token=" + "x" * 43)
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "{" not in alert.inner_text() and "link" in alert.inner_text().lower()
    page.shot("bad-link")


def sign_in_as_new_school(stack, page, name="Rowan High", email="admin@rowan-high.sch.uk"):
    """A verified school made through the API; the browser holds its token."""
    from tests.e2e.helpers import school_token
    base = f"http://127.0.0.1:{stack.port}"
    token = school_token(stack, email, name=name, first_name="Rhea")
    page.goto(base + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", token)
    return base, token


def test_the_console_runs_under_its_csp_and_api_answers_are_not_cached(stack, page):
    base, _token = sign_in_as_new_school(stack, page, name="Csp School", email="admin@csp.sch.uk")
    with page.expect_response(lambda r: r.url.endswith("/api/me")) as me:
        page.goto(base + "/#/home")
    assert me.value.status == 200 and me.value.headers["cache-control"] == "no-store"
    document = page.request.get(base + "/")
    assert "script-src 'self'" in document.headers["content-security-policy"]
    for screen in ("pupils", "staff", "groups", "import", "admin", "account", "home"):
        page.goto(base + "/#/" + screen)
        page.locator("#screen-title").wait_for()
    # a script the page did not load from its own origin is refused (the policy is live)
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
                  " document.body.append(s); }")
    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in v for v in page.csp_violations)
    page.csp_violations.clear()


def test_pupils_add_edit_search_delete(stack, page):
    base, _token = sign_in_as_new_school(stack, page)
    page.goto(base + "/#/pupils")
    page.get_by_role("heading", name="Pupils").wait_for()
    page.get_by_text("Add a pupil").first.click()
    page.get_by_label("First name", exact=True).fill("Zoë")
    page.get_by_label("Surname", exact=True).fill("Smith")
    page.get_by_label("Date of birth (dd/mm/yyyy)").fill("31/02/2015")
    page.get_by_label("Year group", exact=True).fill("Year 5")
    page.get_by_role("button", name="Save").click()
    page.locator("#date_of_birth-error").filter(has_text="February").wait_for()
    page.shot("error-beside-field")
    page.get_by_label("Date of birth (dd/mm/yyyy)").fill("28/02/2015")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("cell", name="Zoë", exact=True).wait_for()
    assert page.locator("#date_of_birth-error").inner_text() == ""  # the old error is gone
    # shown as the school writes them (issue 20)
    assert page.get_by_role("cell", name="28/02/2015", exact=True).is_visible()
    assert page.get_by_role("cell", name="Year 5", exact=True).is_visible()
    page.shot("added")
    page.get_by_label("Name starts with").fill("zoe")
    with page.expect_response(lambda r: "/api/pupils?" in r.url and "q=zoe" in r.url):
        page.get_by_role("button", name="Search").click()  # (wait: the search re-draws the table)
    page.get_by_role("cell", name="Smith", exact=True).wait_for()
    page.get_by_role("button", name="Edit Zoë Smith").click()
    page.get_by_label("Surname of Zoë Smith").fill("Smyth")
    page.get_by_role("button", name="Save").last.click()
    page.get_by_role("cell", name="Smyth", exact=True).wait_for()
    page.shot("edited")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete Zoë Smyth").click()
    page.get_by_text("Nobody here yet.").wait_for()
    page.shot("deleted")


def test_an_invited_colleague_sets_a_password_and_signs_in(stack, page):
    import requests
    base, token = sign_in_as_new_school(stack, page, name="Hazel School", email="admin@hazel.sch.uk")
    r = requests.post(f"{base}/api/staff", headers={"Authorization": f"Bearer {token}"}, json={
        "first_name": "Ivy", "surname": "Teacher", "email": "ivy@hazel.sch.uk", "user_group": "Teachers"})
    assert r.status_code == 201
    mail = wait_for_mail(stack, "ivy@hazel.sch.uk")
    link = re.search(r'https?://[^\s"<>]+token=[A-Za-z0-9_.\-]+', mail["body"]).group(0)
    page.evaluate("() => sessionStorage.clear()")
    page.goto(link)
    page.get_by_role("heading", name="Choose your password").wait_for()
    page.get_by_label("Password (10+ characters)").fill(PASSWORD)
    page.shot("choose-password")
    page.get_by_role("button", name="Save password").click()
    page.get_by_text("Your password is set").wait_for()
    page.get_by_label("Email").fill("ivy@hazel.sch.uk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hazel School").wait_for()
    assert page.get_by_role("link", name="Administration").count() == 0  # a teacher: no admin screen
    page.shot("teacher-home")


def test_export_csv_downloads_the_roster_from_a_stored_link(stack, page):
    """The Export button asks the API for a link and the browser downloads
    the file from the (moto) bucket: no size limit, no token sent there."""
    import requests
    base, token = sign_in_as_new_school(stack, page, name="Alder Academy", email="admin@alder.sch.uk")
    added = requests.post(base + "/api/pupils", headers={"Authorization": f"Bearer {token}"},
                          json={"first_name": "Siân", "surname": "Alder", "date_of_birth": "03/04/2015",
                                "year_group": "5"})
    assert added.status_code == 201, added.text
    page.goto(base + "/#/pupils")
    page.get_by_role("cell", name="Alder", exact=True).wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    got = download.value
    assert re.fullmatch(r"schoolroll-pupils-\d{4}-\d{2}-\d{2}\.csv", got.suggested_filename)
    with open(got.path(), encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("First name,Surname,Date of birth")
    assert lines[1].startswith("Siân,Alder,2015-04-03") and len(lines) == 2
