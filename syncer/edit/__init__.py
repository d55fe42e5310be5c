"""Editing YAML text without re-dumping it: scalars that read back as written (`scalars`) and new data
files written and checked (`datafile`)."""
