"""Every 4xx/5xx is JSON {code, message}, whatever produced it."""
import json

from chalice import Response

from chalicelib.core.errors import ERROR_CODES
from chalicelib.core.http import error_middleware


class FakeEvent:
    method = "GET"
    context = {"requestId": "r1", "resourcePath": "/x"}


def test_health_needs_no_token(api):
    r = api.get("/api/health", token="")
    assert (r.status_code, r.data) == (200, {"status": "ok"})


def test_method_not_allowed_is_json(api):
    r = api.call("DELETE", "/api/health")
    assert r.status_code == 405
    assert r.data["code"] == "method_not_allowed" and r.data["message"]


def test_invalid_json_is_bad_request(api):
    r = api.post("/api/auth/login", body="{not json")
    assert r.status_code == 400 and r.data["code"] == "bad_request"


def test_non_object_json_is_bad_request(api):
    r = api.post("/api/auth/login", body="[1, 2]")
    assert r.status_code == 400 and r.data["code"] == "bad_request"


def test_wrong_content_type_is_json(api):
    r = api.post("/api/auth/login", body="email=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.data["code"] == "unsupported_media_type"


def test_unexpected_exception_becomes_internal_error_without_details():
    def boom(event):
        raise RuntimeError("secret detail")
    response = error_middleware(FakeEvent(), boom)
    body = json.loads(response.body)
    assert response.status_code == 500
    assert body["code"] == "internal_error" and "secret" not in body["message"]


def test_chalice_error_bodies_are_translated():
    def chalice_500(event):
        return Response(body={"Code": "InternalServerError", "Message": "An internal server error occurred."},
                        status_code=500)
    response = error_middleware(FakeEvent(), chalice_500)
    assert json.loads(response.body)["code"] == "internal_error"


def test_every_error_code_has_a_4xx_or_5xx_status():
    assert all(400 <= status < 600 for status, _ in ERROR_CODES.values())


def test_a_throttled_database_is_503_service_busy_never_401(api, admin, monkeypatch):
    """DynamoDB throttling that outlasted the SDK's retries, while the
    authoriser reads the session: busy, with Retry-After (the console keeps
    its token on a 503; it drops it on a 401)."""
    from botocore.exceptions import ClientError
    from chalicelib.accounts import service

    def throttled(_requests):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "BatchGetItem")
    monkeypatch.setattr(service, "batch_get", throttled)
    r = api.get("/api/me")
    assert r.status_code == 503 and r.data["code"] == "service_busy", r.body
    assert r.headers["Retry-After"] == "2" and r.headers["Cache-Control"] == "no-store"
    monkeypatch.undo()
    assert api.get("/api/me").status_code == 200
