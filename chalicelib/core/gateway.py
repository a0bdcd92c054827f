"""API Gateway's own answers (requests that never reach the Lambda), in our
``{"code", "message"}`` shape.

On AWS these become ``AWS::ApiGateway::GatewayResponse`` resources in the
template; locally, the dev server answers the same way. One table, two uses.
"""
import json

#: gateway response type -> (HTTP status, our code, message)
GATEWAY_RESPONSES = {
    # API Gateway answers an unknown path with 403 "Missing Authentication
    # Token"; we say what it is: no such route.
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "No such route."),
    "UNAUTHORIZED": (401, "unauthorized", "Sign in again: your session is missing, invalid or has ended."),
    "ACCESS_DENIED": (401, "unauthorized", "Sign in again: your session is missing, invalid or has ended."),
    "REQUEST_TOO_LARGE": (413, "bad_request", "The request is too large."),
    "THROTTLED": (429, "too_many_attempts", "Too many requests; slow down and try again."),
    "DEFAULT_4XX": (None, "bad_request", "The request could not be handled."),
    "DEFAULT_5XX": (None, "internal_error", "Something went wrong on our side. Please try again."),
}


def body(kind):
    _status, code, message = GATEWAY_RESPONSES[kind]
    return json.dumps({"code": code, "message": message})
