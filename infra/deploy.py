"""Deploy or remove a packaged stage with boto3 (no AWS CLI needed).

    python -m infra.deploy deploy STAGE --mail-from no-reply@school.org.uk [--sender-identity school.org.uk]
                                        [--operator-email it@school.org.uk]
    python -m infra.deploy destroy STAGE

Reads dist/STAGE/sam.json and deployment.zip (from `make package`), uploads the
code to an artifacts bucket, creates or updates the stack (CloudFormation runs
the SAM transform), and prints the console URL. The first deploy also points
emailed links at that URL unless --console-url says otherwise.
"""
import argparse
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stack_name(stage):
    return f"schoolroll-{stage}"


def with_code_in_s3(template, s3, bucket, zip_path):
    """The template with every local CodeUri replaced by its S3 copy."""
    with open(zip_path, "rb") as fh:
        body = fh.read()
    key = f"schoolroll/{hashlib.sha256(body).hexdigest()}.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    return template


def artifacts_bucket(s3, sts, region):
    account = sts.get_caller_identity()["Account"]
    name = f"schoolroll-artifacts-{account}-{region}"
    try:
        s3.head_bucket(Bucket=name)
    except Exception:  # noqa: BLE001 - missing: make it, private
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **kwargs)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    return name


def parameters(values, previous=()):
    """CloudFormation parameters; a value of None keeps the stack's previous
    value (when the stack has that parameter) or else the template's default."""
    out = []
    for k, v in values.items():
        if v is not None:
            out.append({"ParameterKey": k, "ParameterValue": str(v)})
        elif k in previous:
            out.append({"ParameterKey": k, "UsePreviousValue": True})
    return out


def deploy(stage, values, cfn, s3, sts, region, template=None, wait=True):
    template = template or json.load(open(os.path.join(ROOT, "dist", stage, "sam.json")))
    bucket = artifacts_bucket(s3, sts, region)
    body = with_code_in_s3(template, s3, bucket, os.path.join(ROOT, "dist", stage, "deployment.zip"))
    name = stack_name(stage)
    kwargs = dict(StackName=name, TemplateBody=json.dumps(body), Parameters=parameters(values),
                  Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        kwargs["Parameters"] = parameters(values, {p["ParameterKey"] for p in stack.get("Parameters", [])})
        cfn.update_stack(**kwargs)
        waiter = "stack_update_complete"
    except cfn.exceptions.ClientError as exc:
        if "does not exist" not in str(exc):
            if "No updates are to be performed" in str(exc):
                return outputs(cfn, name)
            raise
        cfn.create_stack(**kwargs)
        waiter = "stack_create_complete"
    if wait:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    return outputs(cfn, name)


def outputs(cfn, name):
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def destroy(stage, cfn):
    name = stack_name(stage)
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name)


def main(argv=None):
    import boto3
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["deploy", "destroy"])
    parser.add_argument("stage")
    parser.add_argument("--mail-from", default=os.environ.get("MAIL_FROM"))
    parser.add_argument("--sender-identity", default=os.environ.get("SENDER_IDENTITY"))
    parser.add_argument("--console-url", default=os.environ.get("CONSOLE_URL"))
    parser.add_argument("--log-retention-days", default=os.environ.get("LOG_RETENTION_DAYS", "30"))
    # Not given: an existing stack keeps the address it has (a new one has none).
    parser.add_argument("--operator-email", default=os.environ.get("OPERATOR_EMAIL") or None,
                        help="emailed (SNS) when an import lands in the dead-letter queue")
    args = parser.parse_args(argv)
    region = boto3.session.Session().region_name
    if not region:
        sys.exit("Set AWS_DEFAULT_REGION (or a profile with a region) first.")
    cfn, s3, sts = boto3.client("cloudformation"), boto3.client("s3"), boto3.client("sts")
    if args.action == "destroy":
        destroy(args.stage, cfn)
        # Tables, buckets and the KMS key are Retain: deleting the stack never calls
        # DeleteTable, so the tables' deletion protection does not get in its way.
        print(f"Stack {stack_name(args.stage)} deleted. Kept (DeletionPolicy Retain): the tables (deletion "
              "protection on: turn it off to delete one), the drop and log buckets, the KMS key that "
              "encrypts them (schedule its deletion last) and API Gateway's logging role (the region's "
              "setting for every API). Delete them by hand if you mean to lose the data.")
        return
    if not args.mail_from:
        sys.exit("Say which address emails come from: MAIL_FROM=no-reply@your-school.org.uk make deploy ...")
    values = {"MailFrom": args.mail_from, "SenderIdentity": args.sender_identity or args.mail_from,
              "ConsoleUrl": args.console_url or "https://example.invalid/", "ConsoleOrigin": "*",
              "LogRetentionDays": args.log_retention_days, "OperatorEmail": args.operator_email}
    out = deploy(args.stage, values, cfn, s3, sts, region)
    url = out.get("EndpointURL", "")
    if not args.console_url and url:
        # Now the URL is known: point emailed links and the bucket's CORS at it.
        origin = "/".join(url.split("/")[:3])
        out = deploy(args.stage, dict(values, ConsoleUrl=url, ConsoleOrigin=origin), cfn, s3, sts, region)
    print(f"schoolroll {args.stage} is deployed. Open the console: {url}")


if __name__ == "__main__":
    main()
