"""`syncer doctor`'s reads: each check is the smallest read that answers it, paced at the endpoint's quota
by the `LiveReader`; a refusal is mapped to what it means (99991672 -> the scope to grant, 10003/10014 ->
the app ID or the secret) and never stops the other checks. Nothing is written, ever: the read client has no
import method."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from syncer.doctor.checks import (
    data_scope_checks,
    id_type_findings,
    library_findings,
    request_budget,
    semester_findings,
)
from syncer.doctor.model import Check, DoctorReport, Finding
from syncer.doctor.permissions import (
    EMPLOYEE_ID_SCOPE,
    ENDPOINTS,
    MISSING_SCOPE_CODE,
    WRITE_SCOPE,
    Endpoint,
    grant_remedy,
    needed_by,
)
from syncer.errors import ConfigError, FeishuError
from syncer.feishu.client import QUERY_CHUNK, ReadClient
from syncer.feishu.errors import BadResponseError, FeishuAPIError, NetworkError
from syncer.feishu.records import LibraryMetric, Reviewee
from syncer.feishu.setup_records import Activity
from syncer.live.reader import LiveReader
from syncer.load.validate import ValidationResult
from syncer.model import Catalog, UserIdType
from syncer.text import plural

_T = TypeVar("_T")

TOKEN_REMEDIES: Mapping[int, tuple[str, str]] = {
    10003: (
        "Feishu does not know the app FEISHU_APP_ID names (10003)",
        "set FEISHU_APP_ID to the App ID of your app (developer console: Credentials & Basic Info), on the host "
        "the app lives on (open.feishu.cn for Feishu, open.larksuite.com for Lark)",
    ),
    10014: (
        "the app secret is wrong (10014)",
        "set FEISHU_APP_SECRET to the App Secret of the app in FEISHU_APP_ID (developer console: Credentials & "
        "Basic Info; it changes when someone resets it)",
    ),
}


@dataclass(frozen=True, slots=True)
class DoctorInputs:
    """What the root says: its settings' target, its catalog, how many validation errors it has, and the
    reviewees each open semester's data files name (None when the root does not validate)."""

    base_url: str
    user_id_type: UserIdType
    catalog: Catalog
    root_errors: int
    reviewees: Mapping[str, tuple[str, ...]] | None  # open semester ID -> reviewee IDs


def inputs_from(result: ValidationResult, *, base_url: str) -> DoctorInputs:
    """The doctor's inputs from a validated root (valid or not: the catalog is read either way)."""
    reviewees: dict[str, tuple[str, ...]] | None = None
    desired = result.desired
    if desired is not None:
        by_semester: dict[str, set[str]] = {}
        for key in desired.rows:
            if key.semester not in desired.closed_semesters:
                by_semester.setdefault(key.semester, set()).add(key.reviewee)
        reviewees = {s: tuple(sorted(ids)) for s, ids in sorted(by_semester.items())}
    return DoctorInputs(
        base_url=base_url,
        user_id_type=result.settings.target.user_id_type,
        catalog=result.catalog,
        root_errors=len(result.errors),
        reviewees=reviewees,
    )


class _Probe:
    """Runs one read, turning a failure into a finding (a missing scope into the scope to grant)."""

    def __init__(self) -> None:
        self.denied: dict[str, Finding] = {}  # endpoint key -> why it was refused

    def __call__(self, key: str, read: Callable[[], _T]) -> tuple[_T | None, Finding | None]:
        endpoint = ENDPOINTS[key]
        try:
            return read(), None
        except FeishuAPIError as exc:
            if exc.code == MISSING_SCOPE_CODE:
                finding = Finding(
                    f"the app may not call {endpoint.name} (99991672), which {needed_by(key)} need",
                    grant_remedy(endpoint),
                )
                self.denied[key] = finding
                return None, finding
            return None, Finding(f"{endpoint.name} failed: {exc.message}", exc.remedy)
        except FeishuError as exc:
            return None, Finding(f"{endpoint.name} failed: {exc.message}", "check the network, then run again")


def _scope_check(
    scope: str, probes: Sequence[tuple[Endpoint, Finding | None, bool]], why_not: str = "nothing to ask"
) -> Check:
    """One scope, from the reads that need it: (endpoint, what went wrong, whether it was read at all)."""
    ran = [(e, f) for e, f, asked in probes if asked]
    if not ran:
        return Check(scope, f"not checked: {why_not}", checked=False)
    findings = tuple(f for _, f in ran if f is not None)
    answered = [e.name for e, f in ran if f is None]
    summary = f"{', '.join(answered)} answered" if answered else "refused"
    return Check(scope, summary, findings)


