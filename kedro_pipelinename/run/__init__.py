"""The run context: which run a process belongs to, in every process it reaches.

Above the names patch. ``context`` is the typed ``RunContext`` (pipeline names,
env, params, conf source, load versions, run id) and ``current_run()``;
``tracking`` patches Kedro's sessions and thread runner so that the context is
set for the code a run executes; ``run_id`` gives a run one id in every process
(``KEDRO_PIPELINENAME_RUN_ID``) and versions its datasets with it; ``state`` is
the context variable they share; ``catalog`` types the catalog across Kedro
versions. Nothing here builds commands: that is ``relaunch``.
"""
