"""An AWS Batch on 127.0.0.1 that runs jobs: ``kedro batch sandbox aws``.

moto's server answers Batch, CloudWatch Logs and S3 over HTTP (``server.py``);
``compute.py`` runs each job's container command as a local process in the
project (the "image" is the project itself), as Batch would: ``dependsOn``,
``retryStrategy.attempts``, ``timeout``, TerminateJob and CancelJob, array
jobs (``arrays.py``), the output in CloudWatch Logs under Batch's stream name
(``logs.py``);
``resources.py`` creates the queue and job definition the project's settings
name, ``name:rev`` included; ``session.py`` puts them together and says which
environment points the AWS SDKs at it. docs/sandbox.md is the recipe.

Needs the ``[sandbox]`` extra (moto's server, boto3).
"""
