"""What a security reviewer asks of the template, kept apart from the resources
the app needs (infra/build.py adds these to its template).

- One customer-managed KMS key (rotated, kept on stack deletion) encrypts every
  table, both queues, every log group, the drop bucket, the SNS topics and the
  functions' environment.
- Both buckets refuse requests without TLS; the drop bucket logs its access to
  a log bucket.
- The API stage is throttled on every route, traced with X-Ray and writes an
  access log with no tokens, no headers and no query strings.
- The DLQ alarm tells an operator by email (SNS); SES bounces and complaints go
  to their own topic.
- Every checkov check that still fails is skipped in that resource's Metadata
  (CHECKOV_SKIPS) with the reason; `make lint-template` fails on any other.
"""
import json

KEY = "DataKey"
ALERTS_TOPIC = "OperatorAlertsTopic"
EMAIL_EVENTS_TOPIC = "EmailEventsTopic"
ACCESS_LOG_GROUP = "ApiAccessLogGroup"
LOG_BUCKET = "AccessLogBucket"

#: What API Gateway writes for each request: who (source address), what
#: (method and the route's *template*, e.g. /api/pupils/{pupil_id}: never the
#: path with its ids, nor a query string), and how it went. No header (so no
#: Authorization token), no body.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "sourceIp": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLatency": "$context.responseLatency",
}

#: The only actions granted on Resource "*": X-Ray's write API has no resource
#: to name (AWS documents Resource "*" for it).
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]

#: The AWS-managed policy API Gateway's account-wide logging role must have
#: (the role is shared by every API in the account and region, so it may not
#: be narrowed to this stack's log group).
APIGW_LOGS_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"

#: Per function: the template parameter with its reserved concurrency, and its default.
CONCURRENCY = {
    "APIHandler": ("ApiReservedConcurrency", 100, 1),
    # The SQS event source is capped at the same number (ScalingConfig), so the
    # poller never has a message throttled (which would count as a receive and
    # push it towards the dead-letter queue). SQS needs at least 2.
    "ImportWorker": ("ImportWorkerReservedConcurrency", 5, 2),
    "OutboxSender": ("OutboxSenderReservedConcurrency", 1, 1),
    "MembershipExpirySweep": ("MembershipExpirySweepReservedConcurrency", 1, 1),
    "EmailEvents": ("EmailEventsReservedConcurrency", 2, 1),
    "RosterLifecycle": ("RosterLifecycleReservedConcurrency", 1, 1),
}

_VPC = ("CKV_AWS_117", "Calls only AWS APIs (DynamoDB, S3, SQS, SES, KMS, X-Ray) over TLS with IAM; there is no "
        "private resource to reach, and a VPC would add NAT or endpoint cost without narrowing access.")
_SCHEDULED_DLQ = ("CKV_AWS_116", "Scheduled: the work is in DynamoDB (due outbox messages, expired memberships, due rollovers and erasures), "
                  "so the next run retries a failed one; a DLQ would only hold empty schedule events.")

#: Checks that do not apply, per resource, and why (checkov reads
#: Metadata.checkov.skip). Anything else checkov fails breaks `make lint-template`.
CHECKOV_SKIPS = {
    "APIHandler": [
        ("CKV_AWS_116", "Invoked synchronously by API Gateway: the caller gets the error; a Lambda DLQ applies "
                        "only to asynchronous invocations."),
        _VPC],
    "ImportWorker": [
        ("CKV_AWS_116", "Invoked by an SQS event source mapping: a failing message goes to the import queue's own "
                        "dead-letter queue (redrive after 5 tries), which has an alarm; a Lambda DLQ does not apply."),
        _VPC],
    "OutboxSender": [_SCHEDULED_DLQ, _VPC],
    "MembershipExpirySweep": [_SCHEDULED_DLQ, _VPC],
    "RosterLifecycle": [_SCHEDULED_DLQ, _VPC],
    "EmailEvents": [
        ("CKV_AWS_116", "SNS retries a failed delivery to Lambda, and Lambda retries the event twice; one lost "
                        "event only leaves an outbox message without its bounce mark, and a DLQ of SES "
                        "notifications would be one more store of email addresses."),
        _VPC],
    "RestAPI": [
        ("CKV_AWS_120", "Every answer is per caller, personal and Cache-Control: no-store; a stage cache could "
                        "serve one user's data to another (and is billed by the hour)."),
    ],
    LOG_BUCKET: [
        ("CKV_AWS_18", "This is the access-log bucket: logging its own access would log the log deliveries."),
    ],
}


