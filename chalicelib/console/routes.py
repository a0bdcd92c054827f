"""Serves the console's static files from the package (same origin as /api)."""
import os

from chalice import Blueprint, Response

from ..core.errors import not_found
from ..core.http import route
from ..core.schema import string

bp = Blueprint(__name__)
STATIC = os.path.join(os.path.dirname(__file__), "static")
TYPES = {".html": "text/html; charset=utf-8", ".js": "application/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def _file(name):
    path = os.path.join(STATIC, name)
    ext = os.path.splitext(name)[1]
    if "/" in name or "\\" in name or name.startswith(".") or ext not in TYPES \
            or not os.path.isfile(path):
        raise not_found("file")
    with open(path, "rb") as fh:
        body = fh.read().decode("utf-8")
    return Response(body=body, status_code=200,
                    headers={"Content-Type": TYPES[ext], "Cache-Control": "no-cache",
                             "X-Content-Type-Options": "nosniff"})


@route(bp, "/", "GET", summary="The console (HTML)", tag="console", auth=False,
       response=string(), content_type="text/html")
def index(ctx):
    return _file("index.html")


@route(bp, "/assets/{name}", "GET", summary="A console asset (JS, CSS)", tag="console",
       auth=False, response=string(), content_type="text/plain")
def asset(ctx, name):
    return _file(name)
