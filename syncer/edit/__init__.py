"""Editing YAML text without re-dumping it: scalars that read back as written (`scalars`), new data files
written and checked (`datafile`), and what the tree does not keep of a file (`scan`: comments, flows,
anchors) for rewriting it in one layout (`layout`, `fmt`)."""
