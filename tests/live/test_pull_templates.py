"""A catalog pull's metric templates (syncer.live.templates): new templates are added by ID with their weight
rule, dimensions as metric aliases, the input settings that differ from the library's and their score bounds;
a template set per group becomes one entry per group; a second pull adds nothing."""

from __future__ import annotations

from syncer.feishu.records import Semester
from syncer.feishu.setup_records import MetricTemplateInfo, TemplateDimension, TemplateMetric, parse_metric_templates
from syncer.live.merge import merge_catalog
from syncer.live.pulled import PulledCatalog, PulledField, PulledMetric
from syncer.load.catalog import catalog_from_text
from syncer.load.settings import Settings

CATALOG = """\
semesters:
  h2: "1"
metrics:
  revenue:
    id: "10"
    fields:
      weight: {id: "2", type: percentage, role: weight}
      target: {id: "4", type: number}
  nps:
    id: "11"
    fields:
      weight: {id: "2", type: percentage, role: weight}
"""

LIBRARY = (
    PulledMetric(
        "10",
        "Revenue",
        True,
        (
            PulledField("2", {}, "percentage", "data_source_inputter"),
            PulledField("4", {}, "number", "data_source_inputter"),
        ),
    ),
    PulledMetric("11", "NPS", True, (PulledField("2", {}, "percentage", "data_source_inputter"),)),
)


def _template(**changes: object) -> MetricTemplateInfo:
    base = MetricTemplateInfo(
        id="700",
        name={"en_us": "Sales", "zh_cn": "销售"},
        status="enabled",
        weight_method="sum_of_metric_weights_for_each_dimension_equals_1",
        dimensions=(
            TemplateDimension("71", {"en_us": "Results"}, "70"),
            TemplateDimension("72", {"en_us": "Voice"}, "30"),
        ),
        metrics=(
            TemplateMetric("10", "71", {"2": "data_source_inputter", "4": "admin", "9": "admin"}, "0", "120"),
            # (field 9 is not in the catalog: left out; an unknown setting would be too)
            TemplateMetric("11", "72", {"2": "data_source_inputter"}),
            TemplateMetric("99", "72", {}),
        ),
        groups={},
    )
    return MetricTemplateInfo(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


def _pull(text: str, *templates: MetricTemplateInfo) -> tuple[str, tuple[str, ...]]:
    result = merge_catalog(text, PulledCatalog((Semester("1", {}),), LIBRARY, templates))
    return result.text, result.notes


def test_a_new_template_is_added_with_its_rule_dimensions_settings_and_bounds() -> None:
    text, notes = _pull(CATALOG, _template())
    assert text == CATALOG + (
        "\ntemplates:\n"
        "  sales:   # Sales / 销售\n"
        '    id: "700"\n'
        "    weight_rule: per_dimension\n"
        "    dimensions:\n"
        '      results: {id: "71", weight: "70", metrics: [revenue]}\n'
        '      voice:   {id: "72", weight: "30", metrics: [nps]}\n'
        "    input_settings:\n"
        "      revenue: {target: admin}\n"
        "    scores:\n"
        '      revenue: {min: "0", max: "120"}\n'
    )
    assert any("metric 99 left out" in n for n in notes)
    catalog, problems = catalog_from_text(text, "catalog.yaml", Settings())
    assert problems == [] and catalog.templates["sales"].weight_rule == "per_dimension"
    assert _pull(text, _template()) == (text, ())  # a second pull adds nothing


def test_any_other_weight_method_reads_as_one_total() -> None:
    text, _ = _pull(CATALOG, _template(weight_method="total_sum_of_all_metric_weight_equals_1"))
    assert "weight_rule: total\n" in text


def test_a_template_set_per_group_is_one_entry_per_group() -> None:
    grouped = _template(
        groups={"g1": "Sellers", "g2": "Managers\nx"},
        dimensions=(
            TemplateDimension("71", {"en_us": "Results"}, None, "g1"),
            TemplateDimension("72", {"en_us": "Results"}, None, "g2"),
        ),
        metrics=(TemplateMetric("10", "71", {}, group_id="g1"), TemplateMetric("11", "72", {}, group_id="g2")),
    )
    text, _ = _pull(CATALOG, grouped)
    assert "  sales_sellers:   # Sales / 销售 / group Sellers\n" in text
    assert '      results: {id: "71", metrics: [revenue]}\n' in text
    assert "  sales_managers_x:   # Sales / 销售 / group Managers x\n" in text  # no raw line break
    assert '      results: {id: "72", metrics: [nps]}\n' in text


def test_a_template_none_of_whose_metrics_the_catalog_has_is_left_out_with_a_note() -> None:
    text, notes = _pull(CATALOG, _template(metrics=(TemplateMetric("99", "71", {}),)))
    assert "templates:" not in text and any("(700) left out" in n for n in notes)


def test_template_answers_are_read_as_the_documentation_gives_them() -> None:
    [t] = parse_metric_templates(
        [
            {
                "id": "7296488199415660563",
                "name": {"zh_cn": "体验", "en_us": "Interactive experience"},
                "metric_weight_method": "sum_of_metric_weights_for_each_dimension_equals_1",
                "metric_dimensions": [{"metric_dimension_id": "7296753366268215316", "dimension_weight": "90"}],
                "metrics": [
                    {
                        "metric_id": "7272581996315099155",
                        "metric_dimension_id": "7296753366268215316",
                        "fields": [{"id": "7272581996315099155", "input_setting": "admin"}],
                        "review_rule_config": {"min": "0", "max": "100"},
                    }
                ],
            }
        ]
    )
    assert t.dimensions[0].weight == "90" and t.metrics[0].input_settings == {"7272581996315099155": "admin"}
    assert (t.metrics[0].score_min, t.metrics[0].score_max, t.metrics[0].dimension_id) == (
        "0",
        "100",
        "7296753366268215316",
    )


def test_a_template_already_in_the_catalog_is_kept_and_differences_are_noted() -> None:
    text, _ = _pull(CATALOG, _template())
    changed = text.replace("weight_rule: per_dimension", "weight_rule: total")
    again, notes = _pull(changed, _template(), _template(id="701", metrics=()))
    assert again.startswith(changed)
    assert "template 'sales': Feishu's weight rule is per_dimension, the catalog says total" in "\n".join(notes)
    gone, notes = _pull(changed)
    assert gone == changed and any("'sales' (700) is not among Feishu's metric templates" in n for n in notes)


def test_an_input_setting_the_catalog_cannot_hold_is_left_out() -> None:
    odd = _template(metrics=(TemplateMetric("10", "71", {"4": "formula_owner"}),))
    text, _ = _pull(CATALOG, odd)
    assert "formula_owner" not in text and "input_settings" not in text
    assert catalog_from_text(text, "catalog.yaml", Settings())[1] == []
