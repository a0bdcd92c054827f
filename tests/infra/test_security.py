"""What a security reviewer signs off in the template: one customer-managed
key for everything at rest, TLS-only buckets, tables that can't be deleted by
mistake, bounded and traced functions, a throttled and access-logged API whose
log holds no token or query string, an alarm that tells someone; and checkov
passing with every skip explained."""
import json
import os
import re
import subprocess

import pytest

from tests.infra.test_template import as_list, resources, walk_statements

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: `make install-lint` (a dependency of `make test` and `make lint-template`) puts checkov here.
CHECKOV = os.path.join(ROOT, ".venv", "lint", "bin", "checkov")
KEY = {"Fn::GetAtt": ["DataKey", "Arn"]}


def the_key(template):
    (name, key), = resources(template, "AWS::KMS::Key").items()
    return name, key


def test_one_rotated_customer_key_the_account_administers(packaged):
    _, template = packaged
    name, key = the_key(template)
    assert name == "DataKey"
    assert key["DeletionPolicy"] == "Retain"  # kept tables and bucket stay readable
    props = key["Properties"]
    assert props["EnableKeyRotation"] is True
    statements = props["KeyPolicy"]["Statement"]
    root = [s for s in statements if s.get("Principal", {}).get("AWS") ==
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}]
    assert root and root[0]["Action"] == "kms:*"
    for statement in statements:  # no one else by a wildcard principal
        assert statement["Principal"] != "*" and statement["Principal"].get("AWS", "") != "*"
    logs = [s for s in statements if "logs." in json.dumps(s.get("Principal"))]
    assert logs and "kms:EncryptionContext:aws:logs:arn" in json.dumps(logs[0]["Condition"])
    (alias,) = resources(template, "AWS::KMS::Alias").values()
    assert alias["Properties"] == {"AliasName": "alias/schoolroll-prod", "TargetKeyId": {"Ref": "DataKey"}}


def test_every_table_is_protected_and_encrypted_with_the_key(packaged):
    _, template = packaged
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == 17
    for name, table in tables.items():
        props = table["Properties"]
        assert props["DeletionProtectionEnabled"] is True, name
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY}, name
        assert table["DeletionPolicy"] == "Retain", name


def test_queues_log_groups_topics_bucket_and_environment_use_the_key(packaged):
    _, template = packaged
    queues = resources(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    for name, queue in queues.items():
        assert queue["Properties"]["KmsMasterKeyId"] == KEY, name
        assert "SqsManagedSseEnabled" not in queue["Properties"], name
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) == 7  # a function's each, and the API's access log
    for name, group in groups.items():
        assert group["Properties"]["KmsKeyId"] == KEY, name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    names = {g["Properties"]["LogGroupName"] for g in groups.values()}
    for function in resources(template, "AWS::Serverless::Function").values():
        assert "/aws/lambda/" + function["Properties"]["FunctionName"] in names
        assert function["Properties"]["KmsKeyArn"] == KEY
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 2
    for name, topic in topics.items():
        assert topic["Properties"]["KmsMasterKeyId"] == KEY, name
    rule, = resources(template, "AWS::S3::Bucket")["DropBucket"]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"]
    assert rule == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
                    "BucketKeyEnabled": True}


def test_every_role_may_use_the_key_and_only_it(packaged):
    _, template = packaged
    for function in ("APIHandler", "ImportWorker", "OutboxSender", "MembershipExpirySweep", "EmailEvents",
                     "RosterLifecycle"):
        kms = [s for role, s in walk_statements(template) if role == f"{function}Role"
               and any(a.startswith("kms:") for a in as_list(s["Action"])) and "Condition" not in s]
        assert len(kms) == 1, function
        assert set(as_list(kms[0]["Action"])) >= {"kms:Decrypt", "kms:GenerateDataKey"}
        assert kms[0]["Resource"] == KEY
        # Encrypt only for the API, only to seal two-factor secrets
        sealing = [s for role, s in walk_statements(template) if role == f"{function}Role"
                   and "kms:Encrypt" in as_list(s["Action"])]
        assert [s["Condition"] for s in sealing] == (
            [{"StringEquals": {"kms:EncryptionContext:purpose": "mfa"}}] if function == "APIHandler" else [])
        assert all(s["Resource"] == KEY for s in sealing)
        unsealing_denied = [s for role, s in walk_statements(template) if role == f"{function}Role"
                            and s["Effect"] == "Deny" and "kms:Decrypt" in as_list(s["Action"])]
        assert [s["Condition"] for s in unsealing_denied] == (
            [] if function == "APIHandler" else [{"StringEquals": {"kms:EncryptionContext:purpose": "mfa"}}])


