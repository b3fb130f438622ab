"""Deploys infra/template.yaml into the emulator, as `sam deploy` would into AWS.

The emulator does not run the SAM transform, so it is done here with the pinned
aws-sam-translator, after the two substitutions `sam package` makes: local code paths become S3
objects (a placeholder zip), local state machine files become inline definitions. Prints one JSON
document: the stack status, every resource of the template with its type and `Condition` (or
null), and every resource created with its type, physical id and status.

Usage: deploy_stack.py ROOT STACK_NAME [PARAMETER=VALUE ...]
(endpoint and credentials from the usual AWS_* variables)
"""

import io
import json
import sys
import time
import zipfile

import boto3
import yaml
from samtranslator.translator.transform import transform

# Resource types moto's CloudFormation skips whose attributes the template's outputs read.
NOT_IN_THE_EMULATOR_WITH_ATTRIBUTES = {"AWS::Lambda::Url"}


def main() -> None:
    root, stack = sys.argv[1], sys.argv[2]
    parameters = [
        {"ParameterKey": k, "ParameterValue": v} for k, v in (a.split("=", 1) for a in sys.argv[3:])
    ]
    with open(f"{root}/infra/template.yaml") as f:
        template = yaml.safe_load(f)

    s3 = boto3.client("s3")
    # Bucket names are global: the account's id keeps two tests' deployments apart.
    account = boto3.client("sts").get_caller_identity()["Account"]
    bucket = f"{stack}-artifacts-{account}"
    s3.create_bucket(Bucket=bucket)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr(zipfile.ZipInfo("bootstrap"), b"#!/bin/sh\n")
    s3.put_object(Bucket=bucket, Key="bootstrap.zip", Body=code.getvalue())

    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = {"Bucket": bucket, "Key": "bootstrap.zip"}
        if resource["Type"] == "AWS::Serverless::StateMachine":
            with open(f"{root}/infra/{props.pop('DefinitionUri')}") as f:
                props["Definition"] = json.load(f)

    class NoManagedPolicies:
        def load(self):
            return {}

    cfn_template = transform(template, {}, NoManagedPolicies())
    # Outputs that read an attribute of a resource the emulator cannot create (it skips the
    # resource, then fails the whole stack on the output): dropped here, and only these.
    absent = {k for k, v in cfn_template["Resources"].items() if v["Type"] in NOT_IN_THE_EMULATOR_WITH_ATTRIBUTES}
    for name, output in list(cfn_template.get("Outputs", {}).items()):
        if any(f'"{r}"' in json.dumps(output) for r in absent):
            del cfn_template["Outputs"][name]
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(cfn_template), Parameters=parameters, Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    status = "CREATE_IN_PROGRESS"
    for _ in range(600):
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.1)
    resources = [
        {"logicalId": r["LogicalResourceId"], "type": r["ResourceType"], "physicalId": r.get("PhysicalResourceId", ""), "status": r["ResourceStatus"]}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    ]
    expected = sorted((k, v["Type"], v.get("Condition")) for k, v in cfn_template["Resources"].items())
    print(json.dumps({"status": status, "expected": expected, "resources": resources}))


if __name__ == "__main__":
    main()
