"""The queue, compute environment and job definition a project's settings name."""

from __future__ import annotations

import json
from typing import Any, Final

from attrs import frozen

from .server import FAKE_CREDENTIALS, SandboxError

#: The compute environment and service role the sandbox creates.
COMPUTE_ENVIRONMENT: Final = "kedro-sandbox"
SERVICE_ROLE: Final = "kedro-sandbox-batch"
#: What the job definition says; the sandbox runs the job's command in the
#: project instead of this image.
IMAGE: Final = "kedro-project:sandbox"


@frozen
class BatchResources:
    """What ``create_batch_resources`` made.

    Attributes:
        endpoint: The server's URL.
        region: The region they are in.
        queue: The job queue's name.
        definition: The job definition as the settings name it (``name`` or
            ``name:revision``).
    """

    endpoint: str
    region: str
    queue: str
    definition: str


def client(service: str, endpoint: str, region: str) -> Any:
    """A boto3 client of the sandbox, with its fake credentials (whatever the
    environment holds, nothing reaches real AWS)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _definition_parts(definition: str) -> tuple[str, int]:
    if definition.startswith("arn:"):
        raise SandboxError(
            f"The job definition {definition!r} is an ARN; the sandbox creates "
            f"definitions by name.\nSet job_definition to a name or name:revision "
            f"(such as {definition.rsplit('/', 1)[-1]!r}) while using the sandbox."
        )
    name, _, revision = definition.partition(":")
    if revision and not revision.isdigit():
        raise SandboxError(
            f"The job definition {definition!r} is neither a name nor "
            f"name:revision (a whole number).\nFix job_definition in the "
            f"aws_batch: (or batch:) parameters block."
        )
    return name, int(revision or 1)


def create_batch_resources(
    endpoint: str,
    region: str,
    *,
    queue: str = "kedro-queue",
    definition: str = "kedro-project",
    compute_environment: str = COMPUTE_ENVIRONMENT,
) -> BatchResources:
    """An IAM role, an unmanaged compute environment, the job queue and the job
    definition (registered up to the revision ``name:revision`` names, so that
    revision exists).

    Raises:
        SandboxError: For a job definition the sandbox cannot create (an ARN).
    """
    name, revision = _definition_parts(definition)
    iam = client("iam", endpoint, region)
    role = iam.create_role(
        RoleName=SERVICE_ROLE,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    batch = client("batch", endpoint, region)
    environment = batch.create_compute_environment(
        computeEnvironmentName=compute_environment,
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=role,
    )["computeEnvironmentArn"]
    batch.create_job_queue(
        jobQueueName=queue,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
    )
    properties: dict[str, Any] = {
        "image": IMAGE,
        "command": ["kedro", "run"],
        "resourceRequirements": [
            {"type": "VCPU", "value": "1"},
            {"type": "MEMORY", "value": "2048"},
        ],
    }
    for _ in range(revision):
        batch.register_job_definition(
            jobDefinitionName=name, type="container", containerProperties=properties
        )
    return BatchResources(
        endpoint=endpoint, region=region, queue=queue, definition=definition
    )


def create_bucket(endpoint: str, region: str, bucket: str) -> None:
    """An S3 bucket (for ``s3://`` datasets or ``record_uri``)."""
    s3 = client("s3", endpoint, region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
