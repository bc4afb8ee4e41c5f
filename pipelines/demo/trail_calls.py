"""Demo builders, CloudTrail: the request and response elements of each API call the demo makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipelines.demo.accounts import (
    MGMT,
    PROD,
    SCP_FULL_ACCESS,
    SCP_GUARDRAILS,
    TRAIL_ARN,
    fake_hex,
    fake_uuid,
    trail_time,
)
from pipelines.demo.activity import Activity
from pipelines.demo.compute import Function
from pipelines.demo.tables import Tables
from pipelines.demo.trail_events import Session, expiration


@dataclass
class CallContext:
    activity: Activity
    session: Session
    region: str
    moment: datetime
    tables: Tables
    uuid: Callable[[], str]  # the trail's random ids (same stream as the events)

    @property
    def account(self) -> str:
        return self.session.account

    @property
    def instance_id(self) -> str:
        target = self.activity.via.partition(":")[2]
        instance = self.tables.instances_by_name.get(target)
        return instance.id if instance else self.tables.instances_by_name["web-1"].id

    @property
    def function(self) -> Function:
        target = self.activity.via.partition(":")[2]
        if target in self.tables.functions_by_name:
            return self.tables.functions_by_name[target]
        created = [
            f for f in self.tables.functions if f.account == self.account and f.first_snapshot
        ]
        if self.activity.at and created and "CreateFunction" in self.activity.calls[0]:
            return created[0]
        return next(f for f in self.tables.functions if f.account == self.account)

    @property
    def change_set(self) -> str:
        """The change set of a GitHub Actions run (named after its session's run id)."""
        return f"gha-{self.session.identity['arn'].rsplit('-', 1)[-1]}"

    @property
    def bucket(self) -> str:
        return sorted(self.tables.bucket_policies[self.account])[0]


def no_params(_: CallContext) -> None:
    return None


def _function_config(ctx: CallContext) -> dict:
    function = ctx.function
    return {
        "functionName": function.name,
        "functionArn": function.arn,
        "runtime": function.runtime,
        "role": ctx.tables.role_by_name(function.account, function.role).arn,
        "handler": "app.handler",
        "codeSize": 48213,
        "timeout": 30,
        "memorySize": 256,
        "lastModified": ctx.moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "version": "$LATEST",
        "state": "Active" if "Create" not in ctx.activity.calls[0] else "Pending",
    }


def _log_stream(ctx: CallContext) -> dict:
    token = fake_hex(f"{ctx.function.name}{ctx.moment.isoformat()}", 32)
    return {
        "logGroupName": f"/aws/lambda/{ctx.function.name}",
        "logStreamName": f"{ctx.moment:%Y/%m/%d}/[$LATEST]{token}",
    }


def _change_set(ctx: CallContext) -> dict:
    return {"stackName": "orders-api", "changeSetName": ctx.change_set}


def _user_policy(ctx: CallContext) -> dict:
    return {
        "userName": "contractor-temp",
        "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
    }


def _bucket(ctx: CallContext, sub: str) -> dict:
    return {"bucketName": ctx.bucket, "Host": f"{ctx.bucket}.s3.amazonaws.com", sub: ""}


REQUEST_PARAMETERS: dict[str, Any] = {
    "ec2:DescribeInstances": lambda c: {"instancesSet": {}, "filterSet": {}},
    "ec2:DescribeInstanceStatus": lambda c: {
        "instancesSet": {},
        "filterSet": {},
        "includeAllInstances": False,
    },
    "ec2:DescribeSnapshots": lambda c: {
        "snapshotSet": {},
        "ownersSet": {"items": [{"owner": "self"}]},
        "sharedUsersSet": {},
        "filterSet": {},
    },
    "ec2:DescribeVolumes": lambda c: {"volumeSet": {}, "filterSet": {}},
    "ec2:DescribeSecurityGroups": lambda c: {
        "securityGroupSet": {},
        "securityGroupIdSet": {},
        "filterSet": {},
    },
    "ec2:DescribeVpcs": lambda c: {"vpcSet": {}, "filterSet": {}},
    "ec2:DescribeSubnets": lambda c: {"subnetSet": {}, "filterSet": {}},
    "ec2:DescribeNetworkInterfaces": lambda c: {"networkInterfaceIdSet": {}, "filterSet": {}},
    "ec2:RebootInstances": lambda c: {
        "instancesSet": {"items": [{"instanceId": c.tables.instances_by_name["web-1"].id}]}
    },
    "lambda:GetFunction20150331v2": lambda c: {"functionName": c.function.name},
    "lambda:GetFunctionConfiguration20150331v2": lambda c: {"functionName": c.function.name},
    "lambda:UpdateFunctionCode20150331v2": lambda c: {
        "functionName": c.function.name,
        "publish": False,
        "dryRun": False,
    },
    "lambda:UpdateFunctionConfiguration20150331v2": lambda c: {
        "functionName": c.function.name,
        "timeout": 30,
        "memorySize": 256,
    },
    "lambda:CreateFunction20150331": lambda c: {
        "functionName": c.function.name,
        "runtime": c.function.runtime,
        "role": c.tables.role_by_name(c.function.account, c.function.role).arn,
        "handler": "app.handler",
        "code": {},
        "publish": False,
    },
    "lambda:DeleteFunction20150331": lambda c: {"functionName": "orders-api"},
    "iam:AttachUserPolicy": _user_policy,
    "iam:DetachUserPolicy": _user_policy,
    "iam:GetUser": lambda c: {"userName": "contractor-temp"},
    "organizations:ListParents": lambda c: {"childId": PROD},
    "organizations:ListPolicies": lambda c: {"filter": "SERVICE_CONTROL_POLICY"},
    "organizations:DescribePolicy": lambda c: {"policyId": SCP_GUARDRAILS},
    "organizations:ListTargetsForPolicy": lambda c: {"policyId": SCP_FULL_ACCESS},
    "s3:ListBuckets": lambda c: {"Host": "s3.amazonaws.com"},
    "s3:GetBucketPolicy": lambda c: _bucket(c, "policy"),
    "s3:GetBucketLocation": lambda c: _bucket(c, "location"),
    "s3:GetBucketAcl": lambda c: _bucket(c, "acl"),
    "monitoring:GetMetricData": lambda c: {
        "metricDataQueries": [
            {"id": "cpu", "metricStat": {"metric": {"namespace": "AWS/EC2"}, "period": 300}}
        ],
        "startTime": trail_time(c.moment - timedelta(hours=3)),
        "endTime": trail_time(c.moment),
    },
    "monitoring:DescribeAlarms": lambda c: {"maxRecords": 100},
    "monitoring:ListMetrics": lambda c: {"namespace": "AWS/EC2"},
    "monitoring:PutMetricAlarm": lambda c: {
        "alarmName": "high-cpu",
        "metricName": "CPUUtilization",
        "namespace": "AWS/EC2",
        "threshold": 80.0,
        "comparisonOperator": "GreaterThanThreshold",
        "evaluationPeriods": 3,
    },
    "logs:DescribeLogGroups": lambda c: {"limit": 50},
    "logs:CreateLogStream": _log_stream,
    "ssm:UpdateInstanceInformation": lambda c: {
        "instanceId": c.instance_id,
        "agentVersion": "3.3.2299.0",
        "platformType": "Linux",
        "agentName": "amazon-ssm-agent",
    },
    "ssm:GetParameter": lambda c: {"name": "/web-app/db-host", "withDecryption": False},
    "ssm:GetParameters": lambda c: {
        "names": ["/web-app/feature-flags", "/web-app/region"],
        "withDecryption": False,
    },
    "ssm:GetParametersByPath": lambda c: {"path": "/", "recursive": True},
    "ssm:ListInstanceAssociations": lambda c: {"instanceId": c.instance_id, "maxResults": 20},
    "kms:Decrypt": lambda c: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
    "kms:GenerateDataKey": lambda c: {"keyId": "alias/aws/s3", "keySpec": "AES_256"},
    "kms:ScheduleKeyDeletion": lambda c: {
        "keyId": f"arn:aws:kms:{c.region}:{c.account}:key/"
        + fake_uuid(f"{c.account}/{c.region}/cmk"),
        "pendingWindowInDays": 7,
    },
    "secretsmanager:GetSecretValue": lambda c: {
        "secretId": f"arn:aws:secretsmanager:{c.region}:{c.account}:secret:web-app/db-Qz3x9K"
    },
    "ce:GetCostAndUsage": lambda c: {
        "timePeriod": {"start": "2026-11-01", "end": f"{c.moment:%Y-%m-%d}"},
        "granularity": "DAILY",
        "metrics": ["UnblendedCost"],
    },
    "ce:GetCostForecast": lambda c: {
        "timePeriod": {"start": f"{c.moment:%Y-%m-%d}", "end": "2026-12-01"},
        "metric": "UNBLENDED_COST",
        "granularity": "MONTHLY",
    },
    "ce:GetDimensionValues": lambda c: {
        "timePeriod": {"start": "2026-11-01", "end": f"{c.moment:%Y-%m-%d}"},
        "dimension": "SERVICE",
    },
    "access-analyzer:ListFindings": lambda c: {
        "analyzerArn": f"arn:aws:access-analyzer:us-east-1:{MGMT}:analyzer/org-analyzer"
    },
    "access-analyzer:ListAnalyzers": lambda c: {"type": "ORGANIZATION"},
    "cloudformation:DescribeStacks": lambda c: {"stackName": "orders-api"},
    "cloudformation:GetTemplate": lambda c: {
        "stackName": "orders-api",
        "templateStage": "Original",
    },
    "cloudformation:CreateChangeSet": lambda c: {
        "stackName": "orders-api",
        "changeSetName": c.change_set,
        "changeSetType": "UPDATE",
        "templateURL": "https://ciem-demo-prod-artifacts.s3.amazonaws.com/orders-api/template.yaml",
        "capabilities": ["CAPABILITY_IAM"],
    },
    "cloudformation:DescribeChangeSet": _change_set,
    "cloudformation:ExecuteChangeSet": _change_set,
    "athena:StartQueryExecution": lambda c: {
        "queryString": "SELECT count(*) FROM orders WHERE dt = current_date",
        "workGroup": "primary",
    },
    "athena:GetQueryExecution": lambda c: {"queryExecutionId": c.uuid()},
    "cloudtrail:LookupEvents": lambda c: {"maxResults": 50},
    "cloudtrail:DescribeTrails": lambda c: {"includeShadowTrails": True},
    "cloudtrail:StopLogging": lambda c: {"name": TRAIL_ARN},
    "cloudtrail:DeleteTrail": lambda c: {"name": TRAIL_ARN},
    "rds:CreateDBSnapshot": lambda c: {
        "dBSnapshotIdentifier": f"pre-migration-{c.moment:%Y%m%d}",
        "dBInstanceIdentifier": "orders-db",
    },
}

RESPONSES: dict[str, Any] = {
    "iam:CreateAccessKey": lambda c: {
        "accessKey": {
            "accessKeyId": c.tables.roots_by_account[c.account].key_id,
            "status": "Active",
            "createDate": expiration(c.moment),
        }
    },
    "lambda:CreateFunction20150331": _function_config,
    "lambda:UpdateFunctionCode20150331v2": _function_config,
    "lambda:UpdateFunctionConfiguration20150331v2": _function_config,
    "iam:AttachUserPolicy": lambda c: None,
    "athena:StartQueryExecution": lambda c: {"queryExecutionId": c.uuid()},
    "ec2:RebootInstances": lambda c: {"requestId": c.uuid(), "_return": True},
    "cloudformation:CreateChangeSet": lambda c: {
        "id": f"arn:aws:cloudformation:{c.region}:{c.account}:changeSet/gha/{c.uuid()}",
        "stackId": f"arn:aws:cloudformation:{c.region}:{c.account}:stack/orders-api/"
        + fake_uuid("orders-api-stack"),
    },
    "rds:CreateDBSnapshot": lambda c: {
        "dBSnapshotIdentifier": f"pre-migration-{c.moment:%Y%m%d}",
        "status": "creating",
    },
}
