"""Service routes: health and the OpenAPI document."""
from chalice import Blueprint

from . import openapi
from .http import route
from .schema import obj, string

bp = Blueprint(__name__)


@route(bp, "/health", "GET", summary="Liveness check", tag="service", auth=False,
       response=obj(["status"], status=string()))
def health(ctx):
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3 document", tag="service",
       auth=False, response={"type": "object"})
def openapi_document(ctx):
    return openapi.build(bp.current_app)
