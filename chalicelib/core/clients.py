"""The process's AWS clients, one per service, each made on first use: a
route or handler pays for importing a service's model only if it calls it."""
from . import config

_clients = {}
#: Per-service client settings (S3: SigV4 for presigned POSTs, standard retries).
_SETTINGS = {"s3": {"signature_version": "s3v4", "retries": {"mode": "standard"}}}


def service_client(service):
    found = _clients.get(service)
    if found is None:
        import boto3
        from botocore.config import Config
        settings = _SETTINGS.get(service)
        found = _clients[service] = boto3.client(service, region_name=config.region(),
                                                 **({"config": Config(**settings)} if settings else {}))
    return found


def client():
    """The S3 client."""
    return service_client("s3")


def reset():
    """Forget every client (tests start a fresh moto)."""
    _clients.clear()
