"""The plan: desired minus state, as plain data (`model`), made by `diff.make_plan`, with its safety
thresholds (`safety`), checksum (`checksum`) and one-line summary (`summary`)."""
