"""The AWS Batch sandbox (``kedro_pipelinename.sandbox``, docs/sandbox.md)."""
