"""Signals and liveness with real etl-run processes: SIGTERM is handled like Ctrl-C, a SIGKILLed
load is recognised as dead from the warehouse, a live load is never taken for dead."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from typing import Any

import pytest

from warehouse import BIN, Warehouse

pytestmark = pytest.mark.integration

MAY_EVENTS = [(1, "2023-05-01 00:00:00", 1.0), (2, "2023-05-20 10:00:00", 2.0)]
JUNE_EVENTS = [(3, "2023-06-01 00:00:00", 3.0), (4, "2023-06-15 12:00:00", 4.0)]
# On DuckDB some 30 s on 2 cores: a load signalled in its first seconds cannot end first, and
# should dbt's cancel miss the query (it interrupts only a query DuckDB runs), it still ends
# within the test's timeout.
SLOW = "{with_slow: true, slow_seconds: 25, slow_rows: 10000000000}"
VERY_SLOW = "{with_slow: true, slow_seconds: 120, slow_rows: 200000000000}"


def facts(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, id, occurred_at, amount from analytics.fct_events order by id"
    )


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, status, message from analytics.etl_sessions order by session_id"
    )


def load_may(wh: Warehouse) -> list[tuple[Any, ...]]:
    wh.insert_events(MAY_EVENTS + JUNE_EVENTS)
    run = wh.etl_run("--period", "2023-05", "-q")
    assert run.returncode == 0, run.output
    return facts(wh)


def wait_for_line(proc: subprocess.Popen[str], *fragments: str) -> list[str]:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if all(fragment in line for fragment in fragments):
            return seen
    raise AssertionError("never saw " + repr(fragments) + ":\n" + "".join(seen))


def start_slow_load(wh: Warehouse, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """A load of June whose `slow` model is running when this returns."""
    proc = wh.spawn_etl_run(
        "--period", "2023-06", "--vars", VERY_SLOW, "-s", "fct_events", "slow", *extra
    )
    seen = wait_for_line(proc, "START sql table model", "slow")
    time.sleep(1.0)  # the slow query is on the warehouse now
    return proc, seen


@pytest.mark.parametrize("round_", range(3))
def test_sigterm_closes_the_session_as_error_and_exits_143(
    warehouse: Warehouse, round_: int
) -> None:
    may = load_may(warehouse)
    proc, seen = start_slow_load(warehouse)

    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest

    assert proc.returncode == 143, output
    assert "Traceback" not in output
    summary = [line for line in output.splitlines() if line.startswith("session ")]
    assert summary and re.match(r"^session \d+ error · ", summary[-1]), output
    assert "  terminated by SIGTERM" in output.splitlines()
    first, terminated = sessions(warehouse)
    assert first[1] == "success"
    assert terminated[1:] == ("error", "terminated by SIGTERM")
    assert [row for row in facts(warehouse) if row[1] in {1, 2}] == may


def test_sigterm_before_the_query_starts_still_stops_it(warehouse: Warehouse) -> None:
    """dbt's cancel interrupts only a statement the warehouse runs (DuckDB's interrupt(),
    Postgres's cancel request). A SIGTERM that lands after dbt started a model but before its
    query reached the warehouse (here: the model is busy compiling) cancels nothing, and the
    query then runs to its end: minutes or hours. etl-run keeps cancelling after the grace
    period until dbt returns. 2 rounds. Should a load still run 90 s after its SIGTERM, the
    failure shows where each of its threads waits (faulthandler) and, on Postgres, what the
    server runs."""
    wh = warehouse
    load_may(wh)
    slow = "{with_slow: true, slow_seconds: 600, slow_rows: 200000000000, slow_compile_loops: 60}"
    for _ in range(2):
        proc = wh.spawn_etl_run(
            "--period", "2023-06", "--vars", slow, "-s", "fct_events", "slow",
            env={"ETL_SESSION_CANCEL_GRACE_SECONDS": "1", "PYTHONFAULTHANDLER": "1"},
        )  # fmt: skip
        seen = wait_for_line(proc, "START sql table model", "slow")
        time.sleep(0.3)  # compiling: no query of the model on the warehouse yet
        proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            raise AssertionError(_why_it_hangs(wh, proc, seen)) from None
        output = "".join(seen) + rest
        assert proc.returncode == 143, output
        assert sessions(wh)[-1][1:] == ("error", "terminated by SIGTERM"), output
    assert [row for row in sessions(wh) if row[1] == "running"] == []


def _why_it_hangs(wh: Warehouse, proc: subprocess.Popen[str], seen: list[str]) -> str:
    """The server's view of a load that ignores its SIGTERM, then every thread's stack
    (SIGABRT makes faulthandler print them) and the load's output."""
    activity = ""
    if wh.name == "postgres":
        activity = "\n".join(
            repr(row)
            for row in wh.query(
                "select pid, state, wait_event_type, wait_event, now() - query_start, query"
                " from pg_stat_activity where backend_type = 'client backend'"
            )
        )
    proc.send_signal(signal.SIGABRT)
    try:
        rest, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
    return (
        "still running 90 s after SIGTERM\n-- pg_stat_activity:\n"
        + activity
        + "\n-- output and stacks:\n"
        + "".join(seen)
        + rest
        + "\n-- where each thread waits (top frames; a report that keeps only the end shows it):\n"
        + _thread_tops(rest)
    )


