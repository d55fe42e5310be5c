"""Feishu's words with the request's values masked out (syncer.feishu.echoes), and the session that masks
every error it builds from an answer with the values of the call it answers, when values are redacted."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.feishu.echoes import mask_echoes
from syncer.feishu.errors import AuthError, FeishuAPIError, RateLimitedError, RequestRejected, ServerError
from syncer.feishu.retry import RetryPolicy
from syncer.feishu.write import METRIC_DETAILS_IMPORT, WriteClient, sent_values
from tests.feishu.fakefeishu import FakeFeishu, fail

R = "(redacted)"
NUMBER = re.compile(r"\s*-?[0-9]+(\.[0-9]+)?\s*%?\s*")  # numbers are masked as numbers, not as text


def mask(text: str, *values: str) -> str:
    return mask_echoes([text], values)[0]


# --- what counts as an echo ---------------------------------------------------------------------------


def test_a_value_is_masked_wherever_it_stands_in_any_case() -> None:
    assert mask("value 'Sev-2 note' refused; SEV-2 NOTE again", "Sev-2 note") == f"value '{R}' refused; {R} again"


def test_letters_whose_lower_case_is_longer_do_not_shift_the_mask() -> None:
    assert mask("İİ note: SECRET", "secret") == f"İİ note: {R}"  # "İ".lower() is two characters


def test_a_value_is_masked_however_short_even_inside_words() -> None:
    """A one-letter grade is personal data: the message may read badly, the value never shows."""
    assert mask("grade A refused", "A") == f"gr{R}de {R} refused"


def test_the_longest_of_overlapping_values_is_masked_whole() -> None:
    assert mask("note: Sev-2 on the billing path", "Sev-2", "Sev-2 on the billing path") == f"note: {R}"
    assert mask("xabcdx", "abc", "bcd") == f"x{R}x"
    assert mask("aaa", "aa") == R  # overlapping occurrences of one value


def test_values_echoed_with_json_escapes_are_masked() -> None:
    value = 'Sev-2 "sécurité" 计费\\path\n😀'
    for echoed in (
        json.dumps(value, ensure_ascii=False),
        json.dumps(value),  # \uXXXX, a surrogate pair for the emoji
        re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), json.dumps(value)),  # upper-case hex
        json.dumps(json.dumps(value)),  # a body quoted in a message quoted in JSON: escaped twice
        json.dumps(json.dumps(value).replace("\\u00e9", "é", 1)),  # twice, one é escaped and one not
    ):
        masked = mask(f"bad body {{{echoed}}}", value)
        assert "sécurité" not in masked and "s\\u00e9" not in masked.lower() and "Sev-2" not in masked, masked
        assert masked.startswith("bad body {") and masked.endswith("}"), masked


def test_escapes_a_json_encoder_may_choose_are_read() -> None:
    """Go's encoder writes `<`, `>` and `&` as `\\u003c`..., some write `/` as `\\/`: the text is read."""
    assert mask("bad: a\\u003cb\\/c\\u0026d!", "a<b/c&d") == f"bad: {R}!"


def test_an_escaped_echo_after_a_stray_backslash_is_masked_as_written() -> None:
    """`C:\\` then `\\ud800\\udc00` (one character, escaped as a surrogate pair): read as JSON, the stray
    backslash escapes the next one and the pair falls apart; the escaped form is looked for as written."""
    masked = mask("C:\\\\ud800\\udc00!", "\U00010000")
    assert "ud800" not in masked and "udc00" not in masked and masked.startswith("C:") and masked.endswith("!")


def test_nfc_and_nfd_forms_are_masked() -> None:
    assert mask("e\u0301te\u0301 and \u00e9t\u00e9", "\u00e9t\u00e9") == f"{R} and {R}"


def test_a_number_is_masked_wherever_a_number_of_its_size_stands() -> None:
    text = "got 95, 95.0, 9.5e1, -95, 1,055,000 and 0.4; not 1958, ou_95ab, field_95, x.95 or v95"
    assert mask(text, "95", "1055000", "40%") == (
        f"got {R}, {R}, {R}, {R}, {R} and {R}; not 1958, ou_95ab, field_95, x.95 or v95"
    )


def test_a_value_cut_across_parts_is_found_in_the_parts_read_as_one_text() -> None:
    parts = ['invalid value "Sev-2 on ', 'the billing path" for field 7', "12", "34"]
    assert mask_echoes(parts, ["Sev-2 on the billing path", "12"]) == (
        f'invalid value "{R}',
        f'{R}" for field 7',
        R,  # a number is read in each part alone too
        "34",
    )


def test_empty_values_and_no_values_leave_the_text_as_it_is() -> None:
    assert mask("field 7 is required", "", " ") == "field 7 is required"
    assert mask_echoes(["a", "b"], []) == ("a", "b")


