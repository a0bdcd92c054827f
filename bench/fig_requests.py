"""Figure 4: DynamoDB requests, counted with a botocore hook: per 1,000 new
rows imported, re-importing an unchanged file, and each hot API route."""

GOALS = {"import 1,000 new rows": 60, "re-import 1,000 unchanged rows": 20, "GET /api/me": 1, "sign in": 3,
         "sign in with two-factor: the password": 3, "sign in with two-factor: the code": 4,
         # (a group's members: 3, and 1 BatchGetItem a 100 pupils for their years and registration groups,
         # read from their records: a copy on each membership would be stale after every rollover)
         "list a page of pupils": 3, "search pupils by name": 3, "list a group's members": 4,
         "add members to a group": 5, "list the caller's groups with roles": 3,
         # (the session's read, then the lookup's own 2: the memberships, then their groups and the member)
         "a member's groups now": 3,
         # (an API client's token with its client and school, then the school's pupils and its staff)
         "a OneRoster page of 100 users": 3,
         # (the provider's discovery document and keys cached: take the state, the secret, the login,
         # put the one-time code; Secrets Manager's call counts with DynamoDB's)
         "the provider sign-in's callback": 4, "a request after a provider sign-in": 1}


def run(quick=False):
    from bench.harness import environment
    environment()
    import requests

    from bench.harness import PASSWORD, Calls, drain, signed_in_app
    from tests.data.make_corpus import big_pupils_csv
    results = []
    with signed_in_app() as (client, pump):
        rows = 200 if quick else 1000
        data = big_pupils_csv(rows)
        calls = Calls()
        try:
            for label in ("import 1,000 new rows", "re-import 1,000 unchanged rows"):
                calls.clear()
                started = client.call("POST", "/api/imports", {"kind": "pupils", "filename": "p.csv"}).data
                up = started["upload"]
                requests.post(up["url"], data=up["fields"], files={"file": ("p.csv", data)})
                drain(pump)
                imp = client.call("GET", f"/api/imports/{started['import_id']}").data
                client.call("PUT", f"/api/imports/{imp['id']}/mapping", {"mapping": imp["suggested_mapping"]})
                drain(pump)
                client.call("POST", f"/api/imports/{imp['id']}/commit")
                drain(pump)
                ops = calls.dynamodb()
                writes = [o for o in ops if o in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                                                  "TransactWriteItems")]
                per_1000 = len(ops) * 1000 / rows
                results.append(_row(label, per_1000, f"writes: {len(writes)}"))
            pupils = client.call("GET", "/api/pupils?limit=3").data["items"]
            group = client.call("POST", "/api/groups", {"name": "G"}).data
            client.call("POST", f"/api/groups/{group['id']}/members", {"member_ids": [pupils[0]["id"]]})
            for n in range(20 if quick else 100):  # (a page of the caller's groups, each with her role)
                client.call("POST", "/api/groups", {"name": f"Set {n}", "shared": n % 2 == 0})
            routes = [("GET /api/me", "GET", "/api/me", None),
                      ("list a page of pupils", "GET", "/api/pupils?limit=50", None),
                      ("search pupils by name", "GET", "/api/pupils?q=a", None),
                      ("list a group's members", "GET", f"/api/groups/{group['id']}/members", None),
                      ("add members to a group", "POST", f"/api/groups/{group['id']}/members",
                       {"member_ids": [p["id"] for p in pupils[1:3]]}),
                      ("list the caller's groups with roles", "GET", "/api/groups?mine=true", None),
                      ("a member's groups now", "GET", f"/api/members/{pupils[0]['id']}/groups", None)]
            results.append(_oneroster_page(client, calls))
            results += _provider_sign_in(client, calls)
            me = client.call("GET", "/api/me").data
            calls.clear()
            r = client.call("POST", "/api/auth/login", {"email": me["user"]["email"], "password": PASSWORD})
            assert r.status_code == 200, r.body
            results.append(_row("sign in", len(calls.dynamodb()), ", ".join(calls.dynamodb())))
            results += _two_factor_sign_in(client, calls, me["user"]["email"], PASSWORD)
            for label, method, path, body in routes:
                calls.clear()
                r = client.call(method, path, body)
                assert r.status_code < 300, r.body
                results.append(_row(label, len(calls.dynamodb()), ", ".join(calls.dynamodb())))
        finally:
            calls.close()
    return results


