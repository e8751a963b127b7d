"""``running_sandbox``: the environment it gives reaches its S3 too, from a job."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3

from kedro_pipelinename.sandbox.resources import client
from kedro_pipelinename.sandbox.session import running_sandbox
from tests.support.waiting import wait_until

WRITE = (
    "import boto3; boto3.client('s3').put_object("
    "Bucket='example-bucket', Key='data/out.txt', Body=b'from the job')"
)


def test_a_job_writes_to_a_bucket_of_the_sandbox_with_the_printed_environment(
    tmp_path: Path,
) -> None:
    with running_sandbox(
        tmp_path, job_queue="q", job_definition="d:1", buckets=["example-bucket"]
    ) as sandbox:
        resources = sandbox.resources
        batch = client("batch", resources.endpoint, resources.region)
        job_id = batch.submit_job(
            jobName="writer",
            jobQueue="q",
            jobDefinition="d:1",
            containerOverrides={"command": [sys.executable, "-c", WRITE]},
        )["jobId"]

        def job() -> dict[str, object]:
            found: dict[str, object] = batch.describe_jobs(jobs=[job_id])["jobs"][0]
            return found

        wait_until(lambda: job()["status"] in ("SUCCEEDED", "FAILED"), "the job ends")
        env = sandbox.environment()
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        body = s3.get_object(Bucket="example-bucket", Key="data/out.txt")["Body"]

        assert job()["status"] == "SUCCEEDED", job().get("statusReason")
        assert body.read() == b"from the job"
