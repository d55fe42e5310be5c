"""The import quota every state of one app shares: which slot the next import request gets. Pure arithmetic;
the postgres store keeps each app's last reserved slot in `syncer_quota` and applies this under
SELECT ... FOR UPDATE, in the database server's clock.

It is the pacer's own rule (syncer.feishu.pacing.first_slot: the last request plus the interval, or now,
whichever is later) with one difference. The pacer's last request is its own, so a time ahead of now can
only be a skewed clock and counts as now. A shared quota's last slot may lie ahead of now on purpose, as a
queue: applies reserve slots one interval apart, and a slot is taken after the last one however far ahead
it is, up to MAX_AHEAD, past which it is taken for a clock that jumped and the slot is now. For a last slot
not ahead of now both rules give the same slot (the tests check it against first_slot)."""

from __future__ import annotations

#: Seconds ahead of the server's now past which the quota's last slot is taken for a clock that jumped (and
#: counts as now) rather than for a queue of applies waiting their turn.
MAX_AHEAD = 600.0


def next_slot(*, now: float, last: float | None, interval: float, max_ahead: float = MAX_AHEAD) -> float:
    """The slot the next request reserves: `last` (the app's last reserved slot; None: none yet) plus
    `interval`, or `now` when that is earlier, or when it is more than `max_ahead` seconds after `now`."""
    if last is None:
        return now
    slot = max(now, last + interval)
    return now if slot - now > max_ahead else slot
