"""Isolating rejected rows: one bad row must not sink its batch.

The import is all-or-nothing per request and answers one code for the whole request, naming no row. When a
batch is rejected with a reviewee- or row-level code, the batch is split in two halves, in order (so a
reviewee's weight decreases still go no later than its increases), and the halves are sent on their own:

- the first half is sent; when it is accepted, the fault is in the second half, which is split again
  without being sent whole (one request saved per level);
- when the first half is rejected, it is split further, and the second half is still sent whole;
- a reviewee-level code (1580112, 1580304, 1580306) cuts only between reviewees, so the culprit
  is found as a whole reviewee (all its rows are under suspicion first); a row-level code cuts anywhere.

A row is found at fault only when it was refused ALONE: in a request of that one unit (a row, or one
reviewee's rows under a reviewee-level code). A larger request's refusal condemns none of its rows.

The cost, in requests beyond the batch's own: at most 2 x ceil(log2 u) per bad unit among u units (one bad row
among 50 costs at most 12), plus 1 with `detect_shared` (the probe of the first unit, which a plain split
would not send: one bad row among 50 then costs at most 13); request-wide codes are never split (the caller
stops). When every row shares the cause (a setting, say: 1580301 on every percentage), `detect_shared` stops
after 5 extra requests (both halves and a unit of each, all refused alike) instead of the 2 x 50 - 1 = 99
requests a full split would spend. That stop is a guess, and bad rows placed where the probes look can make
it: so it condemns only the two units refused alone, and every other row of the batch is left to the caller as
PENDING (neither applied nor rejected: sent again by the next apply). Such a stop needs three bad units (the
two probed and one in the rest of the first half) and takes two of them out, so rows with b bad units among
them stop at most floor((b - 1) / 2) times before they are isolated in full. The function is pure apart from
`send`, which the caller supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, NamedTuple, TypeVar

from syncer.model import RowKey

T = TypeVar("T")


class Rejected(NamedTuple):
    """`send` answers this when Feishu rejected the request with a row- or reviewee-level code."""

    code: int
    scope: str  # "row" | "reviewee"
    message: str


class Isolated(NamedTuple, Generic[T]):
    """Rows found bad, with the code that condemned them (the code of their last rejection)."""

    rows: tuple[T, ...]
    code: int
    message: str


Send = Callable[[Sequence[T]], Rejected | None]  # None: accepted


def reviewee_of(row: object) -> object:
    return row.reviewee if isinstance(row, RowKey) else row


class SharedRefusal(Exception):
    """Both halves of a batch and a single unit of each were refused with the code the batch was: most likely a
    cause every row shares (a setting, a catalog out of step with Feishu), not one bad row. Splitting further
    would spend a request per row to learn nothing: the caller stops and says what to change. Only the two
    units refused alone are culprits (in `found`); the batch's other rows are pending, not rejected."""

    def __init__(self, code: int, scope: str, message: str) -> None:
        super().__init__(f"every probed part of the batch was refused with {code}")
        self.code = code
        self.scope = scope
        self.message = message