def _token_check(reader_factory: Callable[[], LiveReader], base_url: str) -> tuple[LiveReader | None, Check, int]:
    """The reader with its token, or None and why not; and the requests that took (the token's is not paced,
    so the reader does not count it)."""
    try:
        reader = reader_factory()
    except ConfigError as exc:  # FEISHU_APP_ID / FEISHU_APP_SECRET not set
        return None, Check("credentials", "no credentials", (Finding(exc.message, "export both, then run again"),)), 0
    try:
        reader.client.authenticate()
    except FeishuAPIError as exc:
        reader.close()
        meaning, remedy = TOKEN_REMEDIES.get(exc.code or 0, (f"no tenant token: {exc.message}", exc.remedy))
        return None, Check("credentials", "no tenant token", (Finding(meaning, remedy),)), 1
    except NetworkError as exc:
        reader.close()
        finding = Finding(
            f"the token endpoint of {base_url} cannot be reached: {exc.message}",
            "check target.base_url (or FEISHU_BASE_URL, --base-url) and the network (proxy, firewall), then run again",
        )
        return None, Check("credentials", "no tenant token", (finding,)), 1
    except BadResponseError as exc:
        reader.close()
        finding = Finding(
            f"{base_url} does not answer as Feishu does: {exc.message}",
            "check target.base_url (or FEISHU_BASE_URL, --base-url): https://open.feishu.cn or https://open.larksuite.com",
        )
        return None, Check("credentials", "no tenant token", (finding,)), 1
    return reader, Check("credentials", f"a tenant token was issued to app {reader.client.app_id}"), 1


def run_doctor(inputs: DoctorInputs, reader_factory: Callable[[], LiveReader]) -> DoctorReport:
    """Every check; the live ones only when a token could be had. Never raises for what Feishu answers."""
    catalog, uid = inputs.catalog, inputs.user_id_type
    people_ids = {a: p.id for a, p in catalog.people.items() if p.id}
    id_findings = id_type_findings(uid, people_ids)
    offline = [
        Check(
            "root",
            "valid" if not inputs.root_errors else plural(inputs.root_errors, "validation error"),
            ()
            if not inputs.root_errors
            else (Finding(f"the root has {plural(inputs.root_errors, 'validation error')}", "run `syncer validate`"),),
        ),
        Check("user ID type", f"{uid}, against the IDs of {len(people_ids)} people in catalog.yaml", id_findings),
    ]
    reader, token, sent = _token_check(reader_factory, inputs.base_url)
    if reader is None:
        skipped = [
            Check(name, "not checked: no tenant token", checked=False)
            for name in ("permissions", "catalog against Feishu", "data scope")
        ]
        return DoctorReport(inputs.base_url, None, uid, (token, *offline, *skipped, *_unknowable()), sent, budget=1)
    with reader:
        live, budget = _live_checks(reader, inputs, wrong_ids=bool(id_findings))
        sent += reader.requests
    return DoctorReport(
        inputs.base_url, reader.client.app_id, uid, (token, *offline, *live, *_unknowable()), sent, budget
    )


def _unknowable() -> tuple[Check, ...]:
    return (
        Check(
            WRITE_SCOPE,
            "cannot be checked without writing: it opens the reads too, so no read tells whether it is granted, and "
            "doctor never imports; without it the first import is refused with 99991672, which names it",
            checked=False,
        ),
        Check(
            "percentage format",
            "cannot be told without writing: if every percentage row of an apply is refused with 1580301, it stops "
            "after 6 requests and says to change target.percentage_format",
            checked=False,
        ),
    )


