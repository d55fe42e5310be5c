"""Helpers of the emulator's tests: the default tenant's IDs (syncer/emulator/default_tenant.yaml), request
builders, and an httpx client wired to an emulator in process (no socket)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from syncer.emulator import Emulator, EmulatorTransport, ManualClock, Tenant

H2 = "7293040702907514899"  # open
H1 = "7250000000000000001"  # past its input deadline
REVENUE = "7272580325522276372"
NPS = "7272580325522276401"
OTD = "7272580325522276402"
INCIDENTS = "7272580325522276403"
CSAT = "7272580325522276404"
OLD_METRIC = "7100000000000000001"
WEIGHT, UNIT, TARGET, ACTUAL, NOTE = "2", "3", "4", "5", "7"
OWNER = "7283776005142675476"
CALIBRATION = "7283776005142675480"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
CHEN = "ou_f13e7d77076ad5946e756c1f5a2f285c"
DEV = "ou_bc51c45dcfc87c6dcbaa5014b32451a7"  # engineering
TANG = "ou_89da0ccdfdb1fd18361d2bc3312226b1"  # support, admin-entered calibration
ZHOU = "ou_e507a7e4cbd137d39ca8af5c9b3f3106"  # support, no admin value
GRACE = "ou_cfa146394857f3a805c1507aed93dd93"  # a user, not a reviewee
OUTSIDE = "ou_78120b254976fdd6d756c249c1ecaf8a"  # enrolled, outside the data scope
PENDING = "ou_21531bc977b37e05f8dbaf4ce5895623"  # enrolled, project not started
FORMER = "ou_3075461c0c8eacfece00a926b0ea15f1"  # resigned

IMPORT = "/open-apis/performance/v2/metric_details/import"
QUERY = "/open-apis/performance/v2/metric_details/query"
BASE = "https://open.feishu.cn"

SEED_BODY: dict[str, Any] = {  # the import endpoint's documentation page, verbatim
    "semester_id": "7293040702907514899",
    "import_record_name": "API录入",
    "imported_metrics": [
        {
            "reviewee_user_id": "ou_3245842393d09e9428ad4655da6e30b3",
            "metric_id": "7272580325522276372",
            "fields": [
                {
                    "field_id": "7283776005142675476",
                    "field_value": "100",
                    "field_value_person": "ou_3245842393d09e9428ad4655da6e30b3",
                }
            ],
        }
    ],
}


def field(field_id: str, value: str | None = None, person: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"field_id": field_id}
    if value is not None:
        out["field_value"] = value
    if person is not None:
        out["field_value_person"] = person
    return out


def item(reviewee: str, metric: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"reviewee_user_id": reviewee, "metric_id": metric, "fields": list(fields)}


def code_of(resp: httpx.Response) -> int:
    code: int = resp.json()["code"]
    return code


class Api:
    """A thin client: the emulator's endpoints with a valid token unless told otherwise."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.client = httpx.Client(transport=EmulatorTransport(emu), base_url=BASE)
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.emu.issue_token()
        return self._token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        h = {"Authorization": f"Bearer {self.token}"} if auth else {}
        h.update(headers or {})
        return self.client.request(method, path, params=params, json=json, content=content, headers=h)

    def import_(
        self,
        *items: dict[str, Any],
        semester: str = H2,
        client_token: str | None = None,
        user_id_type: str | None = None,
        name: str | None = None,
        body: Any = None,
    ) -> httpx.Response:
        params: dict[str, Any] = {"client_token": client_token or uuid.uuid4().hex}
        if user_id_type:
            params["user_id_type"] = user_id_type
        if body is None:
            body = {"semester_id": semester, "imported_metrics": list(items)}
            if name is not None:
                body["import_record_name"] = name
        return self.call("POST", IMPORT, params=params, json=body)

    def query(self, *reviewees: str, semester: str = H2, user_id_type: str | None = None) -> httpx.Response:
        params = {"user_id_type": user_id_type} if user_id_type else None
        return self.call(
            "POST", QUERY, params=params, json={"semester_id": semester, "reviewee_user_ids": list(reviewees)}
        )

    def stored(self, reviewee: str, metric: str, semester: str = H2) -> dict[str, str | None]:
        """field_id -> value (person fields: the person's open_id) as the emulator holds them."""
        return {
            v.field_id: v.field_value_person or v.field_value
            for v in self.emu.values(semester)
            if v.reviewee_user_id == reviewee and v.metric_id == metric
        }


def make_api(tenant: Tenant, clock: ManualClock, **kwargs: Any) -> Api:
    kwargs.setdefault("import_per_minute", 10_000)
    return Api(Emulator(tenant, clock=clock, sleep=clock.sleep, **kwargs))
