"""The deployable template: cfn-lint clean, least-privilege IAM, and every
table, index, queue and schedule the code uses present (names from one place)."""
import json
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)
# The `packaged` fixture (the prod template, built once) is in conftest.py.


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_cfn_lint_reports_nothing(packaged):
    path, _ = packaged
    result = subprocess.run([os.path.join(BIN, "cfn-lint"), str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout


def walk_statements(template):
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


#: A wildcard may only narrow a known resource: a known table's indexes, an
#: object prefix in the known bucket, the streams of a function's own log group.
ALLOWED_WILDCARD_ENDINGS = ("/index/*", "/uploads/*", "/drop/*", "/staging/*", "/exports/*", "-api:*",
                            "-import-worker:*", "-outbox-sender:*", "-membership-expiry-sweep:*",
                            "-email-events:*", "-roster-lifecycle:*", "/sso/*")

#: The one exception to "no * resource": X-Ray's PutTraceSegments and
#: PutTelemetryRecords have no resource type, so AWS documents Resource "*" for
#: them (Tracing: Active needs both). Exactly these two, alone in their statement.
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_no_wildcard_actions_or_resources(packaged):
    _, template = packaged
    seen = 0
    for role, statement in walk_statements(template):
        seen += 1
        for action in as_list(statement["Action"]):
            assert "*" not in action, (role, action)
        if statement["Resource"] == "*" and set(as_list(statement["Action"])) == XRAY_ACTIONS:
            continue
        for resource in as_list(statement["Resource"]):
            if isinstance(resource, dict) and "Fn::GetAtt" in resource:
                continue  # one resource of this template
            text = resource if isinstance(resource, str) else resource.get("Fn::Sub", "")
            assert text and text != "*", (role, resource)
            if "*" in text:
                assert text.endswith(ALLOWED_WILDCARD_ENDINGS) and text.count("*") == 1, (role, text)
    assert seen >= 8


def test_every_function_has_its_own_role(packaged):
    _, template = packaged
    functions = resources(template, "AWS::Serverless::Function")
    assert set(functions) == {"APIHandler", "ImportWorker", "OutboxSender", "MembershipExpirySweep", "EmailEvents", "RosterLifecycle"}
    roles = [f["Properties"]["Role"] for f in functions.values()]
    assert all(isinstance(r, dict) and "Fn::GetAtt" in r for r in roles)
    assert len({json.dumps(r) for r in roles}) == len(roles)


def test_every_table_and_index_the_code_uses_is_there(packaged):
    _, template = packaged
    from chalicelib.core import config
    from chalicelib.models import ALL_MODELS
    tables = {t["Properties"]["TableName"]: t["Properties"] for t in resources(template, "AWS::DynamoDB::Table").values()}
    prod = {m.Meta.table_name.replace(config.table_prefix(), "schoolroll-prod-"): m for m in ALL_MODELS}
    assert set(tables) == set(prod)
    assert {f"schoolroll-prod-{t}" for t in config.TABLES} == set(prod)  # config names exactly the tables
    for name, model in prod.items():
        props = tables[name]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        indexes = {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i.Meta.index_name for i in model._indexes.values()}
        if "ttl" in model.get_attributes():
            assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_queues_schedules_bucket_and_gateway_responses(packaged):
    _, template = packaged
    from app import app
    from chalicelib.core import gateway
    queues = {q["Properties"]["QueueName"]: q["Properties"] for q in resources(template, "AWS::SQS::Queue").values()}
    assert set(queues) == {"schoolroll-prod-imports", "schoolroll-prod-imports-dlq"}
    assert queues["schoolroll-prod-imports"]["RedrivePolicy"]["maxReceiveCount"] == 5
    functions = resources(template, "AWS::Serverless::Function")
    schedules = {s.name for s in app.event_sources if type(s).__name__ == "ScheduledEventConfig"}
    assert schedules == {"outbox_sender", "membership_expiry_sweep", "roster_lifecycle"}
    for fn in ("OutboxSender", "MembershipExpirySweep"):
        events = functions[fn]["Properties"]["Events"]
        assert [e["Type"] for e in events.values()] == ["Schedule"]
    # SES's bounces and complaints: the function is subscribed to the topic the
    # configuration set publishes to, and created after it.
    (sns_event,) = functions["EmailEvents"]["Properties"]["Events"].values()
    topic_name = resources(template, "AWS::SNS::Topic")["EmailEventsTopic"]["Properties"]["TopicName"]
    assert sns_event["Type"] == "SNS" and sns_event["Properties"]["Topic"]["Fn::Sub"].endswith(":" + topic_name)
    assert functions["EmailEvents"]["DependsOn"] == ["EmailEventsTopic"]
    destination, = resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["Properties"]["EventDestination"]["SnsDestination"]["TopicARN"] == {"Ref": "EmailEventsTopic"}
    sqs_event = functions["ImportWorker"]["Properties"]["Events"]["ImportWorkerSqsEventSource"]["Properties"]
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    props = resources(template, "AWS::S3::Bucket")["DropBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    prefixes = {c["Filter"]["S3Key"]["Rules"][0]["Value"] for c in props["NotificationConfiguration"]["QueueConfigurations"]}
    assert prefixes == {"uploads/", "drop/"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["exports"]["Prefix"] == "exports/" and rules["exports"]["ExpirationInDays"] == 1
    assert rules["exports"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert len(resources(template, "AWS::CloudWatch::Alarm")) == 1
    responses = {r["Properties"]["ResponseType"] for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()}
    assert responses == set(gateway.GATEWAY_RESPONSES)
    assert len(resources(template, "AWS::Logs::LogGroup")) == 7  # a function's each, and the API's access log


def test_the_audit_log_is_append_only_for_every_role(packaged):
    """No role may delete or batch-write the audit table (only read and
    PutItem, which the code conditions on attribute_not_exists); one role
    may UpdateItem: the lifecycle job that takes an erased pupil's names out
    of their older entries, alone in its statement."""
    _, template = packaged
    granted, updaters = [], []
    for role, statement in walk_statements(template):
        resources_text = json.dumps(as_list(statement["Resource"]))
        if "-audit" in resources_text:
            granted.append(role)
            actions = set(as_list(statement["Action"]))
            assert actions.isdisjoint({"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}), (role, statement)
            if "dynamodb:UpdateItem" in actions:
                updaters.append(role)
                assert actions == {"dynamodb:UpdateItem"} and "-audit" in resources_text \
                    and "-pupils" not in resources_text, (role, statement)
    assert updaters == ["RosterLifecycleRole"], updaters
    assert granted, "some role must be able to write the audit log"
    import ast
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2] / "chalicelib"
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        # every put of an entry goes through audit.stage/write or carries the same condition
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "put_as_is":
                assert "audit" not in ast.unparse(node), (path, ast.unparse(node))
