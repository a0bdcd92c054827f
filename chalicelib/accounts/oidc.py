"""The OpenID Connect relying party: a provider's discovery document and
keys (cached), the authorization URL, the code exchange and the ID token's
checks. Authlib speaks OAuth 2.0 (PKCE S256, the token request) and joserfc
verifies the JWS and its claims: none of the protocol is ours.

Nothing here touches DynamoDB; failures are :class:`OidcError` with a
reason the sign-in page can explain."""
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, \
    MissingClaimError
from joserfc.jwk import KeySet

from ..core import config

#: asked of every provider: the ID token and the claims sign-in reads
SCOPE = "openid email profile"
#: signatures we accept (never "none", never HMAC with a public key)
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
MAX_DOCUMENT_BYTES = 256 * 1024


class OidcError(Exception):
    """A step failed. ``reason`` is one of the sso_* error codes; the message
    says what went wrong in words a school's IT can act on."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Provider:
    """What a sign-in needs of a provider's discovery document."""
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_methods: tuple


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def issuer_problem(issuer):
    """Why ``issuer`` may not be used (None: it may). https only; plain http
    only on loopback where the stack allows it (the local stack, tests)."""
    parts = urlsplit(issuer if isinstance(issuer, str) else "")
    if parts.query or parts.fragment or not parts.hostname:
        return "The issuer must be a plain URL such as https://login.example.com."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _loopback_allowed(parts.hostname):
        return None
    return "The issuer must be an https:// URL."


def _loopback_allowed(host):
    return host in LOOPBACK_HOSTS and config.sso_loopback_issuers()


def address_problem(url):
    """Why the service must not fetch ``url`` (None: it may): an https URL
    (http on loopback where allowed) whose host is a public address, never
    this network's own (a provider's document is fetched from inside AWS).
    A name is resolved here; one that resolves elsewhere when fetched a
    moment later (DNS rebinding) is not caught by this check."""
    problem = issuer_problem(url)
    if problem:
        return problem
    host = urlsplit(url).hostname
    if _loopback_allowed(host):
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return f"{host} could not be found."
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return f"{host} is not a public address."
    return None


# ---------------------------------------------------------------- fetching


def _get_json(url, what):
    """A provider's JSON document. No redirects (a document is where its
    issuer says), a public address, a time limit and a size limit (of the
    bytes as sent: no compression asked for)."""
    problem = address_problem(url)
    if problem:
        raise OidcError("sso_issuer_unusable", f"The provider's {what} can't be used: {problem}")
    try:
        with requests.get(url, timeout=config.SSO_HTTP_TIMEOUT_SECONDS, allow_redirects=False, stream=True,
                          headers={"Accept": "application/json", "Accept-Encoding": "identity"}) as answer:
            body = answer.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=False)
            status = answer.status_code
    except requests.RequestException as exc:
        raise OidcError("sso_provider_error", f"The identity provider's {what} could not be reached "
                        f"({type(exc).__name__}).") from exc
    if status != 200 or len(body) > MAX_DOCUMENT_BYTES:
        raise OidcError("sso_provider_error", f"The identity provider's {what} answered HTTP {status}.")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise OidcError("sso_provider_error", f"The identity provider's {what} is not JSON.") from exc
    if not isinstance(document, dict):
        raise OidcError("sso_provider_error", f"The identity provider's {what} is not a JSON object.")
    return document


