"""The local state backend: the state as a directory of text files (syncer.state.format) under `state.path`:
the store (`store`: the lock and the writes), a consistent snapshot read without the lock (`read`), and the
append-only log with its compaction (`log`). The git backend writes its working copy with it too."""
