"""Coverage painting, splitting and look-back: pure functions, checked against a day-by-day
brute force with hypothesis and against hand-made timelines."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl_session.coverage import (
    FAILED,
    LOADED,
    MISSING,
    RUNNING,
    Load,
    check_split,
    lookback,
    lookback_period,
    merge,
    paint,
    split,
)
from etl_session.errors import UsageError
from etl_session.period import Period, resolve_period

UTC = timezone.utc
DAY0 = datetime(2023, 1, 1, tzinfo=UTC)
MODEL = "model.p.fct"


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def load(session_id: int, status: str, first: int, after: int, full_refresh: bool = False) -> Load:
    return Load(
        session_id, status, Period(day(first), day(after)), day(100 + session_id), full_refresh
    )


def states(segments: object) -> list[tuple[int, int, str, int | None, int | None]]:
    return [
        (
            (s.start - DAY0).days,
            (s.end - DAY0).days,
            s.state,
            s.session_id,
            s.live_session_id,
        )
        for s in segments  # type: ignore[attr-defined]
    ]


def test_a_failed_february_between_good_months_is_a_gap_to_load() -> None:
    loads = [load(1, "success", 0, 31), load(2, "error", 31, 59), load(3, "success", 59, 90)]
    outcomes = {1: {MODEL: "success"}, 2: {MODEL: "error"}, 3: {MODEL: "success"}}

    coverage = paint(MODEL, loads, outcomes, begin=None, until=day(120))

    assert states(coverage.segments) == [
        (0, 31, LOADED, 1, 1),
        (31, 59, FAILED, 2, None),
        (59, 90, LOADED, 3, 3),
        (90, 120, MISSING, None, None),
    ]
    assert coverage.intervals({FAILED, MISSING}) == [
        Period(day(31), day(59)),
        Period(day(90), day(120)),
    ]


def test_a_reload_names_the_session_whose_rows_are_live_and_a_failed_reload_keeps_them() -> None:
    loads = [load(1, "success", 0, 10), load(2, "success", 3, 5), load(3, "error", 6, 8)]
    outcomes = {1: {MODEL: "success"}, 2: {MODEL: "success"}, 3: {MODEL: "error"}}

    coverage = paint(MODEL, loads, outcomes, begin=day(0), until=day(10))

    assert states(coverage.segments) == [
        (0, 3, LOADED, 1, 1),
        (3, 5, LOADED, 2, 2),
        (5, 6, LOADED, 1, 1),
        (6, 8, FAILED, 3, 1),  # the failed reload rolled back: session 1's rows are live
        (8, 10, LOADED, 1, 1),
    ]


def test_loads_without_the_model_do_not_count_and_a_load_that_ran_nothing_failed_it() -> None:
    other = {"model.p.other": "success"}
    loads = [load(1, "success", 0, 5), load(2, "error", 5, 6), load(3, "running", 6, 7)]

    coverage = paint(MODEL, loads, {1: other}, begin=day(0), until=day(8))

    assert states(coverage.segments) == [
        (0, 5, MISSING, None, None),  # session 1 loaded another model only
        (5, 6, FAILED, 2, None),  # session 2 failed before any node ran
        (6, 7, RUNNING, 3, None),
        (7, 8, MISSING, None, None),
    ]


def test_a_full_refresh_covers_the_model_from_its_beginning() -> None:
    loads = [load(1, "success", 5, 6, full_refresh=True)]

    coverage = paint(MODEL, loads, {1: {MODEL: "success"}}, begin=day(0), until=day(7))

    assert states(coverage.segments) == [(0, 6, LOADED, 1, 1), (6, 7, MISSING, None, None)]


def test_nothing_known_is_no_timeline_and_a_beginning_alone_is_all_missing() -> None:
    assert paint(MODEL, [], {}, begin=None, until=day(3)).segments == ()
    assert states(paint(MODEL, [], {}, begin=day(1), until=day(3)).segments) == [
        (1, 3, MISSING, None, None)
    ]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Load], dict[int, dict[str, str]], int | None, int]:
    count = draw(st.integers(0, 12))
    loads, outcomes = [], {}
    for session_id in range(1, count + 1):
        first = draw(st.integers(0, 30))
        after = draw(st.integers(first + 1, 32))
        status = draw(st.sampled_from(["success", "error", "running"]))
        loads.append(load(session_id, status, first, after))
        node = draw(st.sampled_from(["success", "error", "skipped", None, "absent"]))
        if node == "absent":
            outcomes[session_id] = {"model.p.other": "success"}
        elif node is not None:
            outcomes[session_id] = {MODEL: node}
    begin = draw(st.none() | st.integers(0, 10))
    until = draw(st.integers(1, 40))
    return loads, outcomes, begin, until


@settings(max_examples=300, deadline=None)
@given(histories())
def test_painting_matches_a_day_by_day_brute_force(
    history: tuple[list[Load], dict[int, dict[str, str]], int | None, int],
) -> None:
    loads, outcomes, begin, until = history

    coverage = paint(
        MODEL, loads, outcomes, begin=None if begin is None else day(begin), until=day(until)
    )

    expected: dict[int, tuple[str, int | None, int | None]] = {}
    counted = []
    for item in loads:
        status = outcomes.get(item.session_id, {}).get(MODEL)
        if item.status == "running":
            counted.append((item, RUNNING))
        elif item.status == "error" and (status is not None or item.session_id not in outcomes):
            counted.append((item, FAILED))
        elif item.status == "success" and status == "success":
            counted.append((item, LOADED))
    first = min(
        [(i.period.start - DAY0).days for i, _ in counted] + ([begin] if begin is not None else []),
        default=None,
    )
    for n in range(0, 45):
        covering = [(i, s) for i, s in counted if i.period.start <= day(n) < i.period.end]
        if covering:
            last, state = covering[-1]
            live = [i.session_id for i, s in covering if s == LOADED]
            expected[n] = (state, last.session_id, live[-1] if live else None)
        elif first is not None and (begin if begin is not None else first) <= n < until:
            expected[n] = (MISSING, None, None)
    painted = {}
    for segment in coverage.segments:
        for n in range((segment.start - DAY0).days, (segment.end - DAY0).days):
            painted[n] = (segment.state, segment.session_id, segment.live_session_id)
    assert painted == expected
    ends = [(s.start, s.end) for s in coverage.segments]
    assert ends == sorted(ends) and all(a[1] <= b[0] for a, b in itertools.pairwise(ends))
    # The merged intervals of each state cover exactly its days, and never touch each other.
    for states in ({LOADED}, {MISSING}, {FAILED, MISSING}):
        merged = coverage.intervals(states)
        days = {n for p in merged for n in range((p.start - DAY0).days, (p.end - DAY0).days)}
        assert days == {n for n, (state, _, _) in expected.items() if state in states}
        assert all(a.end < b.start for a, b in itertools.pairwise(merged))


def test_merge_joins_touching_and_overlapping_periods() -> None:
    assert merge([Period(day(3), day(4)), Period(day(0), day(2)), Period(day(2), day(3))]) == [
        Period(day(0), day(4))
    ]
    assert merge([Period(day(0), day(5)), Period(day(1), day(2)), Period(day(7), day(8))]) == [
        Period(day(0), day(5)),
        Period(day(7), day(8)),
    ]


def test_split_by_day_follows_local_midnights_across_daylight_saving() -> None:
    period = resolve_period("[2023-03-25, 2023-03-27]", timezone="Europe/Berlin")

    chunks = split(period, "day", "Europe/Berlin")

    assert [c.duration for c in chunks] == [
        timedelta(hours=24),
        timedelta(hours=23),  # the clocks went forward
        timedelta(hours=24),
    ]
    assert chunks[0].start == period.start and chunks[-1].end == period.end


def test_split_by_week_and_month_cuts_at_calendar_boundaries_keeping_partial_ends() -> None:
    period = resolve_period("[2023-01-15, 2023-03-10]")

    months = split(period, "month")
    weeks = split(period, "week")

    assert [(c.start_iso, c.end_iso) for c in months] == [
        ("2023-01-15T00:00:00Z", "2023-02-01T00:00:00Z"),
        ("2023-02-01T00:00:00Z", "2023-03-01T00:00:00Z"),
        ("2023-03-01T00:00:00Z", "2023-03-11T00:00:00Z"),
    ]
    assert weeks[0].end_iso == "2023-01-16T00:00:00Z"  # 2023-01-15 is a Sunday
    assert all(c.start.weekday() == 0 for c in weeks[1:])
    assert merge(weeks) == [period]


def test_split_by_a_duration_steps_from_the_start() -> None:
    period = resolve_period("[2023-05-01T00:00, 2023-05-02T03:00]")

    chunks = split(period, "PT6H")

    assert len(chunks) == 5 and chunks[-1].duration == timedelta(hours=3)
    assert merge(chunks) == [period]


@pytest.mark.parametrize("bad", ["fortnight", "P", "-P1D", "PT0S", "1d", ""])
def test_a_bad_split_unit_is_one_clear_error(bad: str) -> None:
    with pytest.raises(UsageError, match="--split must be day, week, month or an ISO 8601"):
        check_split(bad)


def test_lookback_reads_whole_units_and_refuses_the_rest() -> None:
    assert [lookback(t) for t in ("3d", "12h", "2w", "1m")] == ["P3D", "PT12H", "P2W", "P1M"]
    for bad in ("0d", "d", "3y", "-1d", "1.5d", "9999999d"):
        with pytest.raises(UsageError, match="--lookback must be a whole number"):
            lookback(bad)
    window = lookback_period(datetime(2023, 3, 27, tzinfo=UTC), "P2D", "UTC")
    assert (window.start_iso, window.end_iso) == ("2023-03-25T00:00:00Z", "2023-03-27T00:00:00Z")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": 3}, "--split must be a string, not int"),
        ({"lookback": 7}, "--lookback must be a string, not int"),
        ({"until": 5}, "--until must be a string, not int"),
        ({"keep_going": "yes"}, "--keep-going must be true or false, not str"),
        ({"nope": 1}, "run_backfill() got an unknown option 'nope'"),
    ],
)
def test_run_backfill_refuses_bad_arguments_with_one_line(
    kwargs: dict[str, object], message: str
) -> None:
    import etl_session

    with pytest.raises(UsageError) as refused:
        etl_session.run_backfill(period="2023-05", **kwargs)  # type: ignore[arg-type]
    assert str(refused.value) == message