def _sub(text):
    return {"Fn::Sub": text}


def key_arn():
    return {"Fn::GetAtt": [KEY, "Arn"]}


def lambda_log_group(function_name):
    return "/aws/lambda/" + function_name


def access_log_group_name(stage):
    return f"/aws/apigateway/schoolroll-{stage}-access"


def log_group_arn(name):
    return _sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + name)


def log_bucket_name(stage):
    return _sub("schoolroll-" + stage + "-logs-${AWS::AccountId}-${AWS::Region}")


def _bucket_arn(name_sub, suffix=""):
    return _sub("arn:${AWS::Partition}:s3:::" + name_sub["Fn::Sub"] + suffix)


def key_resources(stage, log_group_names):
    """The key and its alias. The key policy lets the account administer the
    key (which also lets IAM policies grant its use: each function's role is
    granted Decrypt and GenerateDataKey on this key's ARN only), CloudWatch Logs
    use it for exactly this stack's log groups, and the services that write to
    the encrypted queue and topics (S3 notifications, CloudWatch alarms, SES
    events) encrypt for them; what they may write to is limited by the queue's
    policy and the topics' default policies."""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministers", "Effect": "Allow",
         "Principal": {"AWS": _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudWatchLogsForThisStacksLogGroups", "Effect": "Allow",
         "Principal": {"Service": _sub("logs.${AWS::Region}.amazonaws.com")},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [
             log_group_arn(name) for name in log_group_names]}}},
        {"Sid": "ServicesWritingToEncryptedQueuesAndTopics", "Effect": "Allow",
         "Principal": {"Service": ["s3.amazonaws.com", "cloudwatch.amazonaws.com", "ses.amazonaws.com"]},
         # No source condition (not every one of these calls carries it): a service reaches
         # this key only by writing to the import queue (its policy: our bucket, our
         # account) or to our topics (their default policy: our account only).
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"},
    ]}
    return {
        # Kept on stack deletion: the kept tables and bucket can't be read without it.
        KEY: {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
            "Description": f"schoolroll {stage}: tables, queues, logs, bucket, topics, function environment",
            "EnableKeyRotation": True, "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT",
            "PendingWindowInDays": 30, "KeyPolicy": policy}},
        "DataKeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": f"alias/schoolroll-{stage}", "TargetKeyId": {"Ref": KEY}}},
    }


