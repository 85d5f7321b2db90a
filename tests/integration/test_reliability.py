"""The reliability suite: real etl-run processes, started together, killed and terminated at
random moments, on DuckDB and Postgres (issue 9).

CI runs one quick round; a person runs many:

    ETL_SESSION_RELIABILITY_ROUNDS=20 ETL_SESSION_RELIABILITY_REPORT=counts.jsonl \
        pytest -m reliability -s

Each test prints its counts (loads, rows lost, duplicates, sessions left running; also appended
to the report file) and asserts they are all zero.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from warehouse import BIN, Warehouse

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

ROUNDS = int(os.environ.get("ETL_SESSION_RELIABILITY_ROUNDS", "1"))
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04"]
SLOW = "{with_slow: true, slow_seconds: 3, slow_rows: 300000000}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(month, "%Y-%m")
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def seed_events(wh: Warehouse, rng: random.Random, version: int) -> dict[str, set[int]]:
    """50 events per month, the month's first instant and last microsecond among them; the
    amounts carry `version` so that a reload that keeps stale rows is seen."""
    wh.execute("delete from raw.events")
    expected: dict[str, set[int]] = {}
    rows = []
    next_id = 1
    for month in MONTHS:
        start, end = month_bounds(month)
        moments = [start, end - timedelta(microseconds=1)]
        span = int((end - start).total_seconds())
        moments += [start + timedelta(seconds=rng.randrange(span)) for _ in range(48)]
        expected[month] = set()
        for moment in moments:
            rows.append(f"({next_id}, cast('{moment.isoformat(sep=' ')}' as timestamp), {version})")
            expected[month].add(next_id)
            next_id += 1
    wh.execute(f"insert into raw.events values {', '.join(rows)}")
    return expected


#: Where a stop lands: a line dbt prints as the load reaches that moment ("" = at start-up).
MOMENTS = {
    "start-up": "",
    "open": "on-run-start",
    "model": "START sql incremental model",
    # After the model's delete and insert, before its COMMIT (a post-hook that pauses there).
    "transaction": "etl-test: pausing inside the model transaction",
    "close": "on-run-end",
}
# The post-hook's pause outlasts the moment between its line and the signal by far, however
# busy the machine (on DuckDB its rows take some 15 s of CPU here); the stop ends it.
PAUSE = "{with_slow: true, slow_seconds: 3, slow_rows: 300000000, pause_in_transaction_seconds: 60}"


def stop_at(proc: subprocess.Popen[str], marker: str, delay: float, signal_number: int) -> str:
    """Send the signal `delay` seconds after the process prints `marker`; returns its output."""
    lines: list[str] = []
    seen = threading.Event()
    if not marker:
        seen.set()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if marker and marker in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen.wait(timeout=300)
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal_number)
    proc.wait(timeout=600)
    reader.join(timeout=60)
    return "".join(lines)


def loaded(wh: Warehouse) -> dict[str, list[tuple[int, float]]]:
    """The fact table's (id, amount) rows per month."""
    found: dict[str, list[tuple[int, float]]] = {month: [] for month in MONTHS}
    if not wh.table_exists("analytics", "fct_events"):
        return found
    for row_id, occurred_at, amount in wh.query(
        "select id, occurred_at, amount from analytics.fct_events"
    ):
        found[occurred_at.strftime("%Y-%m")].append((int(row_id), float(amount)))
    return found


def running_sessions(wh: Warehouse) -> int:
    if not wh.table_exists("analytics", "etl_sessions"):
        return 0
    [(count,)] = wh.query("select count(*) from analytics.etl_sessions where status = 'running'")
    return int(count)


def sessions_count(wh: Warehouse) -> int:
    if not wh.table_exists("analytics", "etl_sessions"):
        return 0
    [(count,)] = wh.query("select count(*) from analytics.etl_sessions")
    return int(count)


