"""When a rate-limited call stops waiting (syncer.feishu.retry.rate_limit_refusal): past the number of
waits, past one wait's limit, or past the waits' total; otherwise it waits."""

from __future__ import annotations

from syncer.feishu.retry import RetryPolicy, rate_limit_refusal

POLICY = RetryPolicy(max_rate_limited=2, max_rate_limit_wait=60.0, max_rate_limit_total=100.0)


def test_waits_within_every_budget() -> None:
    assert rate_limit_refusal(POLICY, waits=1, wait=60.0, waited=0.0) is None
    assert rate_limit_refusal(POLICY, waits=2, wait=40.0, waited=60.0) is None  # exactly the total


def test_too_many_waits() -> None:
    assert rate_limit_refusal(POLICY, waits=3, wait=1.0, waited=0.0) == "still rate limited after 2 waits"


def test_one_wait_too_long() -> None:
    note = rate_limit_refusal(POLICY, waits=1, wait=61.0, waited=0.0)
    assert note == "Feishu asked to wait 61 s, more than the 60 s allowed"


def test_waits_adding_up_past_the_total() -> None:
    note = rate_limit_refusal(POLICY, waits=2, wait=41.0, waited=60.0)
    assert note == "waiting 41 s more would pass 100 s of waits in all"


def test_the_count_is_judged_first() -> None:
    assert rate_limit_refusal(POLICY, waits=3, wait=1000.0, waited=1000.0) == "still rate limited after 2 waits"
