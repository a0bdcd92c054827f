"""Sign-in with the school's own accounts on the real local stack, against a
real OpenID provider on loopback (oidc-provider): over HTTP as a browser
would (cookies, redirects), and in Chromium through the console."""
import pytest
import requests

from devstack.oidc_provider import authorize
from tests import sso
from tests.e2e.helpers import Http, school_token
from tests.e2e.test_console import browser, page  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def oakwood(stack):
    """Oakwood on the stack: its admin (head@), an invited teacher, and the provider set."""
    base = f"http://127.0.0.1:{stack.port}"
    with sso.start_provider([f"{base}/api/auth/sso/callback"]) as op:
        http = Http(stack)
        token = school_token(stack, sso.USERS["head"], name="Oakwood School")
        r = http.call("POST", "/api/staff", token, json={"first_name": "Tess", "surname": "Teacher",
                                                          "email": sso.USERS["teacher"], "user_group": "Teachers"})
        assert r.status_code == 201, r.text
        r = http.call("PUT", "/api/settings/sso", token, json=sso.settings(op))
        assert r.status_code == 200, r.text
        yield {"base": base, "token": token, "op": op, "http": http}


def _through_the_provider(oakwood, email, browser_session=None):
    """start -> the provider -> our callback, with one cookie jar like a browser."""
    jar = browser_session or requests.Session()
    start = jar.get(oakwood["base"] + sso.start_url(sso.DOMAIN), allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    back = authorize(start.headers["Location"], email)
    return jar, back


def test_sign_in_over_http_gives_a_session_and_no_token_in_a_url(oakwood):
    jar, back = _through_the_provider(oakwood, sso.USERS["teacher"])
    landed = jar.get(back, allow_redirects=False, timeout=10)
    assert landed.status_code == 302 and landed.headers["Location"].startswith(oakwood["base"] + "/#sso=")
    assert "Max-Age=0" in landed.headers["Set-Cookie"]  # the binding cookie is gone with the state
    code = sso.fragment_of(landed.headers["Location"])["sso"]
    session = requests.post(f"{oakwood['base']}/api/auth/sso/exchange", json={"code": code, "console": sso.CONSOLE}, timeout=10)
    assert session.status_code == 200, session.text
    me = oakwood["http"].call("GET", "/api/me", session.json()["token"]).json()
    assert me["user"]["email"] == sso.USERS["teacher"]
    again = requests.post(f"{oakwood['base']}/api/auth/sso/exchange", json={"code": code, "console": sso.CONSOLE}, timeout=10)
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"


def test_over_http_a_wrong_state_and_another_browser_are_refused(oakwood):
    jar, back = _through_the_provider(oakwood, sso.USERS["head"])
    wrong = jar.get(back.replace("state=", "state=x"), timeout=10, headers={"Accept": "application/json"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "sso_state_invalid"
    _jar, back = _through_the_provider(oakwood, sso.USERS["head"])
    elsewhere = requests.get(back, timeout=10)  # (no cookie: another browser)
    assert elsewhere.status_code == 400 and "text/html" in elsewhere.headers["Content-Type"]
    assert "start again" in elsewhere.text


def test_over_http_someone_not_on_the_staff_gets_a_page_that_says_so(oakwood):
    jar, back = _through_the_provider(oakwood, sso.USERS["stranger"])
    page_ = jar.get(back, timeout=10)
    assert page_.status_code == 403 and "not a staff account" in page_.text
    assert page_.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_in_the_console_a_teacher_signs_in_with_the_schools_account(oakwood, page):
    page.goto(oakwood["base"] + "/")
    page.get_by_label("Email").fill(sso.USERS["teacher"])
    page.get_by_label("Email").blur()
    button = page.locator("#sso-button")
    button.wait_for()
    assert button.inner_text() == "Sign in with your school's account"
    page.shot("sso-way-in")
    button.click()
    page.wait_for_url(oakwood["op"].issuer + "/**")
    page.get_by_label("Email").fill(sso.USERS["teacher"])  # the provider's own page
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    assert "#sso" not in page.url
    assert page.evaluate("() => sessionStorage.getItem('token')")


def test_in_the_console_an_admin_tests_the_provider_and_sees_the_id_token(oakwood, page):
    page.goto(oakwood["base"] + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", oakwood["token"])
    page.goto(oakwood["base"] + "/#/admin")
    page.locator("#sso-test").click()
    page.wait_for_url(oakwood["op"].issuer + "/**")
    page.get_by_label("Email").fill(sso.USERS["stranger"])
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Sign in").click()
    report = page.locator("#sso-test-report")
    report.wait_for()
    page.shot("sso-test-report")
    assert sso.USERS["stranger"] in report.inner_text() and "would not be signed in" in report.inner_text()


def test_in_the_console_required_sign_in_hides_the_password(oakwood, page):
    body = sso.settings(oakwood["op"], require=True)
    del body["client_secret"]
    assert oakwood["http"].call("PUT", "/api/settings/sso", oakwood["token"], json=body).status_code == 200
    try:
        page.goto(oakwood["base"] + "/")
        page.get_by_label("Email").fill(sso.USERS["teacher"])
        page.get_by_label("Email").blur()
        page.locator("#sso-button").wait_for()
        assert page.locator("#password").is_hidden()
        page.get_by_role("button", name="I am the school's admin: use my password").click()
        assert page.locator("#password").is_visible()
    finally:
        body["require"] = False
        oakwood["http"].call("PUT", "/api/settings/sso", oakwood["token"], json=body)


def test_in_the_console_a_schools_sign_in_link_shows_its_button(oakwood, page):
    link = oakwood["http"].call("GET", "/api/settings/sso", oakwood["token"]).json()["sign_in_link"]
    page.goto(link)
    page.locator("#sso-button").wait_for()
    assert "#sign-in" not in page.url