class _Cache:
    """Documents by URL, each kept ``config.SSO_CACHE_SECONDS`` in this
    container (a sign-in then costs no fetch of them)."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def get(self, url, fetch, max_age=None, now=None):
        now = now or time.time()
        with self._lock:
            item = self._items.get(url)
        if item is not None and now - item[1] < (max_age if max_age is not None else config.SSO_CACHE_SECONDS):
            return item[0]
        value = fetch()
        with self._lock:
            self._items[url] = (value, now)
        return value

    def age(self, url, now=None):
        item = self._items.get(url)
        return None if item is None else (now or time.time()) - item[1]

    def clear(self):
        with self._lock:
            self._items.clear()


documents = _Cache()
keys = _Cache()


def discover(issuer):
    """The issuer's provider metadata (OpenID Connect Discovery 1.0): its
    ``issuer`` must be exactly the one configured (§4.3)."""
    problem = issuer_problem(issuer)
    if problem:
        raise OidcError("sso_issuer_unusable", problem)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = documents.get(url, lambda: _get_json(url, "discovery document"))
    if document.get("issuer") != issuer:
        raise OidcError("sso_issuer_unusable", f"The discovery document names another issuer "
                        f"({str(document.get('issuer'))[:200]!r}), not {issuer!r}.")
    endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [k for k in endpoints if not isinstance(document.get(k), str) or not document[k]]
    if missing:
        raise OidcError("sso_issuer_unusable", f"The discovery document has no {', '.join(missing)}.")
    for name in ("token_endpoint", "jwks_uri"):  # (the client secret is sent to one; both are fetched from here)
        problem = address_problem(document[name])
        if problem:
            raise OidcError("sso_issuer_unusable", f"The discovery document's {name} can't be used: {problem}")
    # the browser is sent there: never anywhere but the issuer's own host (no open redirect of ours)
    if issuer_problem(document["authorization_endpoint"]) or \
            urlsplit(document["authorization_endpoint"]).hostname != urlsplit(issuer).hostname:
        raise OidcError("sso_issuer_unusable", "The discovery document's authorization_endpoint is not on "
                        "the issuer's own host.")
    methods = document.get("token_endpoint_auth_methods_supported")
    methods = tuple(m for m in methods if isinstance(m, str)) if isinstance(methods, list) else ("client_secret_basic",)
    return Provider(issuer, document["authorization_endpoint"], document["token_endpoint"], document["jwks_uri"],
                    methods)


def _key_set(provider, refresh=False):
    max_age = config.SSO_JWKS_REFRESH_SECONDS if refresh else None
    document = keys.get(provider.jwks_uri, lambda: _get_json(provider.jwks_uri, "key set"), max_age=max_age)
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcError("sso_provider_error", "The identity provider's key set could not be read.") from exc


# ---------------------------------------------------------------- the flow


@dataclass(frozen=True)
class Started:
    """A sign-in on its way to the provider: where to send the browser, and
    what the callback must hold it to."""
    url: str
    state: str
    nonce: str
    code_verifier: str


def _session(provider, client_id, client_secret=None):
    method = "client_secret_basic" if "client_secret_basic" in provider.auth_methods else "client_secret_post"
    return OAuth2Session(client_id, client_secret, scope=SCOPE, redirect_uri=config.sso_redirect_uri(),
                         code_challenge_method="S256", token_endpoint_auth_method=method)


def start(provider, client_id, login_hint=None):
    """The authorization-code request (with PKCE S256, state and nonce)."""
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    extra = {"login_hint": login_hint} if login_hint else {}
    url, _ = _session(provider, client_id).create_authorization_url(
        provider.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier, **extra)
    return Started(url, state, nonce, verifier)


def exchange(provider, client_id, client_secret, code, code_verifier):
    """The token endpoint's answer for ``code``: its ID token (a string)."""
    session = _session(provider, client_id, client_secret)
    try:
        token = session.fetch_token(provider.token_endpoint, code=code, code_verifier=code_verifier,
                                    timeout=config.SSO_HTTP_TIMEOUT_SECONDS, allow_redirects=False)
    except OAuthError as exc:
        raise OidcError("sso_provider_error", "The identity provider refused the sign-in code "
                        f"({exc.error}): it may have been used already. Start again.") from exc
    except (requests.RequestException, ValueError) as exc:
        raise OidcError("sso_provider_error", "The identity provider's token endpoint could not be "
                        f"reached or read ({type(exc).__name__}).") from exc
    finally:
        session.close()
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("sso_token_invalid", "The identity provider answered without an ID token.")
    return id_token


_CLAIM_WORDS = {"iss": "it was issued by another provider", "aud": "it was issued for another application",
                "azp": "it was issued for another application", "nonce": "it belongs to another sign-in",
                "exp": "it has expired", "sub": "it names nobody"}


def verify(provider, client_id, id_token, nonce, now=None):
    """The ID token's claims, once its signature (the provider's keys; fetched
    again once for an unknown key), issuer, audience, expiry and nonce hold."""
    decoded = _decode(provider, id_token)
    registry = jwt.JWTClaimsRegistry(
        now=int(now) if now else None, leeway=config.SSO_LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.issuer}, aud={"essential": True, "value": client_id},
        exp={"essential": True}, sub={"essential": True}, nonce={"essential": True, "value": nonce})
    claims = decoded.claims
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise OidcError("sso_token_invalid", "The ID token was refused: it has expired.") from exc
    except (MissingClaimError, InvalidClaimError) as exc:
        name = str(getattr(exc, "claim", "") or "")
        words = next((w for c, w in _CLAIM_WORDS.items() if c in (name or str(exc))), "a claim is wrong")
        raise OidcError("sso_token_invalid", f"The ID token was refused: {words}.") from exc
    except JoseError as exc:
        raise OidcError("sso_token_invalid", f"The ID token was refused ({exc.error}).") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:  # (OpenID Connect Core §3.1.3.7, 4-5)
        raise OidcError("sso_token_invalid", f"The ID token was refused: {_CLAIM_WORDS['azp']}.")
    return claims


def _decode(provider, id_token):
    for refresh in (False, True):
        key_set = _key_set(provider, refresh=refresh)
        try:
            return jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
        except BadSignatureError as exc:
            raise OidcError("sso_token_invalid", "The ID token was refused: its signature is not the "
                            "provider's.") from exc
        except JoseError as exc:
            if refresh or not _unknown_key(exc):
                raise OidcError("sso_token_invalid", "The ID token was refused: it could not be "
                                f"verified ({exc.error}).") from exc
        except ValueError as exc:
            if refresh or "key" not in str(exc).lower():
                raise OidcError("sso_token_invalid", "The ID token was refused: it is not a signed "
                                "token.") from exc
    raise OidcError("sso_token_invalid", "The ID token was refused.")  # (not reached)


def _unknown_key(exc):
    return "key" in (getattr(exc, "error", "") or str(exc)).lower()
