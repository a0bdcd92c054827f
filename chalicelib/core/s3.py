"""The process's one S3 client, made on first use: only the routes and
handlers that touch files pay for importing boto3's S3 model."""
from . import config

_client = None


def client():
    global _client
    if _client is None:
        import boto3
        from botocore.config import Config
        _client = boto3.client("s3", region_name=config.region(),
                               config=Config(signature_version="s3v4", retries={"mode": "standard"}))
    return _client


def reset():
    """Forget the client (tests start a fresh moto)."""
    global _client
    _client = None
