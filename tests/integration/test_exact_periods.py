"""Exact periods on every column type, in every zone, whatever the connection's zone (issue 8).

The package's own period predicate runs in the real warehouse against a table that holds the
same instants as every column type (naive UTC, timestamptz, naive local wall-clock of several
zones, local dates), over both DST changes of each zone and a year end. Expected rows are
computed independently in Python with zoneinfo. One dbt call evaluates many periods, so the
tables stay large without thousands of dbt processes.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

UTC = timezone.utc
TICK = timedelta(microseconds=1)

#: column suffix -> zone whose wall-clock time and local dates the table holds
ZONES = {
    "utc": "UTC",
    "ny": "America/New_York",
    "berlin": "Europe/Berlin",
    "kolkata": "Asia/Kolkata",
    "lordhowe": "Australia/Lord_Howe",  # clocks move by 30 minutes
}
#: UTC days holding data: every DST change of the zones above in 2023, and the year end
WINDOWS = [
    (date(2023, 3, 11), date(2023, 3, 14)),  # New York springs forward 2023-03-12
    (date(2023, 3, 25), date(2023, 3, 28)),  # Berlin springs forward 2023-03-26
    (date(2023, 4, 1), date(2023, 4, 4)),  # Lord Howe falls back 2023-04-02
    (date(2023, 9, 30), date(2023, 10, 3)),  # Lord Howe springs forward 2023-10-01
    (date(2023, 10, 28), date(2023, 10, 31)),  # Berlin falls back 2023-10-29
    (date(2023, 11, 4), date(2023, 11, 7)),  # New York falls back 2023-11-05
    (date(2023, 12, 30), date(2024, 1, 2)),  # the year end
]
#: The connection's own time zone must not matter: run every case under a foreign one too.
CONNECTION_ZONES = {
    "duckdb": [None, "Asia/Kolkata"],
    "postgres": [None, "America/New_York"],
}


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _instants() -> list[datetime]:
    """Every 15 minutes over the windows, plus the microsecond before every whole hour."""
    found: set[datetime] = set()
    for first, last in WINDOWS:
        moment = _utc(first)
        while moment < _utc(last):
            found.add(moment)
            if moment.minute == 0:
                found.add(moment - TICK)
            moment += timedelta(minutes=15)
    return sorted(found)


INSTANTS = _instants()


def _wall(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _first_instant(wall: datetime, zone: str) -> datetime:
    """What a naive wall-clock value stands for: its earlier instant when the clock repeats."""
    tz = ZoneInfo(zone)
    return min(wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))


def _local_date(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // TICK


def _text(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


def create_instants(warehouse: Warehouse) -> None:
    columns = ["id integer", "ts_utc timestamp", "ts_tz timestamp with time zone"]
    for suffix in ZONES:
        columns += [f"wall_{suffix} timestamp", f"date_{suffix} date"]
    warehouse.execute(f"create table raw.instants ({', '.join(columns)})")
    values = []
    for index, instant in enumerate(INSTANTS):
        parts = [
            str(index),
            f"cast('{_text(instant.replace(tzinfo=None))}' as timestamp)",
            f"cast('{_text(instant.replace(tzinfo=None))}+00:00' as timestamp with time zone)",
        ]
        for zone in ZONES.values():
            parts += [
                f"cast('{_text(_wall(instant, zone))}' as timestamp)",
                f"cast('{_local_date(instant, zone).isoformat()}' as date)",
            ]
        values.append(f"({', '.join(parts)})")
    for start in range(0, len(values), 1000):
        chunk = ", ".join(values[start : start + 1000])
        warehouse.execute(f"insert into raw.instants values {chunk}")


# --- expected rows, computed in Python ----------------------------------------------------


@functools.cache
def _keys(column: str) -> list[object]:
    """What decides each row's period, for one column, sorted (for bisection)."""
    kind, _, suffix = column.partition("_")
    if column in {"ts_utc", "ts_tz"}:
        return sorted(INSTANTS)
    zone = ZONES[suffix]
    if kind == "wall":
        return sorted(_first_instant(_wall(i, zone), zone) for i in INSTANTS)
    return sorted(_local_date(i, zone) for i in INSTANTS)


def expected_count(column: str, period: tuple[datetime, datetime]) -> int:
    start, end = period
    keys = _keys(column)
    low: object = start
    high: object = end
    if column.startswith("date_"):
        zone = ZONES[column.partition("_")[2]]
        low, high = _local_date(start, zone), _local_date(end, zone)
    return bisect.bisect_left(keys, high) - bisect.bisect_left(keys, low)  # type: ignore[arg-type]


