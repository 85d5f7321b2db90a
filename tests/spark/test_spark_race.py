"""Two etl-run processes of one project started together against one Spark server: at most one
load of a project and target runs at a time (ids claimed with create-table-if-not-exists, the
earlier claim wins), for overlapping and for non-overlapping periods, over several rounds."""

from __future__ import annotations

import datetime as dt
import itertools
import os

from conftest import SparkProject
from test_spark_loads import EVENTS

ROUNDS = int(os.environ.get("ETL_SESSION_SPARK_RACE_ROUNDS", "2"))


def _race(project: SparkProject, periods: tuple[str, str], *extra: str) -> list[tuple[int, str]]:
    processes = [
        project.spawn("--period", period, *extra, name=f"racer{i}")
        for i, period in enumerate(periods)
    ]
    outcomes = []
    for process in processes:
        output, _ = process.communicate(timeout=600)
        outcomes.append((process.returncode, output))
    return outcomes


def _never_two_at_once(project: SparkProject) -> None:
    """Sessions of the project never ran at the same time (from the sessions view)."""
    runs = sorted(
        (s["started"], s["finished"], s["session_id"])
        for s in project.sessions()
        if s["status"] == "success"
    )
    for (_, first_end, first), (second_start, _, second) in itertools.pairwise(runs):
        assert first_end <= second_start, f"sessions {first} and {second} ran at the same time"


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
                assert "another load of" in output and "is running" in output, output
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
