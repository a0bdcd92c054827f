"""Sign-in through a real OpenID provider on loopback (devstack/oidc_provider.py:
panva's oidc-provider under node), shared by the accounts, hardening and
browser tests: its users, the school's settings for it, and the browser's
round trip driven over HTTP."""
from urllib.parse import parse_qs, urlsplit

import pytest

from devstack import oidc_provider

CLIENT_ID = "schoolroll-test"
CLIENT_SECRET = "a-client-secret-of-the-test-provider"
DOMAIN = "oakwood.sch.uk"
#: the provider's people: staff-to-be of Oakwood, a stranger at its domain,
#: one outside its domains, one whose address the provider does not vouch for,
#: and Birch's admin (another school: the isolation cases)
USERS = {
    "head": f"head@{DOMAIN}", "teacher": f"teacher@{DOMAIN}", "stranger": f"stranger@{DOMAIN}",
    "outsider": "ada@elsewhere.org", "unverified": f"unverified@{DOMAIN}", "birch": "head@birch.sch.uk",
    # the admins of the hardening suites' schools (tests/hardening/fixtures.build_school)
    "ashgrove": "head@ashgrove.sch.uk", "birchwood": "head@birchwood.sch.uk", "cedar": "head@cedar.sch.uk",
}


def provider_users():
    return [{"sub": f"sub-{name}", "email": email, "email_verified": name != "unverified",
             "given_name": name.title(), "family_name": "Tester", "name": f"{name.title()} Tester"}
            for name, email in USERS.items()]


def start_provider(redirect_uris):
    if not oidc_provider.installed():
        pytest.fail("oidc-provider is not installed: `make test` installs it (npm ci --prefix devstack/oidc)")
    return oidc_provider.Provider.start(
        clients=[{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
                 {"client_id": "another-app", "client_secret": "another-secret", "redirect_uris": redirect_uris}],
        users=provider_users(), jwks=oidc_provider.new_jwks(), pkce_required=True)


#: what the console keeps in sessionStorage for a sign-in it starts (sso.js), and shows at the exchange
CONSOLE = "the-console-s-own-value-0123456789abcdef"


def start_url(school):
    return f"/api/auth/sso/start?school={school}&console={CONSOLE}"


def begin(api, start_path, token=None):
    """Start: a GET of the sign-in's start (302), or the test button's POST
    (as ``token``, else the api's own)."""
    if start_path.endswith("/test"):
        start = api.post(start_path, token=token)
        assert start.status_code == 200, start.body
    else:
        start = api.call("GET", start_path, token="")
        assert start.status_code == 302, start.body
    return start


def come_back(api, start, email, headers=None, cookie=True, edit=None, then=None):
    """The provider's sign-in as ``email``, then our callback with the
    browser's cookie (``cookie=False``: another browser): its answer.
    ``edit``: (path) -> path, to tamper with the callback URL; ``then()`` is
    called just before it."""
    provider_url = start.data["url"] if start.data else start.headers["Location"]
    path = authorize(provider_url, email).split("127.0.0.1:8000", 1)[1]
    path = edit(path) if edit else path
    if then:
        then()
    sent = {"Cookie": f"sr_sso={cookie_of(start.headers['Set-Cookie'])}"} if cookie else {}
    return api.call("GET", path, token="", headers={**sent, "Accept": "application/json", **(headers or {})})


def round_trip(api, start_path, email, token=None, **back):
    """begin, then come_back: the callback's answer."""
    return come_back(api, begin(api, start_path, token), email, **back)


def settings(op, **extra):
    """A PUT /api/settings/sso body for the loopback provider."""
    return {"provider": "oidc", "issuer": op.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "allowed_domains": [DOMAIN], **extra}


def cookie_of(set_cookie):
    """The binding cookie's value from a Set-Cookie header."""
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def fragment_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}


def authorize(provider_url, email):
    """The provider's sign-in for ``email``: the callback URL it sends the browser to."""
    return oidc_provider.authorize(provider_url, email)