def test_buckets_refuse_requests_without_tls(packaged):
    _, template = packaged
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
                for p in resources(template, "AWS::S3::BucketPolicy").values()}
    assert set(policies) == set(resources(template, "AWS::S3::Bucket")) == {"DropBucket", "AccessLogBucket"}
    for bucket, policy in policies.items():
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"
                and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
        assert len(deny) == 1, bucket
        assert deny[0]["Principal"] == "*" and deny[0]["Action"] == "s3:*"
        arns = json.dumps(deny[0]["Resource"])
        assert len(deny[0]["Resource"]) == 2 and "/*" in arns, bucket  # the bucket and every object
    drop = resources(template, "AWS::S3::Bucket")["DropBucket"]["Properties"]
    assert drop["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}


def test_personal_data_leaves_the_bucket_within_30_days(packaged):
    _, template = packaged
    from chalicelib.core import config
    rules = resources(template, "AWS::S3::Bucket")["DropBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    by_prefix = {r.get("Prefix"): r for r in rules}
    for prefix in (config.UPLOAD_PREFIX, config.DROP_PREFIX, config.STAGING_PREFIX):
        assert by_prefix[prefix]["Status"] == "Enabled"
        # current copy, then the noncurrent version a delete or expiry leaves: 30 days at most in all
        days = by_prefix[prefix]["ExpirationInDays"] + by_prefix[prefix]["NoncurrentVersionExpiration"]["NoncurrentDays"]
        assert days <= 30, prefix
    assert by_prefix[config.EXPORT_PREFIX]["ExpirationInDays"] == 1
    assert by_prefix[None]["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 30


def test_every_function_is_bounded_and_traced(packaged):
    _, template = packaged
    functions = resources(template, "AWS::Serverless::Function")
    params = template["Parameters"]
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Tracing"] == "Active", name
        reserved = props["ReservedConcurrentExecutions"]
        assert params[reserved["Ref"]]["Default"] >= 1, name
        assert props["Environment"]["Variables"]["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}
        xray = [s for role, s in walk_statements(template) if role == f"{name}Role"
                and set(as_list(s["Action"])) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}]
        assert len(xray) == 1, name
    # The SQS poller never runs more copies than are reserved (a throttled
    # message would count as a receive, towards the dead-letter queue).
    worker = functions["ImportWorker"]["Properties"]
    scaling = worker["Events"]["ImportWorkerSqsEventSource"]["Properties"]["ScalingConfig"]
    assert scaling["MaximumConcurrency"] == worker["ReservedConcurrentExecutions"]


def test_the_stage_is_throttled_traced_and_access_logged_without_secrets(packaged):
    _, template = packaged
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    (settings,) = api["MethodSettings"]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    params = template["Parameters"]
    assert params[settings["ThrottlingRateLimit"]["Ref"]]["Default"] == 50
    assert params[settings["ThrottlingBurstLimit"]["Ref"]]["Default"] == 100
    assert settings.get("DataTraceEnabled") is False  # no request or response bodies in logs
    access = api["AccessLogSetting"]
    assert "${ApiAccessLogGroup}" in access["DestinationArn"]["Fn::Sub"]
    assert not access["DestinationArn"]["Fn::Sub"].endswith(":*")
    fmt = access["Format"]
    tokens = set(re.findall(r"\$context\.[A-Za-z.]+", fmt))
    assert tokens == {"$context.requestId", "$context.identity.sourceIp", "$context.httpMethod",
                      "$context.resourcePath", "$context.status", "$context.responseLatency",
                      "$context.requestTime"}
    for leak in ("$context.path", "querystring", "$input", "header", "Authorization", "authorizer", "$request"):
        assert leak.lower() not in fmt.lower().replace("$context.resourcepath", ""), leak
    # access logs need API Gateway's account-wide logging role, set before the stage
    assert "ApiGatewayAccount" in template["Resources"]["RestAPI"]["DependsOn"]
    (account,) = resources(template, "AWS::ApiGateway::Account").values()
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}


def test_only_managed_policy_is_api_gateways_logging_role(packaged):
    """The wildcard walk reads inline policies; the one managed policy in the
    template is the AWS-managed one API Gateway's account logging role needs."""
    _, template = packaged
    managed = {name: r["Properties"].get("ManagedPolicyArns") for name, r in
               resources(template, "AWS::IAM::Role").items() if r["Properties"].get("ManagedPolicyArns")}
    assert managed == {"ApiGatewayCloudWatchRole": [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}]}


def test_the_dead_letter_alarm_tells_the_operator(packaged):
    _, template = packaged
    (alarm,) = resources(template, "AWS::CloudWatch::Alarm").values()
    dims = alarm["Properties"]["Dimensions"]
    assert dims[0]["Value"] == {"Fn::GetAtt": ["ImportDeadLetterQueue", "QueueName"]}
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OperatorAlertsTopic"}]
    assert resources(template, "AWS::SNS::Topic")["OperatorAlertsTopic"]
    (sub,) = resources(template, "AWS::SNS::Subscription").values()
    assert sub["Condition"] == "HasOperatorEmail"
    assert sub["Properties"]["Protocol"] == "email" and sub["Properties"]["Endpoint"] == {"Ref": "OperatorEmail"}
    assert template["Parameters"]["OperatorEmail"]["Default"] == ""
    assert template["Conditions"]["HasOperatorEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "OperatorEmail"}, ""]}]}


def test_ses_bounces_and_complaints_reach_a_topic(packaged):
    _, template = packaged
    (dest,) = resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    props = dest["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": "EmailConfigurationSet"}
    assert set(props["EventDestination"]["MatchingEventTypes"]) == {"bounce", "complaint"}
    assert props["EventDestination"]["SnsDestination"]["TopicARN"] == {"Ref": "EmailEventsTopic"}


def test_every_checkov_skip_names_a_check_and_a_reason(packaged):
    _, template = packaged
    skips = 0
    for name, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips += 1
            assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip["comment"]) > 30, (name, skip)
    assert skips == 14


@pytest.mark.heavy  # (a whole checkov run; cfn-lint and the template tests run in make test)
def test_checkov_passes(packaged):
    """The same run as `make lint-template`: any failed check not skipped fails."""
    if not os.path.exists(CHECKOV):
        pytest.skip(f"checkov is not installed at {CHECKOV}: run `make install-lint` (make test does)")
    path, _ = packaged
    result = subprocess.run([CHECKOV, "-f", str(path), "--framework", "cloudformation", "--skip-download",
                             "--quiet", "-o", "json"], capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert result.returncode == 0 and summary["failed"] == 0, failed
    assert summary["passed"] >= 100 and summary["parsing_errors"] == 0, summary
