"""Apply: the run under the lock (`run`), the loop over a plan's requests (`applier`) and its steps:
`settle` (the journal a killed run left), `request` (one journaled send, read back when its answer is lost),
`answer` (what Feishu said), `quarantine` (rejected rows held back); the pure parts it uses: `batching`
(rows into requests), `isolate` (finding rejected rows), `preflight`. The only user of the write client."""
