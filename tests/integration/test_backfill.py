"""Gaps and backfills for real: what a run without --period loads, --split chunks with one
session each, reruns that skip what is loaded, --keep-going, --reload, --lookback, --dry-run.

The first test is the failure the coverage issue quotes: a failed February between a good
January and a good March was skipped forever by the old "continue after the largest end" rule.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

EVENTS = [
    (1, "2023-01-10 00:00:00", 1.0),
    (2, "2023-02-10 00:00:00", 2.0),
    (3, "2023-02-27 23:00:00", 3.0),
    (4, "2023-03-10 00:00:00", 4.0),
    (5, "2023-03-28 12:00:00", 5.0),
]
FAIL = "{with_failing_post_hook: true}"


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, status, period_start, period_end from analytics.etl_sessions"
        " order by session_id"
    )


def facts(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query("select id, session_id from analytics.fct_events order by id")


def load(wh: Warehouse, *args: str) -> Any:
    run = wh.etl_run(*args, "-s", "fct_events", "-q")
    return run


def chunks(run: Any) -> list[tuple[str, str, str]]:
    assert run.stdout.startswith("{"), run.output
    payload = json.loads(run.stdout)
    return [(c["period_start"][:10], c["period_end"][:10], c["status"]) for c in payload["chunks"]]


def test_a_failed_february_between_good_months_is_loaded_by_the_next_run(
    warehouse: Warehouse,
) -> None:
    wh = warehouse
    wh.insert_events(EVENTS)
    assert load(wh, "--period", "2023-01").returncode == 0
    assert load(wh, "--period", "2023-02", "--vars", FAIL).returncode == 1
    assert load(wh, "--period", "2023-03").returncode == 0
    assert [row[0] for row in facts(wh)] == [1, 4, 5]  # February's rows never landed

    dry = load(wh, "--until", "2023-04-01", "--dry-run", "--json")
    assert dry.returncode == 0, dry.output
    assert chunks(dry) == [("2023-02-01", "2023-03-01", "planned")]
    assert len(sessions(wh)) == 3  # a dry run writes nothing

    run = load(wh, "--until", "2023-04-01", "--json")

    assert run.returncode == 0, run.output
    assert chunks(run) == [("2023-02-01", "2023-03-01", "success")]
    assert [row[0] for row in facts(wh)] == [1, 2, 3, 4, 5]
    again = load(wh, "--until", "2023-04-01")
    assert again.returncode == 0, again.output
    assert again.stdout.startswith("data is up to date: loaded up to 2023-04-01T00:00:00Z")
    assert [s[1] for s in sessions(wh)] == ["success", "error", "success", "success"]


def test_split_loads_one_session_per_chunk_and_a_rerun_skips_what_is_loaded(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    period = "[2023-01-01, 2023-03-31]"

    failed = load(wh, "--period", period, "--split", "month", "--vars", FAIL, "--json")

    assert failed.returncode == 1, failed.output
    assert chunks(failed) == [
        ("2023-01-01", "2023-02-01", "error"),
        ("2023-02-01", "2023-03-01", "not-run"),  # stops at the first failed chunk
        ("2023-03-01", "2023-04-01", "not-run"),
    ]

    first = load(wh, "--period", "[2023-01-01, 2023-01-31]")
    assert first.returncode == 0, first.output
    rest = load(wh, "--period", period, "--split", "month", "--json")

    assert rest.returncode == 0, rest.output
    assert chunks(rest) == [
        ("2023-01-01", "2023-02-01", "skipped"),  # loaded by the run above
        ("2023-02-01", "2023-03-01", "success"),
        ("2023-03-01", "2023-04-01", "success"),
    ]
    assert [s[1] for s in sessions(wh)] == ["error", "success", "success", "success"]
    assert [row[0] for row in facts(wh)] == [1, 2, 3, 4, 5]

    nothing = load(wh, "--period", period, "--split", "month")
    assert nothing.returncode == 0, nothing.output
    assert "already loaded" in nothing.stdout
    assert len(sessions(wh)) == 4

    reloaded = load(wh, "--period", period, "--split", "month", "--reload", "--json")
    assert reloaded.returncode == 0, reloaded.output
    assert [c[2] for c in chunks(reloaded)] == ["success"] * 3
    assert [row[1] for row in facts(wh)] == [5, 6, 6, 7, 7]  # the reload's sessions own them


def test_keep_going_loads_the_other_chunks_and_exits_1(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    # February fails: a model whose rows February's data breaks is simulated by the failing
    # post-hook on one chunk only, through a second run that reloads it.
    run = load(
        wh, "--period", "[2023-01-01, 2023-03-31]", "--split", "month", "--keep-going",
        "--vars", FAIL, "--json",
    )  # fmt: skip

    assert run.returncode == 1, run.output
    assert [c[2] for c in chunks(run)] == ["error", "error", "error"]
    assert len(sessions(wh)) == 3

    healed = load(wh, "--until", "2023-04-01", "--split", "month", "--json")
    assert healed.returncode == 0, healed.output
    assert [c[2] for c in chunks(healed)] == ["success"] * 3


def test_lookback_reloads_the_last_days_before_the_newest_loaded_end(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    assert load(wh, "--period", "[2023-01-01, 2023-03-31]").returncode == 0
    wh.insert_events([(6, "2023-03-29 08:00:00", 6.0)])  # arrived late

    run = load(wh, "--until", "2023-04-01", "--lookback", "7d", "--json")

    assert run.returncode == 0, run.output
    assert chunks(run) == [("2023-03-25", "2023-04-01", "success")]
    assert [row[0] for row in facts(wh)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2023-05", "--split", "fortnight"], "--split must be day, week, month"),
        (["--lookback", "3y"], "--lookback must be a whole number"),
        (["--period", "2023-05", "--missing"], "leave out --period"),
        (["--reload"], "--reload needs --period"),
    ],
)
def test_bad_backfill_input_is_one_line_and_touches_nothing(
    duckdb_warehouse: Warehouse, args: list[str], message: str
) -> None:
    run = duckdb_warehouse.etl_run(*args)

    assert run.returncode == 2, run.output
    assert run.stderr.startswith("Error: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not duckdb_warehouse.table_exists("analytics", "etl_sessions")


def test_missing_counts_from_the_models_beginning(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    begin = "{fct_events_begin: '2023-01-01'}"
    assert load(wh, "--period", "2023-03", "--vars", begin).returncode == 0

    run = load(wh, "--until", "2023-04-01", "--split", "month", "--vars", begin, "--json")

    assert run.returncode == 0, run.output
    assert chunks(run) == [
        ("2023-01-01", "2023-02-01", "success"),
        ("2023-02-01", "2023-03-01", "success"),
    ]
    assert [row[0] for row in facts(wh)] == [1, 2, 3, 4, 5]


EPHEMERAL = """{{ config(materialized='ephemeral') }}
select e.id, e.occurred_at, e.amount from {{ etl_session.period_source('raw', 'events') }} as e
"""
DAILY = """{{ config(materialized='etl_period', etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, id, occurred_at, amount
from {{ ref('eph_events') }}
"""


def test_every_chunk_reads_its_own_period_through_an_ephemeral_model(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    # All chunks run in one process: a compiled ephemeral CTE must not carry one chunk's period
    # into the next.
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "eph")
    (project / "models" / "eph_events.sql").write_text(EPHEMERAL)
    (project / "models" / "daily_eph.sql").write_text(DAILY)
    install_packages(project, duckdb_warehouse.env())
    wh = Warehouse("duckdb", duckdb_warehouse.workdir, None, project_dir=project)
    wh.insert_events([(i, f"2023-05-0{i} 12:00:00", float(i)) for i in range(1, 5)])

    run = wh.etl_run("--period", "[2023-05-01, 2023-05-04]", "--split", "day", "-s", "daily_eph",
                     "-q", "--json")  # fmt: skip

    assert run.returncode == 0, run.output
    assert [c[2] for c in chunks(run)] == ["success"] * 4
    rows = wh.query("select id, session_id from analytics.daily_eph order by id")
    assert rows == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_a_terminal_gets_a_progress_bar_and_a_pipe_gets_plain_lines(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    args = ["--period", "[2023-01-01, 2023-03-31]", "--split", "month", "-s", "fct_events"]
    master, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*wh.etl_run_command(*args)], cwd=wh.workdir, env=wh.env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, text=True,
        )  # fmt: skip
        os.close(terminal)
        screen = b""
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            screen += data
        stdout, _ = proc.communicate(timeout=600)
    finally:
        os.close(master)

    assert proc.returncode == 0, stdout + screen.decode(errors="replace")
    shown = screen.decode(errors="replace")
    assert "loading 3 chunks" in shown and "3/3" in shown
    assert "START" not in stdout + shown  # no dbt log lines under the bar
    assert stdout.startswith("backfill success · 3 chunks · 2023-01-01T00:00:00Z")

    plain = wh.etl_run(*args, "--reload", "-q")
    assert plain.returncode == 0, plain.output
    lines = plain.stdout.splitlines()
    assert [line[:18] for line in lines[:3]] == [f"chunk {n} · session " for n in (1, 2, 3)]
    assert lines[3].startswith("backfill success · 3 chunks")
    assert "loading 3 chunks" not in plain.output


def test_sigterm_mid_backfill_ends_the_running_chunk_and_starts_no_other(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    # Some 30 s on 2 cores: the chunk cannot end before the signal, and should dbt's cancel
    # miss the query (it interrupts only a query DuckDB runs), it still ends within the timeout.
    rows = 10_000_000_000
    slow = f"{{with_slow: true, slow_seconds: 6, slow_rows: {rows}}}"
    log = wh.workdir / "logs-backfill" / "dbt.log"
    logged = log.stat().st_size if log.exists() else 0
    proc = wh.spawn_etl_run(
        "--period", "[2023-01-01, 2023-03-31]", "--split", "month", "--vars", slow,
        "-s", "fct_events", "slow", name="backfill",
    )  # fmt: skip
    # The signal comes once the slow model sends its query: dbt logs each query as it sends it.
    deadline = time.monotonic() + 300
    while not (log.exists() and f"range({rows})".encode() in log.read_bytes()[logged:]):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the slow model's query never started"
        time.sleep(0.1)
    time.sleep(1.0)  # from dbt's log line to DuckDB running the query: a few Python calls
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=300)

    assert proc.returncode == 143, output
    assert [s[1] for s in sessions(wh)] == ["error"]  # one chunk started, none left running
    [(message,)] = wh.query("select message from analytics.etl_sessions")
    assert message == "terminated by SIGTERM"
