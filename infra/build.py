"""Build the CloudFormation template merged into `chalice package` output.

Every name comes from `chalicelib.core.config` and every table's keys and
indexes from the PynamoDB models, so the template cannot drift from the code.
Usage: python -m infra.build STAGE OUT.json
"""
import json
import os
import sys

from infra import security

FUNCTIONS = ("APIHandler", "ImportWorker", "OutboxSender", "MembershipExpirySweep", "EmailEvents", "RosterLifecycle")
#: Fixed function names: the roles name their own log groups without referring
#: to the functions (which refer to the roles: that would be a cycle).
FUNCTION_NAMES = {"APIHandler": "api", "ImportWorker": "import-worker", "OutboxSender": "outbox-sender",
                  "MembershipExpirySweep": "membership-expiry-sweep", "EmailEvents": "email-events",
                  "RosterLifecycle": "roster-lifecycle"}


def function_name(stage, function):
    return f"schoolroll-{stage}-{FUNCTION_NAMES[function]}"

# DynamoDB actions, by what a function does with a table.
READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"]
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
APPEND_ONLY = "audit"

#: function -> tables it reads and writes (transactions need the write actions on each table)
TABLE_ACCESS = {
    "APIHandler": "all",
    "ImportWorker": ["schools", "users", "logins", "pupils", "uniques", "audit", "imports", "import_rows",
                     "groups", "memberships", "machines", "outbox", "rollovers", "rollover_pupils"],
    "OutboxSender": ["outbox", "tokens", "schools"],
    "MembershipExpirySweep": ["memberships", "groups", "audit"],
    "EmailEvents": ["outbox"],
    # scheduled rollovers, leavers' retention (erasing pupils), the audit scrub
    "RosterLifecycle": ["schools", "pupils", "uniques", "groups", "memberships", "audit", "rollovers",
                        "erasures"],
}
#: the one role that may change an audit entry: erasing a pupil takes their
#: names out of the record's older entries (audit.scrub_pending)
AUDIT_SCRUBBER = "RosterLifecycle"
#: function -> tables it only reads (the sender renders a drop's report from the import and its refused rows)
TABLE_READ = {"OutboxSender": ["imports", "import_rows", "users"]}


def _sub(text):
    return {"Fn::Sub": text}


def table_resources(config, models):
    out = {}
    for model in models:
        logical = model.Meta.table_name[len(config.table_prefix()):]
        attrs = model.get_attributes()
        key_types = {}
        keys = _key_schema(attrs, key_types)
        gsis = [{"IndexName": index.Meta.index_name, "KeySchema": _key_schema(index.Meta.attributes, key_types),
                 "Projection": {"ProjectionType": "ALL"}} for index in model._indexes.values()]
        props = {
            "TableName": model.Meta.table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": keys,
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in sorted(key_types.items())],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": security.key_arn()},
            # Retain keeps a table when the stack goes; this refuses a DeleteTable by hand or by script.
            "DeletionProtectionEnabled": True,
        }
        if gsis:
            props["GlobalSecondaryIndexes"] = gsis
        if "ttl" in attrs:
            props["TimeToLiveSpecification"] = {"AttributeName": "ttl", "Enabled": True}
        out[table_logical_id(logical)] = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                                         "UpdateReplacePolicy": "Retain", "Properties": props}
    return out


def _key_schema(attributes, key_types):
    """A KeySchema (hash first), noting each key attribute's type in key_types."""
    schema = []
    for name, attr in attributes.items():
        if attr.is_hash_key:
            schema.insert(0, {"AttributeName": name, "KeyType": "HASH"})
        elif attr.is_range_key:
            schema.append({"AttributeName": name, "KeyType": "RANGE"})
        else:
            continue
        key_types[name] = attr.attr_type
    return schema


def table_logical_id(logical):
    return "Table" + "".join(part.capitalize() for part in logical.split("_"))


def bucket_name(stage):
    return _sub("schoolroll-" + stage + "-drop-${AWS::AccountId}-${AWS::Region}")


def sso_secrets_arn(config, stage):
    """Every school's OpenID client secret of ``stage`` (config.sso_secret_name)."""
    prefix = config.SSO_SECRET_PREFIX.format(stage=stage)
    return _sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + prefix + "*")


