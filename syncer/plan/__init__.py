"""The plan: desired minus state, as plain data (`model`), made by `diff.make_plan`, with a row's sent form
and the rejected rows held back (`sent`), its safety thresholds (`safety`), checksum (`checksum`) and
one-line summary (`summary`)."""
