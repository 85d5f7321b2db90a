"""The fault matrix, end to end: whatever fails, no session is left `running` once etl-run has
exited (after SIGKILL: once the next run has), and rows of earlier successful sessions stay."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from warehouse import BIN, INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

MAY_EVENTS = [(1, "2023-05-01 00:00:00", 1.0), (2, "2023-05-20 10:00:00", 2.0)]
JUNE_EVENTS = [(3, "2023-06-01 00:00:00", 3.0), (4, "2023-06-15 12:00:00", 4.0)]
# Every load started with SLOW is stopped by its test (killed, or its Postgres restarted or
# stopped): on DuckDB its rows take minutes of CPU, so the load is still running by then.
SLOW = "{with_slow: true, slow_seconds: 6, slow_rows: 200000000000}"


def facts(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, id, occurred_at, amount from analytics.fct_events order by id"
    )


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, status, message, period_start from analytics.etl_sessions"
        " order by session_id"
    )


def load_may(wh: Warehouse) -> list[tuple[Any, ...]]:
    """An earlier successful session whose rows every fault below must leave alone."""
    wh.insert_events(MAY_EVENTS + JUNE_EVENTS)
    run = wh.etl_run("--period", "2023-05", "-q")
    assert run.returncode == 0, run.output
    return facts(wh)


def assert_nothing_lost(wh: Warehouse, may_rows: list[tuple[Any, ...]]) -> None:
    assert [row for row in facts(wh) if row[1] in {1, 2}] == may_rows
    assert [row for row in sessions(wh) if row[1] == "running"] == []
    assert sessions(wh)[0][1] == "success"


def wait_for_line(proc: subprocess.Popen[str], *fragments: str) -> list[str]:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if all(fragment in line for fragment in fragments):
            return seen
    raise AssertionError("never saw " + repr(fragments) + ":\n" + "".join(seen))


def test_a_model_sql_error(warehouse: Warehouse) -> None:
    may = load_may(warehouse)

    run = warehouse.etl_run("--period", "2023-06", "--vars", "{with_failure: true}", "-q")

    assert run.returncode == 1, run.output
    assert sessions(warehouse)[-1][1] == "error"
    assert "model.etl_it.broken" in sessions(warehouse)[-1][2]
    assert [row[1] for row in facts(warehouse)] == [1, 2, 3, 4]  # fct_events ran before
    assert_nothing_lost(warehouse, may)


def test_a_failing_data_test(warehouse: Warehouse) -> None:
    may = load_may(warehouse)
    warehouse.insert_events([(5, "2023-06-20 00:00:00", -5.0)])

    run = warehouse.etl_run("--period", "2023-06", "--vars", "{with_failing_test: true}", "-q")

    assert run.returncode == 1, run.output
    [*_, (_, status, message, _)] = sessions(warehouse)
    assert status == "error"
    assert "test.etl_it.events_have_positive_amounts" in message
    assert "(fail)" in message
    assert_nothing_lost(warehouse, may)


def test_a_compile_error(warehouse: Warehouse, tmp_path: Path) -> None:
    may = load_may(warehouse)
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "broken")
    (project / "models" / "typo.sql").write_text("select {{ oops( }}\n")
    install_packages(project, warehouse.env())
    broken = Warehouse(warehouse.name, warehouse.workdir, warehouse.pg, project_dir=project)

    run = broken.etl_run("--period", "2023-06", "-q")

    assert run.returncode == 2, run.output
    assert sessions(warehouse)[-1][1] == "error"
    assert "Compilation Error in model typo" in sessions(warehouse)[-1][2]
    assert_nothing_lost(warehouse, may)
    assert [row[1] for row in facts(warehouse)] == [1, 2]


def test_an_on_run_end_hook_failing_after_the_close(warehouse: Warehouse) -> None:
    may = load_may(warehouse)

    run = warehouse.etl_run("--period", "2023-06", "--vars", "{with_failing_hook: true}", "-q")

    assert run.returncode == 1, run.output
    [*_, (_, status, message, _)] = sessions(warehouse)
    assert status == "error"  # the hook closed it as success; etl-run corrected it
    assert "on-run-end" in message
    assert_nothing_lost(warehouse, may)


def wait_until_sleeping(wh: Warehouse, timeout: float = 60, queries: int = 1) -> None:
    deadline = time.monotonic() + timeout
    probe = (
        "select count(*) from pg_stat_activity"
        " where state = 'active' and query like '%pg_sleep(%' and pid <> pg_backend_pid()"
    )
    while time.monotonic() < deadline:
        if wh.query(probe)[0][0] >= queries:
            return
        time.sleep(0.05)
    raise AssertionError(f"{queries} sleeping queries never reached the server")


def test_postgres_restarted_mid_run(postgres_warehouse: Warehouse, pg_cluster: Any) -> None:
    wh = postgres_warehouse
    may = load_may(wh)
    proc = wh.spawn_etl_run("--period", "2023-06", "--vars", SLOW, "-s", "fct_events", "slow")
    wait_for_line(proc, "START sql table model", "slow")
    wait_until_sleeping(wh)  # the START line comes before the query reaches the server

    pg_cluster.restart()
    output, _ = proc.communicate(timeout=300)

    assert proc.returncode == 1, output
    [*_, (_, status, message, _)] = sessions(wh)
    assert status == "error", output
    assert "connection" in message.lower() or "model.etl_it.slow" in message
    assert_nothing_lost(wh, may)


def test_a_session_that_cannot_be_closed_says_so_and_the_next_command_closes_it(
    postgres_warehouse: Warehouse, pg_cluster: Any
) -> None:
    # The README's failure table: the warehouse is gone when the load ends (and stays gone
    # longer than etl-run keeps trying): exit 1, the summary says the session could not be
    # closed, the row stays `running`; once the warehouse is back, the next etl-session command
    # closes it as abandoned (its owner's lock died with etl-run), and no row is lost.
    wh = postgres_warehouse
    may = load_may(wh)
    # fct_events pauses inside its transaction, so both models are in the server when it goes:
    # without the pause, whether fct_events finished first was a race.
    held = SLOW[:-1] + ", pause_in_transaction_seconds: 6}"
    proc = wh.spawn_etl_run(
        "--period", "2023-06", "--vars", held, "-s", "fct_events", "slow",
        env={"ETL_SESSION_REPAIR_RETRY_SECONDS": "2"},
    )  # fmt: skip
    wait_for_line(proc, "START sql table model", "slow")
    wait_until_sleeping(wh, queries=2)

    pg_cluster.down()
    try:
        output, _ = proc.communicate(timeout=300)
    finally:
        pg_cluster.up()

    assert proc.returncode == 1, output
    # The nodes that ran are counted although dbt raised in the on-run-end hook.
    assert "· 0 ok, 2 error, 2 skipped ·" in output, output
    assert "; the session could not be closed: " in output, output
    [*_, (left, status, _, _)] = sessions(wh)
    assert status == "running"

    listed = subprocess.run(
        [str(BIN / "etl-session"), "list", "--project-dir", str(wh.project_dir)],
        cwd=wh.workdir, env=wh.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stderr == f"closed running session {left} as abandoned: its owner is gone\n"
    [*_, (_, status, message, _)] = sessions(wh)
    assert status == "error" and message.startswith("abandoned"), message
    assert_nothing_lost(wh, may)


def test_sigkill_then_the_next_run_closes_the_abandoned_session(warehouse: Warehouse) -> None:
    may = load_may(warehouse)
    proc = warehouse.spawn_etl_run(
        "--period", "2023-06", "--vars", SLOW, "-s", "fct_events", "slow"
    )
    wait_for_line(proc, "START sql table model", "slow")

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(0.5)
    assert sessions(warehouse)[-1][1] == "running"  # nothing could close it

    run = warehouse.etl_run("--period", "2023-06", "-q")

    assert run.returncode == 0, run.output
    killed, reloaded = sessions(warehouse)[-2:]
    assert killed[1] == "error"
    assert killed[2].startswith("abandoned"), killed  # closed by the next load's open_session
    assert reloaded[1] == "success"
    assert [row[1] for row in facts(warehouse)] == [1, 2, 3, 4]
    assert_nothing_lost(warehouse, may)


def test_a_dead_session_of_another_period_is_closed_by_the_next_run(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    may = load_may(wh)
    proc = wh.spawn_etl_run("--period", "2023-06", "--vars", SLOW, "-s", "slow")
    wait_for_line(proc, "START sql table model", "slow")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    run = wh.etl_run("--period", "2023-07", "-q")

    assert run.returncode == 0, run.output
    assert [row[1] for row in sessions(wh)[1:]] == ["error", "success"]
    assert sessions(wh)[1][2].startswith("abandoned")
    assert_nothing_lost(wh, may)


# A live load is never closed as abandoned by a second load (which now exits 2 or queues with
# --wait, one load per project and target): tests/integration/test_signals.py.
