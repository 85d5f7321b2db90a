"""SIGTERM during a load on Spark: etl-run repairs its session through the package (end_session)
and exits 143; etl-session close then leaves the closed session as it is."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

from conftest import SparkProject
from test_spark_loads import EVENTS, MAY_1_2, spawn_paused


def test_sigterm_is_repaired_and_close_by_hand(project: SparkProject) -> None:
    project.set_events(EVENTS)
    load, lines, reader = spawn_paused(project, "terminated")
    try:
        load.send_signal(signal.SIGTERM)  # mid-load: daily_amounts pauses PAUSE_SECONDS
        load.wait(timeout=300)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    reader.join(timeout=10)
    output = "".join(lines)
    assert load.returncode == 143, output
    (session,) = project.sessions()
    assert session["status"] == "error", output
    assert session["closed_by"] == "runner"
    assert "terminated by SIGTERM" in session["message"]

    # etl-session close leaves a closed session as it is, and says so.
    closed = project.etl_session("close", str(session["session_id"]))
    assert closed.returncode == 0, closed.output
    assert "is already error: nothing changed" in closed.output
    assert project.sessions()[0]["closed_by"] == "runner"


def _stopped_while_paused(
    project: SparkProject, name: str, grace: str, signum: int = signal.SIGTERM
) -> tuple[int | None, str]:
    """etl-run stopped by `signum` 3 s into a 120 s statement, with
    ETL_SESSION_CANCEL_GRACE_SECONDS=`grace`; its exit code (None when it still ran 90 s after
    the signal) and its output."""
    load = project.spawn(
        "--period",
        MAY_1_2,
        "--vars",
        "{etl_it_pause_seconds: 120}",
        name=name,
        extra={"ETL_SESSION_CANCEL_GRACE_SECONDS": grace},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(load.stdout or []), daemon=True)
    reader.start()
    try:
        project.wait_for(
            lambda: any("daily_amounts" in line and "START" in line for line in lines),
            timeout=180,
            what="daily_amounts to start",
        )
        time.sleep(3)  # inside the pause: dbt polls the statement
        load.send_signal(signum)
        try:
            returncode: int | None = load.wait(timeout=90)
        except subprocess.TimeoutExpired:
            returncode = None
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    reader.join(timeout=10)
    return returncode, "".join(lines)


#: Cut at once (the cut lands while the model thread polls: every such round takes that path),
#: then the default grace (dbt's own cancel, which hung about 1 load in 5 here without the cut).
GRACES = ("0", "0", "5", "5", "5")


def test_sigterm_while_a_statement_runs_ends_the_load(project: SparkProject) -> None:
    """SIGTERM while dbt polls a running statement: dbt-spark's cancel and cleanup use the
    Thrift connection a model thread polls, and the two can wait forever on each other's answer
    (seen in CI: etl-run hung past 300 s). etl-run cuts dbt's connections when dbt has not
    stopped within the grace period: it must end with 143 and close the session every time."""
    project.set_events(EVENTS)
    hung = left_running = cut = 0
    for round_, grace in enumerate(GRACES):
        returncode, output = _stopped_while_paused(project, f"paused{round_}", grace)
        sessions = project.sessions()
        hung += returncode is None
        left_running += sum(s["status"] == "running" for s in sessions)
        was_cut = "warehouse connection(s)" in output
        cut += was_cut
        counts = f"round {round_ + 1} of {len(GRACES)}: {hung} hung, {cut} cut by etl-run"
        assert returncode == 143, f"{counts}\n{output}"
        assert len(sessions) == round_ + 1, output
        assert sessions[-1]["status"] == "error", output
        assert "terminated by SIGTERM" in sessions[-1]["message"]
        if grace == "0":
            assert was_cut, f"{counts}: no cut with no grace\n{output}"
    # The target holds no row of a stopped load.
    if project.query(f"show tables in {project.schema} like 'daily_amounts'"):
        assert project.query(f"select count(*) from {project.schema}.daily_amounts") == [(0,)]
    assert (hung, left_running) == (0, 0)


#: Ctrl-C: three cuts at once (the second round failed in CI before the fix), then the default.
INTERRUPT_GRACES = ("0", "0", "0", "5")


def test_ctrl_c_while_a_statement_runs_ends_the_load(project: SparkProject) -> None:
    """Ctrl-C takes dbt's same cancel path as SIGTERM, so it gets the same cut: with no grace
    the cut is certain, and the load must end with 130 and its session closed. The cut can
    make dbt end on the cut connection's error instead of the KeyboardInterrupt (CI: exit 1,
    "unexpected exception", in the second round of two): the load is still interrupted."""
    project.set_events(EVENTS)
    hung = left_running = cut = 0
    for round_, grace in enumerate(INTERRUPT_GRACES):
        returncode, output = _stopped_while_paused(
            project, f"interrupted{round_}", grace, signal.SIGINT
        )
        sessions = project.sessions()
        hung += returncode is None
        left_running += sum(s["status"] == "running" for s in sessions)
        cut += "warehouse connection(s)" in output
        assert returncode == 130, f"round {round_ + 1}: {hung} hung, {cut} cut\n{output}"
        assert sessions[-1]["status"] == "error", output
        assert "interrupted" in sessions[-1]["message"]
    assert (hung, left_running) == (0, 0)
    assert cut >= INTERRUPT_GRACES.count("0")
