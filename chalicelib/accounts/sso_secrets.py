"""A school's OpenID client secret, kept in AWS Secrets Manager: one secret a
school (``schoolroll/<stage>/sso/<school>``, encrypted with the stack's key),
never in DynamoDB, never returned, never logged."""
from botocore.exceptions import ClientError

from ..core import clients, config


def _client():
    return clients.service_client("secretsmanager")


def put(school_id, secret):
    """Store (or replace) the school's client secret."""
    name = config.sso_secret_name(school_id)
    try:
        _client().put_secret_value(SecretId=name, SecretString=secret)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        _client().create_secret(Name=name, SecretString=secret, KmsKeyId=config.mfa_key_id(),
                                Description="schoolroll: a school's OpenID Connect client secret",
                                Tags=[{"Key": "schoolroll:school", "Value": school_id}])


def get(school_id):
    """The school's client secret, or None."""
    try:
        return _client().get_secret_value(SecretId=config.sso_secret_name(school_id))["SecretString"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ResourceNotFoundException", "InvalidRequestException"):
            return None  # (none, or deleted)
        raise


def delete(school_id):
    """Remove it at once (no recovery window: nothing kept longer than needed)."""
    try:
        _client().delete_secret(SecretId=config.sso_secret_name(school_id), ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
