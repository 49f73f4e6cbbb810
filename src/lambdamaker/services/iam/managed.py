"""A built-in catalogue of common AWS managed policies (``arn:aws:iam::aws:policy/...``).

User code attaches these by ARN (``AWSLambdaBasicExecutionRole`` to every Lambda role,
``AmazonSageMakerFullAccess`` to SageMaker execution roles), so they must exist for
``AttachRolePolicy`` to succeed. The provider inserts each entry as a policy row with
``scope = 'AWS'`` at start-up; they cannot be deleted, versioned or tagged.

The documents of small policies are AWS's. Large ones (``abridged=True``) keep the statements
that matter to the services lambdamaker implements, for the policy evaluator to come; the full
AWS documents run to many kilobytes of actions for services that do not exist here.

Ids are derived from the name so they are stable across restarts and installations.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_ID_ALPHABET = string.ascii_uppercase + string.digits
CATALOGUE_DATE = datetime(2015, 2, 6, 18, 40, 0, tzinfo=UTC).timestamp()

_LOGS_WRITE = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    path: str
    description: str
    document: dict[str, Any]
    abridged: bool = False

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"

    @property
    def policy_id(self) -> str:
        digest = hashlib.sha256(self.arn.encode()).digest()
        return "ANPA" + "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:17])

    @property
    def document_text(self) -> str:
        return json.dumps(self.document, indent=4)


def _allow(
    actions: str | list[str], resource: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _pass_role_to(service: str) -> dict[str, Any]:
    return _allow(
        "iam:PassRole",
        "arn:aws:iam::*:role/*",
        Condition={"StringEquals": {"iam:PassedToService": service}},
    )


CATALOGUE: tuple[ManagedPolicy, ...] = (
    ManagedPolicy(
        "AdministratorAccess",
        "/",
        "Provides full access to AWS services and resources.",
        _doc(_allow("*")),
    ),
    ManagedPolicy(
        "IAMFullAccess",
        "/",
        "Provides full access to IAM via the AWS Management Console.",
        _doc(_allow("iam:*")),
        abridged=True,
    ),
    ManagedPolicy(
        "AmazonS3FullAccess",
        "/",
        "Provides full access to all buckets via the AWS Management Console.",
        _doc(_allow(["s3:*", "s3-object-lambda:*"])),
    ),
    ManagedPolicy(
        "AmazonS3ReadOnlyAccess",
        "/",
        "Provides read only access to all buckets via the AWS Management Console.",
        _doc(
            _allow(
                [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ]
            )
        ),
    ),
    ManagedPolicy(
        "AWSLambdaBasicExecutionRole",
        "/service-role/",
        "Provides write permissions to CloudWatch Logs.",
        _doc(_allow(_LOGS_WRITE)),
    ),
    ManagedPolicy(
        "AWSLambdaRole",
        "/service-role/",
        "Default policy for AWS Lambda service role.",
        _doc(_allow(["lambda:InvokeFunction"], ["*"])),
    ),
    ManagedPolicy(
        "AWSLambdaExecute",
        "/",
        "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
        _doc(
            _allow(["logs:*"], "arn:aws:logs:*:*:*"),
            _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::*"),
        ),
    ),
    ManagedPolicy(
        "AWSLambdaSQSQueueExecutionRole",
        "/service-role/",
        "Provides receive message, delete message, and read attribute access to SQS queues, "
        "and write permissions to CloudWatch logs.",
        _doc(
            _allow(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS_WRITE]
            )
        ),
    ),
    ManagedPolicy(
        "AWSLambdaKinesisExecutionRole",
        "/service-role/",
        "Provides list and read access to Kinesis streams and write permissions to CloudWatch "
        "logs.",
        _doc(
            _allow(
                [
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:ListStreams",
                    "kinesis:SubscribeToShard",
                    *_LOGS_WRITE,
                ]
            )
        ),
    ),
    ManagedPolicy(
        "AWSLambdaDynamoDBExecutionRole",
        "/service-role/",
        "Provides list and read access to DynamoDB streams and write permissions to CloudWatch "
        "logs.",
        _doc(
            _allow(
                [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    *_LOGS_WRITE,
                ]
            )
        ),
    ),
    ManagedPolicy(
        "AWSLambdaVPCAccessExecutionRole",
        "/service-role/",
        "Provides minimum permissions for a Lambda function to execute while accessing a "
        "resource within a VPC.",
        _doc(
            _allow(
                [
                    *_LOGS_WRITE,
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ]
            )
        ),
    ),
    ManagedPolicy(
        "AWSLambda_FullAccess",
        "/",
        "Grants full access to AWS Lambda service, AWS Lambda console features, and other "
        "related AWS services.",
        _doc(
            _allow(
                ["lambda:*", "logs:DescribeLogGroups", "logs:FilterLogEvents", "logs:GetLogEvents"]
            ),
            _allow(["iam:GetRole", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListRoles"]),
            _pass_role_to("lambda.amazonaws.com"),
        ),
        abridged=True,
    ),
    ManagedPolicy(
        "AmazonSageMakerFullAccess",
        "/",
        "Provides full access to Amazon SageMaker via the AWS Management Console and SDK.",
        _doc(
            _allow("sagemaker:*"),
            _allow(
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                [
                    "arn:aws:s3:::*SageMaker*",
                    "arn:aws:s3:::*Sagemaker*",
                    "arn:aws:s3:::*sagemaker*",
                ],
            ),
            _allow(
                ["s3:CreateBucket", "s3:GetBucketLocation", "s3:ListBucket", "s3:ListAllMyBuckets"]
            ),
            _allow(
                [
                    "cloudwatch:PutMetricData",
                    "cloudwatch:GetMetricData",
                    "cloudwatch:GetMetricStatistics",
                    "cloudwatch:ListMetrics",
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                    "logs:PutLogEvents",
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ]
            ),
            _allow(["lambda:InvokeFunction", "lambda:ListFunctions"]),
            _pass_role_to("sagemaker.amazonaws.com"),
        ),
        abridged=True,
    ),
    ManagedPolicy(
        "AWSStepFunctionsFullAccess",
        "/",
        "Allows a user or role full access to AWS Step Functions.",
        _doc(
            _allow("states:*"),
            _allow("iam:PassRole", "arn:aws:iam::*:role/service-role/StepFunctions*"),
        ),
    ),
    ManagedPolicy(
        "CloudWatchLogsFullAccess",
        "/",
        "Provides full access to CloudWatch Logs.",
        _doc(_allow(["logs:*", "cloudwatch:GenerateQuery"])),
    ),
    ManagedPolicy(
        "CloudWatchFullAccess",
        "/",
        "Provides full access to CloudWatch.",
        _doc(_allow(["autoscaling:Describe*", "cloudwatch:*", "logs:*", "sns:*"])),
        abridged=True,
    ),
    ManagedPolicy(
        "AmazonSQSFullAccess",
        "/",
        "Provides full access to Amazon SQS via the AWS Management Console.",
        _doc(_allow("sqs:*")),
    ),
    ManagedPolicy(
        "AmazonSNSFullAccess",
        "/",
        "Provides full access to Amazon SNS via the AWS Management Console.",
        _doc(_allow("sns:*")),
    ),
    ManagedPolicy(
        "AmazonDynamoDBFullAccess",
        "/",
        "Provides full access to Amazon DynamoDB via the AWS Management Console.",
        _doc(_allow(["dynamodb:*", "cloudwatch:*", "lambda:*"])),
        abridged=True,
    ),
    ManagedPolicy(
        "AmazonKinesisFullAccess",
        "/",
        "Provides full access to all streams via the AWS Management Console.",
        _doc(_allow("kinesis:*")),
    ),
    ManagedPolicy(
        "AmazonEventBridgeFullAccess",
        "/",
        "Provides full access to Amazon EventBridge.",
        _doc(_allow(["events:*", "schemas:*", "scheduler:*", "pipes:*"])),
        abridged=True,
    ),
)

BY_ARN: dict[str, ManagedPolicy] = {p.arn: p for p in CATALOGUE}