def _thread_tops(dump: str, frames: int = 4) -> str:
    """The first `frames` frames of each thread in a faulthandler dump, one block per thread."""
    blocks: list[list[str]] = []
    for line in dump.splitlines():
        if line.startswith(("Thread 0x", "Current thread 0x")):
            blocks.append([line])
        elif blocks and line.startswith("  File ") and len(blocks[-1]) <= frames:
            blocks[-1].append(line.strip())
    return "\n".join("\n  ".join(block) for block in blocks) or "(no faulthandler dump)"


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_sigterm_while_etl_run_starts_exits_143_and_leaves_nothing_running(
    duckdb_warehouse: Warehouse, delay: float
) -> None:
    """Before the session exists (imports, dbt parsing) there is nothing to close: exit 143.
    (A slow model keeps a fast machine from finishing the load before the signal.)"""
    wh = duckdb_warehouse
    load_may(wh)
    proc = wh.spawn_etl_run("--period", "2023-06", "-q", "--vars", SLOW, "-s", "fct_events", "slow")

    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)

    # 143 once etl-run's handler is installed; a signal that lands while the interpreter still
    # starts (before any etl-run code runs) ends it the default way, -15: nothing ran either way.
    assert proc.returncode in (143, -signal.SIGTERM), output
    assert "Traceback" not in output
    assert [row for row in sessions(wh) if row[1] == "running"] == []


def test_more_sigterms_while_it_stops_still_close_the_session(
    duckdb_warehouse: Warehouse,
) -> None:
    """Schedulers repeat SIGTERM; the repair defers it (and Ctrl-C) until the row is closed."""
    wh = duckdb_warehouse
    load_may(wh)
    proc, seen = start_slow_load(wh)

    for pause in (0.0, 0.3, 0.7, 1.5, 2.5):
        time.sleep(pause)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest

    assert proc.returncode == 143, output
    assert sessions(wh)[-1][1:] == ("error", "terminated by SIGTERM")