def report(name: str, **counts: int) -> None:
    """Print the counts; with ETL_SESSION_RELIABILITY_REPORT=FILE also append them there as a
    JSON line (pytest-xdist workers' prints do not reach the terminal)."""
    line = f"reliability {name}: " + ", ".join(f"{key} {value}" for key, value in counts.items())
    print(f"\n{line}")
    path = os.environ.get("ETL_SESSION_RELIABILITY_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"test": name, **counts}) + "\n")


def check_month(
    rows: Sequence[tuple[int, float]], ids: set[int], versions: set[int]
) -> tuple[int, int]:
    """(rows lost, duplicates) of one month against the source; every row of one version."""
    got = [row_id for row_id, _ in rows]
    lost = len(ids - set(got))
    duplicates = len(got) - len(set(got))
    extra = set(got) - ids
    assert not extra, f"rows of other months or stale rows: {sorted(extra)}"
    assert {amount for _, amount in rows} <= {float(v) for v in versions}
    return lost, duplicates


def test_concurrent_loads_of_one_project_never_lose_rows(warehouse: Warehouse) -> None:
    """7 loads started together, repeated: the 4 months (two sources), a second load of
    February, the first quarter and a stretch across February and March (overlapping periods):
    the ones that wait queue and succeed; none reports success with missing rows."""
    rng = random.Random(9)
    warehouse.insert_events([(0, "2022-12-31 12:00:00", 0.0)])
    loads = lost = duplicates = refused = 0
    for round_number in range(1, ROUNDS + 1):
        expected = seed_events(warehouse, rng, round_number)
        procs = {}
        periods = [*MONTHS, "2023-02", "2023-Q1", "[2023-02-10, 2023-03-20]"]
        for index, period in enumerate(periods):
            args = ["--period", period, "--source", f"src{index % 2}", "--wait", "600"]
            procs[index] = warehouse.spawn_etl_run(*args, name=f"r{round_number}-{index}")
        outputs = {index: proc.communicate(timeout=900)[0] for index, proc in procs.items()}
        loads += len(procs)
        for index, proc in procs.items():
            assert proc.returncode == 0, outputs[index]
        rows = loaded(warehouse)
        for month in MONTHS:
            month_lost, month_duplicates = check_month(rows[month], expected[month], {round_number})
            lost += month_lost
            duplicates += month_duplicates
    left_running = running_sessions(warehouse)
    report(
        f"concurrent {warehouse.name}",
        rounds=ROUNDS,
        loads=loads,
        refused=refused,
        rows_lost=lost,
        duplicates=duplicates,
        sessions_left_running=left_running,
    )
    assert (lost, duplicates, left_running) == (0, 0, 0)


def test_concurrent_loads_without_wait_are_refused_or_succeed_never_half(
    warehouse: Warehouse,
) -> None:
    rng = random.Random(11)
    expected = seed_events(warehouse, rng, 1)
    for month in MONTHS:  # everything loaded once
        first = warehouse.spawn_etl_run("--period", month, name=f"seed-{month}")
        assert first.wait(timeout=600) == 0, first.communicate()[0]
    loads = lost = duplicates = refused = 0
    last_loaded = dict.fromkeys(MONTHS, 1)  # the version each month's rows come from
    for round_number in range(2, ROUNDS + 2):
        expected = seed_events(warehouse, rng, round_number)
        procs = {
            month: warehouse.spawn_etl_run("--period", month, name=f"n{round_number}-{month}")
            for month in MONTHS
        }
        outputs = {month: proc.communicate(timeout=900)[0] for month, proc in procs.items()}
        loads += len(procs)
        rows = loaded(warehouse)
        for month, proc in procs.items():
            assert proc.returncode in (0, 2), outputs[month]
            if proc.returncode == 2:
                refused += 1
                # Refused naming the other load: running, holding the DuckDB file's lock, or
                # starting (it claimed a session id and has not opened it yet, open_session's
                # message); faster start-ups meet the last one more often.
                assert any(
                    why in outputs[month] for why in ("is running", "lock", "is starting")
                ), outputs[month]
                versions = {last_loaded[month]}  # refused: the month keeps its last load
            else:
                versions = {round_number}
                last_loaded[month] = round_number
            month_lost, month_duplicates = check_month(rows[month], expected[month], versions)
            lost += month_lost
            duplicates += month_duplicates
        assert refused < loads  # at least one load of every round got through
    left_running = running_sessions(warehouse)
    report(
        f"concurrent-no-wait {warehouse.name}",
        rounds=ROUNDS,
        loads=loads,
        refused=refused,
        rows_lost=lost,
        duplicates=duplicates,
        sessions_left_running=left_running,
    )
    assert (lost, duplicates, left_running) == (0, 0, 0)


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_a_load_stopped_at_a_random_moment_loses_nothing_and_the_next_load_recovers(
    warehouse: Warehouse, signal_number: int
) -> None:
    rng = random.Random(int(signal_number))
    month = "2023-02"
    expected = seed_events(warehouse, rng, 1)
    first = warehouse.spawn_etl_run("--period", month, name="first")
    assert first.wait(timeout=600) == 0, first.communicate()[0]
    loads = lost = duplicates = stopped = 0
    trials = ROUNDS * len(MOMENTS)
    order = rng.sample(sorted(MOMENTS), len(MOMENTS))
    in_transaction = before_python = 0
    for trial in range(trials):
        version = trial + 2
        previous = version - 1
        expected = seed_events(warehouse, rng, version)
        # Every moment comes up, in a random order: `trials` is a multiple of their number.
        moment = order[trial % len(order)]
        vars_text = PAUSE if moment == "transaction" else SLOW
        sessions_before = sessions_count(warehouse)
        proc = warehouse.spawn_etl_run("--period", month, "--vars", vars_text, name=f"t{trial}")
        delay = 0.3 if moment == "transaction" else rng.uniform(0.0, 0.8)
        output = stop_at(proc, MOMENTS[moment], delay, signal_number)
        killed_in_transaction = moment == "transaction" and signal_number == signal.SIGKILL
        if killed_in_transaction and warehouse.name == "postgres":
            # The killed load's pause runs on in its server process, holding the transaction's
            # locks (Postgres notices a dead client only when it writes): end it, as the end of
            # the pause would.
            warehouse.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where query like '%pg_sleep%' and pid <> pg_backend_pid()"
            )
        stopped += proc.returncode != 0
        if moment == "transaction":
            # The signal landed while the delete and insert were not committed yet.
            assert MOMENTS[moment] in output and proc.returncode != 0, output
            in_transaction += 1
        loads += 1
        if signal_number == signal.SIGTERM and proc.returncode != 0:
            if proc.returncode == -signal.SIGTERM:
                # Only while Python itself starts (~30 ms, before any of etl-run's code runs and
                # so before anything was opened) does SIGTERM take its default action.
                assert moment == "start-up" and output == "", (moment, output)
                assert sessions_count(warehouse) == sessions_before, "a session was opened"
                before_python += 1
            else:
                assert proc.returncode == 143, (moment, output)
        # a stopped load leaves either the previous rows or its own, whole
        rows = loaded(warehouse)[month]
        versions = {float(v) for _, v in rows}
        assert len(versions) <= 1, f"a mix of loads: {versions}"
        month_lost, month_duplicates = check_month(rows, expected[month], {previous, version})
        lost += month_lost
        duplicates += month_duplicates
        if signal_number == signal.SIGTERM:
            assert running_sessions(warehouse) == 0, "SIGTERM left the session running"
        # the next load of the same period is not blocked by the stopped one
        again = warehouse.spawn_etl_run("--period", month, name=f"again{trial}")
        again_output = again.communicate(timeout=600)[0]
        loads += 1
        assert again.returncode == 0, again_output
        month_lost, month_duplicates = check_month(
            loaded(warehouse)[month], expected[month], {version}
        )
        lost += month_lost
        duplicates += month_duplicates
        assert running_sessions(warehouse) == 0
    left_running = running_sessions(warehouse)
    abandoned = warehouse.query(
        "select count(*) from analytics.etl_sessions where closed_by = 'abandoned'"
    )[0][0]
    report(
        f"{signal.Signals(signal_number).name} {warehouse.name}",
        trials=trials,
        stopped_mid_load=stopped,
        stopped_inside_the_model_transaction=in_transaction,
        terminated_before_python_ran_etl_run=before_python,
        loads=loads,
        closed_abandoned=int(abandoned),
        rows_lost=lost,
        duplicates=duplicates,
        sessions_left_running=left_running,
    )
    assert (lost, duplicates, left_running) == (0, 0, 0)


