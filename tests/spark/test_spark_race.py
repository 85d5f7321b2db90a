"""Two etl-run processes of one project started together against one Spark server: at most one
load of a project and target runs at a time (ids claimed with create-table-if-not-exists, the
earlier claim wins), for overlapping and for non-overlapping periods, over several rounds."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time

from conftest import SparkProject
from test_spark_loads import EVENTS

ROUNDS = int(os.environ.get("ETL_SESSION_SPARK_RACE_ROUNDS", "2"))


# The package's default liveness (the project's 3 s / 15 s are for finding a SIGKILLed load
# quickly): on a busy 2-core machine a beat can wait longer than 15 s for the server.
LIVENESS = "{etl_session_heartbeat_seconds: 10, etl_session_heartbeat_timeout: 60}"


def _race(project: SparkProject, periods: tuple[str, str], *extra: str) -> list[tuple[int, str]]:
    processes = [
        project.spawn("--period", period, "--vars", LIVENESS, *extra, name=f"racer{i}")
        for i, period in enumerate(periods)
    ]
    outcomes = []
    for process in processes:
        output, _ = process.communicate(timeout=600)
        outcomes.append((process.returncode, output))
    return outcomes


def _never_two_at_once(project: SparkProject) -> None:
    """Sessions of the project never ran at the same time (from the sessions view)."""
    sessions = project.sessions()
    runs = sorted(
        (s["started"], s["finished"], s["session_id"]) for s in sessions if s["status"] == "success"
    )
    for (_, first_end, first), (second_start, _, second) in itertools.pairwise(runs):
        assert first_end <= second_start, (
            f"sessions {first} and {second} ran at the same time; all sessions:\n"
            + "\n".join(map(str, sessions))
        )


def test_racing_loads(project: SparkProject) -> None:
    project.set_events(EVENTS)
    counts = {"overlapping: ran": 0, "overlapping: refused": 0, "disjoint (--wait): ran": 0}
    for _ in range(ROUNDS):
        # Overlapping periods, no --wait: one runs, the other is refused with exit 2.
        outcomes = _race(project, ("[2023-05-01, 2023-05-02]", "2023-05-02"))
        codes = sorted(code for code, _ in outcomes)
        for code, output in outcomes:
            assert code in (0, 2), output
            if code == 2:
                assert "another load of" in output, output
                assert "is running" in output or "is starting" in output, output
        assert codes in ([0, 2], [0, 0]), outcomes
        counts["overlapping: ran"] += codes.count(0)
        counts["overlapping: refused"] += codes.count(2)

        # Disjoint periods with --wait: both run, one after the other.
        outcomes = _race(project, ("2023-04-30", "2023-05-20"), "--wait", "300")
        for code, output in outcomes:
            assert code == 0, output
        counts["disjoint (--wait): ran"] += 2
        _never_two_at_once(project)

    # Unique ids, every session closed, and the data of every loaded period exactly once.
    sessions = project.sessions()
    ids = [s["session_id"] for s in sessions]
    assert len(ids) == len(set(ids))
    assert {s["status"] for s in sessions} == {"success"}
    loaded = [(s["period_start"], s["period_end"]) for s in sessions]
    expected = sorted(
        event_id
        for event_id, at, _ in EVENTS
        if any(start <= dt.datetime.fromisoformat(at) < end for start, end in loaded)
    )
    assert expected, loaded
    assert [
        int(row[0])
        for row in project.query(f"select event_id from {project.schema}.fct_events order by 1")
    ] == expected
    print(f"\nSpark race, {ROUNDS} rounds: {counts}; sessions {len(sessions)}")


def test_a_live_load_slow_to_open_keeps_its_claim(project: SparkProject) -> None:
    """A load between its id claim and its open keeps the claim for as long as it heartbeats.
    CI saw two `--wait` loads run at once on a busy server: one took 60 s over on-run-start, past
    the heartbeat timeout, and the other took its claim for abandoned. Here a claim of id 2 is
    10 minutes old, its run beats: loads are refused, also once a refused load's `void` event
    lies above the claim. When the beats stop (older than the timeout), the claim is dead and
    the next load runs."""
    project.set_events(EVENTS)
    assert project.etl_run("--period", "2023-05-01").returncode == 0  # session 1, and the tables
    claims = f"{project.schema}_etl_claims"
    properties = dict(project.query(f"show tblproperties {claims}.etl_sessions_1"))
    beats = f"{project.schema}.etl_sessions_heartbeats"
    project.execute(
        f"create table {claims}.etl_sessions_2 (session_id bigint) using parquet tblproperties ("
        f"'etl_session.run_id' = 'slow-claimer', 'etl_session.load' = "
        f"'{properties['etl_session.load']}', 'etl_session.claimed' = '{int(time.time()) - 600}')",
    )

    def beat(ago: str = "0 seconds") -> None:
        project.execute(
            f"insert overwrite table {beats} partition (run_id, slot)"
            f" select current_timestamp() - interval {ago}, 'slow-claimer', 0"
        )

    # Beats count for 5 minutes here (the project's 15 s could pass while dbt starts); the
    # claim is older than that, so its age alone would count it dead.
    timeout = "{etl_session_heartbeat_timeout: 300}"
    beat()
    for _ in range(2):
        run = project.etl_run("--period", "2023-05-02", "--vars", timeout)
        assert run.returncode == 2, run.output
        assert "is starting" in run.output, run.output
    assert [(s["session_id"], s["status"]) for s in project.sessions()] == [(1, "success")]

    beat("10 minutes")
    ran = project.etl_run("--period", "2023-05-02", "--vars", timeout)
    assert ran.returncode == 0, ran.output
    assert [(s["session_id"], s["status"]) for s in project.sessions()] == [
        (1, "success"),
        (5, "success"),
    ]