def test_sigterm_through_the_python_api_returns_exit_code_143(
    duckdb_warehouse: Warehouse,
) -> None:
    """The API is the CLI's engine: the same result, with `ok` false."""
    wh = duckdb_warehouse
    load_may(wh)
    code = (
        "import json, etl_session\n"
        f"r = etl_session.run(period='2023-06', project_dir={str(wh.project_dir)!r},"
        f" vars={VERY_SLOW!r}, select=['fct_events', 'slow'])\n"
        "print('RESULT ' + json.dumps([r.status, r.exit_code, r.ok, r.message]))\n"
    )
    proc = subprocess.Popen(
        [str(BIN / "python"), "-c", code],
        cwd=wh.workdir,
        env=wh.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = wait_for_line(proc, "START sql table model", "slow")
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest

    assert proc.returncode == 0, output
    assert 'RESULT ["error", 143, false, "terminated by SIGTERM"]' in output
    assert sessions(wh)[-1][1:] == ("error", "terminated by SIGTERM")


def test_a_sigkilled_load_is_closed_as_abandoned_by_the_next_load(
    postgres_warehouse: Warehouse,
) -> None:
    wh = postgres_warehouse
    may = load_may(wh)
    proc, _ = start_slow_load(wh)
    [(liveness,)] = wh.query("select liveness from analytics.etl_sessions where status = 'running'")
    assert liveness == "lock"  # etl-run holds the advisory lock on its own connection

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(0.5)
    assert sessions(wh)[-1][1] == "running"  # nothing could close it

    try:
        run = wh.etl_run("--period", "2023-06", "-q")
    finally:
        # The killed load's query runs on in its server process until pg_sleep ends (Postgres
        # notices a dead client only when it writes): end it so later tests can reset.
        wh.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where query like '%pg_sleep%' and pid <> pg_backend_pid()"
        )

    assert run.returncode == 0, run.output
    killed, reloaded = sessions(wh)[-2:]
    assert killed[1] == "error"
    assert killed[2].startswith("abandoned"), killed
    assert reloaded[1] == "success"
    assert [row[1] for row in facts(wh)] == [1, 2, 3, 4]
    assert [row for row in facts(wh) if row[1] in {1, 2}] == may
    assert [row for row in sessions(wh) if row[1] == "running"] == []


def test_a_live_load_is_never_closed_by_a_second_load(postgres_warehouse: Warehouse) -> None:
    wh = postgres_warehouse
    load_may(wh)
    proc = wh.spawn_etl_run("--period", "2023-06", "--vars", SLOW, "-s", "fct_events", "slow")
    wait_for_line(proc, "START sql table model", "slow")
    [(live_id,)] = wh.query(
        "select session_id from analytics.etl_sessions where status = 'running'"
    )

    refused = wh.etl_run("--period", "2023-07", "-q")  # another period, same project+target

    assert refused.returncode == 2, refused.output
    assert f"running: session {live_id} " in refused.stderr
    assert "--wait" in refused.stderr
    assert wh.query(
        "select status from analytics.etl_sessions where session_id = ?", [live_id]
    ) == [("running",)]

    queued = wh.etl_run("--period", "2023-07", "-q", "--wait", "120")
    output, _ = proc.communicate(timeout=300)

    assert proc.returncode == 0, output
    assert queued.returncode == 0, queued.output
    assert [row[1] for row in sessions(wh)] == ["success", "success", "success"]
    assert "abandoned" not in " ".join(str(row[2]) for row in sessions(wh))


def test_a_duckdb_file_held_by_another_process_is_refused_or_queued(
    duckdb_warehouse: Warehouse,
) -> None:
    """DuckDB's liveness is its file lock: while another process holds the file, etl-run exits
    2 at once, or with --wait retries until the file is free."""
    wh = duckdb_warehouse
    wh.insert_events(MAY_EVENTS)
    # Holds the file until its stdin closes: when the test says so, or when the test is gone.
    holder = subprocess.Popen(
        [str(BIN / "python"), "-c",
         f"import duckdb, sys; c = duckdb.connect({str(wh.duckdb_path)!r}); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    queued: subprocess.Popen[str] | None = None
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"

        refused = wh.etl_run("--period", "2023-05", "-q")

        assert refused.returncode == 2, refused.output
        assert "Could not set lock on file" in refused.stderr
        assert "Traceback" not in refused.output

        # The file is released only once the queued load has found it locked (dbt's log).
        log = wh.workdir / "logs-queued" / "dbt.log"
        logged = log.stat().st_size if log.exists() else 0
        queued = wh.spawn_etl_run("--period", "2023-05", "-q", "--wait", "120", name="queued")
        deadline = time.monotonic() + 120
        while not (log.exists() and b"Could not set lock on file" in log.read_bytes()[logged:]):
            assert queued.poll() is None, queued.communicate()[0]
            assert time.monotonic() < deadline, "the queued load never found the file locked"
            time.sleep(0.2)
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
        output, _ = queued.communicate(timeout=300)
    finally:
        for proc in (holder, queued):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    assert queued.returncode == 0, output
    assert [row[1] for row in sessions(wh)] == ["success"]
