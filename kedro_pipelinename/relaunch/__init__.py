"""Re-launching part of a run elsewhere: the ``kedro run`` argv and environment.

Above the run context. ``argv`` builds the commands (``build_run_command``,
``build_run_commands``, ``build_resume_command``, ``build_run_env``) from a
``RunContext``; ``kedro_cli`` asks the installed Kedro's ``kedro run`` for its
options; ``selection`` and ``params`` turn names and values into flags that
parse back unchanged; ``boundaries`` is the one place a value reaches an argv,
environment, script or path, verbatim or refused; ``redaction`` keeps secrets
out of everything shown or stored; ``resume_hint`` completes Kedro's "to
resume, run ..." message with the run's whole context.
"""
