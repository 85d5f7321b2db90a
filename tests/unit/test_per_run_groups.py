"""How `etl-run --per-run N` groups chunks into dbt runs: consecutive chunks only, at most N a
run, in order, none lost or repeated (hypothesis over random plans with gaps)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from etl_session.backfill import _groups
from etl_session.period import Period

DAY0 = datetime(2023, 1, 1, tzinfo=timezone.utc)


def _day(index: int) -> Period:
    return Period(DAY0 + timedelta(days=index), DAY0 + timedelta(days=index + 1))


@given(
    days=st.lists(st.integers(min_value=0, max_value=60), unique=True, max_size=40),
    per_run=st.integers(min_value=1, max_value=10),
)
def test_groups_are_runs_of_consecutive_chunks_of_at_most_n(days: list[int], per_run: int) -> None:
    plan = [_day(i) for i in sorted(days)]

    groups = _groups(plan, per_run)

    assert [chunk for group in groups for chunk in group] == plan
    for group in groups:
        assert 1 <= len(group) <= per_run
        assert all(a.end == b.start for a, b in itertools.pairwise(group))
    # Greedy: a group ends early only at a gap or at N chunks.
    for before, after in itertools.pairwise(groups):
        assert len(before) == per_run or before[-1].end != after[0].start


def test_one_chunk_per_run_is_the_plan_itself() -> None:
    plan = [_day(0), _day(1), _day(5)]

    assert _groups(plan, 1) == [[_day(0)], [_day(1)], [_day(5)]]
    assert _groups(plan, 3) == [[_day(0), _day(1)], [_day(5)]]
