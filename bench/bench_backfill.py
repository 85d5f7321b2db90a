"""Backfills: etl-run --split against dbt microbatch, and etl-session coverage over many sessions.

    python bench/bench_backfill.py [--rows 1000000] [--days 31] [--rounds 3]
        [--adapters duckdb,postgres] [--sessions 10000]

Side by side in one run, order alternating every round, medians, new processes, wall time:

1. daily chunks: `etl-run --period <D days> --split day --per-run D --reload` (one session per
   day, all days in one dbt run) and, up to 31 days, `--split day` with one dbt run per chunk,
   against `dbt run` of a microbatch model with batch_size='day' over the same days
   (`--event-time-start/--event-time-end`);
2. monthly chunks: `etl-run --period 2023 --split month --reload` (12 sessions), one dbt run per
   chunk and with `--per-run 12`, against one single-period load of the year,
   `etl-run --period 2023`;
3. `etl-session coverage --json` with N sessions (and their per-node results) in the sessions
   table, with its plan kept (the fast path, etl_session._coverage_plan: checked first to
   import no dbt and to print what dbt's path prints) and with plans off (dbt's path), against
   `etl-session list --limit 1` (the floor of any command that asks dbt: Python, dbt's start-up
   and one run-operation) and the painting alone (etl_session.coverage.from_announcement).

N events over 2023 in raw.events; each method has its own target table (loaded once before).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bench_materialization import MODELS, fill_events, project, rotate, summary, timed  # noqa: E402

from pg_server import postgres_server  # noqa: E402
from warehouse import BIN, Warehouse, install_packages  # noqa: E402

MODELS.clear()
MODELS.update(
    {
        "bench_mat": """
{{ config(materialized='etl_period', etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ source('raw', 'events') }} as e
""",
        "bench_microbatch_day": """
{{ config(materialized='incremental', incremental_strategy='microbatch',
          unique_key=('id' if target.type == 'postgres' else none),
          event_time='occurred_at', batch_size='day', begin='2023-01-01') }}
select id, occurred_at, amount
from {{ source('raw', 'events') }}
""",
    }
)


def bench_daily(wh: Warehouse, days: int, rounds: int) -> dict[str, list[float]]:
    # From 2023-01-01: up to 365 days stay inside the year of events.
    period = f"2023-01-01/P{days}D"
    first, last = "2023-01-01T00:00:00", _plus_days("2023-01-01", days)
    etl_run = wh.etl_run_command(
        "-q", "--period", period, "--split", "day", "--reload", "-s", "bench_mat"
    )
    per_run = wh.etl_run_command(
        "-q", "--period", period, "--split", "day", "--per-run", str(days), "--reload",
        "-s", "bench_mat",
    )  # fmt: skip
    microbatch = [
        str(BIN / "dbt"), "--quiet", "run", "-s", "bench_microbatch_day", "--target", wh.name,
        "--event-time-start", first, "--event-time-end", last,
    ]  # fmt: skip
    env = wh.env()
    methods = [
        (f"--split day --per-run {days}", lambda: timed(per_run, env, wh.workdir)),
        ("microbatch day", lambda: timed(microbatch, env, wh.project_dir)),
    ]
    if days <= 31:  # one dbt run per chunk: ~0.3 s a chunk
        methods.append(("--split day (a run per chunk)", lambda: timed(etl_run, env, wh.workdir)))
    return rotate(rounds, methods)


def _plus_days(day: str, days: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=days)).isoformat() + "T00:00:00"


def bench_monthly(wh: Warehouse, rounds: int) -> dict[str, list[float]]:
    chunked = wh.etl_run_command(
        "-q", "--period", "2023", "--split", "month", "--reload", "-s", "bench_mat"
    )
    single = wh.etl_run_command("-q", "--period", "2023", "-s", "bench_mat")
    per_run = wh.etl_run_command(
        "-q", "--period", "2023", "--split", "month", "--per-run", "12", "--reload",
        "-s", "bench_mat",
    )  # fmt: skip
    env = wh.env()
    return rotate(
        rounds,
        [
            ("--split month --per-run 12", lambda: timed(per_run, env, wh.workdir)),
            ("--split month", lambda: timed(chunked, env, wh.workdir)),
            ("one load of 2023", lambda: timed(single, env, wh.workdir)),
        ],
    )


def fake_sessions(wh: Warehouse, count: int) -> None:
    """`count` consecutive daily sessions of bench_mat (every 10th failed) with their results."""
    wh.execute(
        "insert into analytics.etl_sessions (session_id, source, target, period_start,"
        " period_end, run_id, started, finished, status, project, liveness)"
        " select 1000000 + g, 'etl_it', '" + wh.name + "',"
        " timestamp '1990-01-01' + g * interval '1 day',"
        " timestamp '1990-01-01' + (g + 1) * interval '1 day',"
        " 'fake-' || cast(g as varchar), timestamp '2024-01-01' + g * interval '1 second',"
        " timestamp '2024-01-01' + g * interval '1 second',"
        " case when g % 10 = 0 then 'error' else 'success' end, 'etl_it', 'none'"
        f" from {_series(wh, count)}"
    )
    wh.execute(
        "insert into analytics.etl_session_results (session_id, node_id, status)"
        " select 1000000 + g, 'model.etl_it.bench_mat',"
        " case when g % 10 = 0 then 'error' else 'success' end"
        f" from {_series(wh, count)}"
    )


def _series(wh: Warehouse, count: int) -> str:
    if wh.name == "duckdb":
        return f"range(0, {count}) t(g)"
    return f"generate_series(0, {count - 1}) g"


def bench_coverage(wh: Warehouse, sessions: int, rounds: int) -> dict[str, list[float]]:
    from etl_session.coverage import from_announcement
    from etl_session.period import resolve_period

    fake_sessions(wh, sessions)
    command = [
        str(BIN / "etl-session"), "coverage", "--project-dir", str(wh.project_dir),
        "--target", wh.name, "--json",
    ]  # fmt: skip
    plans = wh.workdir / "coverage-plans"
    env = wh.env({"ETL_SESSION_COVERAGE_CACHE": str(plans)})
    no_plan = wh.env({"ETL_SESSION_COVERAGE_CACHE": "off"})
    answer: dict[str, object] = {}

    # The first run keeps the plan; then the fast path must say what dbt's path says, and must
    # not import dbt (read from the process itself), or the figures below mean nothing.
    def output(environment: dict[str, str], *python: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*python, *command], env=environment, cwd=wh.workdir, capture_output=True,
            text=True, check=True,
        )  # fmt: skip

    output(env)
    fast = output(env, sys.executable, "-X", "importtime")
    assert "import time:" in fast.stderr, "no import trace: the check below could not fail"
    assert "dbt.cli.main" not in fast.stderr, "no fast path"
    assert fast.stdout == output(no_plan).stdout, "the fast path and dbt's path disagree"

    def whole() -> float:
        return timed(command, env, wh.workdir)

    def through_dbt() -> float:
        return timed(command, no_plan, wh.workdir)

    def painting() -> float:
        if not answer:  # the raw announcement, read once by another process (the file lock)
            fetch = (
                "import json, sys; from etl_session import operator as o; "
                "w = o._warehouse(sys.argv[1], None, sys.argv[2], None); "
                "print(json.dumps(o._ask(w, 'coverage', {}, event='coverage', what='read')))"
            )
            proc = subprocess.run(
                [sys.executable, "-c", fetch, str(wh.project_dir), wh.name],
                env=env, cwd=wh.workdir, capture_output=True, text=True, check=True,
            )  # fmt: skip
            answer.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        started = time.perf_counter()
        until = resolve_period("today").start
        coverage = from_announcement(answer, until=until)
        assert len(coverage.models[0].segments) >= sessions // 10
        return time.perf_counter() - started

    floor = [
        str(BIN / "etl-session"), "list", "--project-dir", str(wh.project_dir),
        "--target", wh.name, "--json", "--limit", "1",
    ]  # fmt: skip
    return rotate(
        rounds,
        [
            ("etl-session coverage", whole),
            ("etl-session coverage, no plan (dbt)", through_dbt),
            ("etl-session list (floor of dbt)", lambda: timed(floor, env, wh.workdir)),
            ("painting only", painting),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--adapters", default="duckdb,postgres")
    parser.add_argument("--parts", default="daily,monthly,coverage")
    options = parser.parse_args()
    parts = options.parts.split(",")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as (server, _):
        project_dir = project(Path(tmp))
        for name in options.adapters.split(","):
            workdir = Path(tmp) / name
            workdir.mkdir()
            wh = Warehouse(name, workdir, server if name == "postgres" else None, project_dir)
            install_packages(project_dir, wh.env())
            wh.reset()
            fill_events(wh, 0, options.rows, "2023-01-01", 365 * 24 * 3600 / options.rows)
            if name == "postgres":
                wh.execute("create index events_time on raw.events (occurred_at)")
            first = wh.etl_run("-q", "--period", "2023", "-s", "bench_mat")
            assert first.returncode == 0, first.output
            wh.dbt("run", "-s", "bench_microbatch_day", "--event-time-start", "2023-01-01",
                   "--event-time-end", "2023-01-02")  # fmt: skip
            if name == "postgres":
                wh.execute("create index bench_mat_time on analytics.bench_mat (occurred_at)")
                wh.execute("create unique index bench_mb_id on analytics.bench_microbatch_day (id)")
            if "daily" in parts:
                print(f"{name}: {options.days} daily chunks, {options.rows:,} events", flush=True)
                daily = bench_daily(wh, options.days, options.rounds)
                print(summary(daily, "microbatch day"), flush=True)
            if "monthly" in parts:
                print(f"{name}: 2023 in monthly chunks against one load", flush=True)
                print(summary(bench_monthly(wh, options.rounds), "one load of 2023"), flush=True)
            if "coverage" in parts:
                print(f"{name}: coverage over {options.sessions:,} sessions", flush=True)
                found = bench_coverage(wh, options.sessions, options.rounds)
                print(summary(found, "painting only"), flush=True)
            [(count,)] = wh.query("select count(*) from analytics.bench_mat")
            assert count == options.rows, count  # every reload kept each row exactly once
            print(json.dumps({"adapter": name, "rows": count}), flush=True)


if __name__ == "__main__":
    main()
