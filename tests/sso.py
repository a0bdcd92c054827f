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
        users=provider_users(), jwks=oidc_provider.new_jwks())


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
