"""The batch engines this package ships: ``local``, ``aws`` and ``slurm``.

Each is a plug-in like any third party's: a subpackage registered in the
``kedro_pipelinename.batch_engines`` entry-point group, importing only the batch
core's engine kit (``kedro_pipelinename.batch.kit``) and never another engine.
"""
