"""The Feishu read client: every read API syncer uses. It has no way to write: its session refuses any path
but the read APIs. The one write syncer makes lives apart, in syncer.feishu.write, which only apply imports."""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Self, TypeVar

import httpx

from syncer.feishu.auth import Credentials, credentials_from_env
from syncer.feishu.errors import BadResponseError
from syncer.feishu.records import (
    LibraryMetric,
    MetricFieldInfo,
    Reviewee,
    RevieweeMetrics,
    Semester,
    UserLookup,
    parse_metric_details,
    parse_metric_fields,
    parse_metric_libs,
    parse_reviewees,
    parse_semesters,
    parse_user_ids,
)
from syncer.feishu.retry import RetryPolicy
from syncer.feishu.session import DEFAULT_TIMEOUT, Clock, Random, Session, Sleep
from syncer.feishu.setup_records import Activity, MetricTemplateInfo, parse_activities, parse_metric_templates
from syncer.model import UserIdType
from syncer.urls import check_base_url

METRIC_DETAILS_QUERY = "/open-apis/performance/v2/metric_details/query"
METRIC_FIELDS_QUERY = "/open-apis/performance/v2/metric_fields/query"
METRIC_LIBS_QUERY = "/open-apis/performance/v2/metric_libs/query"
METRIC_TEMPLATES_QUERY = "/open-apis/performance/v2/metric_templates/query"
ACTIVITY_QUERY = "/open-apis/performance/v2/activity/query"
REVIEWEES_QUERY = "/open-apis/performance/v2/reviewees/query"
SEMESTERS_LIST = "/open-apis/performance/v1/semesters"
BATCH_GET_ID = "/open-apis/contact/v3/users/batch_get_id"

READ_PATHS = frozenset(
    {
        METRIC_DETAILS_QUERY,
        METRIC_FIELDS_QUERY,
        METRIC_LIBS_QUERY,
        METRIC_TEMPLATES_QUERY,
        ACTIVITY_QUERY,
        REVIEWEES_QUERY,
        SEMESTERS_LIST,
        BATCH_GET_ID,
    }
)

