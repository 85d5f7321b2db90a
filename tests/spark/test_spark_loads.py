"""Period loads and sessions on a real Spark Thrift server (see conftest.py).

Spark's default tables are parquet in a Hive metastore: no UPDATE or DELETE, and a STATIC
partition overwrite mode (the server's default here) that would wipe a whole table.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading

from conftest import SparkProject

MAY_1_2 = "[2023-05-01, 2023-05-02]"  # [2023-05-01T00:00Z, 2023-05-03T00:00Z)

EVENTS = [
    (1, "2023-05-01 00:00:00", 10.0),  # the period's first instant: in
    (2, "2023-05-01 23:59:59", 20.0),
    (3, "2023-05-02 12:00:00", 30.0),
    (4, "2023-05-03 00:00:00", 40.0),  # the period's end: out
    (5, "2023-04-30 23:59:59.999999", 50.0),  # just before: out
    (6, "2023-05-20 08:00:00", 60.0),  # same month (daily_amounts' partition), other period
]


def _facts(project: SparkProject) -> list[tuple[int, int, float, str]]:
    return [
        (int(r[0]), int(r[1]), float(r[2]), str(r[3]))
        for r in project.query(
            f"select session_id, event_id, amount, cast(event_date as string)"
            f" from {project.schema}.fct_events order by event_id"
        )
    ]


def _days(project: SparkProject) -> list[tuple[int, str, int, float]]:
    return [
        (int(r[0]), str(r[1]), int(r[2]), float(r[3]))
        for r in project.query(
            f"select session_id, cast(day as string), events, amount"
            f" from {project.schema}.daily_amounts order by day"
        )
    ]


#: Seconds daily_amounts pauses in its pre-hook (spark_it_pause) in a load that a test stops:
#: once the model has started, the load is still running when the signal comes, however busy
#: the machine.
PAUSE_SECONDS = 30


def spawn_paused(
    project: SparkProject, name: str
) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """etl-run of MAY_1_2 whose daily_amounts pauses PAUSE_SECONDS, once it has started that
    model (its session is open by then): the process, its output lines (still filled by the
    reader thread) and that thread."""
    load = project.spawn(
        "--period", MAY_1_2, "--vars", f"{{etl_it_pause_seconds: {PAUSE_SECONDS}}}", name=name
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(load.stdout or []), daemon=True)
    reader.start()

    def started() -> bool:
        return any("daily_amounts" in line and "START" in line for line in lines)

    try:
        project.wait_for(
            lambda: started() or load.poll() is not None,
            timeout=180,
            what="daily_amounts to start",
        )
        assert started(), "".join(lines)
    except BaseException:
        load.kill()
        load.wait()
        raise
    return load, lines, reader


def test_load_reload_vanished_rows_and_boundaries(project: SparkProject) -> None:
    project.set_events(EVENTS)
    # Loads of other periods first: April 30 and May 20 (the same month partition of
    # daily_amounts as the period below), which every later load must keep.
    first = project.etl_run("--period", "2023-04-30", "--vars", "{etl_session_reporting: true}")
    assert first.returncode == 0, first.output
    # The package's history view and its data tests (unique ids, accepted statuses) on Spark.
    assert "PASS unique_etl_session_history_session_id" in first.output, first.output
    assert project.query(
        f"select session_id, status, period_start, period_end, duration_seconds >= 0"
        f" from {project.schema}.etl_session_history"
    ) == [(1, "success", dt.datetime(2023, 4, 30), dt.datetime(2023, 5, 1), True)]
    # One beat only (the next would come after 10 minutes): the first fills both of the run's
    # slots, so a later beat that lands in the same slot as the one before never replaces the
    # run's only row, which a reader (open_session's liveness, another load's check for a dead
    # owner) would then miss.
    other = project.etl_run(
        "--period", "2023-05-20", "--vars", "{etl_session_heartbeat_seconds: 600}"
    )
    assert other.returncode == 0, other.output
    slots = project.query(
        f"select h.slot from {project.schema}.etl_sessions_heartbeats as h"
        f" join {project.schema}.etl_sessions as s on s.run_id = h.run_id"
        " where s.session_id = 2 order by h.slot"
    )
    assert [row[0] for row in slots] == [0, 1]

    load = project.etl_run("--period", MAY_1_2)
    assert load.returncode == 0, load.output
    sessions = project.sessions()
    assert [(s["session_id"], s["status"], s["closed_by"]) for s in sessions] == [
        (1, "success", "hook"),
        (2, "success", "hook"),
        (3, "success", "hook"),
    ]
    assert sessions[2]["period_start"] == dt.datetime(2023, 5, 1)
    assert sessions[2]["period_end"] == dt.datetime(2023, 5, 3)
    assert sessions[2]["liveness"] == "heartbeat"
    assert _facts(project) == [
        (3, 1, 10.0, "2023-05-01"),
        (3, 2, 20.0, "2023-05-01"),
        (3, 3, 30.0, "2023-05-02"),
        (1, 5, 50.0, "2023-04-30"),
        (2, 6, 60.0, "2023-05-20"),
    ]
    assert _days(project) == [
        (1, "2023-04-30", 1, 50.0),
        (3, "2023-05-01", 2, 30.0),
        (3, "2023-05-02", 1, 30.0),
        (2, "2023-05-20", 1, 60.0),
    ]

    # The source changes: event 1 corrected, event 3 (the only one of May 2) gone, event 7 new.
    project.set_events(
        [(1, "2023-05-01 00:00:00", 11.0), (2, "2023-05-01 23:59:59", 20.0)]
        + [(7, "2023-05-01 06:00:00", 70.0)]
        + [e for e in EVENTS if e[0] in (4, 5, 6)]
    )
    reload = project.etl_run("--period", MAY_1_2)
    assert reload.returncode == 0, reload.output
    assert _facts(project) == [
        (4, 1, 11.0, "2023-05-01"),
        (4, 2, 20.0, "2023-05-01"),
        (1, 5, 50.0, "2023-04-30"),
        (2, 6, 60.0, "2023-05-20"),
        (4, 7, 70.0, "2023-05-01"),
    ]
    assert project.query(f"show partitions {project.schema}.fct_events") == [
        ("event_date=2023-04-30",),
        ("event_date=2023-05-01",),
        ("event_date=2023-05-20",),
    ]
    assert _days(project) == [
        (1, "2023-04-30", 1, 50.0),
        (4, "2023-05-01", 3, 101.0),
        (2, "2023-05-20", 1, 60.0),
    ]

    # Every source row of the period vanishes: the period is cleared, the others stay.
    project.set_events([e for e in EVENTS if e[0] in (4, 5, 6)])
    cleared = project.etl_run("--period", MAY_1_2)
    assert cleared.returncode == 0, cleared.output
    assert [row[1] for row in _facts(project)] == [5, 6]
    assert _days(project) == [(1, "2023-04-30", 1, 50.0), (2, "2023-05-20", 1, 60.0)]


def test_failing_model_ends_the_session_as_error(project: SparkProject) -> None:
    project.set_events(EVENTS)
    failed = project.etl_run("--period", MAY_1_2, "--vars", "{with_failure: true}")
    assert failed.returncode == 1, failed.output
    (session,) = project.sessions()
    assert session["status"] == "error"
    assert session["closed_by"] == "hook"
    assert "model.etl_spark.broken" in session["message"]
    # The models that did not fail loaded their period, stamped with the session.
    assert [row[:2] for row in _facts(project)] == [(1, 1), (1, 2), (1, 3)]
    results = project.query(
        f"select node_id, status from {project.schema}.etl_session_results"
        " where resource_type = 'model' order by node_id"
    )
    assert ("model.etl_spark.broken", "error") in results
    assert ("model.etl_spark.fct_events", "success") in results

    # etl-session cleanup cannot delete from parquet: one line that says why; nothing changes.
    cleanup = project.etl_session("cleanup", "1", "--yes")
    assert cleanup.returncode == 1, cleanup.output
    assert "cannot delete session 1's rows from" in cleanup.output
    assert "parquet" in cleanup.output
    assert [row[:2] for row in _facts(project)] == [(1, 1), (1, 2), (1, 3)]


def test_sigkill_then_the_next_load(project: SparkProject) -> None:
    project.set_events(EVENTS)
    victim, lines, reader = spawn_paused(project, "victim")
    os.kill(victim.pid, signal.SIGKILL)  # mid-load: daily_amounts pauses PAUSE_SECONDS
    victim.wait()
    reader.join(timeout=10)
    (killed,) = project.sessions()
    assert killed["status"] == "running"
    # It beat before it opened: what lets the next load take it for dead once the beats stop.
    assert killed["liveness"] == "heartbeat", "".join(lines)
    listed = project.etl_session("list", "--json")
    assert listed.returncode == 0, listed.output
    assert f'"session_id": {killed["session_id"]}' in listed.output

    # The next load waits while the dead load's last heartbeat is younger than the timeout
    # (15 s in the test project), then closes it as abandoned and runs.
    after = project.etl_run("--period", MAY_1_2, "--wait", "180")
    assert after.returncode == 0, after.output
    sessions = project.sessions()
    assert sessions[0]["status"] == "error"
    assert sessions[0]["closed_by"] == "abandoned"
    assert "stopped heartbeating" in sessions[0]["message"] or "is gone" in sessions[0]["message"]
    assert sessions[-1]["status"] == "success"
    ((last_beat,),) = project.query(
        f"select max(h.beat_at) from {project.schema}.etl_sessions_heartbeats as h"
        f" join {project.schema}.etl_sessions as s on s.run_id = h.run_id"
        f" where s.session_id = {killed['session_id']}"
    )
    # Never taken for dead before the timeout, and the next load began only after.
    assert (sessions[0]["finished"] - last_beat).total_seconds() >= 15
    assert sessions[-1]["started"] >= sessions[0]["finished"]
    assert [row[1] for row in _facts(project)] == [1, 2, 3]
    assert {row[0] for row in _facts(project)} == {sessions[-1]["session_id"]}


def test_several_chunks_in_one_run_are_refused_before_anything_runs(project: SparkProject) -> None:
    # The package opens Spark sessions one per run: etl-run says so instead of failing chunk 1.
    run = project.etl_run("--period", MAY_1_2, "--split", "day", "--per-run", "2")

    assert run.returncode == 2, run.output
    assert "--per-run is not supported on Spark" in run.output
    assert len(run.output.strip().splitlines()) == 1, run.output
    schemas = [row[0] for row in project.query("show schemas")]
    assert project.schema not in schemas  # no sessions table, nothing written
