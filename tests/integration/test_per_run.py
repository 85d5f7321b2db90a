"""Several chunks in one dbt run: `etl-run --split day --per-run N`.

Each chunk keeps its own session (its own row in etl_sessions, its own per-node results), and
every row an etl_period model writes carries the session of the chunk its period column falls
in; what changes is that N chunks share one dbt invocation (one parse, one set of hooks, one
delete and insert per model). What must not change is everything the reliability issue
promises: a failure still ends at its chunk, a signal leaves no session running, and on
Postgres a load started beside the run cannot take its chunks' sessions for dead.
"""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

MODELS = {
    # Stamps each row; a row whose amount is the poison fails the model (a cast error), so a
    # test can make exactly one day fail.
    "per_run_events": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at',
                  post_hook=["{{ etl_it_pause_in_transaction() }}"]) }}
        select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount,
               cast(case when e.amount = {{ var('per_run_poison', -1) }} then 'poison' else '1' end
                    as integer) as checked
        from {{ etl_session.period_source('raw', 'events') }} as e
    """,
    # A date column, aggregated: the chunk of a row is its day.
    "per_run_daily": """
        {{ config(materialized='etl_period', etl_period_column='day',
                  etl_period_data_type='date') }}
        select {{ etl_session.session_id() }} as session_id, cast(e.occurred_at as date) as day,
               count(*) as events
        from {{ etl_session.period_source('raw', 'events') }} as e
        group by cast(e.occurred_at as date)
    """,
    # Names the session in a hook: there is none to name in a run of several chunks.
    "per_run_hooked": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at',
                  post_hook="select {{ etl_session.session_id() }} as hooked") }}
        select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at
        from {{ etl_session.period_source('raw', 'events') }} as e
    """,
}
BOTH = ["-s", "per_run_events", "per_run_daily"]
# Six days of May, with rows on both sides of each midnight.
EVENTS = [
    (1, "2023-05-01 00:00:00", 1.0),
    (2, "2023-05-01 23:59:59.999999", 2.0),
    (3, "2023-05-02 00:00:00", 3.0),
    (4, "2023-05-03 12:00:00", 4.0),
    (5, "2023-05-04 06:00:00", 5.0),
    (6, "2023-05-05 18:00:00", 6.0),
    (7, "2023-05-06 23:00:00", 7.0),
]
SIX_DAYS = "[2023-05-01, 2023-05-06]"


@pytest.fixture(scope="module")
def per_run_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(INTEGRATION_PROJECT, tmp_path_factory.mktemp("per-run") / "project")
    for name, sql in MODELS.items():
        (project / "models" / f"{name}.sql").write_text(textwrap.dedent(sql).lstrip())
    return project


def _through(base: Warehouse, project: Path) -> Warehouse:
    install_packages(project, base.env())
    mine = Warehouse(
        base.name,
        base.workdir,
        base.pg,
        project_dir=project,
        extra_env={"DBT_TARGET_PATH": str(base.workdir / "target-per-run")},
    )
    mine.insert_events(EVENTS)
    return mine


@pytest.fixture
def wh(warehouse: Warehouse, per_run_project: Path) -> Warehouse:
    return _through(warehouse, per_run_project)


@pytest.fixture
def duckdb_wh(duckdb_warehouse: Warehouse, per_run_project: Path) -> Warehouse:
    return _through(duckdb_warehouse, per_run_project)


@pytest.fixture
def postgres_wh(postgres_warehouse: Warehouse, per_run_project: Path) -> Warehouse:
    return _through(postgres_warehouse, per_run_project)


def chunks(run: Any) -> list[dict[str, Any]]:
    assert run.stdout.startswith("{"), run.output
    return list(json.loads(run.stdout)["chunks"])


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, status, run_id, invocation_id, message from analytics.etl_sessions"
        " order by session_id"
    )


def misplaced(wh: Warehouse) -> list[tuple[Any, ...]]:
    """Rows of per_run_events whose session is not the successful one of their chunk."""
    return wh.query(
        "select e.id, e.session_id from analytics.per_run_events as e"
        " left join analytics.etl_sessions as s on s.session_id = e.session_id"
        "  and s.status = 'success'"
        "  and e.occurred_at >= cast(s.period_start at time zone 'UTC' as timestamp)"
        "  and e.occurred_at < cast(s.period_end at time zone 'UTC' as timestamp)"
        " where s.session_id is null order by e.id"
    )


