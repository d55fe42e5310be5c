"""What `syncer state show` says of the people cache (syncer/state/inspect.py): how many people by status,
and when the first and the last of them were resolved."""

from __future__ import annotations

from syncer.load.people import CachedPerson, PeopleCache
from syncer.model import Identity
from syncer.state.inspect import summarize_people

IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")


def test_the_people_cache_is_counted_by_status_with_its_first_and_last_resolution() -> None:
    people = [
        CachedPerson("a@x.com", "ou_a", "active", "2026-03-02T00:00:00.000Z"),
        CachedPerson("b@x.com", "ou_b", "active", "2026-03-01T00:00:00.000Z"),
        CachedPerson("c@x.com", None, "resigned", "2026-03-04T00:00:00.000Z"),
        CachedPerson("d@x.com", None, "unknown", "2026-03-03T00:00:00.000Z"),
        CachedPerson("e@x.com", None, "unknown", "2026-03-05T00:00:00.000Z"),
        CachedPerson("f@x.com", None, "unknown", "2026-03-02T12:00:00.000Z"),
    ]
    got = summarize_people(PeopleCache(IDENT, {p.email: p for p in people}), location="state/")
    assert (got.people, got.active, got.resigned, got.unknown) == (6, 2, 1, 3)
    assert (got.first_resolved, got.last_resolved) == ("2026-03-01T00:00:00.000Z", "2026-03-05T00:00:00.000Z")
    assert (got.location, got.identity) == ("state/", IDENT)
