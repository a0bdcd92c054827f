"""The relying party's pure checks: where the service will fetch from or send
a browser to, and which address an ID token vouches for, per provider."""
import pytest

from chalicelib.accounts import oidc, sso_config
from chalicelib.core.errors import FieldError

GOOD_DOC = {"issuer": "https://203.0.113.9", "authorization_endpoint": "https://203.0.113.9/authorize",
            "token_endpoint": "https://203.0.113.9/token", "jwks_uri": "https://203.0.113.9/keys"}


@pytest.mark.parametrize("url", [
    "https://169.254.169.254/latest/meta-data/", "https://10.0.0.8/", "https://192.168.1.1/", "https://[::1]/",
    "https://127.0.0.2/", "http://203.0.113.9/", "ftp://203.0.113.9/", "https://203.0.113.9/?x=1", "not a url",
])
def test_the_service_never_fetches_from_its_own_network_or_without_tls(url):
    assert oidc.address_problem(url)


def test_loopback_over_http_only_where_the_stack_allows_it(monkeypatch):
    assert oidc.address_problem("http://127.0.0.1:8010") is None  # (the tests' environment allows it)
    monkeypatch.setenv("SSO_LOOPBACK_ISSUERS", "")
    assert oidc.address_problem("http://127.0.0.1:8010")


@pytest.fixture
def served(monkeypatch):
    """discover() reads this document (no network)."""
    oidc.documents.clear()
    doc = dict(GOOD_DOC)
    monkeypatch.setattr(oidc, "_get_json", lambda url, what: doc)
    monkeypatch.setattr(oidc, "address_problem", lambda url: None if url.startswith("https://203.") else "private")
    yield doc
    oidc.documents.clear()


def test_a_good_discovery_document_is_read(served):
    provider = oidc.discover("https://203.0.113.9")
    assert provider.token_endpoint == GOOD_DOC["token_endpoint"] and provider.auth_methods == ("client_secret_basic",)


@pytest.mark.parametrize("change,words", [
    ({"issuer": "https://203.0.113.10"}, "another issuer"),
    ({"token_endpoint": "https://10.0.0.1/token"}, "token_endpoint"),
    ({"jwks_uri": "https://169.254.169.254/"}, "jwks_uri"),
    ({"authorization_endpoint": "https://203.0.113.77/phish"}, "issuer's own host"),
    ({"authorization_endpoint": 42}, "no authorization_endpoint"),
])
def test_a_discovery_document_pointing_elsewhere_is_refused(served, change, words):
    served.update(change)
    with pytest.raises(oidc.OidcError) as caught:
        oidc.discover("https://203.0.113.9")
    assert caught.value.reason == "sso_issuer_unusable" and words in caught.value.message


def _settings(kind, domains=("oak.sch.uk",)):
    return sso_config.Settings(kind, "https://x", "client", tuple(domains), False)


def test_microsoft_vouches_for_the_work_sign_in_name():
    settings = _settings(sso_config.Kind.MICROSOFT)
    assert sso_config.signed_in_email(settings, {"preferred_username": "Ann@Oak.sch.uk"})[0] == "ann@oak.sch.uk"
    # an unverified 'email' is not taken over the sign-in name
    assert sso_config.signed_in_email(settings, {"preferred_username": "ann@oak.sch.uk",
                                                 "email": "head@oak.sch.uk"})[0] == "ann@oak.sch.uk"


def test_google_needs_a_workspace_account_of_the_school():
    settings = _settings(sso_config.Kind.GOOGLE)
    claims = {"email": "ann@oak.sch.uk", "email_verified": True}
    assert sso_config.signed_in_email(settings, claims)[1].reason == "sso_domain_not_allowed"
    assert sso_config.signed_in_email(settings, {**claims, "hd": "oak.sch.uk"})[0] == "ann@oak.sch.uk"


def test_another_provider_must_vouch_for_the_address():
    settings = _settings(sso_config.Kind.OIDC)
    assert sso_config.signed_in_email(settings, {"email": "ann@oak.sch.uk"})[1].reason == "sso_email_unverified"
    assert sso_config.signed_in_email(settings, {"email": "ann@elm.sch.uk", "email_verified": True}
                                      )[1].reason == "sso_domain_not_allowed"


@pytest.mark.parametrize("issuer", ["https://accounts.google.com", "https://login.microsoftonline.com/x/v2.0"])
def test_oidc_refuses_the_big_providers_issuers(issuer):
    with pytest.raises(FieldError):
        sso_config.issuer_for(sso_config.Kind.OIDC, issuer)
