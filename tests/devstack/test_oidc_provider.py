"""The loopback OpenID provider harness (devstack/oidc_provider.py) against the
real node oidc-provider: discovery, keys, the browser-less sign-in and the
code exchange."""
import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from devstack.oidc_provider import NODE_DIR, Provider, authorize, installed, new_jwks, public_jwks

pytestmark = pytest.mark.skipif(
    not installed(), reason=f"oidc-provider not installed: run npm ci --prefix {NODE_DIR} (needs node)")

CLIENT_ID = "schoolroll-test"
CLIENT_SECRET = "not-a-real-secret"
REDIRECT_URI = "http://127.0.0.1:9/auth/callback"  # never fetched
USER = {"sub": "user-ada", "email": "ada@example.org", "email_verified": True,
        "given_name": "Ada", "family_name": "Lovelace", "name": "Ada Lovelace"}


@pytest.fixture(scope="module")
def op():
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [REDIRECT_URI]}]
    with Provider.start(clients=clients, users=[USER], jwks=new_jwks()) as provider:
        yield provider


@pytest.fixture(scope="module")
def discovery(op):
    response = requests.get(op.issuer + "/.well-known/openid-configuration", timeout=5)
    response.raise_for_status()
    return response.json()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_url(discovery, **extra):
    params = {"client_id": CLIENT_ID, "response_type": "code", "scope": "openid email profile",
              "redirect_uri": REDIRECT_URI, "state": secrets.token_urlsafe(16), **extra}
    return discovery["authorization_endpoint"] + "?" + urlencode(params)


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_discovery_names_the_issuer_and_its_keys(op, discovery):
    assert discovery["issuer"] == op.issuer == f"http://127.0.0.1:{op.port}"
    assert discovery["jwks_uri"].startswith(op.issuer + "/")
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert {"openid", "email", "profile"} <= set(discovery["scopes_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(discovery["token_endpoint_auth_methods_supported"])


def test_the_served_jwks_is_the_public_half_of_the_given_one(op, discovery):
    served = requests.get(discovery["jwks_uri"], timeout=5).json()
    assert served == public_jwks(op.jwks)
    (key,) = served["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key and "p" not in key


def test_signing_in_redirects_to_the_client_with_code_and_state(discovery):
    state = "state-123"
    location = authorize(auth_url(discovery, state=state), "ADA@example.org")  # email is case-blind
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    query = parse_qs(parts.query)
    assert query["state"] == [state]
    assert query["code"][0]


def test_an_unknown_user_is_refused(discovery):
    with pytest.raises(ValueError, match="no user"):
        authorize(auth_url(discovery), "nobody@example.org")


def test_the_code_exchange_returns_a_signed_id_token_with_the_users_claims(op, discovery):
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(16)
    location = authorize(auth_url(discovery, nonce=nonce, code_challenge=challenge,
                                  code_challenge_method="S256"), USER["email"])
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = requests.post(discovery["token_endpoint"], auth=(CLIENT_ID, CLIENT_SECRET), timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier})
    assert response.status_code == 200, response.text
    id_token = response.json()["id_token"]
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    assert header["alg"] == "RS256" and header["kid"] == op.jwks["keys"][0]["kid"]
    claims = jwt_payload(id_token)
    assert claims["iss"] == op.issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == USER["sub"]
    assert claims["email"] == USER["email"] and claims["email_verified"] is True
    assert claims["name"] == USER["name"] and claims["given_name"] == USER["given_name"]
    assert claims["nonce"] == nonce


def test_a_wrong_pkce_verifier_is_rejected_and_client_secret_post_works(discovery):
    _, challenge = pkce_pair()
    location = authorize(auth_url(discovery, code_challenge=challenge, code_challenge_method="S256"),
                         USER["email"])
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = requests.post(discovery["token_endpoint"], timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": pkce_pair()[0], "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_stop_ends_the_process_cleanly():
    provider = Provider.start(clients=[], users=[])
    with provider:
        assert requests.get(provider.issuer + "/.well-known/openid-configuration", timeout=5).ok
    assert provider.process.returncode == 0