def kms_statement():
    return {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": key_arn()}


def xray_statement():
    return {"Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"}


def _tls_only(bucket_name_sub):
    return {"Sid": "DenyWithoutTLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [_bucket_arn(bucket_name_sub), _bucket_arn(bucket_name_sub, "/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def bucket_resources(stage, drop_bucket_name):
    """The drop bucket's policy, and the bucket its access logs go to (S3
    server access logs can only be delivered to an SSE-S3 bucket)."""
    logs = log_bucket_name(stage)
    return {
        "DropBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "DeletionPolicy": "Retain",
                             "UpdateReplacePolicy": "Retain", "Properties": {
            "Bucket": {"Ref": "DropBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [_tls_only(drop_bucket_name)]}}},
        LOG_BUCKET: {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {
            "BucketName": logs,
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "expire-logs", "Status": "Enabled", "ExpirationInDays": {"Ref": "LogRetentionDays"},
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}}},
        "AccessLogBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "DeletionPolicy": "Retain",
                                  "UpdateReplacePolicy": "Retain", "Properties": {
            "Bucket": {"Ref": LOG_BUCKET},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "S3ServerAccessLogsOfTheDropBucket", "Effect": "Allow",
                 "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                 "Resource": _bucket_arn(logs, "/drop-bucket/*"),
                 "Condition": {"ArnLike": {"aws:SourceArn": _bucket_arn(drop_bucket_name)},
                               "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
                _tls_only(logs)]}}},
    }


def drop_bucket_properties():
    """Merged into the drop bucket: SSE-KMS with a bucket key, access logs."""
    return {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn()},
             "BucketKeyEnabled": True}]},
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": LOG_BUCKET}, "LogFilePrefix": "drop-bucket/"},
    }


def alert_resources(stage):
    """The operator's topic (the DLQ alarm's action), subscribed by email when
    OperatorEmail is given, and the topic SES bounces and complaints go to."""
    return {
        ALERTS_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": f"schoolroll-{stage}-alerts", "KmsMasterKeyId": key_arn()}},
        "OperatorAlertsSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasOperatorEmail",
                                       "Properties": {"TopicArn": {"Ref": ALERTS_TOPIC}, "Protocol": "email",
                                                      "Endpoint": {"Ref": "OperatorEmail"}}},
        EMAIL_EVENTS_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": f"schoolroll-{stage}-email-events", "KmsMasterKeyId": key_arn()}},
        "EmailConfigurationSetBouncesAndComplaints": {
            "Type": "AWS::SES::ConfigurationSetEventDestination", "Properties": {
                "ConfigurationSetName": {"Ref": "EmailConfigurationSet"},
                "EventDestination": {"Name": "bounces-and-complaints", "Enabled": True,
                                     "MatchingEventTypes": ["bounce", "complaint"],
                                     "SnsDestination": {"TopicARN": {"Ref": EMAIL_EVENTS_TOPIC}}}}},
    }


def api_resources(stage):
    """The access log group, and API Gateway's account-wide logging role (an
    access log can't be written without it). The role is kept on deletion: it
    is the region's setting for every API, another stage's included."""
    return {
        ACCESS_LOG_GROUP: {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": access_log_group_name(stage), "RetentionInDays": {"Ref": "LogRetentionDays"},
            "KmsKeyId": key_arn()}},
        "ApiGatewayCloudWatchRole": {"Type": "AWS::IAM::Role", "DeletionPolicy": "Retain",
                                     "UpdateReplacePolicy": "Retain", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            "ManagedPolicyArns": [_sub(APIGW_LOGS_POLICY)]}},
        "ApiGatewayAccount": {"Type": "AWS::ApiGateway::Account", "Properties": {
            "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}}},
    }


def rest_api_overrides():
    return {"DependsOn": ["ApiGatewayAccount"], "Properties": {
        "TracingEnabled": True,
        "AccessLogSetting": {
            # API Gateway wants the group's ARN without the ":*" GetAtt gives.
            "DestinationArn": log_group_arn("${" + ACCESS_LOG_GROUP + "}"),
            "Format": json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))},
        "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                            "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
                            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
                            "DataTraceEnabled": False}]}}


def parameters():
    out = {
        "OperatorEmail": {"Type": "String", "Default": "", "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+$",
                          "Description": "Who is emailed (SNS) when an import lands in the dead-letter queue; "
                                         "empty: no subscription."},
        "ApiThrottleRateLimit": {"Type": "Number", "Default": 50, "MinValue": 1,
                                 "Description": "Requests per second the API stage allows (every route)."},
        "ApiThrottleBurstLimit": {"Type": "Number", "Default": 100, "MinValue": 1,
                                  "Description": "Burst of requests the API stage allows (every route)."},
    }
    for function, (name, default, least) in CONCURRENCY.items():
        out[name] = {"Type": "Number", "Default": default, "MinValue": least,
                     "Description": f"Reserved concurrency of {function}."}
    return out


def conditions():
    return {"HasOperatorEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "OperatorEmail"}, ""]}]}}


def checkov_metadata(logical):
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in CHECKOV_SKIPS[logical]]}}
