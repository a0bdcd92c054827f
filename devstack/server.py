"""Serve the app locally with Chalice's own local server (what `chalice local`
runs), plus the two things API Gateway does that `chalice local` does not:

- the gateway responses of ``chalicelib.core.gateway`` (an unknown route is a
  JSON 404 here as on AWS, where the template configures the same answer);
- one request at a time into the app, as in a Lambda container (Chalice keeps
  ``app.current_request`` on the app object, so threads would share it).
"""
import argparse
import os
import threading

from chalice.cli.factory import CLIFactory
from chalice.local import (ChaliceRequestHandler, ForbiddenError, LocalDevServer,
                           LocalGatewayException, NotAuthorizedError)

from chalicelib.core import gateway

_app_lock = threading.Lock()


class GatewayRequestHandler(ChaliceRequestHandler):
    def _generic_handle(self):
        headers, body = self._parse_payload()
        try:
            with _app_lock:
                response = self.local_gateway.handle_request(
                    method=self.command, path=self.path, headers=headers, body=body)
            status_code = response["statusCode"]
            out_headers = response["headers"].copy()
            out_headers.update(response["multiValueHeaders"])
            response = self._handle_binary(response)
            self._send_http_response(status_code, out_headers, response["body"])
        except LocalGatewayException as exc:
            self._send_gateway_error(exc)

    def _send_gateway_error(self, exc):
        if isinstance(exc, ForbiddenError) and b"Missing Authentication Token" in (exc.body or b"") \
                or isinstance(exc, ForbiddenError) and b"Credential" in (exc.body or b""):
            kind = "MISSING_AUTHENTICATION_TOKEN"
        elif isinstance(exc, (NotAuthorizedError, ForbiddenError)):
            kind = "UNAUTHORIZED"
        else:
            kind = "DEFAULT_5XX"
        status = gateway.GATEWAY_RESPONSES[kind][0] or exc.CODE
        self._send_http_response(status, {"Content-Type": "application/json"},
                                 gateway.body(kind))

    # TRACE and QUERY too: the app answers them with its JSON 405, not http.server's HTML 501.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle
    do_TRACE = do_QUERY = _generic_handle

    def log_message(self, format, *args):
        """Silent: the app logs each request itself, as JSON with its request id."""


def make_server(host, port, stage="local", project_dir=None):
    project_dir = project_dir or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    factory = CLIFactory(project_dir=project_dir, environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    return LocalDevServer(config.chalice_app, config, host, port,
                          handler_cls=GatewayRequestHandler)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve the app as chalice local does.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.stage)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
