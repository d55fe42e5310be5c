"""The read answers parsed: the user object and the names and times of v1 semesters, in every reading the
documentation and the SDKs give (docs/feishu-api.md)."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.feishu.records import UserIds, parse_reviewees, parse_semesters
from syncer.model import UserIdType

ALICE = {
    "open_id": "ou_3245842393d09e9428ad4655da6e30b3",
    "union_id": "on_5c2b0a27b1fd4ba6e7c4d1f3a8e90b12",
    "user_id": "5bb2e38e",
    "people_admin_id": "7400000000000000101",
}
TYPES: list[UserIdType] = ["open_id", "union_id", "user_id", "people_admin_id"]


def _reviewee(user: dict[str, str]) -> UserIds:
    [r] = parse_reviewees([{"reviewee_user_id": user}])
    return r.user


@pytest.mark.parametrize("uid_type", TYPES)
def test_the_documented_user_object_holds_the_requested_types_id_in_user_id(uid_type: UserIdType) -> None:
    user = _reviewee({"open_id": ALICE["open_id"], "user_id": ALICE[uid_type]})
    assert user.get(uid_type) == ALICE[uid_type]


@pytest.mark.parametrize("uid_type", TYPES)
def test_a_key_named_after_the_type_wins_over_user_id_holding_the_employee_id(uid_type: UserIdType) -> None:
    typed: dict[str, str] = {uid_type: ALICE[uid_type]} if uid_type in ("union_id", "people_admin_id") else {}
    user = _reviewee({"open_id": ALICE["open_id"], "user_id": ALICE["user_id"], **typed})
    assert user.get(uid_type) == ALICE[uid_type]


def test_open_id_is_never_taken_from_user_id() -> None:
    assert _reviewee({"user_id": ALICE["user_id"]}).get("open_id") is None
    assert _reviewee({"open_id": ALICE["open_id"]}).get("union_id") is None  # no ID of the type: None


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ({"zh-CN": "2026 下半年", "en-US": "2026 H2"}, "1782835200000"),  # the documentation's example
        ({"zh_cn": "2026 下半年", "en_us": "2026 H2"}, 1782835200000),  # the Python SDK's models
    ],
)
def test_semester_names_and_times_read_the_same_in_either_reading(name: dict[str, str], start: Any) -> None:
    [s] = parse_semesters({"items": [{"id": "7293040702907514899", "name": name, "start_time": start}]})
    assert s.name == {"zh_cn": "2026 下半年", "en_us": "2026 H2"}
    assert s.start_time == "1782835200000"
