"""The Feishu HTTP client: auth, the envelope, error codes, retries and pacing (the facts it follows are in
docs/feishu-api.md). `client.ReadClient` reads; `write.WriteClient` adds the one write, for apply only."""
