"""Deploy rehearsal: the packaged template, its SAM transform expanded by
aws-sam-translator, created in moto's CloudFormation; then the resources
the app needs exist."""
import json

import boto3
import pytest

from infra import deploy

REGION = "eu-west-2"


#: moto cannot build a REST API from its OpenAPI body (it ignores the body, then
#: refuses to deploy an API without methods), so the rehearsal leaves out API
#: Gateway; the template tests and cfn-lint cover those resources.
MOTO_CANNOT_CREATE = ("AWS::ApiGateway::",)


def without_rest_api(template):
    drop = {k for k, v in template["Resources"].items() if v["Type"].startswith(MOTO_CANNOT_CREATE)}
    drop |= {k for k, v in template["Resources"].items() if "RestAPI" in json.dumps(v)}
    template["Resources"] = {k: v for k, v in template["Resources"].items() if k not in drop}
    template["Outputs"] = {k: v for k, v in template.get("Outputs", {}).items()
                           if not any(d in json.dumps(v) for d in drop)}
    return template


@pytest.fixture
def created(aws, packaged):
    from samtranslator.public.translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform
    path, template = packaged
    s3, sts = boto3.client("s3", region_name=REGION), boto3.client("sts", region_name=REGION)
    bucket = deploy.artifacts_bucket(s3, sts, REGION)
    with_code = deploy.with_code_in_s3(template, s3, bucket, str(path.parent / "deployment.zip"))
    values = {"MailFrom": "no-reply@oak.sch.uk", "SenderIdentity": "oak.sch.uk",
              "ConsoleUrl": "https://console.example.org/", "ConsoleOrigin": "https://console.example.org",
              "LogRetentionDays": "30"}
    plain = transform(with_code, values, ManagedPolicyLoader(boto3.client("iam", region_name=REGION)))
    assert "Transform" not in plain
    plain = without_rest_api(plain)
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(StackName="schoolroll-prod", TemplateBody=json.dumps(plain),
                     Parameters=deploy.parameters(values), Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    stack = cfn.describe_stacks(StackName="schoolroll-prod")["Stacks"][0]
    return stack, cfn


def test_the_stack_creates_what_the_app_needs(created):
    stack, cfn = created
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    names = set(dynamodb.list_tables()["TableNames"])
    from chalicelib.core import config
    for logical in config.TABLES:
        assert f"schoolroll-prod-{logical}" in names
    pupils = dynamodb.describe_table(TableName="schoolroll-prod-pupils")["Table"]
    assert {i["IndexName"] for i in pupils["GlobalSecondaryIndexes"]} == {
        "pupils-by-name", "pupils-by-first", "pupils-by-year", "pupils-by-reg", "pupils-by-leaving"}
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="schoolroll-prod-imports")["QueueUrl"]
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith("schoolroll-prod-imports-dlq")
    buckets = {b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]}
    assert any(b.startswith("schoolroll-prod-drop-") for b in buckets)
    functions = {f["FunctionName"] for f in boto3.client("lambda", region_name=REGION).list_functions()["Functions"]}
    assert len(functions) == 6
    roles = [r["RoleName"] for r in boto3.client("iam", region_name=REGION).list_roles()["Roles"]]
    assert sum("Role" in r for r in roles) >= 5


def test_the_stack_encrypts_with_its_own_key_and_destroy_keeps_the_data(created):
    stack, cfn = created
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    kms = boto3.client("kms", region_name=REGION)
    from chalicelib.core import config as app_config  # the local stack's own key is there too
    local = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"] == app_config.mfa_key_id()}
    (key,) = [k for k in kms.list_keys()["Keys"] if k["KeyId"] not in local]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    from chalicelib.core import config
    for logical in config.TABLES:
        assert dynamodb.describe_table(TableName=f"schoolroll-prod-{logical}")["Table"]["DeletionProtectionEnabled"]
    sqs = boto3.client("sqs", region_name=REGION)
    for queue in ("schoolroll-prod-imports", "schoolroll-prod-imports-dlq"):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])["Attributes"]
        assert attrs["KmsMasterKeyId"] == key["KeyArn"]
    topics = {t["TopicArn"].rsplit(":", 1)[1] for t in boto3.client("sns", region_name=REGION).list_topics()["Topics"]}
    assert topics == {"schoolroll-prod-alerts", "schoolroll-prod-email-events"}
    concurrency = boto3.client("lambda", region_name=REGION).get_function(FunctionName="schoolroll-prod-api")["Concurrency"]
    assert concurrency["ReservedConcurrentExecutions"] == 100
    # Destroy: tables (deletion protection on), buckets and the key are Retain,
    # so deleting the stack never tries to delete them (one stack for both: it
    # takes seconds to create).
    deploy.destroy("prod", cfn)
    assert [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]] == ["DELETE_COMPLETE"]
    names = set(dynamodb.list_tables()["TableNames"])
    assert {f"schoolroll-prod-{t}" for t in config.TABLES} <= names
    buckets = {b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]}
    assert any(b.startswith("schoolroll-prod-drop-") for b in buckets)
    assert key["KeyId"] in {k["KeyId"] for k in kms.list_keys()["Keys"]}  # kept (Retain)


def test_parameters_left_out_keep_the_stacks_value_or_the_default():
    values = {"MailFrom": "a@b.org", "OperatorEmail": None}
    assert deploy.parameters(values) == [{"ParameterKey": "MailFrom", "ParameterValue": "a@b.org"}]
    assert deploy.parameters(values, {"MailFrom", "OperatorEmail"}) == [
        {"ParameterKey": "MailFrom", "ParameterValue": "a@b.org"},
        {"ParameterKey": "OperatorEmail", "UsePreviousValue": True}]
