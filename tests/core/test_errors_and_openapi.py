import os
import re

import pytest

from chalicelib.core.errors import ERROR_CODES, ApiError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def test_unregistered_error_code_is_refused():
    with pytest.raises(ValueError):
        ApiError("made_up", "x")


def test_readme_lists_every_error_code():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    listed = set(re.findall(r"^\| `([a-z_]+)` \| \d{3} \|", readme, re.M))
    assert listed == set(ERROR_CODES)


def test_openapi_describes_every_route(api, app):
    r = api.get("/api/openapi.json")
    assert r.status_code == 200
    spec = r.data
    assert spec["openapi"].startswith("3.")
    for path, methods in app.routes.items():
        for method in methods:
            op = spec["paths"][path][method.lower()]
            assert op["x-documented"], f"{method} {path} has no description"
            assert op["responses"], f"{method} {path} has no responses"
            if method in ("POST", "PUT", "PATCH") and op.get("security") != []:
                assert "401" in op["responses"]


def test_openapi_document_is_valid_openapi(api):
    from openapi_spec_validator import validate
    validate(api.get("/api/openapi.json").data)


def test_request_bodies_are_documented_with_their_required_fields(api):
    spec = api.get("/api/openapi.json").data
    body = spec["paths"]["/api/schools"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"name", "admin"}
    assert spec["paths"]["/api/health"]["get"]["security"] == []
