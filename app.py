"""schoolroll: the Chalice app. Thin on purpose: each domain is a blueprint."""
from chalice import Chalice

from chalicelib.accounts import client_routes
from chalicelib.accounts import routes as accounts_routes
from chalicelib.accounts import sso_routes
from chalicelib.accounts.service import authenticate
from chalicelib.console import routes as console_routes
from chalicelib.core import http
from chalicelib.core import routes as core_routes
from chalicelib.groups import routes as group_routes
from chalicelib.imports import handlers as import_handlers
from chalicelib.imports import routes as import_routes
from chalicelib.integrations import or_routes as oneroster_routes
from chalicelib.integrations import routes as integration_routes
from chalicelib.lifecycle import routes as lifecycle_routes
from chalicelib.notify import handlers as notify_handlers
from chalicelib.roster import routes as roster_routes

app = Chalice(app_name="schoolroll")
app.register_middleware(http.error_middleware, "http")
http.use_authenticator(authenticate)

app.register_blueprint(core_routes.bp, url_prefix="/api")
app.register_blueprint(accounts_routes.bp, url_prefix="/api")
app.register_blueprint(client_routes.bp, url_prefix="/api")
app.register_blueprint(sso_routes.bp, url_prefix="/api")
app.register_blueprint(roster_routes.bp, url_prefix="/api")
app.register_blueprint(import_routes.bp, url_prefix="/api")
app.register_blueprint(group_routes.bp, url_prefix="/api")
app.register_blueprint(lifecycle_routes.bp, url_prefix="/api")
app.register_blueprint(integration_routes.bp, url_prefix="/api")
app.register_blueprint(oneroster_routes.bp, url_prefix=oneroster_routes.PREFIX)
app.register_blueprint(import_handlers.bp)
app.register_blueprint(notify_handlers.bp)
app.register_blueprint(console_routes.bp)