def isolate(
    rows: Sequence[T],
    first: Rejected,
    send: Send[T],
    *,
    reviewee: Callable[[T], object] = reviewee_of,
    detect_shared: bool = False,
    found: list[Isolated[T]] | None = None,
) -> list[Isolated[T]]:
    """Given `rows` whose request was rejected with `first`, find the rows to quarantine, sending the
    innocent ones. Returns the isolated culprits in order; `found`, when given, is that list, filled as
    they are found, so that a stop half-way (an exception from `send`) keeps those already found.

    With `detect_shared`, a batch of four units or more is probed in order: its first half, the first unit
    of that half, the rest of that half, the second half, then its middle unit. Refused alike every time,
    SharedRefusal is raised after those 5 requests (6 with the batch's own), instead of isolating every
    row; the two units refused alone are then in `found`, and nothing of the batch was accepted."""
    culprits: list[Isolated[T]] = [] if found is None else found  # filled as they are found: a stop keeps them
    rows = list(rows)
    groups = _groups(rows, first.scope, reviewee)
    if not detect_shared or len(groups) < 4:  # three units: a full split (4 requests) costs less than the probe
        _split(rows, first, send, reviewee, culprits)
        return culprits
    half = _balanced_cut(groups)
    left = [r for g in groups[:half] for r in g]
    right = [r for g in groups[half:] for r in g]
    on_left = send(left)
    if on_left is None:
        _split(right, first, send, reviewee, culprits, known=False)
        return culprits
    units = _groups(left, on_left.scope, reviewee)  # two units or more: the cut leaves at least half
    probe, rest = units[0], [r for g in units[1:] for r in g]
    on_probe = send(probe) if on_left.code == first.code else None
    if on_probe is None or on_probe.code != first.code:  # one row is innocent, or another cause: isolate
        if on_probe is not None:
            culprits.append(Isolated(tuple(probe), on_probe.code, on_probe.message))
        _split(rest if on_left.code == first.code else left, on_left, send, reviewee, culprits,
               known=on_left.code != first.code)  # fmt: skip
        _send_half(right, send, reviewee, culprits)
        return culprits
    culprits.append(Isolated(tuple(probe), on_probe.code, on_probe.message))
    on_rest = send(rest)
    if on_rest is None or on_rest.code != first.code:
        if on_rest is not None:
            _split(rest, on_rest, send, reviewee, culprits)
        _send_half(right, send, reviewee, culprits)
        return culprits
    # The whole first half refused alike, one row of it on its own too. The second half goes out now, then
    # one row of it on its own: refused alike as well, the cause is shared. Bad rows scattered over both
    # halves (leavers in a big tenant) pass the first probes, but seldom the row picked from the middle of
    # the second half. (Some innocent row of the rest may not have landed yet: the rest is resolved below.)
    on_right = send(right)
    if on_right is not None and on_right.code == first.code:
        right_units = _groups(right, on_right.scope, reviewee)
        second = right_units[len(right_units) // 2]
        on_second = send(second)
        if on_second is not None:  # refused alone: a culprit, whatever is decided for the rest
            culprits.append(Isolated(tuple(second), on_second.code, on_second.message))
            if on_second.code == first.code:
                raise SharedRefusal(first.code, first.scope, first.message)
        right = [r for g in right_units if g is not second for r in g]
        if not right:
            on_right = None
    _split(rest, on_rest, send, reviewee, culprits)
    if on_right is not None:
        _split(right, on_right, send, reviewee, culprits, known=False)
    return culprits


def _send_half(rows: list[T], send: Send[T], reviewee: Callable[[T], object], culprits: list[Isolated[T]]) -> None:
    """The second half, sent once the first is resolved (in order), and isolated if refused."""
    answer = send(rows)
    if answer is not None:
        _split(rows, answer, send, reviewee, culprits)


def _groups(rows: list[T], scope: str, reviewee: Callable[[T], object]) -> list[list[T]]:
    """The units a split may not cut: single rows, or runs of one reviewee's rows."""
    if scope != "reviewee":
        return [[r] for r in rows]
    groups: list[list[T]] = []
    for r in rows:
        if groups and reviewee(groups[-1][-1]) == reviewee(r):
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def _split(
    rows: list[T],
    rejection: Rejected,
    send: Send[T],
    reviewee: Callable[[T], object],
    culprits: list[Isolated[T]],
    *,
    known: bool = True,
) -> None:
    """`rows` were rejected with `rejection` (`known`), or are presumed to be because their sibling half
    went through (not `known`): a presumed single unit is sent once more to be sure, since the sibling
    may have changed what Feishu holds (e.g. lowered a weight that made a sum pass 100%)."""
    groups = _groups(rows, rejection.scope, reviewee)
    if len(groups) == 1:
        if not known:
            answer = send(rows)
            if answer is None:
                return
            rejection = answer
        culprits.append(Isolated(tuple(rows), rejection.code, rejection.message))
        return
    half = _balanced_cut(groups)
    left = [r for g in groups[:half] for r in g]
    right = [r for g in groups[half:] for r in g]
    answer = send(left)
    if answer is not None:
        _split(left, answer, send, reviewee, culprits)
        answer = send(right)
        if answer is not None:
            _split(right, answer, send, reviewee, culprits)
        return
    _split(right, rejection, send, reviewee, culprits, known=False)


def _balanced_cut(groups: list[list[T]]) -> int:
    """The index that cuts `groups` into two parts of about equal row counts (each part non-empty)."""
    total = sum(len(g) for g in groups)
    acc = 0
    for i, g in enumerate(groups[:-1]):
        acc += len(g)
        if acc * 2 >= total:
            return i + 1
    return len(groups) - 1