def column_specs(suffix: str, *, dates: bool) -> list[dict[str, str | None]]:
    zone = ZONES[suffix]
    specs: list[dict[str, str | None]] = [
        {"name": "ts_utc", "data_type": "timestamp", "column_timezone": None},
        {"name": "ts_tz", "data_type": "timestamptz", "column_timezone": None},
        {"name": f"wall_{suffix}", "data_type": "timestamp", "column_timezone": zone},
    ]
    if dates:
        specs.append({"name": f"date_{suffix}", "data_type": "date", "column_timezone": None})
    return specs


def local_days(zone: str) -> list[tuple[datetime, datetime]]:
    """Consecutive local days of `zone` that lie wholly inside the data (a tiling per window)."""
    tz = ZoneInfo(zone)
    periods = []
    for first, last in WINDOWS:
        day = first + timedelta(days=1)
        while day < last - timedelta(days=1):
            start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
            nxt = day + timedelta(days=1)
            end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(UTC)
            periods.append((start, end))
            day = nxt
    return periods


def half_hours() -> list[tuple[datetime, datetime]]:
    """Consecutive 30-minute periods over the middle UTC day of every window: they cut through
    every DST change, its repeated and its skipped hour."""
    periods = []
    for first, _ in WINDOWS:
        moment = _utc(first + timedelta(days=1)) - timedelta(hours=12)
        for _ in range(96):
            periods.append((moment, moment + timedelta(minutes=30)))
            moment += timedelta(minutes=30)
    return periods


def period_counts(
    warehouse: Warehouse, jobs: Sequence[dict[str, object]], env: dict[str, str] | None = None
) -> list[dict[str, list[int]]]:
    sets: dict[str, list[list[int]]] = {}
    named = []
    for job in jobs:
        periods = [[_micros(start), _micros(end)] for start, end in job["periods"]]  # type: ignore[attr-defined]
        key = json.dumps(periods)
        name = next((k for k, v in sets.items() if json.dumps(v) == key), f"p{len(sets)}")
        sets[name] = periods
        named.append({"zone": job["zone"], "columns": job["columns"], "periods": name})
    payload = {"table": "raw.instants", "jobs": named, "period_sets": sets}
    run = warehouse.dbt("run-operation", "it_period_counts", "--args", json.dumps(payload), env=env)
    match = re.search(r"it_period_counts (\[.*\])", run.output)
    assert match, run.output
    connection_zone = (env or {}).get("PGTZ") or (env or {}).get("TZ")
    if connection_zone:
        # The foreign zone really is the connection's: otherwise this case proves nothing.
        assert f"it_period_connection_zone {connection_zone}\n" in run.output, run.output
    answer: list[dict[str, list[int]]] = json.loads(match.group(1))
    return answer


def connection_env(warehouse: Warehouse, zone: str | None) -> dict[str, str]:
    if zone is None:
        return {}
    return {"PGTZ": zone} if warehouse.name == "postgres" else {"TZ": zone}


def check(
    answers: Iterable[dict[str, list[int]]], jobs: Sequence[dict[str, object]]
) -> tuple[int, int]:
    """Compare every count with Python's; returns (periods checked, rows checked)."""
    periods = rows = 0
    for job, answer in zip(jobs, answers, strict=True):
        for spec in job["columns"]:  # type: ignore[attr-defined]
            name = spec["name"]
            expected = [expected_count(name, p) for p in job["periods"]]  # type: ignore[attr-defined]
            assert answer[name] == expected, (job["zone"], name)
            periods += len(expected)
            rows += sum(expected)
    return periods, rows


# --- tests --------------------------------------------------------------------------------


@pytest.fixture
def instants(warehouse: Warehouse) -> Warehouse:
    create_instants(warehouse)
    warehouse.dbt("deps")
    return warehouse


@pytest.mark.parametrize(
    "connection_zone", [0, 1], ids=["connection-default", "connection-foreign"]
)
def test_every_column_type_is_exact_in_every_zone(
    instants: Warehouse, connection_zone: int
) -> None:
    warehouse = instants
    env = connection_env(warehouse, CONNECTION_ZONES[warehouse.name][connection_zone])
    jobs: list[dict[str, object]] = []
    for suffix, zone in ZONES.items():
        # whole local days: every column type, dates included, tiling each window
        days = local_days(zone)
        jobs.append({"zone": zone, "columns": column_specs(suffix, dates=True), "periods": days})
        # half hours through the DST changes: timestamp types (a date cannot hold half a day)
        halves = half_hours()
        jobs.append({"zone": zone, "columns": column_specs(suffix, dates=False), "periods": halves})

    periods, rows = check(period_counts(warehouse, jobs, env), jobs)

    assert periods > 2000 and rows > 10000


