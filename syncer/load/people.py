"""People given by email: the cache of their user IDs, and what validation makes of it.

The catalog may name a person by email alone (`bob: {email: bob@example.com}`). `syncer people resolve`
(syncer.live.people) looks those emails up and keeps the answers with the state (`people.json`), so that
they live wherever the state lives and belong to its target. Validation is handed that cache through the
narrow `PeopleSource` protocol (or none): it never opens a state backend itself. A person with no cached ID
is reported where it is used; a resigned or unknown address at the catalog's line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from syncer.errors import StateError
from syncer.model import Catalog, Identity

CACHE_FILE = "people.json"  # next to the state's meta.json
CACHE_FORMAT = 1
Status = Literal["active", "resigned", "unknown"]


class PeopleSource(Protocol):
    """Where the people cache is read from (a state store offers it; tests hand in their own)."""

    @property
    def location(self) -> str: ...

    def read_people(self) -> dict[str, Any] | None:
        """The cache document as stored, or None when there is none. Raises StateError when it is damaged,
        StateUnavailable when it cannot be reached."""
        ...


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


def read_cache(store: PeopleSource) -> PeopleCache | None:
    """The cache kept in the state of `store` (None: none yet). Takes no lock; raises StateError when the state
    cannot be read (a damaged cache, or for the git backend a remote that cannot be reached)."""
    doc = store.read_people()
    return None if doc is None else cache_from_document(doc, where=f"{store.location}/{CACHE_FILE}")


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
