"""MLflow: one MLflow run per batch run, whatever its jobs (``docs/tracking.md``).

In the driver, before any job is submitted, ``MlflowTracker.start``:

- adopts the run that is active in the driver: kedro-mlflow's
  ``before_pipeline_run`` starts one in every ``kedro run`` before the runner
  gets control, so that run is *the* run (no second one is made);
- otherwise, on a resumed run, reopens the run tagged with the Kedro run id,
  or the one ``MLFLOW_RUN_ID`` names, or creates one (plain MLflow,
  ``tracking: mlflow``);
- tags it (``kedro_pipelinename.run_id``, ``.pipelines``, ``.engine``) and hands
  every job ``MLFLOW_RUN_ID`` and ``MLFLOW_TRACKING_URI``: ``mlflow.start_run()``
  without a run id (kedro-mlflow's, or the first ``mlflow.log_*`` of a node)
  reopens that run instead of making one.

kedro-mlflow's hook ends the run in every job (``after_pipeline_run``:
FINISHED, ``on_pipeline_error``: FAILED); the next job reopens it, and the
driver's ``finish`` sets the batch run's status last, after every job ended.
The resume command carries ``MLFLOW_RUN_ID`` so kedro-mlflow reopens the same
run in the resumed driver.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from ..batch.errors import BatchSettingsError
from ..batch.trackers import TrackedRun, TrackedStatus, TrackerStart

logger = logging.getLogger(__name__)

#: The tags of the MLflow run.
TAG_RUN_ID = "kedro_pipelinename.run_id"
TAG_PIPELINES = "kedro_pipelinename.pipelines"
TAG_ENGINE = "kedro_pipelinename.engine"


def _kedro_mlflow_hook() -> Any:
    """kedro-mlflow's hook instance (its ``kedro.hooks`` entry point), if loaded."""
    module = sys.modules.get("kedro_mlflow.framework.hooks.mlflow_hook")
    return getattr(module, "mlflow_hook", None)


def _check_uri(uri: str) -> None:
    # The URI reaches every job's environment and the run record, which hold no
    # secret: MLflow reads credentials from MLFLOW_TRACKING_USERNAME/PASSWORD/
    # TOKEN, which jobs get from their own environment or `extra_env`.
    if urlsplit(uri).password is not None:
        raise BatchSettingsError(
            "tracking",
            "The MLflow tracking URI has a password in it, which would be written "
            "to every job's environment and the run record. Put the credentials "
            "in MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (the batch "
            "setting extra_env keeps them secret) and remove them from the URI.",
        )


class MlflowTracker:
    """The ``mlflow`` run tracker (entry point ``kedro_pipelinename.run_trackers``).

    Example:
        ``batch: {tracking: mlflow}`` in the parameters, or
        ``KEDRO_BATCH_TRACKING=mlflow``; with kedro-mlflow it is on by itself.
    """

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._client: Any = None

    @classmethod
    def enabled_by_default(cls) -> bool:
        """On when an MLflow run is active in the driver.

        kedro-mlflow, installed and enabled for the pipeline, starts one in
        ``before_pipeline_run``; without this tracker every job would make its
        own. MLflow is not imported when nothing imported it (it is slow).
        """
        if "mlflow" not in sys.modules:
            return False
        import mlflow

        return mlflow.active_run() is not None

    def start(self, run: TrackedRun) -> TrackerStart:
        """Open the one MLflow run and return what every job needs."""
        import mlflow
        from mlflow.tracking import MlflowClient

        uri = mlflow.get_tracking_uri()
        _check_uri(uri)
        client = MlflowClient(tracking_uri=uri)
        active = mlflow.active_run()
        existing = _tagged_run(client, run.run_id) if run.resumed else None
        if active is not None and existing is not None:
            run_id = existing.info.run_id
            if active.info.run_id != run_id:
                _replace_active(client, active.info.run_id, run_id)
        elif active is not None:
            run_id = active.info.run_id
        elif existing is not None:
            run_id = existing.info.run_id
            client.update_run(run_id, status="RUNNING")
        elif os.environ.get("MLFLOW_RUN_ID"):
            # A run an orchestrator started for this batch run (MLflow's own
            # variable, as mlflow.start_run() reads it): it is the run.
            run_id = os.environ["MLFLOW_RUN_ID"]
            client.update_run(run_id, status="RUNNING")
        else:
            created = client.create_run(
                _experiment_id(client),
                run_name="+".join(run.pipeline_names) or "__default__",
            )
            run_id = created.info.run_id
        tags = {
            TAG_RUN_ID: run.run_id,
            TAG_PIPELINES: ",".join(run.pipeline_names),
            TAG_ENGINE: run.engine,
        }
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
        self._client, self._run_id = client, run_id
        logger.info("MLflow run %s holds every job of run %s.", run_id, run.run_id)
        return TrackerStart(
            job_env={"MLFLOW_RUN_ID": run_id, "MLFLOW_TRACKING_URI": uri},
            resume_env={"MLFLOW_RUN_ID": run_id},
        )

    def finish(self, status: TrackedStatus) -> None:
        """Set the run's final status."""
        import mlflow

        if self._run_id is None:
            return
        active = mlflow.active_run()
        ours = active is not None and active.info.run_id == self._run_id
        if status is TrackedStatus.KILLED and ours:
            hook = _kedro_mlflow_hook()
            if hook is not None and getattr(hook, "run_id", None) == self._run_id:
                # kedro-mlflow 2.0's on_pipeline_error (which Kedro calls for
                # `kedro batch cancel`'s RunCancelled) ends every active run
                # FAILED, and fails itself when none is active: it must not
                # touch a cancelled run.
                hook._is_mlflow_enabled = False
            # Ended here, not left active: MLflow's atexit would end it FINISHED.
            mlflow.end_run(status.value)
            return
        # Otherwise left active: kedro-mlflow's after_pipeline_run and
        # on_pipeline_error end it with the same status.
        self._client.set_terminated(self._run_id, status.value)


def _tagged_run(client: Any, kedro_run_id: str) -> Any:
    """The (not deleted) MLflow run tagged with ``kedro_run_id``, or ``None``."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return None
    runs = client.search_runs(
        experiments,
        filter_string=f"tags.`{TAG_RUN_ID}` = '{kedro_run_id}'",
        max_results=1,
        order_by=["attributes.start_time ASC"],
    )
    return runs[0] if runs else None


def _replace_active(client: Any, fresh: str, existing: str) -> None:
    """Make ``existing`` the active run instead of ``fresh``.

    A resumed driver started without the resume command's MLFLOW_RUN_ID:
    kedro-mlflow made a fresh run; it is deleted, and the run's own reopened.
    """
    import mlflow

    mlflow.end_run()
    client.delete_run(fresh)
    mlflow.start_run(run_id=existing)
    hook = _kedro_mlflow_hook()
    if hook is not None and getattr(hook, "run_id", None) == fresh:
        hook.run_id = existing
    logger.warning(
        "MLflow run %s (made by this driver) was deleted: this run continues "
        "MLflow run %s.",
        fresh,
        existing,
    )


def _experiment_id(client: Any) -> str:
    """The experiment MLflow would use: MLFLOW_EXPERIMENT_ID, _NAME, or the
    default one."""
    if os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return os.environ["MLFLOW_EXPERIMENT_ID"]
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        return str(client.create_experiment(name))
    return "0"