def bucket_arn(stage, suffix=""):
    return _sub("arn:${AWS::Partition}:s3:::schoolroll-" + stage + "-drop-${AWS::AccountId}-${AWS::Region}" + suffix)


def queue_resources(config):
    queue = config.queue_name("imports")
    return {
        "ImportDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{queue}-dlq", "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": security.key_arn()}},
        "ImportQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": queue, "VisibilityTimeout": 960, "KmsMasterKeyId": security.key_arn(),
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": config.MAX_RECEIVE_COUNT}}},
        "ImportQueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "ImportQueue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "S3ObjectCreated", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["ImportQueue", "Arn"]},
                "Condition": {"ArnLike": {"aws:SourceArn": None},  # filled in below
                              "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}}},
        "ImportDeadLetterAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": "An import message failed 5 times and is in the dead-letter queue.",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ImportDeadLetterQueue", "QueueName"]}}],
            "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": security.ALERTS_TOPIC}], "OKActions": [{"Ref": security.ALERTS_TOPIC}]}},
    }


#: Days an import's file (upload, drop, staging) is kept at most if nothing deletes it.
IMPORT_FILE_DAYS = 28


def bucket_resource(config, stage):
    prefixes = (config.UPLOAD_PREFIX, config.DROP_PREFIX)
    return {"DropBucket": {"Type": "AWS::S3::Bucket", "DependsOn": ["ImportQueuePolicy", "AccessLogBucketPolicy"],
                           "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
        "BucketName": bucket_name(stage),
        **security.drop_bucket_properties(),
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["POST"], "AllowedOrigins": [{"Ref": "ConsoleOrigin"}],
                                             "AllowedHeaders": ["*"], "MaxAge": 3000}]},
        # Imports delete their files when done; these catch what a crash or a
        # never-finished import leaves, and the versions a delete leaves behind:
        # 28 days current + 1 noncurrent (S3 rounds each to midnight UTC), so no
        # pupil's details sit here over 30 days.
        "LifecycleConfiguration": {"Rules": [
            {"Id": rule_id, "Status": "Enabled", "Prefix": prefix, "ExpirationInDays": IMPORT_FILE_DAYS,
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}
            for rule_id, prefix in (("processed-uploads", config.UPLOAD_PREFIX), ("drops", config.DROP_PREFIX),
                                    ("staging", config.STAGING_PREFIX))] + [
            # exports hold a whole roster: gone (old versions too) a day after the link ran out
            {"Id": "exports", "Status": "Enabled", "Prefix": config.EXPORT_PREFIX, "ExpirationInDays": 1,
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
            {"Id": "old-versions", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
        "NotificationConfiguration": {"QueueConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["ImportQueue", "Arn"]},
             "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": prefix}]}}} for prefix in prefixes]},
    }}}


