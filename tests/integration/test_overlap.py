"""Loads of one project and target never run at the same time (whatever their periods and
sources): tested with real processes started within milliseconds of each other. The loser is
refused with exit code 2 naming the running session, or queues behind it with --wait."""

from __future__ import annotations

import subprocess
from datetime import datetime
from typing import Any

import pytest

from warehouse import Warehouse

pytestmark = pytest.mark.integration

EVENTS = [(1, "2023-05-01 00:00:00", 1.0), (2, "2023-06-15 12:00:00", 2.0)]
SLOW = "{with_slow: true, slow_seconds: 6, slow_rows: 1000000000}"


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, status, started, finished from analytics.etl_sessions"
        " order by session_id"
    )


def test_two_overlapping_loads_started_together_never_run_together(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    first = warehouse.spawn_etl_run(
        "--period", "2023-05", "--vars", SLOW, "-s", "+fct_events", "slow", name="a"
    )
    second = warehouse.spawn_etl_run(
        "--period", "2023-05", "--vars", SLOW, "-s", "+fct_events", "slow", name="b"
    )

    outputs = {proc: proc.communicate(timeout=300)[0] for proc in (first, second)}

    codes = sorted(proc.returncode for proc in outputs)
    assert codes == [0, 2], outputs
    [(session_id, status, *_)] = sessions(warehouse)
    assert status == "success"
    loser = next(output for proc, output in outputs.items() if proc.returncode == 2)
    if warehouse.name == "postgres":
        assert f"session {session_id} " in loser and "running" in loser, loser
    else:  # DuckDB: one process per file, the file lock refuses the second
        assert "Could not set lock on file" in loser
    assert "Traceback" not in loser


def test_loads_of_other_periods_of_one_project_queue_instead_of_running_side_by_side(
    postgres_warehouse: Warehouse,
) -> None:
    # Issue 9: loads of different months of one project, started together, deleted each
    # other's rows through the shared views they all rebuilt. One load of a project and target
    # runs at a time; with --wait the others queue and all succeed.
    wh = postgres_warehouse
    wh.insert_events(EVENTS)
    slow = "{with_slow_check: true, slow_seconds: 4}"
    may = wh.spawn_etl_run("--period", "2023-05", "--vars", slow, "--wait", "300", name="a")
    june = wh.spawn_etl_run("--period", "2023-06", "--vars", slow, "--wait", "300", name="b")

    outputs = [proc.communicate(timeout=300)[0] for proc in (may, june)]

    assert (may.returncode, june.returncode) == (0, 0), outputs
    (_, s1, _, finished1), (_, s2, started2, _) = sessions(wh)
    assert (s1, s2) == ("success", "success")
    assert started2 >= finished1  # one after the other
    assert [row[0] for row in wh.query("select id from analytics.fct_events order by id")] == [1, 2]


def test_wait_lets_an_overlapping_load_start_when_the_first_ends(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    first = warehouse.spawn_etl_run(
        "--period", "2023-05", "--vars", SLOW, "-s", "+fct_events", "slow", name="a"
    )
    assert first.stdout is not None
    for line in first.stdout:
        if "START sql table model" in line and "slow" in line:
            break

    waited = warehouse.etl_run("--period", "[2023-05-15, 2023-06-15]", "--wait", "300", "-q")
    first_output = first.communicate(timeout=300)[0]

    assert (first.returncode, waited.returncode) == (0, 0), (first_output, waited.output)
    (_, s1, _, finished1), (_, s2, started2, _) = sessions(warehouse)
    assert (s1, s2) == ("success", "success")
    assert started2 >= finished1
    assert isinstance(started2, datetime)


def test_a_reader_of_the_sessions_table_does_not_hold_up_a_load(
    postgres_warehouse: Warehouse,
) -> None:
    """A dashboard or a person may keep a transaction open that has read the sessions table.
    A load must not wait for it: every lock stronger than a row lock on that table (an ALTER,
    say) would queue behind the reader, and every later reader behind the load."""
    wh = postgres_warehouse
    wh.insert_events(EVENTS)
    first = wh.etl_run("--period", "2023-05", "-s", "fct_events")
    assert first.returncode == 0, first.output
    assert wh.pg is not None
    reader = wh.pg.connect()
    reader.autocommit = False  # the reader's transaction stays open until the end
    try:
        with reader.cursor() as cur:
            cur.execute("select count(*) from analytics.etl_sessions")
            cur.execute("select count(*) from analytics.etl_session_results")
        command = wh.etl_run_command("--period", "2023-06", "-s", "fct_events")
        try:
            run = subprocess.run(
                command, cwd=wh.workdir, env=wh.env(), capture_output=True, text=True, timeout=90
            )
        except subprocess.TimeoutExpired as stuck:
            raise AssertionError(f"the load waited 90 s for the reader: {stuck.output!r}") from None
        assert run.returncode == 0, run.stdout + run.stderr
        with reader.cursor() as cur:  # still open: the load ran beside it
            cur.execute("select txid_current_if_assigned() is null, now() = statement_timestamp()")
            assert cur.fetchone() == (True, False)
    finally:
        reader.rollback()
        reader.close()
    statuses = [status for _, status, *_ in sessions(wh)]
    assert statuses == ["success", "success"]