def _live_checks(reader: LiveReader, inputs: DoctorInputs, *, wrong_ids: bool) -> tuple[list[Check], int]:
    client, catalog, uid = reader.client, inputs.catalog, inputs.user_id_type
    probe = _Probe()
    checks: list[Check] = []

    semesters, sem_failed = probe("semesters", lambda: client.list_semesters(user_id_type="open_id"))
    employee: Finding | None = None
    if uid == "user_id" and semesters is not None:  # the same read with user_id: only that scope differs
        _, employee = probe("semesters", lambda: client.list_semesters(user_id_type="user_id"))
        if "semesters" in probe.denied:  # the first call was answered: only the user_id differs
            employee = Finding(
                "the app may not use user_id_type user_id (99991672 with it, an answer without it)",
                f"add the permission {EMPLOYEE_ID_SCOPE} to the app in the Feishu developer console, then publish "
                "a new version of the app",
            )
    no_user_id = "semesters" in probe.denied
    usable = not wrong_ids and not no_user_id  # requests naming people can be answered

    library: list[LibraryMetric] | None
    library, lib_failed = probe("metric_libs", lambda: client.query_metric_libs(user_id_type="open_id"))
    templates, tmpl_failed = probe("metric_templates", lambda: client.query_metric_templates(user_id_type="open_id"))
    field_ids = sorted({f.id for m in catalog.metrics.values() for f in m.fields.values()})
    field_infos, fields_failed = (None, None)
    if field_ids:
        field_infos, fields_failed = probe("metric_fields", lambda: client.query_metric_fields(field_ids=field_ids))

    visible: dict[str, dict[str, tuple[str, ...]]] = {}  # semester -> reviewee the app sees -> their projects
    listed = {s.id for s in semesters} if semesters is not None else None
    reviewees = {s: ids for s, ids in (inputs.reviewees or {}).items() if listed is None or s in listed}
    rev_failed: Finding | None = None
    if usable:
        for semester_id, ids in reviewees.items():
            seen: dict[str, tuple[str, ...]] = {}
            for start in range(0, len(ids), QUERY_CHUNK):
                found, failed = probe(
                    "reviewees", _reviewees_read(client, semester_id, ids[start : start + QUERY_CHUNK], uid)
                )
                rev_failed = rev_failed or failed
                seen.update((i, r.activity_ids) for r in found or () if (i := r.user.get(uid)))
            visible[semester_id] = seen

    projects: dict[str, list[Activity] | None] = {}  # semester -> its projects (None: refused)
    act_failed: Finding | None = None
    for semester_id, seen in visible.items():
        if any(seen.values()):  # reviewees/query put some of them in projects: one activity/query
            projects[semester_id], failed = probe("activity", _activities_read(client, semester_id))
            act_failed = act_failed or failed
    if act_failed is not None:  # the pre-flight and the diagnosis of 1580306 go without: an apply can run
        act_failed = dataclasses.replace(
            act_failed,
            message=f"{act_failed.message}; projects are not checked, and the pre-flight cannot name a project "
            "that is not started",
            severity="warning",
        )

    details_failed: Finding | None = None
    first = next(((s, sorted(v)[0]) for s, v in visible.items() if v), None)
    if first is not None:
        _, details_failed = probe(
            "metric_details",
            lambda: client.query_metric_details(semester_id=first[0], reviewee_user_ids=[first[1]], user_id_type=uid),
        )

    emails = sorted(p.email for p in catalog.people.values() if p.email)
    contact_failed: Finding | None = None
    if emails:
        _, contact_failed = probe("batch_get_id", lambda: client.batch_get_user_ids(emails=emails[:1]))

    e = ENDPOINTS
    scope_checks = [
        _scope_check("performance:semester:read", [(e["semesters"], sem_failed, True)]),
        _scope_check(
            "performance:metric_lib:read",
            [
                (e["metric_libs"], lib_failed, True),
                (e["metric_templates"], tmpl_failed, True),
                (e["metric_fields"], fields_failed, bool(field_ids)),
            ],
        ),
        _scope_check(
            "performance:semester_user:read",
            [(e["reviewees"], rev_failed, bool(reviewees) and usable)],
            "no reviewee of an open semester Feishu lists to ask about (see data scope)",
        ),
        _scope_check(
            "performance:semester_activity:read",
            [(e["activity"], act_failed, bool(projects))],
            "reviewees/query puts no reviewee the app can see in a project",
        ),
        _scope_check(
            "performance:metric:read",
            [(e["metric_details"], details_failed, first is not None)],
            "no reviewee the app can see to ask about",
        ),
        _scope_check(
            "contact:user.id:readonly",
            [(e["batch_get_id"], contact_failed, bool(emails))],
            "nobody in catalog.yaml is given by email (only `syncer people resolve` needs it)",
        ),
    ]
    if uid == "user_id":
        asked = semesters is not None
        summary = "v1 semesters answered with user_id" if asked else "not checked: v1 semesters was refused"
        scope_checks.append(Check(EMPLOYEE_ID_SCOPE, summary, (employee,) if employee else (), checked=asked))
    checks.extend(scope_checks)

    if semesters is not None and library is not None:
        types = {i.field_id: i.type for i in field_infos or ()}
        mismatches = semester_findings(catalog, semesters) + library_findings(catalog, library, types)
        checks.append(
            Check(
                "catalog against Feishu",
                f"{len(catalog.semesters)} semesters and {len(catalog.metrics)} metrics against Feishu's "
                f"{len(semesters)} semesters and {len(library)} library metrics",
                mismatches,
            )
        )
    else:
        checks.append(
            Check("catalog against Feishu", "not checked: Feishu refused a read it needs (above)", checked=False)
        )

    why = "the IDs are not of target.user_id_type" if wrong_ids else f"the app may not use {EMPLOYEE_ID_SCOPE}"
    checks.extend(
        data_scope_checks(
            catalog,
            inputs.reviewees,
            visible,
            projects,
            unusable=None if usable else why,
            refused=rev_failed is not None,
        )
    )
    budget = request_budget(
        user_id_type=uid,
        library_metrics=len(library or ()),
        templates=len(templates or ()),
        project_reads=len(projects),  # one activity/query per semester asked
        catalog_fields=len(field_ids),
        reviewees={s: len(ids) for s, ids in reviewees.items()} if usable else {},
        emails=bool(emails),
    )
    return checks, budget


def _reviewees_read(
    client: ReadClient, semester_id: str, user_ids: Sequence[str], uid: UserIdType
) -> Callable[[], list[Reviewee]]:
    """One reviewees/query naming at most 50 reviewees (so one page)."""
    return lambda: client.query_reviewees(semester_id=semester_id, user_ids=user_ids, user_id_type=uid)


def _activities_read(client: ReadClient, semester_id: str) -> Callable[[], list[Activity]]:
    """One activity/query: the semester's projects with their progress."""
    return lambda: client.query_activities(semester_ids=[semester_id])
