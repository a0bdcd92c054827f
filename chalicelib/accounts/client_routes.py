"""HTTP routes for API clients and their OAuth 2.0 token endpoint."""
from chalice import Blueprint

from ..core.http import json_response, route
from ..core.schema import array, boolean, integer, obj, string
from . import api_clients
from .permissions import SCOPES

bp = Blueprint(__name__)
TAG = "integrations"

SCOPE = string(enum=sorted(SCOPES))
CLIENT = obj(["client_id", "name", "scopes", "created_at", "created_by", "last_used_at"],
             client_id=string(), name=string(), scopes=array(SCOPE), created_at=string(format="date-time"),
             created_by=string(), last_used_at=string(format="date-time", nullable=True))
NEW_CLIENT = {**CLIENT, "required": CLIENT["required"] + ["client_secret"],
              "properties": {**CLIENT["properties"], "client_secret": string(
                  description="Shown in this answer only: keep it in the other system's secret store")}}
TOKEN = obj(["access_token", "token_type", "expires_in", "scope"], access_token=string(),
            token_type=string(enum=["Bearer"]), expires_in=integer(), scope=string())


@route(bp, "/clients", "POST", summary="Make an API client (its secret is shown once)", tag=TAG,
       permission="manage_settings", verified=True, status=201, validate=False,
       body=obj(["name", "scopes"], name=string(), scopes=array(string())), response=NEW_CLIENT)
def create_client(ctx):
    return api_clients.create(ctx.caller, ctx.body)


@route(bp, "/clients", "GET", summary="The school's API clients and when each was last used", tag=TAG,
       permission="manage_settings", response=obj(["items"], items=array(CLIENT)))
def list_clients(ctx):
    return api_clients.list_clients(ctx.caller)


@route(bp, "/clients/{client_id}", "DELETE", summary="Revoke an API client: its tokens stop at once",
       tag=TAG, permission="manage_settings", response=obj(["revoked"], revoked=boolean()))
def revoke_client(ctx, client_id):
    return api_clients.revoke(ctx.caller, client_id)


@route(bp, "/oauth/token", "POST", summary="OAuth 2.0 client credentials (RFC 6749 §4.4): HTTP Basic "
       "client_id:client_secret, form body grant_type=client_credentials[&scope=...]", tag=TAG,
       auth=False, response=TOKEN, content_type="application/json")
def token(ctx):
    grant = api_clients.read_request(ctx.request.headers or {}, ctx.request.raw_body)
    return json_response(api_clients.issue_token(grant), headers={"Pragma": "no-cache"})
