"""API clients over real HTTP on the local stack (moto server, the app's
server, the pump): client credentials -> token -> each scope's routes
allowed and the rest refused; a revoked client's token refused at once; no
write route takes a client's token."""
import pytest
import requests

from tests.e2e.helpers import Http

pytestmark = pytest.mark.e2e

#: per scope: a route it opens, and one it does not
SCOPED = {
    "roster.read": ("/api/pupils", "/api/groups"),
    "groups.read": ("/api/groups", "/api/pupils"),
    "oneroster.read": ("/ims/oneroster/rostering/v1p2/users", "/api/changes"),
    "changes.read": ("/api/changes", "/ims/oneroster/rostering/v1p2/users"),
}
WRITES = [("POST", "/api/pupils", {"first_name": "A", "surname": "B", "date_of_birth": "2014-01-01",
                                   "year_group": "7"}),
          ("POST", "/api/groups", {"name": "By a client"}), ("PATCH", "/api/settings", {"name": "Hacked"}),
          ("PUT", "/api/user-groups/Clients", {"permissions": ["manage_settings"]}),
          ("POST", "/api/clients", {"name": "Another", "scopes": ["roster.read"]})]


def token_for(http, admin, scopes):
    made = http.call("POST", "/api/clients", admin, json={"name": "HTTP client", "scopes": scopes})
    assert made.status_code == 201, made.text
    made = made.json()
    r = requests.post(http.base + "/api/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(made["client_id"], made["client_secret"]), timeout=30)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    assert r.json()["token_type"] == "Bearer" and r.json()["expires_in"] == 3600
    return made, r.json()["access_token"]


def test_each_scope_opens_its_routes_and_no_other(stack):
    http = Http(stack)
    admin = http.school("scopehttp")
    for scope, (opened, closed) in SCOPED.items():
        _made, token = token_for(http, admin, [scope])
        assert http.call("GET", opened, token).status_code == 200, (scope, opened)
        refused = http.call("GET", closed, token)
        assert refused.status_code == 403, (scope, closed, refused.text)
        assert "insufficient_scope" in refused.text or "forbidden" in refused.text


def test_no_write_route_takes_a_client_token_and_a_revoked_one_stops_at_once(stack):
    http = Http(stack)
    admin = http.school("writehttp")
    made, token = token_for(http, admin, ["roster.read", "groups.read", "oneroster.read", "changes.read"])
    for method, path, body in WRITES:
        r = http.call(method, path, token, json=body)
        assert r.status_code == 403 and r.json()["code"] == "insufficient_scope", (method, path, r.text)
    assert http.call("GET", "/api/pupils", token).status_code == 200
    assert http.call("DELETE", f"/api/clients/{made['client_id']}", admin).status_code == 200
    assert http.call("GET", "/api/pupils", token).status_code == 401
