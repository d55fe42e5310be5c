"""The git state backend: the state on a branch of the metrics repository (syncer.state.git.store)."""