def test_the_boundary_instants_start_in_end_out(instants: Warehouse) -> None:
    warehouse = instants
    start = datetime(2023, 11, 5, 6, tzinfo=UTC)  # New York's clocks go back at this instant
    jobs: list[dict[str, object]] = [
        {"zone": "UTC", "columns": column_specs("utc", dates=False), "periods": [(start, end)]}
        for end in (start + TICK,)
    ] + [
        {"zone": "UTC", "columns": column_specs("utc", dates=False), "periods": [(begin, start)]}
        for begin in (start - TICK,)
    ]
    answers = period_counts(warehouse, jobs)

    assert answers[0]["ts_utc"] == [1] and answers[0]["ts_tz"] == [1]  # the start is in
    assert answers[1]["ts_utc"] == [1] and answers[1]["ts_tz"] == [1]  # the row 1 µs before
    check(answers, jobs)


def test_a_repeated_hour_of_wall_clock_time_belongs_to_its_first_pass(instants: Warehouse) -> None:
    warehouse = instants
    # New York, 2023-11-05: 01:00-02:00 local happens twice (05:00-06:00Z and 06:00-07:00Z).
    first_pass = (datetime(2023, 11, 5, 5, tzinfo=UTC), datetime(2023, 11, 5, 6, tzinfo=UTC))
    second_pass = (datetime(2023, 11, 5, 6, tzinfo=UTC), datetime(2023, 11, 5, 7, tzinfo=UTC))
    spec = [{"name": "wall_ny", "data_type": "timestamp", "column_timezone": "America/New_York"}]
    jobs: list[dict[str, object]] = [
        {"zone": "America/New_York", "columns": spec, "periods": [first_pass, second_pass]}
    ]

    [answer] = period_counts(warehouse, jobs)

    # both passes' rows hold the same wall-clock values: all of them load with the first pass
    per_pass = sum(first_pass[0] <= i < first_pass[1] for i in INSTANTS)
    assert answer["wall_ny"] == [2 * per_pass, 0]
    check([answer], jobs)


def test_a_period_that_is_not_whole_local_days_is_refused_on_a_date_column(
    instants: Warehouse,
) -> None:
    warehouse = instants
    spec = [{"name": "date_berlin", "data_type": "date", "column_timezone": None}]
    half_day = (datetime(2023, 3, 26, 0, tzinfo=UTC), datetime(2023, 3, 26, 12, tzinfo=UTC))
    payload = {
        "table": "raw.instants",
        "jobs": [{"zone": "Europe/Berlin", "columns": spec, "periods": "p0"}],
        "period_sets": {"p0": [[_micros(half_day[0]), _micros(half_day[1])]]},
    }

    args = json.dumps(payload)
    run = warehouse.dbt("run-operation", "it_period_counts", "--args", args, check=False)

    assert run.returncode != 0
    assert (
        "is 2023-03-26 01:00 in Europe/Berlin, not a midnight: "
        "a date column cannot hold part of a day"
    ) in run.output


# --- property: random tilings in random zones -----------------------------------------------


@st.composite
def tilings(draw: st.DrawFn) -> dict[str, object]:
    """A random zone and a random tiling of part of one window (whole local days for dates)."""
    suffix = draw(st.sampled_from(sorted(ZONES)))
    zone = ZONES[suffix]
    first, last = draw(st.sampled_from(WINDOWS))
    dates = draw(st.booleans())
    if dates:
        days = [p for p in local_days(zone) if _utc(first) <= p[0] and p[1] <= _utc(last)]
        periods = days[: draw(st.integers(min_value=1, max_value=len(days)))]
    else:
        low = _utc(first) + timedelta(hours=14)
        span = int((_utc(last) - timedelta(hours=14) - low).total_seconds())
        cuts = sorted(
            set(
                draw(
                    st.lists(
                        st.integers(min_value=0, max_value=span * 1_000_000),
                        min_size=2,
                        max_size=12,
                    )
                )
            )
        )
        if len(cuts) < 2:
            cuts = [0, span * 1_000_000]
        bounds = [low + timedelta(microseconds=c) for c in cuts]
        periods = list(itertools.pairwise(bounds))
    return {"zone": zone, "columns": column_specs(suffix, dates=dates), "periods": periods}


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(jobs=st.lists(tilings(), min_size=6, max_size=6))
def test_random_tilings_load_every_row_exactly_once(
    instants: Warehouse, jobs: list[dict[str, object]]
) -> None:
    answers = period_counts(instants, jobs)

    check(answers, jobs)
    for job, answer in zip(jobs, answers, strict=True):
        periods = job["periods"]
        span = (periods[0][0], periods[-1][1])  # type: ignore[index]
        for spec in job["columns"]:  # type: ignore[attr-defined]
            # the union of the tiling's loads is exactly the source rows of the whole span
            assert sum(answer[spec["name"]]) == expected_count(spec["name"], span)


