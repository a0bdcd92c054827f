"""Serves the console's static files from the package (same origin as /api):
scripts and styles minified once a process (rjsmin, rcssmin), so the
sources keep their comments and the browser gets no more than it needs."""
import os
from functools import lru_cache

import rcssmin
import rjsmin
from chalice import Blueprint, Response

from ..core import config
from ..core.errors import not_found
from ..core.http import route
from ..core.schema import string

bp = Blueprint(__name__)
STATIC = os.path.join(os.path.dirname(__file__), "static")
TYPES = {".html": "text/html; charset=utf-8", ".js": "application/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def security_headers(request):
    """What a browser must enforce for the console: scripts, styles and
    connections from our own origin only (and S3 for uploads), never framed,
    no referrer; HSTS when the request came over HTTPS."""
    csp = "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self' " + " ".join(config.s3_origins()), "form-action 'self'",
        "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"])
    headers = {"Content-Security-Policy": csp, "X-Frame-Options": "DENY",
               "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
               "Cross-Origin-Opener-Policy": "same-origin"}
    proto = ((request.headers or {}).get("x-forwarded-proto") or "").lower() if request else ""
    if proto == "https":
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def served(name):
    """A static file as sent: a script or style sheet minified, the rest as
    it is; made again when the file changes (as under `make run`)."""
    return _minified(name, os.path.getmtime(os.path.join(STATIC, name)))


@lru_cache(maxsize=64)
def _minified(name, _mtime):
    with open(os.path.join(STATIC, name), "rb") as fh:
        text = fh.read().decode("utf-8")
    ext = os.path.splitext(name)[1]
    return rjsmin.jsmin(text) if ext == ".js" else rcssmin.cssmin(text) if ext == ".css" else text


def _file(name, request=None):
    path = os.path.join(STATIC, name)
    ext = os.path.splitext(name)[1]
    if "/" in name or "\\" in name or name.startswith(".") or ext not in TYPES \
            or not os.path.isfile(path):
        raise not_found("file")
    return Response(body=served(name), status_code=200,
                    headers={**security_headers(request), "Content-Type": TYPES[ext],
                             "Cache-Control": "no-cache"})


@route(bp, "/", "GET", summary="The console (HTML)", tag="console", auth=False,
       response=string(), content_type="text/html")
def index(ctx):
    # API Gateway serves the console at /<stage>: relative asset URLs need the
    # trailing slash, so /<stage> is sent to /<stage>/ (no inline script for it).
    path = (ctx.request.context or {}).get("path") or "/"
    if not path.endswith("/"):
        return Response(body="", status_code=302, headers={**security_headers(ctx.request),
                                                           "Location": path + "/"})
    return _file("index.html", ctx.request)


@route(bp, "/assets/{name}", "GET", summary="A console asset (JS, CSS)", tag="console",
       auth=False, response=string(), content_type="text/plain")
def asset(ctx, name):
    return _file(name, ctx.request)