def test_chunks_loaded_in_one_run_each_get_their_own_session_and_rows(wh: Warehouse) -> None:
    run = wh.etl_run("--period", SIX_DAYS, "--split", "day", "--per-run", "4", *BOTH, "-q",
                     "--json")  # fmt: skip

    assert run.returncode == 0, run.output
    loaded = chunks(run)
    assert [c["status"] for c in loaded] == ["success"] * 6
    assert [c["period_start"][:10] for c in loaded] == [f"2023-05-0{d}" for d in range(1, 7)]
    ids = [c["session_id"] for c in loaded]
    assert len(set(ids)) == 6 and None not in ids
    found = sessions(wh)
    assert [(s[0], s[1]) for s in found] == [(i, "success") for i in ids]
    # Two dbt runs (4 chunks, then 2), each chunk a session of its own.
    assert len({s[3] for s in found}) == 2
    run_ids = [s[2] for s in found]
    assert run_ids[1] == f"{run_ids[0]}~2" and run_ids[3] == f"{run_ids[0]}~4"
    assert run_ids[5] == f"{run_ids[4]}~2"
    # Each session has the run's node results (the two models), none twice.
    counts = wh.query(
        "select session_id, count(*), count(distinct node_id) from analytics.etl_session_results"
        " group by session_id order by session_id"
    )
    assert counts == [(i, 2, 2) for i in ids]
    # Every row stamped with the session of the chunk its time falls in.
    rows = wh.query("select id, session_id from analytics.per_run_events order by id")
    day_of = {1: 0, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}
    assert rows == [(i, ids[day_of[i]]) for i in range(1, 8)]
    daily = wh.query("select cast(day as varchar), session_id, events from analytics.per_run_daily"
                     " order by day")  # fmt: skip
    assert daily == [(f"2023-05-0{d + 1}", ids[d], 2 if d == 0 else 1) for d in range(6)]

    # Reloaded as one run of six: the same rows, once each, owned by the new sessions.
    again = wh.etl_run("--period", SIX_DAYS, "--split", "day", "--per-run", "6", "--reload",
                       *BOTH, "-q", "--json")  # fmt: skip

    assert again.returncode == 0, again.output
    new_ids = [c["session_id"] for c in chunks(again)]
    assert set(new_ids).isdisjoint(ids)
    rows = wh.query("select id, session_id from analytics.per_run_events order by id")
    assert rows == [(i, new_ids[day_of[i]]) for i in range(1, 8)]
    assert misplaced(wh) == []
    assert wh.query("select count(*) from analytics.etl_sessions where status <> 'success'") == [
        (0,)
    ]


def test_a_failed_run_of_chunks_is_loaded_again_one_chunk_at_a_time(duckdb_wh: Warehouse) -> None:
    wh = duckdb_wh
    poison = "{per_run_poison: 4.0}"  # the row of 2023-05-03 breaks per_run_events

    run = wh.etl_run("--period", SIX_DAYS, "--split", "day", "--per-run", "6", "--vars", poison,
                     *BOTH, "-q", "--json")  # fmt: skip

    assert run.returncode == 1, run.output
    # Loaded again one chunk a run: the first two days load, the third fails, and the
    # backfill stops there, as it does without --per-run.
    assert [c["status"] for c in chunks(run)] == ["success", "success", "error"] + ["not-run"] * 3
    found = sessions(wh)
    assert [s[1] for s in found] == ["error"] * 6 + ["success", "success", "error"]
    assert len({s[3] for s in found}) == 4  # the run of six, then one run per chunk
    assert wh.query("select count(*) from analytics.etl_sessions where status = 'running'") == [
        (0,)
    ]
    rows = wh.query("select id from analytics.per_run_events order by id")
    assert rows == [(1,), (2,), (3,)]  # the two good days, nothing of the failed run
    assert misplaced(wh) == []

    kept = wh.etl_run("--period", SIX_DAYS, "--split", "day", "--per-run", "6", "--vars", poison,
                      "--keep-going", *BOTH, "-q", "--json")  # fmt: skip

    assert kept.returncode == 1, kept.output
    statuses = [c["status"] for c in chunks(kept)]
    assert statuses == ["skipped", "skipped", "error", "success", "success", "success"]
    assert [i for (i,) in wh.query("select id from analytics.per_run_events order by id")] == [
        1, 2, 3, 5, 6, 7,
    ]  # fmt: skip
    assert misplaced(wh) == []


def test_a_model_that_cannot_stamp_each_chunk_makes_the_chunks_load_one_at_a_time(
    duckdb_wh: Warehouse,
) -> None:
    # fct_events is an incremental model with the etl_period strategy: only the materialization
    # can give each row its chunk's session, so the run of several chunks refuses it and the
    # chunks are loaded one per run.
    wh = duckdb_wh

    run = wh.etl_run("--period", "[2023-05-01, 2023-05-03]", "--split", "day", "--per-run", "3",
                     "-s", "fct_events", "-q", "--json")  # fmt: skip

    assert run.returncode == 0, run.output
    ids = [c["session_id"] for c in chunks(run)]
    found = sessions(wh)
    assert [s[1] for s in found] == ["error"] * 3 + ["success"] * 3
    assert "--per-run" in found[0][4]
    assert [s[0] for s in found[3:]] == ids
    rows = wh.query("select id, session_id from analytics.fct_events order by id")
    assert rows == [(1, ids[0]), (2, ids[0]), (3, ids[1]), (4, ids[2])]