# --- end to end: etl-run --timezone loads real models of every column type -------------------

E2E_MODELS = {
    # the package's materialization, every type read from the warehouse
    "exact_utc": "{{ config(materialized='etl_period', etl_period_column='ts_utc') }}\n"
    "select {{ etl_session.session_id() }} as session_id, id, ts_utc\n"
    "from {{ etl_session.period_source('raw', 'instants', 'ts_utc') }} as i\n",
    "exact_tz": "{{ config(materialized='etl_period', etl_period_column='ts_tz') }}\n"
    "select {{ etl_session.session_id() }} as session_id, id, ts_tz\n"
    "from {{ etl_session.period_source('raw', 'instants', 'ts_tz') }} as i\n",
    "exact_wall": "{{ config(materialized='etl_period', etl_period_column='wall_ny',"
    " etl_period_column_timezone='America/New_York') }}\n"
    "select {{ etl_session.session_id() }} as session_id, id, wall_ny\n"
    "from {{ etl_session.period_source('raw', 'instants', 'wall_ny',"
    " column_timezone='America/New_York') }} as i\n",
    # the incremental strategy route, on a date column
    "exact_date": "{{ config(materialized='incremental', incremental_strategy='etl_period',"
    " etl_period_column='date_ny') }}\n"
    "select {{ etl_session.session_id() }} as session_id, id, date_ny\n"
    "from {{ etl_session.period_source('raw', 'instants', 'date_ny') }} as i\n",
}
E2E_KEYS = {
    "exact_utc": "ts_utc",
    "exact_tz": "ts_tz",
    "exact_wall": "wall_ny",
    "exact_date": "date_ny",
}


@pytest.mark.parametrize("connection_zone", ["Asia/Kolkata"])
def test_etl_run_in_a_local_zone_loads_every_column_type_exactly(
    instants: Warehouse, tmp_path: Path, connection_zone: str
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "exact")
    for name, sql in E2E_MODELS.items():
        (project / "models" / f"{name}.sql").write_text(sql)
    sources = yaml.safe_load((project / "models" / "sources.yml").read_text())
    [raw] = [source for source in sources["sources"] if source["name"] == "raw"]
    raw["tables"].append({"name": "instants"})
    (project / "models" / "sources.yml").write_text(yaml.safe_dump(sources))
    install_packages(project, instants.env())
    wh = Warehouse(instants.name, instants.workdir, instants.pg, project_dir=project)
    env = {"PGTZ": connection_zone, "TZ": connection_zone}
    zone = "America/New_York"
    loads = ["[2023-03-11, 2023-11-04]", "2023-11-05", "[2023-11-06, 2024-01-01]", "2023-11-05"]

    for period in loads:  # the 25-hour fall-back day is loaded, then reloaded
        run = wh.etl_run("--period", period, "--timezone", zone, "-s", "exact_*", env=env)
        assert run.returncode == 0, run.output

    tz = ZoneInfo(zone)
    span = (
        datetime(2023, 3, 11, tzinfo=tz).astimezone(UTC),
        datetime(2024, 1, 2, tzinfo=tz).astimezone(UTC),
    )
    [(last_session,)] = wh.query("select max(session_id) from analytics.etl_sessions")
    for model, column in E2E_KEYS.items():
        ids = [row[0] for row in wh.query(f"select id from analytics.{model}")]
        assert len(ids) == len(set(ids)), f"{model}: duplicates"
        assert len(ids) == expected_count(column, span), model
        # the reloaded day's rows carry the session that reloaded them
        day = (
            datetime(2023, 11, 5, tzinfo=tz).astimezone(UTC),
            datetime(2023, 11, 6, tzinfo=tz).astimezone(UTC),
        )
        [(stamped,)] = wh.query(
            f"select count(*) from analytics.{model} where session_id = {int(last_session)}"
        )
        assert stamped == expected_count(column, day), model