def _two_factor_sign_in(client, calls, email, password):
    """Turn two-factor on, then count a sign-in's two steps (each a request)."""
    import time

    import pyotp
    secret = client.call("POST", "/api/auth/mfa/setup").data["secret"]
    assert client.call("POST", "/api/auth/mfa/confirm", {"code": pyotp.TOTP(secret).now()}).status_code == 200
    out = []
    signed_in, client.token = client.token, None
    calls.clear()
    step = client.call("POST", "/api/auth/login", {"email": email, "password": password}).data
    out.append(_row("sign in with two-factor: the password", len(calls.dynamodb()), ", ".join(calls.dynamodb())))
    calls.clear()
    r = client.call("POST", "/api/auth/mfa/verify", {"mfa_token": step["mfa_token"],
                                                     "code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert r.status_code == 200, r.body
    out.append(_row("sign in with two-factor: the code", len(calls.dynamodb()), ", ".join(calls.dynamodb())))
    client.token = signed_in
    return out


def _row(label, value, detail):
    goal = GOALS[label]
    return {"figure": f"DynamoDB requests: {label}", "value": value, "unit": "calls", "goal": f"<= {goal}",
            "passed": value <= goal, "detail": detail}


def _provider_sign_in(client, calls):
    """Sign the admin in through a real OpenID provider on loopback (devstack's
    oidc-provider): the callback's AWS calls once the provider's documents are
    cached, then a request with the session it gave."""
    import os
    from urllib.parse import parse_qs, urlsplit

    from devstack import oidc_provider
    if not oidc_provider.installed():
        return [{"figure": "DynamoDB requests: the provider sign-in's callback", "value": None, "unit": "calls",
                 "goal": "<= 4", "passed": False, "detail": "npm ci --prefix devstack/oidc first"}]
    os.environ["SSO_LOOPBACK_ISSUERS"] = "1"
    from chalicelib.core import config
    email = client.call("GET", "/api/me").data["user"]["email"]
    user = {"sub": "bench", "email": email, "email_verified": True}
    client_app = {"client_id": "bench", "client_secret": "bench-secret", "redirect_uris": [config.sso_redirect_uri()]}
    with oidc_provider.Provider.start([client_app], [user]) as op:
        assert client.call("PUT", "/api/settings/sso", {"provider": "oidc", "issuer": op.issuer, "client_id": "bench",
                                                        "client_secret": "bench-secret",
                                                        "allowed_domains": [email.split("@")[1]]}).status_code == 200
        codes = []
        for _warm in range(2):  # (the first round fetches the provider's documents; the second is counted)
            start = client.call("GET", f"/api/auth/sso/start?school={email.split('@')[1]}&console={'c' * 43}")
            back = oidc_provider.authorize(start.headers["Location"], email)
            cookie = start.headers["Set-Cookie"].split(";", 1)[0]
            calls.clear()
            r = client.call("GET", back.split(urlsplit(back).netloc, 1)[1], headers={"Cookie": cookie})
            assert r.status_code == 302, r.body
            aws = [op for service, op in calls.ops if service in ("dynamodb", "secretsmanager")]
            codes.append(parse_qs(urlsplit(r.headers["Location"]).fragment)["sso"][0])
        session = client.call("POST", "/api/auth/sso/exchange", {"code": codes[-1], "console": "c" * 43}).data["token"]
        calls.clear()
        assert client.call("GET", "/api/me", token=session).status_code == 200
        return [_row("the provider sign-in's callback", len(aws), ", ".join(aws)),
                _row("a request after a provider sign-in", len(calls.dynamodb()), ", ".join(calls.dynamodb()))]


def _oneroster_page(client, calls):
    """A page of 100 users through OneRoster 1.2, as an API client asks."""
    import base64
    made = client.call("POST", "/api/clients", {"name": "Bench", "scopes": ["oneroster.read"]}).data
    basic = base64.b64encode(f"{made['client_id']}:{made['client_secret']}".encode()).decode()
    token = client.call("POST", "/api/oauth/token", "grant_type=client_credentials", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"}).data["access_token"]
    client.call("GET", "/ims/oneroster/rostering/v1p2/users?limit=100", token=token)  # (the client's last use, once)
    calls.clear()
    r = client.call("GET", "/ims/oneroster/rostering/v1p2/users?limit=100&offset=100", token=token)
    assert r.status_code == 200 and len(r.data["users"]) == 100, r.body
    return _row("a OneRoster page of 100 users", len(calls.dynamodb()), ", ".join(calls.dynamodb()))