def test_sigterm_during_a_run_of_chunks_leaves_none_of_its_sessions_running(
    duckdb_wh: Warehouse,
) -> None:
    wh = duckdb_wh
    rows = 10_000_000_000
    slow = f"{{with_slow: true, slow_seconds: 6, slow_rows: {rows}}}"
    log = wh.workdir / "logs-per-run" / "dbt.log"
    logged = log.stat().st_size if log.exists() else 0
    proc = wh.spawn_etl_run("--period", SIX_DAYS, "--split", "day", "--per-run", "3", "--vars",
                            slow, "-s", "per_run_events", "slow", name="per-run")  # fmt: skip
    deadline = time.monotonic() + 300
    while not (log.exists() and f"range({rows})".encode() in log.read_bytes()[logged:]):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the slow model's query never started"
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=300)

    assert proc.returncode == 143, output
    found = sessions(wh)
    # The first run's three chunks, all ended by the signal; no second run started.
    assert [(s[1], s[4]) for s in found] == [("error", "terminated by SIGTERM")] * 3, found


def test_a_killed_run_of_chunks_has_every_session_closed_by_the_next_load(wh: Warehouse) -> None:
    """A run of 3 chunks is refused company while it lives, and once it is killed (SIGKILL:
    no hook, no repair) the next load closes all 3 of its sessions as abandoned: none stays
    running. On Postgres this needs a liveness lock per chunk session; with the first chunk's
    alone, the other two stayed `running` for ever. 2 rounds."""
    rounds, admitted = 2, 0
    killed: list[set[int]] = []
    for round_ in range(rounds):
        exists = wh.table_exists("analytics", "etl_sessions")
        before = {s[0] for s in sessions(wh)} if exists else set()
        proc = wh.spawn_etl_run("--period", "[2023-05-01, 2023-05-03]", "--split", "day",
                                "--per-run", "3", "--reload", "--vars",
                                "{pause_in_transaction_seconds: 30}", *BOTH,
                                name=f"chunks-{round_}")  # fmt: skip
        seen: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if "pausing inside the model transaction" in line:
                break
        else:
            proc.wait()
            raise AssertionError("".join(seen))
        beside = wh.etl_run("--period", "2023-06", "-s", "per_run_events", "-q")
        admitted += beside.returncode != 2
        proc.kill()
        proc.communicate(timeout=60)
        # (DuckDB: the file is readable only once the run is gone.)
        running = {s[0] for s in sessions(wh) if s[1] == "running"}
        assert len(running) == 3 and not running & before, beside.output
        killed.append(running)

        after = wh.etl_run("--period", "2023-06", "-s", "per_run_events", "-q")

        assert after.returncode == 0, after.output
    left = wh.query(
        "select session_id, status, closed_by from analytics.etl_sessions"
        " where session_id in (" + ", ".join(str(i) for ids in killed for i in ids) + ")"
    )
    assert admitted == 0, f"{admitted} loads admitted beside a live run of chunks"
    assert sorted(left) == sorted((i, "error", "abandoned") for ids in killed for i in ids)
    assert wh.query("select count(*) from analytics.etl_sessions where status = 'running'") == [
        (0,)
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--per-run", "2", "--full-refresh"], "Error: --full-refresh rebuilds"),
        (["--per-run", "2", "--", "--full-refresh"], "Error: --full-refresh rebuilds"),
        (["--per-run", "1001"], "Error: --per-run is at most 1000 chunks"),
    ],
)
def test_per_run_bad_input_is_one_line_and_touches_nothing(
    duckdb_wh: Warehouse, args: list[str], message: str
) -> None:
    run = duckdb_wh.etl_run("--period", SIX_DAYS, "--split", "day", *args)

    assert run.returncode == 2, run.output
    assert run.stderr.startswith(message) and len(run.stderr.splitlines()) == 1, run.stderr
    assert not duckdb_wh.table_exists("analytics", "etl_sessions")


def test_per_run_below_one_is_a_usage_error(duckdb_wh: Warehouse) -> None:
    run = subprocess.run(
        duckdb_wh.etl_run_command("--period", SIX_DAYS, "--split", "day", "--per-run", "0"),
        capture_output=True, text=True, env=duckdb_wh.env(), cwd=duckdb_wh.workdir, timeout=60,
    )  # fmt: skip

    assert run.returncode == 2, run.stdout + run.stderr
    assert "--per-run" in run.stderr
    assert not duckdb_wh.table_exists("analytics", "etl_sessions")


def test_session_id_in_a_hook_of_a_run_of_chunks_fails_the_run_instead_of_naming_none(
    duckdb_wh: Warehouse,
) -> None:
    # A hook runs once for the run's N chunks: there is no one session for it to name. It must
    # not quietly render null (a delete "where session_id = null" that matches nothing).
    run = duckdb_wh.etl_run("--period", "[2023-05-01, 2023-05-02]", "--split", "day",
                            "--per-run", "2", "-s", "per_run_hooked", "-q", "--json")  # fmt: skip

    assert run.returncode == 0, run.output  # loaded again one chunk per run, where it can name one
    found = sessions(duckdb_wh)
    assert [s[1] for s in found] == ["error", "error", "success", "success"]
    assert "in a hook of model.etl_it.per_run_hooked" in found[0][4]
    rows = duckdb_wh.query("select id, session_id from analytics.per_run_hooked order by id")
    assert rows == [(1, 3), (2, 3), (3, 4)]
