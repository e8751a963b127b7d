"""The names patch: ``Pipeline.name`` and ``Pipeline.names`` for Kedro.

The bottom layer. ``pipeline`` carries the registered names through every
pipeline operation (``+``, ``-``, ``&``, ``|``, ``filter``, ``only_nodes*``,
``pipeline()`` namespacing), ``stamping`` has the registry and the session give
each pipeline the names it was asked for, ``patching`` is the undo log every
patch of the package is applied through (one idempotent ``install()`` /
``uninstall()``), ``versions`` declares the supported Kedro range once, as
data, and ``logs`` gives every module of the package a logger whose records
Kedro's Rich handler never reads as markup. Nothing here knows about runs,
commands or batch jobs.
"""
