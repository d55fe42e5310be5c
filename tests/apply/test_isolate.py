"""The isolation of rejected rows, with a fake `send` that rejects any request holding a bad row."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.apply.isolate import Isolated, Rejected, SharedRefusal, isolate
from syncer.model import RowKey


def rows(n: int, per_reviewee: int = 1) -> list[RowKey]:
    return [RowKey("s", f"ou_{i // per_reviewee:032x}", f"m{i % per_reviewee}") for i in range(n)]


class FakeFeishu:
    def __init__(self, bad: set[RowKey], code: int = 1580301, scope: str = "row") -> None:
        self.bad, self.code, self.scope = bad, code, scope
        self.requests: list[tuple[RowKey, ...]] = []
        self.accepted: list[RowKey] = []

    def send(self, batch: Sequence[RowKey]) -> Rejected | None:
        self.requests.append(tuple(batch))
        if any(r in self.bad for r in batch):  # a code parsed from JSON: equal to the last one, not the same object
            return Rejected(int(str(self.code)), self.scope, "bad")
        self.accepted.extend(batch)
        return None

    def send_answer(self, batch: Sequence[RowKey]) -> Rejected | None:
        """What `send` would answer, without sending."""
        return Rejected(self.code, self.scope, "bad") if any(r in self.bad for r in batch) else None


BUDGET = 2 * math.ceil(math.log2(50))  # 12 extra requests for one bad row among 50


@pytest.mark.parametrize("position", [0, 1, 24, 25, 26, 48, 49])
def test_one_bad_row_costs_at_most_12_extra_requests_and_all_innocents_land(position: int) -> None:
    batch = rows(50)
    fake = FakeFeishu({batch[position]})
    first = fake.send(batch)
    assert first is not None
    culprits = isolate(batch, first, fake.send)
    assert [c.rows for c in culprits] == [(batch[position],)]
    assert sorted(fake.accepted) == sorted(set(batch) - {batch[position]})
    assert len(fake.requests) - 1 <= BUDGET


def test_two_bad_rows_in_one_batch() -> None:
    batch = rows(50)
    bad = {batch[3], batch[40]}
    fake = FakeFeishu(bad)
    culprits = isolate(batch, fake.send(batch) or Rejected(0, "row", ""), fake.send)
    assert {c.rows[0] for c in culprits} == bad
    assert sorted(fake.accepted) == sorted(set(batch) - bad)
    assert len(fake.requests) - 1 <= 2 * BUDGET


def test_reviewee_level_code_condemns_the_whole_reviewee_and_never_cuts_through_it() -> None:
    batch = rows(48, per_reviewee=3)  # 16 reviewees x 3 metrics
    culprit = [r for r in batch if r.reviewee == batch[21].reviewee]
    fake = FakeFeishu({batch[22]}, code=1580306, scope="reviewee")
    culprits = isolate(batch, fake.send(batch) or Rejected(0, "row", ""), fake.send)
    assert [list(c.rows) for c in culprits] == [culprit]
    for req in fake.requests:  # every request holds whole reviewees
        reviewees = {r.reviewee for r in req}
        assert all(sum(1 for r in req if r.reviewee == rv) == 3 for rv in reviewees)
    assert len(fake.requests) - 1 <= 2 * math.ceil(math.log2(16))


def test_order_is_kept_across_splits() -> None:
    batch = rows(50)
    fake = FakeFeishu({batch[10]})
    isolate(batch, fake.send(batch) or Rejected(0, "row", ""), fake.send)
    assert fake.accepted == [r for r in batch if r != batch[10]]  # the original order, culprit removed


def test_a_presumed_culprit_is_tried_again_in_case_its_sibling_fixed_it() -> None:
    """A weight sum that passes 100% only until another row lowers a weight: the first half (the lowering)
    goes through, then the second half is sent again on its own and is accepted."""
    batch = rows(2)
    lowered = False

    def send(req: Sequence[RowKey]) -> Rejected | None:
        nonlocal lowered
        if batch[1] in req and not lowered and batch[0] not in req:
            return Rejected(1580304, "reviewee", "weights")
        if batch[0] in req and batch[1] in req:
            return Rejected(1580304, "row", "weights")
        if batch[0] in req:
            lowered = True
        return None

    assert isolate(batch, Rejected(1580304, "row", "weights"), send) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 50), st.data())
def test_property_innocents_land_culprits_found(n: int, data: st.DataObject) -> None:
    batch = rows(n)
    bad = set(data.draw(st.lists(st.sampled_from(batch), max_size=3)))
    fake = FakeFeishu(bad)
    first = fake.send(batch)
    if not bad:
        assert first is None
        return
    assert first is not None
    culprits = isolate(batch, first, fake.send)
    assert {r for c in culprits for r in c.rows} == bad
    assert sorted(fake.accepted) == sorted(set(batch) - bad)
    assert len(set(fake.accepted)) == len(fake.accepted)  # nothing accepted twice
    extra = len(fake.requests) - 1
    assert extra <= len(bad) * 2 * max(1, math.ceil(math.log2(n)))


def test_bad_rows_scattered_over_both_halves_are_not_taken_for_a_shared_refusal() -> None:
    """Leavers in a big tenant: three unknown reviewees in one batch, in both halves and at the first probe.
    Each is found; the 47 others land."""
    batch = rows(50)
    bad = {batch[0], batch[9], batch[38]}
    fake = FakeFeishu(bad, code=1580306, scope="reviewee")
    first = fake.send(batch)
    assert first is not None
    culprits = isolate(batch, first, fake.send, detect_shared=True)
    assert {r for c in culprits for r in c.rows} == bad
    assert sorted(fake.accepted) == sorted(set(batch) - bad)


@settings(max_examples=200, deadline=None)
@given(st.integers(3, 50), st.data())
def test_property_two_bad_rows_are_never_a_shared_refusal(n: int, data: st.DataObject) -> None:
    """A shared refusal needs four refused probes (a row and the rest of the first half, the second half and
    a row of it): two bad rows can never look like one."""
    batch = rows(n)
    bad = set(data.draw(st.lists(st.sampled_from(batch), min_size=1, max_size=2)))
    fake = FakeFeishu(bad)
    first = fake.send(batch)
    assert first is not None
    culprits = isolate(batch, first, fake.send, detect_shared=True)
    assert {r for c in culprits for r in c.rows} == bad
    assert sorted(fake.accepted) == sorted(set(batch) - bad)


def test_every_row_refused_alike_is_a_shared_refusal_after_6_requests() -> None:
    batch = rows(50)
    fake = FakeFeishu(set(batch))
    first = fake.send(batch)
    assert first is not None
    found: list[Isolated[RowKey]] = []
    with pytest.raises(SharedRefusal):
        isolate(batch, first, fake.send, detect_shared=True, found=found)
    assert len(fake.requests) == 6 and fake.accepted == []
    # Only the two rows sent on their own are culprits: the 48 others are the caller's to leave pending.
    assert [c.rows for c in found] == [(batch[0],), (batch[37],)]


def test_a_stop_half_way_through_an_isolation_keeps_the_culprits_already_found() -> None:
    """`send` raises (a stop, --max-duration, the network) after the culprit was pinned down: the caller
    still has it, so that it is recorded and not sent again by the next run."""
    batch = rows(8)
    fake = FakeFeishu({batch[0]})

    class Stop(Exception):
        pass

    def send(part: Sequence[RowKey]) -> Rejected | None:
        if len(fake.requests) >= 4:
            raise Stop
        return fake.send(part)

    first = send(batch)
    assert first is not None
    found: list[Isolated[RowKey]] = []
    with pytest.raises(Stop):
        isolate(batch, first, send, found=found)
    assert [c.rows for c in found] == [(batch[0],)]


def test_bad_rows_where_the_probes_look_condemn_only_the_rows_refused_alone() -> None:
    """Three unknown reviewees in a batch of 25, as the 1st, 6th and 20th row: exactly where the shared-refusal
    probe looks, so the batch looks refused alike and the isolation stops. Only the two rows Feishu refused on
    their own are culprits; the 6th row (refused only with others) and the 22 good rows are not."""
    batch = rows(25)
    bad = {batch[0], batch[5], batch[19]}
    fake = FakeFeishu(bad, code=1580306, scope="reviewee")
    first = fake.send(batch)
    assert first is not None
    found: list[Isolated[RowKey]] = []
    with pytest.raises(SharedRefusal):
        isolate(batch, first, fake.send, detect_shared=True, found=found)
    assert [c.rows for c in found] == [(batch[0],), (batch[19],)]
    assert all(c.code == 1580306 for c in found)
    assert fake.accepted == [] and len(fake.requests) == 6


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 50), st.sampled_from([1, 2, 3]), st.data())
def test_property_a_culprit_was_always_refused_alone_and_never_a_good_row(
    n: int, per_reviewee: int, data: st.DataObject
) -> None:
    """Whatever the bad rows and wherever they sit, with or without the shared-refusal probe: every culprit is
    a unit Feishu refused in a request of that unit alone, no good row is ever a culprit, and when the
    isolation runs to its end every bad row is found and every good row accepted exactly once."""
    batch = rows(n, per_reviewee)
    scope = data.draw(st.sampled_from(["row", "reviewee"]))
    picked = data.draw(st.lists(st.sampled_from(batch), min_size=1, max_size=n))
    bad = {r for r in batch if r.reviewee in {p.reviewee for p in picked}} if scope == "reviewee" else set(picked)
    fake = FakeFeishu(bad, code=1580306 if scope == "reviewee" else 1580301, scope=scope)
    first = fake.send(batch)
    assert first is not None
    found: list[Isolated[RowKey]] = []
    shared = False
    try:
        isolate(batch, first, fake.send, detect_shared=data.draw(st.booleans()), found=found)
    except SharedRefusal:
        shared = True
    refused = {req for req in fake.requests if fake.send_answer(req) is not None}
    for c in found:  # a request of that one unit, refused
        assert c.rows in refused and set(c.rows) <= bad
        assert len({r.reviewee for r in c.rows}) == 1 and (scope == "reviewee" or len(c.rows) == 1)
    assert len(set(fake.accepted)) == len(fake.accepted)
    assert not set(fake.accepted) & bad
    if not shared:
        assert {r for c in found for r in c.rows} == bad
        assert sorted(fake.accepted) == sorted(set(batch) - bad)
    else:
        assert fake.accepted == [] and len(found) == 2 and len(fake.requests) == 6


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 50), st.sampled_from([1, 2, 3]), st.data())
def test_property_the_documented_budget_holds_with_the_shared_refusal_probe(
    n: int, per_reviewee: int, data: st.DataObject
) -> None:
    """isolate's documented cost: beyond the batch's own request, at most 1 + 2 x ceil(log2 u) per bad unit
    among u units (the probe that tells a shared refusal costs the 1), and exactly 5 when it stops."""
    batch = rows(n, per_reviewee)
    scope = data.draw(st.sampled_from(["row", "reviewee"]))
    picked = data.draw(st.lists(st.sampled_from(batch), min_size=1, max_size=n))
    bad = {r for r in batch if r.reviewee in {p.reviewee for p in picked}} if scope == "reviewee" else set(picked)
    units = len({r.reviewee for r in batch}) if scope == "reviewee" else n
    bad_units = len({r.reviewee for r in bad}) if scope == "reviewee" else len(bad)
    fake = FakeFeishu(bad, scope=scope)
    first = fake.send(batch)
    assert first is not None
    try:
        isolate(batch, first, fake.send, detect_shared=True)
    except SharedRefusal:
        assert len(fake.requests) - 1 == 5
        return
    assert len(fake.requests) - 1 <= 1 + bad_units * 2 * max(1, math.ceil(math.log2(units)))


class PriorityFeishu:
    """Feishu documents no order for its checks: this one answers the code of the highest priority among the
    bad rows of a request (earlier in `priority` first), wherever they sit, so that a part of a batch can be
    refused with another code than the batch was."""

    def __init__(self, bad: dict[RowKey, int], priority: Sequence[int]) -> None:
        self.bad, self.priority = bad, list(priority)
        self.requests: list[tuple[RowKey, ...]] = []
        self.accepted: list[RowKey] = []

    def answer(self, batch: Sequence[RowKey]) -> Rejected | None:
        codes = {self.bad[r] for r in batch if r in self.bad}
        if not codes:
            return None
        code = min(codes, key=self.priority.index)
        return Rejected(code, "reviewee" if code in (1580112, 1580306) else "row", f"bad {code}")

    def send(self, batch: Sequence[RowKey]) -> Rejected | None:
        self.requests.append(tuple(batch))
        answer = self.answer(batch)
        if answer is None:
            self.accepted.extend(batch)
        return answer


MIXED = [1580306, 1580112, 1580301, 1580303]


@settings(max_examples=400, deadline=None)
@given(st.integers(3, 50), st.data())
def test_property_mixed_codes_in_any_order_each_culprit_keeps_its_own_code(n: int, data: st.DataObject) -> None:
    """Bad rows of several codes, Feishu choosing which code to answer by a priority of its own: each culprit
    is a row refused alone with its own code; the shared-refusal stop comes only when both rows probed alone
    were refused with the batch's code (6 requests, nothing accepted); otherwise every bad row is found and
    every good row accepted once, within the documented budget."""
    batch = rows(n)
    picked = data.draw(st.lists(st.sampled_from(batch), min_size=1, max_size=n, unique=True))
    bad = {r: data.draw(st.sampled_from(MIXED)) for r in picked}
    fake = PriorityFeishu(bad, data.draw(st.permutations(MIXED)))
    first = fake.send(batch)
    assert first is not None
    found: list[Isolated[RowKey]] = []
    try:
        isolate(batch, first, fake.send, detect_shared=True, found=found)
    except SharedRefusal:
        assert len(fake.requests) == 6 and fake.accepted == []
        assert len(found) == 2 and all(c.code == first.code for c in found)
    else:
        assert {r for c in found for r in c.rows} == set(bad)
        assert sorted(fake.accepted) == sorted(set(batch) - set(bad))
        assert len(fake.requests) - 1 <= 1 + len(bad) * 2 * max(1, math.ceil(math.log2(n)))
    for c in found:
        assert c.rows in fake.requests and len(c.rows) == 1 and c.code == bad[c.rows[0]]
    assert len(set(fake.accepted)) == len(fake.accepted)


@pytest.mark.parametrize(("in_first_half", "batch_code"), [(1580303, 1580306), (1580306, 1580303)])
def test_a_first_half_refused_for_another_cause_is_isolated_at_once_without_a_probe(
    in_first_half: int, batch_code: int
) -> None:
    """The batch is refused with one code, its first half with another: that half is no evidence of a shared
    refusal, so it is split at once (its first row is not probed on its own first)."""
    batch = rows(8)
    fake = PriorityFeishu({batch[1]: in_first_half, batch[6]: batch_code}, priority=[batch_code, in_first_half])
    first = fake.send(batch)
    assert first is not None and first.code == batch_code
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert [(c.rows, c.code) for c in found] == [((batch[1],), in_first_half), ((batch[6],), batch_code)]
    assert fake.requests[1:4] == [tuple(batch[:4]), tuple(batch[:2]), (batch[0],)]  # half, quarter, its first row


@pytest.mark.parametrize(("its_code", "batch_code"), [(1580306, 1580112), (1580112, 1580306)])
def test_a_first_half_of_one_reviewee_refused_for_another_cause_is_not_sent_again(
    its_code: int, batch_code: int
) -> None:
    """A reviewee holding most of the batch is its first half on its own: refused on its own with another code
    than the batch, it is a culprit as it stands (sending it again would learn nothing)."""
    a = [RowKey("s", "ou_a", f"m{i}") for i in range(10)]
    batch = [*a, RowKey("s", "ou_b", "m0"), RowKey("s", "ou_c", "m0"), RowKey("s", "ou_d", "m0")]
    fake = PriorityFeishu({a[3]: its_code, batch[12]: batch_code}, priority=[batch_code, its_code])
    first = fake.send(batch)
    assert first is not None and first.code == batch_code
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert [(c.rows, c.code) for c in found] == [(tuple(a), its_code), ((batch[12],), batch_code)]
    assert fake.requests.count(tuple(a)) == 1


@pytest.mark.parametrize("detect_shared", [False, True])
def test_when_the_last_reviewee_holds_most_rows_the_cut_falls_just_before_it(detect_shared: bool) -> None:
    """Cuts keep a reviewee whole and balance the rows as well as they can: three one-row reviewees then one
    of ten rows is cut after the third (no cut can balance it better). The first three go through, and the
    big reviewee, presumed guilty, is sent on its own before it is a culprit."""
    d = [RowKey("s", "ou_d", f"m{i}") for i in range(10)]
    batch = [RowKey("s", "ou_a", "m0"), RowKey("s", "ou_b", "m0"), RowKey("s", "ou_c", "m0"), *d]
    fake = FakeFeishu(set(d), code=1580306, scope="reviewee")
    first = fake.send(batch)
    assert first is not None
    assert [c.rows for c in isolate(batch, first, fake.send, detect_shared=detect_shared)] == [tuple(d)]
    assert fake.requests == [tuple(batch), tuple(batch[:3]), tuple(d)]


def test_three_units_are_split_in_full_not_probed() -> None:
    """Three rows all refused alike: a full split costs 4 requests and finds all three, less than the 5 of the
    shared-refusal probe (which would also leave one pending); four rows are probed."""
    batch = rows(3)
    fake = FakeFeishu(set(batch))
    first = fake.send(batch)
    assert first is not None
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert [c.rows for c in found] == [(r,) for r in batch] and len(fake.requests) - 1 == 4
    batch = rows(4)
    fake = FakeFeishu(set(batch))
    first = fake.send(batch)
    assert first is not None
    with pytest.raises(SharedRefusal):
        isolate(batch, first, fake.send, detect_shared=True)
    assert len(fake.requests) - 1 == 5


@pytest.mark.parametrize(("batch_code", "second_code"), [(1580306, 1580303), (1580303, 1580306)])
def test_a_second_half_row_refused_for_another_cause_is_no_shared_refusal(batch_code: int, second_code: int) -> None:
    """The first half refused alike (a row of it alone too), the second half too, but the row probed alone in the
    second half is refused with another code: not a shared refusal. That row is a culprit with its own code,
    and the isolation goes on to the end."""
    batch = rows(8)
    bad = {batch[0]: batch_code, batch[1]: batch_code, batch[4]: batch_code, batch[6]: second_code}
    fake = PriorityFeishu(bad, priority=[batch_code, second_code])
    first = fake.send(batch)
    assert first is not None and first.code == batch_code
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert {(c.rows, c.code) for c in found} == {((r,), code) for r, code in bad.items()}
    assert sorted(fake.accepted) == sorted(set(batch) - set(bad))


def test_a_second_half_presumed_guilty_is_sent_alone_before_it_is_condemned() -> None:
    """Four rows, the first three bad: the first half and its rows refused alike, the second half refused, but
    its probed row accepted. The row left of that half is presumed guilty (its sibling went through), and is
    sent on its own before it is a culprit: every culprit was refused alone."""
    batch = rows(4)
    fake = FakeFeishu(set(batch[:3]))
    first = fake.send(batch)
    assert first is not None
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert sorted(c.rows for c in found) == sorted((r,) for r in batch[:3])
    assert all(c.rows in fake.requests for c in found) and fake.accepted == [batch[3]]


def test_a_half_presumed_guilty_after_its_sibling_went_through_is_sent_alone_first() -> None:
    """Three rows, the last bad: the first two go through, so the last is presumed guilty, and is sent on its
    own before it is a culprit (the sibling may have changed what Feishu holds)."""
    batch = rows(3)
    fake = FakeFeishu({batch[2]})
    first = fake.send(batch)
    assert first is not None
    assert [c.rows for c in isolate(batch, first, fake.send, detect_shared=True)] == [(batch[2],)]
    assert fake.requests == [tuple(batch), tuple(batch[:2]), (batch[2],)]


def test_cuts_are_balanced_halves() -> None:
    """Four rows, the last bad: halves of two, then of one; every request is in order."""
    batch = rows(4)
    fake = FakeFeishu({batch[3]})
    first = fake.send(batch)
    assert first is not None
    isolate(batch, first, fake.send)
    assert fake.requests == [tuple(batch), tuple(batch[:2]), (batch[2],), (batch[3],)]


def test_a_reviewee_level_code_never_groups_two_reviewees_whatever_their_order() -> None:
    """Units are runs of one reviewee's rows, compared for equality: reviewees in descending order are still
    units of their own."""
    batch = [RowKey("s", "ou_b", "m0"), RowKey("s", "ou_b", "m1"), RowKey("s", "ou_a", "m0")]
    fake = FakeFeishu({batch[2]}, code=1580306, scope="reviewee")
    first = fake.send(batch)
    assert first is not None
    assert [c.rows for c in isolate(batch, first, fake.send)] == [(batch[2],)]
    assert fake.accepted == batch[:2]


@pytest.mark.parametrize(("batch_code", "rest_code"), [(1580306, 1580303), (1580303, 1580306)])
def test_the_rest_of_the_first_half_refused_for_another_cause_is_no_shared_refusal(
    batch_code: int, rest_code: int
) -> None:
    """The first half refused alike and its first row alone too, but the rest of that half refused with another
    code: not a shared refusal, even if the second half and its middle row then look alike. Every bad row is
    found with its own code."""
    batch = rows(8)
    bad = {batch[0]: batch_code, batch[2]: rest_code, batch[4]: batch_code, batch[6]: batch_code}
    fake = PriorityFeishu(bad, priority=[batch_code, rest_code])
    first = fake.send(batch)
    assert first is not None and first.code == batch_code
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert {(c.rows, c.code) for c in found} == {((r,), code) for r, code in bad.items()}
    assert sorted(fake.accepted) == sorted(set(batch) - set(bad))


@pytest.mark.parametrize(("batch_code", "right_code"), [(1580306, 1580303), (1580303, 1580306)])
def test_a_second_half_refused_for_another_cause_is_split_at_once_without_a_probe(
    batch_code: int, right_code: int
) -> None:
    """The first half refused alike, its first row and its rest too; the second half refused with another code:
    no evidence of a shared refusal, so that half is split at once (its middle row is not probed alone)."""
    batch = rows(8)
    bad = {batch[0]: batch_code, batch[1]: batch_code, batch[5]: right_code}
    fake = PriorityFeishu(bad, priority=[batch_code, right_code])
    first = fake.send(batch)
    assert first is not None
    found = isolate(batch, first, fake.send, detect_shared=True)
    assert {(c.rows, c.code) for c in found} == {((r,), code) for r, code in bad.items()}
    assert (batch[6],) not in fake.requests
