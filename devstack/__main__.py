"""`python -m devstack`: the whole local stack in one command.

moto server (real AWS APIs on loopback) -> tables, bucket, queues -> the app
(Chalice's local server) -> the event pump. Ctrl-C or SIGTERM stops it all.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def local_environment(aws_port, port, extra=None):
    """The only thing that differs from AWS: where the endpoints are."""
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID_LOCAL", "local"),
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION") or "eu-west-2",
        "STAGE": "local",
        "CONSOLE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        # a provider on loopback (`make run SSO=1`, the tests) may be a school's issuer over http
        "SSO_LOOPBACK_ISSUERS": "1",
    })
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    env.update(extra or {})
    return env


def port_is_free(port):
    import socket
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, seconds=30, proc=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def start_moto(port, env):
    """A moto server on loopback at ``port``, answering: its process."""
    proc = subprocess.Popen([sys.executable, "-m", "devstack.motoserver", "-H", "127.0.0.1", "-p", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/moto-api/", proc=proc)
    except Exception:
        proc.terminate()
        raise
    return proc


@contextlib.contextmanager
def moto_server(extra=None):
    """A moto server on a free port while the block runs: yields the
    environment that points a process at it (local_environment + ``extra``)."""
    port = free_port()
    env = local_environment(port, free_port(), extra)
    proc = start_moto(port, env)
    try:
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # (busy with a big bench's tables: it need not finish)
            proc.kill()
            proc.wait()


class Stack:
    """Starts and stops the processes of the local stack."""

    def __init__(self, aws_port, port, env_extra=None, quiet=False):
        self.aws_port, self.port = aws_port, port
        self.env = local_environment(aws_port, port, env_extra)
        self.procs = []
        self.quiet = quiet

    def _spawn(self, args, **kw):
        out = subprocess.DEVNULL if self.quiet else None
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env,
                                stdout=kw.get("stdout", out), stderr=kw.get("stderr", out))
        self.procs.append(proc)
        return proc

    def start(self):
        for name, port in (("AWS_PORT", self.aws_port), ("PORT", self.port)):
            if not port_is_free(port):
                raise RuntimeError(f"port {port} is already in use: stop what uses it, "
                                   f"or choose another with {name}=...")
        self.procs.append(start_moto(self.aws_port, self.env))
        subprocess.run([sys.executable, "-m", "devstack.bootstrap"], cwd=ROOT, env=self.env,
                       check=True, stdout=subprocess.DEVNULL)
        api = self._spawn(["-m", "devstack.server", "--port", str(self.port)])
        wait_for(f"http://127.0.0.1:{self.port}/api/health", proc=api)
        self._spawn(["-m", "devstack.pump"])
        return self

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []


#: `make run SSO=1`: the provider's people (any password signs them in)
SSO_USERS = ("admin@demo.sch.uk", "teacher@demo.sch.uk")


def start_sso(port):
    """An OpenID provider on loopback (devstack/oidc_provider.py) with a client
    for this stack and two people at demo.sch.uk: its process, and what to
    type into the console."""
    import secrets

    from devstack import oidc_provider
    client = {"client_id": "schoolroll-local", "client_secret": secrets.token_urlsafe(24),
              "redirect_uris": [f"http://127.0.0.1:{port}/api/auth/sso/callback"]}
    users = [{"sub": email.split("@")[0], "email": email, "email_verified": True,
              "given_name": email.split("@")[0].title(), "family_name": "Demo"} for email in SSO_USERS]
    op = oidc_provider.Provider.start([client], users, port=int(os.environ.get("SSO_PORT", "8010")))
    return op, f"""
  An OpenID provider runs at {op.issuer} (SSO=1). To sign in through it:
    1. Sign up a school with {SSO_USERS[0]} (the verification link appears below).
    2. Administration -> "Sign-in with your school's accounts": provider "Another OpenID provider",
       issuer {op.issuer}, client id {client["client_id"]},
       client secret {client["client_secret"]}, domain demo.sch.uk. Save; "Test sign-in".
    3. Add {SSO_USERS[1]} as staff; sign out; enter their address on the sign-in screen.
    The provider signs in {" or ".join(SSO_USERS)} with any password.
"""


def main():
    aws_port = int(os.environ.get("AWS_PORT", "4566"))
    port = int(os.environ.get("PORT", "8000"))
    stack = Stack(aws_port, port)
    op = None

    def shutdown(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
    try:
        stack.start()
        sso_help = ""
        if "--sso" in sys.argv[1:]:
            op, sso_help = start_sso(port)
        print(f"""
  schoolroll is running.
    console:  http://127.0.0.1:{port}/
    API:      http://127.0.0.1:{port}/api/health   (OpenAPI: /api/openapi.json)
    AWS:      moto server at http://127.0.0.1:{aws_port}
  Emails the app sends appear below with their links. Ctrl-C stops everything.
{sso_help}""", flush=True)
        while all(p.poll() is None for p in stack.procs):
            time.sleep(0.5)
        print("a process of the stack exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    finally:
        if op is not None:
            op.stop()
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
