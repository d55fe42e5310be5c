"""People given by email: their user IDs looked up in Feishu and cached with the state.

The catalog may name a person by email alone (`bob: {email: bob@example.com}`). `syncer people resolve`
looks those emails up through contact `users/batch_get_id` (50 a request) and keeps the answers in the state:
`people.json` next to `meta.json`, written through the store under its lock (`record_people`), so that it
lives wherever the state lives (a local directory, or the state branch of the git backend). User IDs belong
to a target (host, app, user_id_type), as the state does, and the catalog stays free of IDs nobody typed.
Validation reads the cache through the store (`read_people`, no lock; offline for the local backend); a
person with no cached ID is reported where it is used, a resigned or unknown address at the catalog's line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from syncer.errors import StateError
from syncer.model import Catalog, PersonDef, UserIdType
from syncer.state.base import Identity, StateStore, format_time, utc_now
from syncer.state.files import PEOPLE

if TYPE_CHECKING:  # validation reads the cache without loading the HTTP client
    from syncer.live import LiveReader

CACHE_FILE = PEOPLE  # people.json, next to meta.json
CACHE_FORMAT = 1
Status = Literal["active", "resigned", "unknown"]


@dataclass(frozen=True, slots=True)
class CachedPerson:
    email: str  # as the catalog writes it
    user_id: str | None  # None: not found (unknown, outside the app's data scope, or resigned)
    status: Status
    resolved: str  # when (format_time)


@dataclass(frozen=True, slots=True)
class PeopleCache:
    """Email (lower case) -> what Feishu answered, for one target."""

    identity: Identity
    entries: Mapping[str, CachedPerson] = field(default_factory=dict)

    def get(self, email: str) -> CachedPerson | None:
        return self.entries.get(email.strip().lower())


def cache_from_document(doc: Mapping[str, Any], *, where: str) -> PeopleCache:
    """The cache from its JSON document (people.json). A damaged one is a StateError naming `where`."""
    try:
        if int(doc.get("format", 0)) > CACHE_FORMAT:
            raise StateError(f"{where}: written by a newer syncer (format {doc['format']}); upgrade syncer")
        ident = doc["identity"]
        identity = Identity(
            host=str(ident["host"]), app_id=ident.get("app_id"), user_id_type=str(ident["user_id_type"])
        )
        entries = {}
        for key, e in doc["people"].items():
            status = e["status"]
            if status not in ("active", "resigned", "unknown"):
                raise ValueError(f"status {status!r}")
            entries[str(key)] = CachedPerson(
                email=str(e["email"]), user_id=e.get("user_id") or None, status=status, resolved=str(e["resolved"])
            )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(
            f"{where}: the people cache is damaged ({exc}); run `syncer people resolve --refresh` to write it anew"
        ) from exc
    return PeopleCache(identity, entries)


def cache_document(cache: PeopleCache) -> dict[str, Any]:
    """The JSON document of the cache (the store writes it with sorted keys, indented: diff-friendly)."""
    return {
        "format": CACHE_FORMAT,
        "identity": cache.identity._asdict(),
        "people": {
            k: {"email": e.email, "user_id": e.user_id, "status": e.status, "resolved": e.resolved}
            for k, e in sorted(cache.entries.items())
        },
    }


def read_cache(store: StateStore) -> PeopleCache | None:
    """The cache kept in the state of `store` (None: none yet). Takes no lock; raises StateError when the state
    cannot be read (a damaged cache, or for the git backend a remote that cannot be reached)."""
    doc = store.read_people()
    return None if doc is None else cache_from_document(doc, where=f"{store.location}/{CACHE_FILE}")


def write_cache(store: StateStore, cache: PeopleCache) -> bool:
    """Record the cache in the state of `store` (which must hold the lock, and a state). False: unchanged."""
    return store.record_people(cache_document(cache))


# --- validation's view --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailPeople:
    """What validation knows of the catalog's email-only people."""

    resolved: Mapping[str, str] = field(default_factory=dict)  # alias -> user ID
    pending: Mapping[str, str] = field(default_factory=dict)  # alias -> email: no cached answer yet
    failed: Mapping[str, Status] = field(default_factory=dict)  # alias -> resigned | unknown
    note: str | None = None  # why the cache was not used


def _usable(cache: PeopleCache | None, user_id_type: str) -> PeopleCache | None:
    return cache if cache is not None and cache.identity.user_id_type == user_id_type else None


def email_check(cache: PeopleCache | None, *, user_id_type: str) -> Callable[[str, str], tuple[str, str] | None]:
    """For config.load_catalog: a problem at the catalog's line for a resigned or unknown address."""
    usable = _usable(cache, user_id_type)

    def check(alias: str, email: str) -> tuple[str, str] | None:
        hit = usable.get(email) if usable is not None else None
        if hit is None or (hit.status == "active" and hit.user_id):
            return None
        if hit.status == "resigned":
            return (
                "resigned-person",
                f"{{value}} belongs to a user who has left (resigned in Feishu): remove "
                f"{alias!r} or give another address, then run `syncer people resolve --refresh`",
            )
        return (
            "unknown-email",
            "Feishu knows no user with the email {value} (or the user is outside the app's "
            "data scope): fix the address, then run `syncer people resolve --refresh`",
        )

    return check


def email_people(catalog: Catalog, cache: PeopleCache | None, *, user_id_type: str) -> EmailPeople:
    """Split the catalog's email-only people by what the cache says of them."""
    wanted = {a: p.email for a, p in catalog.people.items() if p.id is None and p.email}
    if not wanted:
        return EmailPeople()
    note = None
    if cache is not None and _usable(cache, user_id_type) is None:
        note = (
            f"the people cache holds {cache.identity.user_id_type} IDs, target.user_id_type is {user_id_type}: "
            "run `syncer people resolve --refresh`"
        )
        cache = None
    resolved: dict[str, str] = {}
    pending: dict[str, str] = {}
    failed: dict[str, Status] = {}
    for alias, email in wanted.items():
        hit = cache.get(email) if cache is not None else None
        if hit is None:
            pending[alias] = email
        elif hit.status == "active" and hit.user_id:
            resolved[alias] = hit.user_id
        else:
            failed[alias] = "resigned" if hit.status == "resigned" else "unknown"
    return EmailPeople(resolved, pending, failed, note)


# --- resolving ----------------------------------------------------------------------------------------------


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
    return math.ceil(emails / 50)


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
    from syncer.feishu.client import BATCH_GET_ID

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
            out[key] = a.user_id or out.get(key)
    if not any(a.email for a in answers) and len(answers) == len(asked):  # answers without emails: in order
        out = {e.strip().lower(): a.user_id for e, a in zip(asked, answers, strict=True)}
    return out
