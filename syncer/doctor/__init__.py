"""`syncer doctor`: a live tenant checked, in a few paced read requests, for everything an apply needs.

model (what it found, as plain data), permissions (which scopes each endpoint and command needs), checks
(the pure comparisons: user ID shapes, the catalog against the library, the request budget) and run (the
reads, each refusal mapped to what to do)."""