TEXTS = st.text(min_size=1, max_size=12).filter(lambda v: v.strip() and "\x00" not in v and not NUMBER.fullmatch(v))


@given(st.lists(TEXTS, min_size=1, max_size=4), st.text(max_size=20), st.sampled_from(["raw", "json", "ascii"]))
def test_no_text_value_survives_however_it_is_echoed(values: list[str], noise: str, how: str) -> None:
    """Whatever the values and the words around them, raw or JSON-escaped, cut anywhere in two parts."""

    def quoted(v: str) -> str:
        return v if how == "raw" else json.dumps(v, ensure_ascii=how == "ascii")[1:-1]

    text = noise.join(quoted(v) for v in values) + noise
    masked = "".join(mask_echoes([text[: len(text) // 2], text[len(text) // 2 :]], values)).replace(R, "\x00")
    for v in values:
        assert quoted(v) not in masked, (v, masked)


# --- the session masks what it receives -----------------------------------------------------------------

ECHOING: Any = {
    "reviewee_user_id": "ou_reviewee",
    "metric_id": "7272580325522276372",
    "fields": [
        {"field_id": "7", "field_value": 'Sev-2 "sécurité"'},
        {"field_id": "5", "field_value": "918273645"},
        {"field_id": "9", "field_value": "ou_owner", "field_value_person": "ou_owner"},
    ],
}
SENT = ('Sev-2 "sécurité"', "918273645", "ou_owner")


def echo(code: int, status: int = 400, headers: dict[str, str] | None = None) -> httpx.Response:
    """A refusal repeating the request: in msg (JSON-escaped), in field violations (cut in two), in details."""
    body = json.dumps({"imported_metrics": [ECHOING]})
    violations = [
        {"field": "imported_metrics[0].fields[0].field_value", "description": 'invalid "Sev-2 "s'},
        {"field": "imported_metrics[0].fields[0].field_value", "description": 'écurité""'},
        {"field": "imported_metrics[0].fields[1].field_value", "description": "918273645.0 is too large"},
    ]
    error = {"field_violations": violations, "details": [{"key": "body", "value": body}]}
    return httpx.Response(status, json={"code": code, "msg": f"refused: {body}", "error": error}, headers=headers)


def send(client: WriteClient) -> None:
    client.import_metric_details(
        semester_id="7293040702907514899",
        import_record_name="syncer abc1234",
        imported_metrics=[ECHOING],
        client_token="tok-1",
        user_id_type="open_id",
    )


def shown(exc: FeishuAPIError) -> str:
    return " ".join((str(exc), exc.msg, *exc.violations))


CASES = [
    pytest.param([echo(1234567)], RequestRejected, id="refused"),
    pytest.param([echo(99992402)], RequestRejected, id="field-violations"),
    pytest.param([echo(1580101, 500)] * 2, ServerError, id="retries-spent"),
    pytest.param([echo(99991400, 429, {"x-ogw-ratelimit-reset": "3600"})], RateLimitedError, id="rate-limit"),
    pytest.param([echo(99991663, 401)] * 2, AuthError, id="token-refused-twice"),
]


@pytest.mark.parametrize(("answers", "error"), CASES)
def test_with_values_redacted_no_error_shows_a_value_the_call_sent(
    server: FakeFeishu, make_client: Any, answers: list[httpx.Response], error: type[FeishuAPIError]
) -> None:
    server.script(METRIC_DETAILS_IMPORT, *answers)
    client = make_client(WriteClient, redact=True, retry=RetryPolicy(max_attempts=2, max_rate_limit_wait=60))
    with pytest.raises(error) as info:
        send(client)
    text = shown(info.value)
    for value in (*SENT, "sécurité", "s\\u00e9curit\\u00e9", "918273645.0", "ou_owner"):
        assert value not in text, (value, text)
    assert R in info.value.msg and "ou_reviewee" in info.value.msg  # masked, and the IDs are still there


@pytest.mark.parametrize(("answers", "error"), CASES[:2])
def test_without_redaction_feishus_words_are_kept_as_sent(
    server: FakeFeishu, make_client: Any, answers: list[httpx.Response], error: type[FeishuAPIError]
) -> None:
    server.script(METRIC_DETAILS_IMPORT, *answers)
    with pytest.raises(error) as info:
        send(make_client(WriteClient))
    assert "918273645" in info.value.msg and R not in shown(info.value)


def test_an_import_offers_its_values_and_persons_never_its_ids() -> None:
    assert sent_values([ECHOING]) == [*SENT, "ou_owner"]


def test_a_client_without_redaction_masks_nothing_even_when_given_values(server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, fail(1234567, "ou_owner refused"))
    with pytest.raises(RequestRejected) as info:
        send(make_client(WriteClient, redact=False))
    assert info.value.msg == "ou_owner refused"
