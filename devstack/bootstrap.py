"""Create every table, queue and the bucket, the way the CloudFormation
template does on AWS. Works against moto in-process or a moto server."""
import json

import boto3

from chalicelib.core import config


def create_tables():
    from chalicelib.models import ALL_MODELS
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")


def create_queues():
    sqs = boto3.client("sqs", region_name=config.region())
    urls = {}
    for logical in config.QUEUES:
        name = config.queue_name(logical)
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": "120",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": str(config.MAX_RECEIVE_COUNT)}),
        })["QueueUrl"]
        urls[logical] = url
    return urls


def create_bucket(queue_urls):
    s3 = boto3.client("s3", region_name=config.region())
    sqs = boto3.client("sqs", region_name=config.region())
    bucket = config.bucket_name()
    try:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.region()})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedMethods": ["POST", "PUT", "GET"], "AllowedOrigins": ["*"],
        "AllowedHeaders": ["*"], "MaxAgeSeconds": 3000}]})
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_urls["imports"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [
            {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}
            for prefix in (config.UPLOAD_PREFIX, config.DROP_PREFIX)]})


def verify_sender():
    ses = boto3.client("ses", region_name=config.region())
    ses.verify_email_identity(EmailAddress=config.mail_from())


def create_mfa_key():
    """The stack's key for two-factor secrets (the template's KMS key on AWS)."""
    kms = boto3.client("kms", region_name=config.region())
    alias = config.mfa_key_id()
    if not alias.startswith("alias/"):
        return
    if any(a["AliasName"] == alias for a in kms.list_aliases()["Aliases"]):
        return
    key_id = kms.create_key(Description="schoolroll local: two-factor secrets")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)


def create_resources():
    create_tables()
    create_mfa_key()
    urls = create_queues()
    create_bucket(urls)
    verify_sender()
    return urls


if __name__ == "__main__":
    create_resources()
    print("resources created")
