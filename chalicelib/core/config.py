"""Names of every AWS resource the code uses, and the settings read from the
environment. This is the one place names come from: the models, the local
bootstrap, the event pump and the CloudFormation checks all read it.

Locally and on AWS the same code runs; only the environment differs
(`.chalice/config.json` per stage, or the template's parameters).
"""
import os

#: Logical table names. The physical name is ``TABLE_PREFIX + logical``.
TABLES = (
    "schools",
    "users",
    "logins",
    "tokens",
    "outbox",
    "throttle",
    "pupils",
    "uniques",
    "audit",
    "imports",
    "import_rows",
    "groups",
    "memberships",
    "machines",
    "rollovers",
    "rollover_pupils",
    "erasures",
)

#: Logical queue names (each has a dead-letter queue ``<name>-dlq``).
QUEUES = ("imports",)
#: Deliveries of one message before SQS moves it to the dead-letter queue.
MAX_RECEIVE_COUNT = 5


def _env(name, default):
    value = os.environ.get(name)
    return value if value else default


def stage():
    return _env("STAGE", "local")


def table_prefix():
    return _env("TABLE_PREFIX", f"schoolroll-{stage()}-")


def table_name(logical):
    if logical not in TABLES:
        raise KeyError(f"unknown table {logical!r}")
    return table_prefix() + logical


def region():
    return _env("AWS_DEFAULT_REGION", _env("AWS_REGION", "eu-west-2"))


def queue_name(logical):
    if logical not in QUEUES:
        raise KeyError(f"unknown queue {logical!r}")
    return f"schoolroll-{stage()}-{logical}"


TOPICS = ("email-events", "alerts")


def topic_name(logical):
    if logical not in TOPICS:
        raise KeyError(f"unknown topic {logical!r}")
    return f"schoolroll-{stage()}-{logical}"


def bucket_name():
    return _env("DROP_BUCKET", f"schoolroll-{stage()}-drop")


def console_url():
    """Where emailed links point: the console served by the app itself."""
    return _env("CONSOLE_URL", "http://127.0.0.1:8000").rstrip("/")


def s3_origins():
    """The origins a browser talks to for presigned uploads (the console's
    Content-Security-Policy lets it connect there and nowhere else)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        return [f"{scheme}://{rest.split('/')[0]}"]
    bucket = bucket_name()
    return [f"https://{bucket}.s3.{region()}.amazonaws.com", f"https://{bucket}.s3.amazonaws.com"]


def ses_configuration_set():
    """The SES configuration set every email is sent with (the template's;
    none locally), so its event destinations see each message."""
    return os.environ.get("SES_CONFIGURATION_SET") or None


def mfa_key_id():
    """The KMS key two-factor secrets are encrypted with: the template's key
    on AWS; locally the stack's own key (devstack.bootstrap creates it)."""
    return _env("MFA_KEY_ID", f"alias/schoolroll-{stage()}-mfa")


def mail_from():
    return _env("MAIL_FROM", "no-reply@schoolroll.example")


#: Session tokens live this long.
SESSION_SECONDS = 12 * 3600
#: A session also ends after a school's idle_minutes without a request; its
#: last-used time is written at most this often.
SESSION_TOUCH_SECONDS = 60
IDLE_MINUTES_DEFAULT = 60
#: Password reset links last 30 minutes; the step between a right password
#: and its two-factor code, 5.
RESET_SECONDS = 30 * 60
MFA_STEP_SECONDS = 5 * 60
#: A two-factor set-up not confirmed within this long is started again.
MFA_SETUP_SECONDS = 15 * 60
#: Verification tokens expire after 24 hours (issue 2).
VERIFY_SECONDS = 24 * 3600
#: An unverified sign-up holds its email address this long.
SIGNUP_HOLD_SECONDS = 7 * 24 * 3600
#: Invitation links last 72 hours.
INVITE_SECONDS = 72 * 3600
#: Sign-in throttling (accounts/throttle.py): failures an email may have
#: before it waits (1 minute, doubling, at most LOGIN_MAX_BACKOFF_SECONDS),
#: and failures one source address may have (a school's staff share one).
LOGIN_MAX_FAILURES = 5
LOGIN_MAX_BACKOFF_SECONDS = 15 * 60


def login_max_failures_per_source():
    return int(_env("LOGIN_MAX_FAILURES_PER_SOURCE", "50"))
#: Outbox: give up on an email after this many failed sends.
OUTBOX_MAX_ATTEMPTS = 8

#: Sign-in with the school's identity provider (accounts/sso.py): a started
#: sign-in must come back within 10 minutes; the one-time code the console
#: swaps for a session lasts 60 seconds; a provider's discovery document and
#: keys are kept an hour (keys fetched again at once for an unknown key id,
#: at most every 5 minutes); a provider must answer within 5 seconds.
SSO_STATE_SECONDS = 10 * 60
SSO_CODE_SECONDS = 60
SSO_CACHE_SECONDS = 3600
SSO_JWKS_REFRESH_SECONDS = 5 * 60
SSO_HTTP_TIMEOUT_SECONDS = 5
#: ID tokens: clock skew allowed between us and the provider.
SSO_LEEWAY_SECONDS = 60


def sso_secret_name(school_id):
    """The Secrets Manager secret holding a school's OpenID client secret
    (the API role may touch only its own stage's ``schoolroll/<stage>/sso/*``)."""
    return f"{SSO_SECRET_PREFIX.format(stage=stage())}{school_id}"


SSO_SECRET_PREFIX = "schoolroll/{stage}/sso/"


def sso_loopback_issuers():
    """Plain-http issuers on 127.0.0.1/localhost are allowed (the local stack
    and the tests run a provider there); never on a deployed stage."""
    return _env("SSO_LOOPBACK_ISSUERS", "") == "1"


def sso_redirect_uri():
    """Where providers send the browser back: registered as the app's
    redirect URI at the provider."""
    return f"{console_url()}/api/auth/sso/callback"


#: Presigned uploads: size cap and lifetime.
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
UPLOAD_EXPIRES_SECONDS = 15 * 60
#: S3 key prefixes: browser uploads, hands-off drops, staging of validated rows,
#: exports too big for a response (kept a day: see core/downloads.py).
UPLOAD_PREFIX = "uploads/"
DROP_PREFIX = "drop/"
STAGING_PREFIX = "staging/"
EXPORT_PREFIX = "exports/"
#: How long a link to a stored export works.
EXPORT_LINK_SECONDS = 5 * 60
