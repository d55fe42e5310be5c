"""`syncer people resolve`: the user IDs of the catalog's people given by email, looked up in Feishu
(contact users/batch_get_id, 50 addresses a request) and kept in the state as the people cache."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from syncer.errors import StateError
from syncer.feishu.client import BATCH_GET_ID, QUERY_CHUNK
from syncer.fieldtypes import unstorable
from syncer.live.reader import LiveReader
from syncer.load.people import CachedPerson, PeopleCache, Status, cache_document
from syncer.model import Catalog, Identity, PersonDef, UserIdType
from syncer.state.model import format_time, utc_now
from syncer.state.protocols import PeopleStore


@dataclass(frozen=True, slots=True)
class Resolution:
    alias: str
    email: str
    user_id: str | None
    status: Status
    catalog_id: str | None = None  # the id the catalog gives too, if any

    @property
    def mismatch(self) -> bool:
        return self.catalog_id is not None and self.user_id is not None and self.catalog_id != self.user_id


@dataclass(frozen=True, slots=True)
class ResolveReport:
    cache: PeopleCache
    resolved: tuple[Resolution, ...]  # looked up in this run
    cached: int  # answers reused from the cache
    requests: int
    notes: tuple[str, ...] = ()

    def by_status(self, status: Status) -> list[Resolution]:
        return [r for r in self.resolved if r.status == status]

    @property
    def mismatches(self) -> list[Resolution]:
        return [r for r in self.resolved if r.mismatch]


def emails_to_resolve(catalog: Catalog) -> dict[str, list[PersonDef]]:
    """Lower-case email -> the people of the catalog with that address."""
    out: dict[str, list[PersonDef]] = {}
    for p in catalog.people.values():
        if p.email:
            out.setdefault(p.email.strip().lower(), []).append(p)
    return out


def planned_requests(emails: int) -> int:
    """batch_get_id requests for `emails` addresses (50 a request) in the first pass; the misses are asked
    once more."""
    return math.ceil(emails / QUERY_CHUNK)


def resolve_people(
    catalog: Catalog,
    reader: LiveReader,
    *,
    identity: Identity,
    cache: PeopleCache | None,
    refresh: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> ResolveReport:
    """Look up the catalog's emails that the cache does not answer (all of them with `refresh`).

    One pass without resigned users; the misses are asked again with `include_resigned`, which tells a
    resigned user (found then) from an unknown address (found never)."""
    notes: list[str] = []
    if cache is not None and (
        cache.identity.user_id_type != identity.user_id_type or cache.identity.host != identity.host
    ):
        notes.append(f"the cache was made for {cache.identity.host} ({cache.identity.user_id_type}): started over")
        cache = None
    entries: dict[str, CachedPerson] = dict(cache.entries) if cache is not None and not refresh else {}
    people = emails_to_resolve(catalog)
    todo = sorted(e for e in people if e not in entries)
    uid = cast(UserIdType, identity.user_id_type)
    if uid == "people_admin_id":
        raise StateError(
            "contact users/batch_get_id cannot answer people_admin_id: with that user_id_type, give "
            "people by id in catalog.yaml"
        )
    now = format_time(clock())
    before = reader.requests
    reader.expect(BATCH_GET_ID, planned_requests(len(todo)))
    found = _lookup(reader, [people[e][0].email or e for e in todo], include_resigned=False, uid=uid) if todo else {}
    misses = [e for e in todo if not found.get(e)]
    resigned: dict[str, str | None] = {}
    if misses:
        reader.expect(BATCH_GET_ID, planned_requests(len(misses)))
        resigned = _lookup(reader, [people[e][0].email or e for e in misses], include_resigned=True, uid=uid)
    resolutions: list[Resolution] = []
    for e in todo:
        user_id = found.get(e)
        status: Status = "active" if user_id else ("resigned" if resigned.get(e) else "unknown")
        entries[e] = CachedPerson(
            email=people[e][0].email or e, user_id=user_id if status == "active" else None, status=status, resolved=now
        )
        for p in people[e]:
            resolutions.append(Resolution(p.alias, p.email or e, entries[e].user_id, status, p.id))
    kept = {e: c for e, c in entries.items() if e in people}  # forget addresses the catalog no longer has
    new_cache = PeopleCache(identity, kept)
    return ResolveReport(
        new_cache,
        tuple(sorted(resolutions, key=lambda r: r.alias)),
        cached=len(people) - len(todo),
        requests=reader.requests - before,
        notes=tuple(notes),
    )


def _lookup(
    reader: LiveReader, emails: Iterable[str], *, include_resigned: bool, uid: UserIdType
) -> dict[str, str | None]:
    asked = list(emails)
    answers = reader.client.batch_get_user_ids(emails=asked, include_resigned=include_resigned, user_id_type=uid)
    out: dict[str, str | None] = {}
    for a in answers:
        if a.email:
            key = a.email.strip().lower()
            out[key] = _storable(a.user_id) or out.get(key)
    if not any(a.email for a in answers) and len(answers) == len(asked):  # answers without emails: in order
        out = {e.strip().lower(): _storable(a.user_id) for e, a in zip(asked, answers, strict=True)}
    return out


def _storable(user_id: str | None) -> str | None:
    """A user ID Feishu answered, or None (not found) when it holds a character the state cannot record
    (syncer.fieldtypes.UNSTORABLE): such an ID could be neither kept in the people cache nor sent."""
    return user_id if user_id and unstorable(user_id) is None else None


def write_cache(store: PeopleStore, cache: PeopleCache) -> bool:
    """Record the cache in the state of `store` (which must hold the lock, and a state). False: unchanged."""
    return store.record_people(cache_document(cache))
