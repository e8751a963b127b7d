"""The ``Pipeline.name`` contract, runnable against any implementation.

See ``implementations.py`` for the switch (``KEDRO_PIPELINENAME_CONTRACT_IMPL``).
"""