QUERY_CHUNK = 50  # reviewee_user_ids, user_ids, field_ids, emails and mobiles per read request
SEMESTER_ID_TYPES: frozenset[str] = frozenset({"open_id", "union_id", "user_id"})  # v1 semesters' documented ones
DEFAULT_PAGE_SIZE = 50  # the documented maximum of reviewees/query (1-50); the metric library too
_MAX_PAGES = 10_000

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class ReadClient:
    """Reads Feishu. Has no import method, and its session refuses any path but the read APIs."""

    _paths: frozenset[str] = READ_PATHS

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        random: Random = _random.random,
        retry: RetryPolicy | None = None,
        wall: Clock = time.time,
        redact: bool = False,
    ) -> None:
        """`redact` (--redact-values): Feishu's words never show a value the request they answer sent."""
        self.base_url = check_base_url(base_url)
        self.app_id = credentials.app_id
        self._session = Session(
            base_url=self.base_url,
            credentials=credentials,
            allowed_paths=self._paths,
            transport=transport,
            timeout=timeout,
            clock=clock,
            sleep=sleep,
            random=random,
            retry=retry,
            wall=wall,
            redact=redact,
        )

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str,
        env: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> Self:
        """Credentials from FEISHU_APP_ID / FEISHU_APP_SECRET (`env` defaults to os.environ)."""
        return cls(base_url=base_url, credentials=credentials_from_env(env), transport=transport, retry=retry)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, app_id={self.app_id!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reads ---------------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Fetch (or reuse) the tenant token: checks the credentials early. The token itself stays inside."""
        self._session.token()

    def query_metric_details(
        self, *, semester_id: str, reviewee_user_ids: Sequence[str], user_id_type: UserIdType = "open_id"
    ) -> list[RevieweeMetrics]:
        """The metric values of reviewees in one semester (50 reviewees a request)."""
        out: list[RevieweeMetrics] = []
        for chunk in _chunks(reviewee_user_ids, QUERY_CHUNK):
            data = self._session.call(
                "POST",
                METRIC_DETAILS_QUERY,
                params={"user_id_type": user_id_type},
                payload={"semester_id": semester_id, "reviewee_user_ids": chunk},
            )
            out.extend(self._parse(METRIC_DETAILS_QUERY, parse_metric_details, data))
        return out

    def query_metric_fields(self, *, field_ids: Sequence[str] = ()) -> list[MetricFieldInfo]:
        """Field definitions; no IDs means all fields."""
        chunks = list(_chunks(field_ids, QUERY_CHUNK)) or [[]]
        out: list[MetricFieldInfo] = []
        for chunk in chunks:
            data = self._session.call("POST", METRIC_FIELDS_QUERY, payload={"field_ids": chunk})
            out.extend(self._parse(METRIC_FIELDS_QUERY, parse_metric_fields, data))
        return out

    def query_metric_libs(
        self, *, user_id_type: UserIdType = "open_id", page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[LibraryMetric]:
        """The whole metric library, every page."""
        items = self._paged(METRIC_LIBS_QUERY, user_id_type=user_id_type, payload={}, key="items", page_size=page_size)
        return self._parse(METRIC_LIBS_QUERY, parse_metric_libs, items)

    def query_metric_templates(
        self, *, user_id_type: UserIdType = "open_id", page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[MetricTemplateInfo]:
        """Every metric template (weight rule, dimensions, metrics), every page."""
        items = self._paged(
            METRIC_TEMPLATES_QUERY, user_id_type=user_id_type, payload={}, key="items", page_size=page_size
        )
        return self._parse(METRIC_TEMPLATES_QUERY, parse_metric_templates, items)

    def query_activities(self, *, semester_ids: Sequence[str], user_id_type: UserIdType = "open_id") -> list[Activity]:
        """The projects of semesters with their progress (one request; not paged)."""
        data = self._session.call(
            "POST", ACTIVITY_QUERY, params={"user_id_type": user_id_type}, payload={"semester_ids": list(semester_ids)}
        )
        return self._parse(ACTIVITY_QUERY, parse_activities, data)

    def query_reviewees(
        self,
        *,
        semester_id: str,
        user_ids: Sequence[str] = (),
        activity_ids: Sequence[str] = (),
        user_id_type: UserIdType = "open_id",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> list[Reviewee]:
        """The reviewees of a semester, every page."""
        items: list[Mapping[str, Any]] = []
        for chunk in list(_chunks(user_ids, QUERY_CHUNK)) or [[]]:  # at most 50 user_ids a request
            payload: dict[str, Any] = {"semester_id": semester_id}
            if chunk:
                payload["user_ids"] = chunk
            if activity_ids:
                payload["activity_ids"] = list(activity_ids)
            items += self._paged(
                REVIEWEES_QUERY, user_id_type=user_id_type, payload=payload, key="reviewees", page_size=page_size
            )
        return self._parse(REVIEWEES_QUERY, parse_reviewees, items)

    def list_semesters(self, *, user_id_type: UserIdType = "open_id") -> list[Semester]:
        """GET /open-apis/performance/v1/semesters. Its user_id_type is documented as open_id, union_id or
        user_id: with people_admin_id it is left out (Feishu's default, open_id; syncer reads no user of it)."""
        params = {} if user_id_type not in SEMESTER_ID_TYPES else {"user_id_type": user_id_type}
        data = self._session.call("GET", SEMESTERS_LIST, params=params)
        return self._parse(SEMESTERS_LIST, parse_semesters, data)

    def batch_get_user_ids(
        self,
        *,
        emails: Sequence[str] = (),
        mobiles: Sequence[str] = (),
        include_resigned: bool = False,
        user_id_type: UserIdType = "open_id",
    ) -> list[UserLookup]:
        """User IDs by email or mobile (50 of each a request); a miss has `user_id` None."""
        out: list[UserLookup] = []
        email_chunks, mobile_chunks = list(_chunks(emails, QUERY_CHUNK)), list(_chunks(mobiles, QUERY_CHUNK))
        for i in range(max(len(email_chunks), len(mobile_chunks))):
            payload: dict[str, Any] = {"include_resigned": include_resigned}
            if i < len(email_chunks):
                payload["emails"] = email_chunks[i]
            if i < len(mobile_chunks):
                payload["mobiles"] = mobile_chunks[i]
            params, asked = {"user_id_type": user_id_type}, [*payload.get("emails", ()), *payload.get("mobiles", ())]
            data = self._session.call("POST", BATCH_GET_ID, params=params, payload=payload, echoes=asked)
            out.extend(self._parse(BATCH_GET_ID, parse_user_ids, data))
        return out

    # --- helpers -------------------------------------------------------------------------------------

    def _paged(
        self, path: str, *, user_id_type: UserIdType, payload: Mapping[str, Any], key: str, page_size: int
    ) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        page_token: str | None = None
        for _ in range(_MAX_PAGES):
            params = {"user_id_type": user_id_type, "page_size": str(page_size)}
            if page_token:
                params["page_token"] = page_token
            data = self._session.call("POST", path, params=params, payload=payload)
            page = data.get(key) or []
            if not isinstance(page, list) or not all(isinstance(i, Mapping) for i in page):
                raise BadResponseError(f"POST {path}: data.{key} is not a list of objects")
            items.extend(page)
            if not data.get("has_more"):
                return items
            token = data.get("page_token")
            if not isinstance(token, str) or not token or token in seen:
                raise BadResponseError(f"POST {path}: has_more without a new page_token")
            seen.add(token)
            page_token = token
        raise BadResponseError(f"POST {path}: more than {_MAX_PAGES} pages")

    @staticmethod
    def _parse(path: str, parser: Callable[[_In], _Out], data: _In) -> _Out:
        try:
            return parser(data)
        except BadResponseError as exc:
            raise BadResponseError(f"{path}: malformed answer: {exc.message}") from exc