def table_arns(config, logicals):
    arns = []
    for logical in logicals:
        name = config.table_name(logical)
        arns.append(_sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/" + name))
        arns.append(_sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/" + name + "/index/*"))
    return arns


def role(function, statements, stage):
    log_group = _sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/" +
                     function_name(stage, function) + ":*")
    statements = statements + [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": log_group},
                               # the one key: tables, queues, bucket (SSE-KMS) are read and written with it
                               security.kms_statement(),
                               # X-Ray (Tracing: Active); these two actions take no resource but "*"
                               security.xray_statement()]
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": f"{function}-least-privilege",
                      "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}}


def roles(config, stage):
    everything = list(config.TABLES)
    queue_arn = {"Fn::GetAtt": ["ImportQueue", "Arn"]}
    import_files = [bucket_arn(stage, "/" + p + "*")
                    for p in (config.UPLOAD_PREFIX, config.DROP_PREFIX, config.STAGING_PREFIX)]
    out = {}
    for function in FUNCTIONS:
        access = TABLE_ACCESS[function]
        tables = everything if access == "all" else access
        # The audit log is append-only for every role: it may be read and put to
        # (each put conditioned on attribute_not_exists), never updated or deleted.
        statements = [{"Effect": "Allow", "Action": READ + WRITE,
                       "Resource": table_arns(config, [t for t in tables if t != APPEND_ONLY])}]
        if APPEND_ONLY in tables:
            statements.append({"Effect": "Allow", "Action": READ + ["dynamodb:PutItem"],
                               "Resource": table_arns(config, [APPEND_ONLY])})
        if function == AUDIT_SCRUBBER:
            statements.append({"Effect": "Allow", "Action": ["dynamodb:UpdateItem"],
                               "Resource": table_arns(config, [APPEND_ONLY])})
        if function in TABLE_READ:
            statements.append({"Effect": "Allow", "Action": READ, "Resource": table_arns(config, TABLE_READ[function])})
        if function == "APIHandler":
            statements += [
                # sealing a two-factor secret (KMS Encrypt, bound by encryption context to one account)
                {"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": security.key_arn(),
                 "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "mfa"}}},
                # A presigned POST is signed with this role: it must be allowed the upload itself.
                {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": bucket_arn(stage, "/" + config.UPLOAD_PREFIX + "*")},
                # exports too big for a response (the OneRoster bundle in parts: a failed one is
                # aborted); their presigned links are signed with this role
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                 "Resource": bucket_arn(stage, "/" + config.EXPORT_PREFIX + "*")},
                # a school's OpenID client secret (accounts/sso_secrets.py): this stage's only
                {"Effect": "Allow", "Action": ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
                                               "secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret",
                                               "secretsmanager:TagResource"],
                 "Resource": sso_secrets_arn(config, stage)},
                # finishing an import (imports/service.complete) tidies its file and staging files
                {"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": import_files},
                {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": queue_arn}]
        elif function == "ImportWorker":
            statements += [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [
                    bucket_arn(stage, "/" + p + "*") for p in (config.UPLOAD_PREFIX, config.DROP_PREFIX, config.STAGING_PREFIX)]},
                {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": bucket_arn(stage, "/" + config.STAGING_PREFIX + "*")},
                # a failed or committed import's files go (pipeline.tidy_files)
                {"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": import_files},
                {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                               "sqs:ChangeMessageVisibility", "sqs:SendMessage", "sqs:GetQueueUrl"],
                 "Resource": queue_arn}]
        elif function == "RosterLifecycle":
            # a scheduled rollover's day has come: its run goes on the import queue
            statements += [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                            "Resource": queue_arn}]
        elif function == "OutboxSender":
            statements += [{"Effect": "Allow", "Action": ["ses:SendEmail"], "Resource": [
                _sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"),
                _sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${EmailConfigurationSet}")]}]
        if function != "APIHandler":
            # two-factor secrets share the stack's key: only the API may unseal them
            statements.append({"Effect": "Deny", "Action": ["kms:Decrypt"], "Resource": security.key_arn(),
                               "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "mfa"}}})
        out[f"{function}Role"] = role(function, statements, stage)
    return out


def function_overrides(config, stage):
    env = {"STAGE": stage, "TABLE_PREFIX": config.table_prefix(), "DROP_BUCKET": bucket_name(stage),
           "MAIL_FROM": {"Ref": "MailFrom"}, "CONSOLE_URL": {"Ref": "ConsoleUrl"},
           "SES_CONFIGURATION_SET": {"Ref": "EmailConfigurationSet"},
           # two-factor secrets are sealed with the stack's key (accounts/secretbox.py)
           "MFA_KEY_ID": security.key_arn()}
    out = {}
    for function in FUNCTIONS:
        out[function] = {"Metadata": security.checkov_metadata(function), "Properties": {
            "FunctionName": function_name(stage, function),
            "Role": {"Fn::GetAtt": [f"{function}Role", "Arn"]},
            "Environment": {"Variables": env},
            "KmsKeyArn": security.key_arn(),
            "Tracing": "Active",
            "ReservedConcurrentExecutions": {"Ref": security.CONCURRENCY[function][0]}}}
        out[f"{function}LogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": security.lambda_log_group(function_name(stage, function)),
            "RetentionInDays": {"Ref": "LogRetentionDays"}, "KmsKeyId": security.key_arn()}}
    # Chalice names the queue by ARN; the worker must wait for it, and report
    # partial batch failures (powertools' BatchProcessor returns them).
    out["ImportWorker"]["DependsOn"] = ["ImportQueue"]
    out["ImportWorker"]["Properties"]["Events"] = {"ImportWorkerSqsEventSource": {"Properties": {
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": {"Ref": security.CONCURRENCY["ImportWorker"][0]}}}}}
    # SES's bounces and complaints: Chalice subscribes the function to the topic
    # by name; the subscription (which names the function) so comes after it.
    out["EmailEvents"]["DependsOn"] = [security.EMAIL_EVENTS_TOPIC]
    return out


def gateway_responses():
    from chalicelib.core import gateway
    out = {}
    for kind, (status, code, message) in gateway.GATEWAY_RESPONSES.items():
        props = {"RestApiId": {"Ref": "RestAPI"}, "ResponseType": kind,
                 "ResponseTemplates": {"application/json": json.dumps({"code": code, "message": message})}}
        if status:
            props["StatusCode"] = str(status)
        out["GatewayResponse" + "".join(p.capitalize() for p in kind.split("_"))] = {
            "Type": "AWS::ApiGateway::GatewayResponse", "Properties": props}
    return out


def build(stage):
    os.environ["STAGE"] = stage
    os.environ.pop("TABLE_PREFIX", None)
    from chalicelib.core import config
    from chalicelib.models import ALL_MODELS
    resources = {}
    resources.update(table_resources(config, ALL_MODELS))
    resources.update(queue_resources(config))
    resources["ImportQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]["ArnLike"][
        "aws:SourceArn"] = bucket_arn(stage)
    resources.update(bucket_resource(config, stage))
    resources.update(roles(config, stage))
    resources.update(function_overrides(config, stage))
    resources.update(gateway_responses())
    resources["RestAPI"] = security.rest_api_overrides()
    resources["RestAPI"]["Properties"]["Name"] = f"schoolroll-{stage}"
    resources["RestAPI"]["Metadata"] = security.checkov_metadata("RestAPI")
    log_groups = [security.lambda_log_group(function_name(stage, f)) for f in FUNCTIONS]
    resources.update(security.key_resources(stage, log_groups + [security.access_log_group_name(stage)]))
    resources.update(security.bucket_resources(stage, bucket_name(stage)))
    resources.update(security.alert_resources(stage))
    resources.update(security.api_resources(stage))
    resources[security.LOG_BUCKET]["Metadata"] = security.checkov_metadata(security.LOG_BUCKET)
    resources["EmailConfigurationSet"] = {"Type": "AWS::SES::ConfigurationSet", "Properties": {
        "Name": f"schoolroll-{stage}"}}
    resources["SenderEmailIdentity"] = {"Type": "AWS::SES::EmailIdentity", "Properties": {
        "EmailIdentity": {"Ref": "SenderIdentity"}}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"schoolroll ({stage}): API, import worker, schedules, tables, drop bucket, queues, SES.",
        "Parameters": {
            "MailFrom": {"Type": "String", "Description": "The From address of emails (in a verified SES identity)."},
            "SenderIdentity": {"Type": "String", "Description": "The SES identity that sends: the MailFrom address or its domain."},
            "ConsoleUrl": {"Type": "String", "Description": "Where emailed links point: the console's URL (the API URL printed by make deploy, or your domain)."},
            "ConsoleOrigin": {"Type": "String", "Description": "The console's origin, for browser uploads to the bucket (scheme://host)."},
            "LogRetentionDays": {"Type": "Number", "Default": 30, "AllowedValues": [7, 14, 30, 60, 90, 180, 365]},
            **security.parameters(),
        },
        "Conditions": security.conditions(),
        "Resources": resources,
        "Outputs": {"DropBucketName": {"Value": {"Ref": "DropBucket"}},
                    "ImportDeadLetterQueueUrl": {"Value": {"Ref": "ImportDeadLetterQueue"}},
                    "OperatorAlertsTopicArn": {"Value": {"Ref": security.ALERTS_TOPIC}},
                    "EmailEventsTopicArn": {"Value": {"Ref": security.EMAIL_EVENTS_TOPIC}},
                    "DataKeyArn": {"Value": security.key_arn()}},
    }


def main(argv):
    stage, out = argv[1], argv[2]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as fh:
        json.dump(build(stage), fh, indent=2, sort_keys=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
