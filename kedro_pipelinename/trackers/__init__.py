"""Run trackers we ship, each behind ``kedro_pipelinename.batch.trackers``'s
protocol and registered in the ``kedro_pipelinename.run_trackers`` entry points."""
