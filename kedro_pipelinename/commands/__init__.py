"""``kedro batch``: plan, runs, status, cancel and resume, as Kedro project commands.

Registered in the ``kedro.project_commands`` entry-point group (``cli.py``);
everything goes through the batch core's engine interface and run records
(``kedro_pipelinename.batch.records``), so every engine, SLURM's too, gets the
commands without a line of its own.
"""