def admitted_after_another_load_ends(
    wh: Warehouse, command: list[str], env: dict[str, str], other_run_id: str
) -> tuple[int, str]:
    """Run `command` (a load of 2023-02) so that another load of the project ends between dbt's
    listing of the relations and the load's admission: the test holds the admission's advisory
    lock until the load waits for it, then does what a load of the project that ends does
    (builds the `daily_amounts` view, records its session as ended) and lets it go. Returns the
    load's exit code and output."""
    assert wh.pg is not None
    [(project, target)] = wh.query("select distinct project, target from analytics.etl_sessions")
    wh.execute("drop view if exists analytics.daily_amounts")
    holder = wh.pg.connect()
    holder.autocommit = False
    try:
        with holder.cursor() as cur:
            cur.execute(
                "select pg_advisory_xact_lock(hashtext('etl_session:open:' || %s))",
                (f"{project}|{target}",),
            )
        proc = subprocess.Popen(
            command, cwd=wh.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 300
        while not wh.query("select 1 from pg_locks where locktype = 'advisory' and not granted"):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the load never reached its admission"
            time.sleep(0.1)
        # A load's `finished` is stamped after everything it built (the close's own statement
        # time, not this transaction's start, which came before the load started).
        with holder.cursor() as cur:
            cur.execute(
                "create view analytics.daily_amounts as select 1 as other_load;"
                " insert into analytics.etl_sessions (source, target, project, period_start,"
                " period_end, run_id, started, finished, status, message)"
                " values ('other', %s, %s, '2023-03-01', '2023-04-01', %s,"
                " now() - interval '5 seconds', clock_timestamp(), 'success',"
                " 'the other load')",
                (target, project, other_run_id),
            )
        holder.commit()
    finally:
        holder.close()
    return proc.wait(timeout=300), proc.communicate()[0]


def daily_amounts_columns(wh: Warehouse) -> set[str]:
    return {
        name
        for (name,) in wh.query(
            "select column_name from information_schema.columns"
            " where table_schema = 'analytics' and table_name = 'daily_amounts'"
        )
    }


def test_a_load_that_ends_while_another_starts_leaves_it_no_stale_relation_cache(
    postgres_warehouse: Warehouse,
) -> None:
    """dbt lists the warehouse's relations (its relation cache) before on-run-start opens the
    session. A load that builds relations and ends between the two leaves the next one a cache
    that misses them: CI saw `relation "daily_amounts" already exists` (a view the other load
    had just created) in the concurrent test's first round; on Spark a Delta table dbt takes for
    new is created with `create or replace`. etl-run lists the relations again inside the hook
    and loads (2 rounds); plain dbt cannot, and is refused before any model runs, then loads
    when run again."""
    wh = postgres_warehouse
    seed_events(wh, random.Random(5), 1)
    first = wh.etl_run("--period", "2023-01", "-q")
    assert first.returncode == 0, first.output
    for round_number in range(2):
        name = f"stale-{round_number}"
        env = wh.env({"DBT_TARGET_PATH": str(wh.workdir / f"target-{name}")})
        command = wh.etl_run_command("--period", "2023-02")
        code, output = admitted_after_another_load_ends(wh, command, env, f"other-{name}")
        assert code == 0, output
        assert "already exists" not in output
        assert wh.query(
            "select status from analytics.etl_sessions where source <> 'other'"
            " order by session_id desc limit 1"
        ) == [("success",)]
        assert "other_load" not in daily_amounts_columns(wh)  # the project's view again

    sessions_before = sessions_count(wh)
    env = wh.env(
        {
            "ETL_SESSION_PERIOD_START": "2023-02-01T00:00:00Z",
            "ETL_SESSION_PERIOD_END": "2023-03-01T00:00:00Z",
        }
    )
    plain = [str(BIN / "dbt"), "build", "--target", wh.name, "--project-dir", str(wh.project_dir)]
    code, output = admitted_after_another_load_ends(wh, plain, env, "other-plain")
    assert code != 0, output
    assert "ended while this dbt run was starting" in output, output
    assert sessions_count(wh) == sessions_before + 1  # the other load's row only
    assert daily_amounts_columns(wh) == {"other_load"}  # no model ran
    again = wh.dbt("build", period=("2023-02-01T00:00:00Z", "2023-03-01T00:00:00Z"), check=False)
    assert again.returncode == 0, again.output
    assert "other_load" not in daily_amounts_columns(wh)
    assert running_sessions(wh) == 0
