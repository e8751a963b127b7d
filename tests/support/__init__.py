"""What the tests share: temp Kedro projects, the ``kedro`` CLI, outputs, moto.

``cli``
    ``run_command`` / ``kedro_cli`` (bounded subprocesses, quiet env) and the
    options of the installed ``kedro run``.
``projects``
    ``write_project``: a Kedro project written file by file.
``outputs``
    What a run left behind: JSON lines, JSON outputs with version directories
    masked.
``aws``
    The shipped sandbox's moto server and Batch queue (``BatchWorld``), fake
    AWS credentials, and the Batch limits moto does not enforce
    (``StrictLimits``).
``plans``
    Job plans built by hand (``planned``, ``plan_of``, ``wide_dag``).
``batch_project``, ``demo``, ``rcproj``
    The three projects: the batch tests' ``proj``, the demo's scenario project
    and the run-context tests' ``rcproj``.

Also: ``waiting`` (every bounded wait), ``processes`` (psutil: alive, trees,
groups), ``background`` (a driver to signal), ``commands_project`` (the ``kedro
batch`` tests' project), ``moto_compute`` (the sandbox's compute: moto Batch
jobs that run), ``fault_proxy``, ``slurm``, ``recorded``, ``simulated``.

Import it as ``tests.support`` (the repository root is on ``sys.path``:
pytest's ``pythonpath`` option, or ``python -m`` from the root).
"""
