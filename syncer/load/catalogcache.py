"""The catalog as built from a catalog.yaml found valid, kept between runs beside the check cache's entries
(syncer.load.cache), so that a command whose catalog did not change neither parses it nor walks it against
its schema: a catalog that names a company's 50,000 people takes a second to parse and build and two
thirds of a second to walk against its schema, on every command, when nothing changed.

An entry is used only for the same bytes of catalog.yaml, the same settings, the same catalog schema and
the same syncer (version, this format, Python's marshal and bytecode tags): the catalog is a pure function
of those, so a run that uses the entry has the catalog a cold run builds. Only a catalog without problems is
kept. What depends on the people cache (a person given by email whose address Feishu does not know or who
has left) is checked on every run, cached or not: the entry keeps where each email-only person is written.

The entry is stdlib `marshal` data behind a sha256 seal (syncer.fsio.read_sealed), in the root's private
cache directory; like CheckCache, this never raises: anything wrong makes the run parse the catalog again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncer.fieldtypes import FIELD_TYPES
from syncer.load.schema import schema_bytes
from syncer.load.sealedentry import SealedEntry, entry_key
from syncer.load.settings import Settings
from syncer.model import Catalog, DimensionDef, FieldDef, MetricDef, PersonDef, SemesterDef, TemplateDef

#: Bump when what a catalog is built into, or its encoding here, changes in a way the version would not show.
CATALOG_FORMAT = 2  # 2: semesters keep their start and end dates
CATALOG_MAGIC = b"syncer-catalog\n"
_RULES = ("total", "per_dimension")


@dataclass(frozen=True, slots=True)
class BuiltCatalog:
    """A catalog.yaml without problems, built; and where (line, col) each person given by email only is."""

    catalog: Catalog
    email_only: tuple[tuple[str, int, int], ...]


class CatalogCache(SealedEntry):
    """The built catalog of one metrics root and target (a `catalog.built` file among its check-cache entries)."""

    def __init__(self, directory: Path, settings: Settings) -> None:
        super().__init__(directory / "catalog.built", CATALOG_MAGIC)
        self.settings = settings
        #: The key of the bytes last looked up: what the check cache's context says of the catalog.
        self.last_key: str | None = None

    def key(self, data: bytes) -> str:
        """What the catalog built from `data` depends on besides syncer's code."""
        settings = repr(self.settings).encode("utf-8", "surrogatepass")
        return entry_key("catalog", CATALOG_FORMAT, settings, schema_bytes("catalog"), data)

    def get(self, data: bytes) -> BuiltCatalog | None:
        self.last_key = key = self.key(data)
        doc = self.read(key)
        if doc is None:
            return None
        try:
            return _decode(doc)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None  # damaged or foreign: the catalog is parsed again and the entry rewritten

    def put(self, data: bytes, built: BuiltCatalog) -> None:
        self.write(self.key(data), _encode(built))


def _encode(built: BuiltCatalog) -> dict[str, Any]:
    c = built.catalog
    people = c.people.values()
    return {
        "semesters": [[s.alias, s.id, s.closed, s.start, s.end] for s in c.semesters.values()],
        "metrics": [
            [
                m.alias,
                m.id,
                [[f.alias, f.id, f.type, f.role, f.max_length, f.required, f.input_setting] for f in m.fields.values()],
            ]
            for m in c.metrics.values()
        ],
        "templates": [
            [t.alias, t.id, t.weight_rule, [[d.alias, d.id, list(d.metric_ids)] for d in t.dimensions]]
            for t in c.templates.values()
        ],
        "people": [[p.alias for p in people], [p.id for p in people], [p.email for p in people]],
        "email_only": [list(e) for e in built.email_only],
    }


def _decode(doc: dict[str, Any]) -> BuiltCatalog:
    semesters = {a: SemesterDef(a, i, c, start, end) for a, i, c, start, end in doc["semesters"]}
    metrics = {}
    for alias, mid, fields in doc["metrics"]:
        defs = {}
        for f_alias, fid, ftype, role, max_length, required, input_setting in fields:
            if ftype not in FIELD_TYPES:
                raise ValueError(ftype)
            defs[f_alias] = FieldDef(f_alias, fid, ftype, role, max_length, required, input_setting)
        metrics[alias] = MetricDef(alias, mid, defs)
    templates = {}
    for alias, tid, rule, dims in doc["templates"]:
        if rule not in _RULES:
            raise ValueError(rule)
        templates[alias] = TemplateDef(alias, tid, rule, tuple(DimensionDef(a, i, tuple(ms)) for a, i, ms in dims))
    aliases, ids, emails = doc["people"]
    people = dict(zip(aliases, map(PersonDef, aliases, ids, emails), strict=True))
    email_only = tuple((alias, line, col) for alias, line, col in doc["email_only"])
    if not all(alias in people and people[alias].email is not None for alias, _line, _col in email_only):
        raise ValueError("an email-only person the catalog does not name by email")
    catalog = Catalog(semesters=semesters, metrics=metrics, people=people, templates=templates)
    return BuiltCatalog(catalog, email_only)
