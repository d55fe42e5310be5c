"""Apply: the run under the lock (`run`), the sending of batches (`applier`), and the pure parts it uses:
`batching` (rows into requests), `isolate` (finding rejected rows), `preflight`. The only user of the
write client."""
