"""SIGTERM during a load on Spark: etl-run repairs its session through the package (end_session)
and exits 143; etl-session close then leaves the closed session as it is."""

from __future__ import annotations

import signal

from conftest import SparkProject
from test_spark_loads import EVENTS, MAY_1_2, _sessions_or_none


def test_sigterm_is_repaired_and_close_by_hand(project: SparkProject) -> None:
    project.set_events(EVENTS)
    load = project.spawn("--period", MAY_1_2, name="terminated")
    try:
        project.wait_for(
            lambda: any(s["status"] == "running" for s in _sessions_or_none(project)),
            timeout=180,
            what="the session to open",
        )
        load.send_signal(signal.SIGTERM)
        output, _ = load.communicate(timeout=300)
    finally:
        if load.poll() is None:
            load.kill()
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
