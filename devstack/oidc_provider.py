"""A real OpenID provider on loopback, for tests and for local trying-out.

It is panva's OpenID-certified ``oidc-provider`` (npm, pinned in
devstack/oidc/package.json) run by ``devstack/oidc/provider.mjs`` under node,
with a tiny login page of its own (an email field; any password) and no consent
screen: openid, email and profile are granted to every client. Install it once
with ``npm ci --prefix devstack/oidc``.

    jwks = new_jwks()
    with Provider.start(clients=[{"client_id": "app", "client_secret": "s3cret",
                                  "redirect_uris": ["http://127.0.0.1:8000/cb"]}],
                        users=[{"sub": "u1", "email": "ada@example.org",
                                "email_verified": True, "name": "Ada Lovelace",
                                "given_name": "Ada", "family_name": "Lovelace"}],
                        jwks=jwks) as op:
        op.issuer            # http://127.0.0.1:<port>; discovery under it
        location = authorize(f"{op.issuer}/auth?...", "ada@example.org")
        # -> "http://127.0.0.1:8000/cb?code=...&state=...&iss=..."
"""
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from urllib.parse import urljoin, urlsplit

import requests
from joserfc.jwk import RSAKey

#: the node package: package.json, package-lock.json, provider.mjs
NODE_DIR = pathlib.Path(__file__).resolve().parent / "oidc"
SCRIPT = NODE_DIR / "provider.mjs"
READY_TIMEOUT = 20.0
LOOPBACK = "127.0.0.1"

#: what the provider's login page says when no user has the email given
NO_SUCH_USER = "No such user"


def installed():
    """Whether ``npm ci --prefix devstack/oidc`` has been run (and node is here)."""
    return (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").is_file() \
        and shutil.which("node") is not None


# ------------------------------------------------------------------- keys ---

def new_jwks():
    """A fresh private RSA-2048 JWK set of one signing key (kid, alg RS256,
    use sig), made by joserfc (no key encoding of our own)."""
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, private=True)
    return {"keys": [{**key.as_dict(private=True), "kid": secrets.token_urlsafe(12)}]}


PUBLIC_MEMBERS = ("kty", "kid", "alg", "use", "key_ops", "n", "e", "crv", "x", "y", "x5c", "x5t", "x5t#S256")


def public_jwks(jwks):
    """The public half of a JWK set (what the provider serves at its jwks_uri)."""
    return {"keys": [{k: v for k, v in key.items() if k in PUBLIC_MEMBERS} for key in jwks["keys"]]}


# --------------------------------------------------------------- provider ---

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Provider:
    """One running ``node provider.mjs``; made by :meth:`start`."""

    def __init__(self, process, issuer, port, jwks, stderr_file):
        self.process = process
        self.issuer = issuer
        self.port = port
        self.jwks = jwks
        self._stderr = stderr_file
        self._drainer = None

    @classmethod
    def start(cls, clients, users, jwks=None, port=0, id_token_ttl=3600, pkce_required=False):
        """Start a provider and wait (at most 20 s) until it listens.

        ``port=0`` picks a free loopback port (and tries again, up to three
        times, should another process take it first). Raises RuntimeError, with
        the process's stderr, when it does not come up."""
        if not installed():
            raise RuntimeError(f"oidc-provider is not installed: run npm ci --prefix {NODE_DIR}")
        jwks = jwks or new_jwks()
        for attempt in range(3):
            chosen = port or free_port()
            try:
                return cls._launch(clients, users, jwks, chosen, id_token_ttl, pkce_required)
            except _PortTaken:
                if port or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _launch(cls, clients, users, jwks, port, id_token_ttl, pkce_required):
        issuer = f"http://{LOOPBACK}:{port}"
        config = {"port": port, "issuer": issuer, "clients": clients, "users": users,
                  "jwks": jwks, "id_token_ttl": id_token_ttl, "pkce_required": pkce_required}
        stderr_file = tempfile.TemporaryFile()
        env = dict(os.environ, OIDC_CONFIG=json.dumps(config))
        process = subprocess.Popen(["node", str(SCRIPT)], cwd=NODE_DIR, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=stderr_file)
        provider = cls(process, issuer, port, jwks, stderr_file)
        line = _first_line(process.stdout, READY_TIMEOUT)
        if line.strip() == f"READY {issuer}":
            provider._drainer = threading.Thread(target=_drain, args=(process.stdout,), daemon=True)
            provider._drainer.start()
            return provider
        provider.stop()
        err = provider.stderr()
        if "EADDRINUSE" in err:
            raise _PortTaken(f"the OpenID provider could not listen on port {port}:\n{err}")
        raise RuntimeError(f"the OpenID provider did not start (got {line!r} on stdout):\n{err}")

    def stderr(self):
        """What the process wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def url(self, path):
        return self.issuer + path

    def stop(self):
        """Terminate the process (SIGTERM, then SIGKILL after 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._drainer is not None:
            self._drainer.join(timeout=2)
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self._stderr.close()


def start_provider(clients, users, jwks=None, port=0, id_token_ttl=3600, pkce_required=False):
    """The same as :meth:`Provider.start`."""
    return Provider.start(clients, users, jwks=jwks, port=port, id_token_ttl=id_token_ttl,
                          pkce_required=pkce_required)


class _PortTaken(RuntimeError):
    pass


def _first_line(stream, timeout):
    """The first line of ``stream``, or "" at EOF or after ``timeout`` seconds."""
    box = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0].decode("utf-8", "replace") if box else ""


def _drain(stream):
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------- sign-in ---

MAX_STEPS = 20


def _origin(url):
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _is_login_form(response):
    return response.status_code == 200 and 'name="login"' in response.text


def authorize(auth_url, login, http=None):
    """Sign in as ``login`` (an email) without a browser; return the redirect to the client.

    GETs ``auth_url`` (the provider's authorization endpoint with its query),
    follows the provider's own redirects (those on its scheme, host and port),
    fills in the login form with ``login`` and a dummy password, keeps
    following, and returns the first ``Location`` that points elsewhere, i.e.
    the client's redirect_uri with ``code`` and ``state`` (or with ``error``
    when the provider refused the request), without fetching it. ``http`` is a
    ``requests.Session`` to use (its cookies keep the provider's session, so a
    second call may not see the form at all). Raises ValueError when the
    provider has no such user or the flow ends without such a redirect."""
    http = http or requests.Session()
    provider = _origin(auth_url)
    response = http.get(auth_url, allow_redirects=False, timeout=10)
    posted = False
    for _ in range(MAX_STEPS):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if _origin(location) != provider:
                return location
            response = http.get(location, allow_redirects=False, timeout=10)
        elif _is_login_form(response) and not posted:
            response = http.post(response.url, data={"login": login, "password": "dummy-password"},
                                 allow_redirects=False, timeout=10)
            posted = True
        elif _is_login_form(response) and NO_SUCH_USER in response.text:
            raise ValueError(f"the OpenID provider has no user with email {login!r}")
        else:
            raise ValueError(_dead_end(response))
    raise ValueError(f"no redirect to the client after {MAX_STEPS} steps (last: {response.url})")


def _dead_end(response):
    body = response.text.split("<body>", 1)[-1]
    text = " ".join(re.sub(r"<[^>]*>", " ", body).split())[:300]
    return (f"sign-in ended without a redirect to the client: HTTP {response.status_code} "
            f"at {response.url}: {text}")

