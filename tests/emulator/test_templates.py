"""Metric templates in the emulator: metric_templates/query answers them as documented, and an import past a
template's weight rule (one total, or each dimension on its own) answers 1580304."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from syncer.emulator import ManualClock, TenantError, parse_tenant
from syncer.emulator.loader import default_tenant_path

from .helpers import ALICE, NPS, REVENUE, WEIGHT, Api, code_of, field, item, make_api
from .test_rules import assert_rejected

TEMPLATES = "/open-apis/performance/v2/metric_templates/query"
SALES = "7300000000000000001"  # alice's template: revenue and nps


def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    return loaded


def _per_dimension(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    sales = next(t for t in out["metric_templates"] if t["id"] == SALES)
    sales["metric_weight_method"] = "sum_of_metric_weights_for_each_dimension_equals_1"
    sales["dimensions"] = [
        {
            "metric_dimension_id": "11",
            "name": {"zh_cn": "业绩", "en_us": "Results"},
            "dimension_weight": "70",
            "metric_ids": [REVENUE],
        },
        {"metric_dimension_id": "12", "dimension_weight": "30", "metric_ids": [NPS]},
    ]
    return out


@pytest.fixture
def per_dimension(clock: ManualClock) -> Api:
    return make_api(parse_tenant(_per_dimension(_data())), clock)


def test_each_dimension_may_reach_exactly_100_percent(per_dimension: Api) -> None:
    ok = per_dimension.import_(item(ALICE, REVENUE, field(WEIGHT, "100%")), item(ALICE, NPS, field(WEIGHT, "100")))
    assert code_of(ok) == 0  # 200% in all: the rule is per dimension


def test_one_step_over_100_percent_in_a_dimension_is_1580304(per_dimension: Api) -> None:
    resp = per_dimension.import_(item(ALICE, REVENUE, field(WEIGHT, "100.01%")))
    assert_rejected(resp, 1580304)


def test_a_total_rule_still_counts_every_metric_together(api: Api) -> None:
    resp = api.import_(item(ALICE, REVENUE, field(WEIGHT, "100%")), item(ALICE, NPS, field(WEIGHT, "0.01")))
    assert_rejected(resp, 1580304)


def test_metric_templates_query_answers_the_documented_shape(per_dimension: Api) -> None:
    resp = per_dimension.call("POST", TEMPLATES, json={"metrics_template_ids": [SALES]})
    assert code_of(resp) == 0
    [tpl] = resp.json()["data"]["items"]
    assert tpl["id"] == SALES and tpl["metric_weight_method"] == "sum_of_metric_weights_for_each_dimension_equals_1"
    assert [d["metric_dimension_id"] for d in tpl["metric_dimensions"]] == ["11", "12"]
    assert tpl["metric_dimensions"][0]["dimension_weight"] == "70"
    by_metric = {m["metric_id"]: m for m in tpl["metrics"]}
    assert by_metric[REVENUE]["metric_dimension_id"] == "11" and by_metric[NPS]["metric_dimension_id"] == "12"
    assert {"id": WEIGHT, "input_setting": "data_source_inputter"} in by_metric[REVENUE]["fields"]
    assert resp.json()["data"]["has_more"] is False


def test_metric_templates_query_pages_and_defaults_to_one_total(api: Api) -> None:
    first = api.call("POST", TEMPLATES, params={"page_size": 2}, json={}).json()["data"]
    assert len(first["items"]) == 2 and first["has_more"] is True
    rest = api.call("POST", TEMPLATES, params={"page_size": 2, "page_token": first["page_token"]}, json={})
    items = first["items"] + rest.json()["data"]["items"]
    assert {t["metric_weight_method"] for t in items} == {"total_sum_of_all_metric_weight_equals_1"}
    assert code_of(api.call("POST", TEMPLATES, json={"status": "bogus"})) == 1580102


def test_dimensions_must_split_the_templates_metrics() -> None:
    data = _per_dimension(_data())
    sales = next(t for t in data["metric_templates"] if t["id"] == SALES)
    sales["dimensions"][1]["metric_ids"] = [REVENUE]
    with pytest.raises(TenantError, match="each of metric_ids must be in exactly one dimension"):
        parse_tenant(data)
