"""materialized='etl_period' against hand-written SQL, the strategy and dbt microbatch.

    python bench/bench_materialization.py [--rows 1000000] [--rounds 5]
        [--growth-rows-per-day 10000] [--adapters duckdb,postgres] [--skip-growth] [--skip-run]

Three measurements, each side by side in one run, order rotating every round, medians:

1. reload one month (May 2023) of a table loaded with N events over 2023: dbt's execution time
   of the model node (run_results.json) for the etl_period materialization (run by `dbt run`,
   and by etl-run, whose process reuses the Jinja templates it compiled before), the etl_period
   strategy (materialized='incremental') and dbt microbatch (batch_size='month'; Postgres needs
   a unique_key for it, so there it merges on `id`), against the wall time of the
   delete + insert a data engineer would write by hand, in one transaction; and that same
   hand-written SQL as the model of dbt's thinnest materialization (its statement, then COMMIT),
   loaded by etl-run: what any materialization run by dbt costs at the least;
2. whole `etl-run --period 2023-05` against `dbt build` given the same period through the
   package's environment variables (new processes, wall time);
3. reload one day while the table holds 10, 100 and 1,000 days of the same daily volume
   (1x, 10x, 100x; 10,000 rows a day on DuckDB, 2,000 on Postgres by default): the
   materialization against the hand-written SQL.

Each method writes its own target table. Postgres targets get an index on the time column (and
on `id` for microbatch's merge); DuckDB tables get none (zone maps do that work).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from pg_server import postgres_server  # noqa: E402
from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages  # noqa: E402

MAY = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
YEAR = ("2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z")

SOURCES = """
version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: events
        config:
          event_time: occurred_at
"""
MATERIALIZATION = """
{{ config(materialized='etl_period', etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ source('raw', 'events') }} as e
"""
MODELS = {
    # dbt's floor: the cheapest node there is, timed like the others.
    "bench_floor": """
{{ config(materialized='view') }}
select 1 as one
""",
    "bench_mat": MATERIALIZATION,
    # The same model, loaded by etl-run (its process keeps dbt's compiled Jinja on disk).
    "bench_mat_run": MATERIALIZATION,
    "bench_strategy": """
{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ source('raw', 'events') }} as e
where {{ etl_session.period_filter('e.occurred_at') }}
""",
    # No alias after the source: dbt wraps it in an aliased subquery of its own.
    "bench_microbatch": """
{{ config(materialized='incremental', incremental_strategy='microbatch',
          event_time='occurred_at', batch_size='month', begin='2023-01-01',
          unique_key=('id' if target.type == 'postgres' else none)) }}
select {{ etl_session.session_id() }} as session_id, id, occurred_at, amount
from {{ source('raw', 'events') }}
""",
}


#: dbt's thinnest materialization: the model's SQL as it is, then COMMIT. Timed with the
#: hand-written SQL as its model, it is the floor for any materialization run by dbt.
SQL_NODE_MATERIALIZATION = """
{%- materialization bench_sql_node, default -%}
    {%- call statement('main') -%}
        {{ sql }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return({'relations': [this.incorporate(type='table')]}) }}
{%- endmaterialization -%}
"""


def hand_written_sql(table: str, start: str, end: str) -> str:
    where = (
        f"occurred_at >= cast('{start}' as timestamp) and occurred_at < cast('{end}' as timestamp)"
    )
    return (
        f"delete from analytics.{table} where {where};\n"
        f"insert into analytics.{table} (session_id, id, occurred_at, amount)\n"
        f"select 0, id, occurred_at, amount from raw.events where {where};"
    )


def settle(wh: Warehouse) -> None:
    """After the bulk set-up, before the timed rounds: on Postgres vacuum, analyze and
    checkpoint, so that autovacuum and the checkpointer do not land on the first rounds (they
    took 2-3 rounds of every contender up to 2.5x their later times)."""
    if wh.name != "postgres":
        return
    assert wh.pg is not None
    conn = wh.pg.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("vacuum analyze")
            cur.execute("checkpoint")
    finally:
        conn.close()


# The hand-written SQL as the model of dbt's thinnest materialization (loaded by etl-run).
MODELS["bench_hand_node"] = "{{ config(materialized='bench_sql_node') }}\n" + hand_written_sql(
    "bench_hand_node", MAY[0][:19].replace("T", " "), MAY[1][:19].replace("T", " ")
)


def run_in_transaction(wh: Warehouse, sql: str) -> float:
    started = time.perf_counter()
    if wh.name == "duckdb":
        import duckdb

        conn = duckdb.connect(str(wh.duckdb_path))
        try:
            conn.execute("begin")
            conn.execute(sql)
            conn.execute("commit")
        finally:
            conn.close()
    else:
        assert wh.pg is not None
        conn = wh.pg.connect()
        conn.autocommit = False
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
            conn.commit()
        finally:
            conn.close()
    return time.perf_counter() - started


def node_time(wh: Warehouse, model: str, period: tuple[str, str]) -> float:
    args = ["run", "--select", model]
    if model == "bench_microbatch":
        args += ["--event-time-start", period[0][:19], "--event-time-end", period[1][:19]]
    wh.dbt(*args, period=period)
    return last_node_time(wh, model)


def last_node_time(wh: Warehouse, model: str) -> float:
    """dbt's execution time of `model` in the last run (run_results.json)."""
    results = json.loads((wh.workdir / "target" / "run_results.json").read_text())
    [node] = [r for r in results["results"] if r["unique_id"] == f"model.etl_it.{model}"]
    return float(node["execution_time"])


def etl_run_node_time(wh: Warehouse, model: str, period: str) -> float:
    """dbt's execution time of the node in a load by etl-run (a new process, as in production)."""
    run = wh.etl_run("-q", "--period", period, "--select", model)
    if run.returncode != 0:
        raise SystemExit(f"etl-run failed:\n{run.output}")
    return last_node_time(wh, model)


def project(workdir: Path) -> Path:
    """The integration project with only the benchmark's models, on a snapshot of the package
    (the repository's working tree may change while the benchmark runs)."""
    package = workdir / "package"
    package.mkdir()
    shutil.copy(REPO / "dbt_project.yml", package)
    for folder in ("macros", "models"):
        shutil.copytree(REPO / folder, package / folder)
    copy = copy_project(INTEGRATION_PROJECT, workdir / "project")
    (copy / "packages.yml").write_text(f"packages:\n  - local: {package}\n")
    for path in (copy / "models").iterdir():
        path.unlink()
    for path in (copy / "tests").iterdir():
        path.unlink()
    (copy / "models" / "sources.yml").write_text(SOURCES)
    for name, sql in MODELS.items():
        (copy / "models" / f"{name}.sql").write_text(sql.lstrip())
    if "bench_hand_node" in MODELS:
        (copy / "macros" / "bench_sql_node.sql").write_text(SQL_NODE_MATERIALIZATION.lstrip())
    return copy


def fill_events(wh: Warehouse, first: int, count: int, start: str, seconds_per_row: float) -> None:
    """Events first..first+count-1, one every `seconds_per_row` from `start` on."""
    if wh.name == "duckdb":
        wh.execute(
            f"insert into raw.events select r, timestamp '{start}'"
            f" + to_microseconds(cast((r - {first}) * {seconds_per_row} * 1000000 as bigint)),"
            f" r % 100 from range({first}, {first + count}) t(r)"
        )
    else:
        wh.execute(
            f"insert into raw.events select g, timestamp '{start}'"
            f" + (g - {first}) * interval '{seconds_per_row} seconds', g % 100"
            f" from generate_series({first}, {first + count - 1}) g"
        )
        wh.execute("analyze raw.events")


def rotate(
    rounds: int, contenders: list[tuple[str, Callable[[], float]]]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for index in range(rounds):
        shift = index % len(contenders)
        for name, run in contenders[shift:] + contenders[:shift]:
            times[name].append(run())
    return times


def bench_month(wh: Warehouse, rows: int, rounds: int) -> dict[str, list[float]]:
    wh.reset()
    fill_events(wh, 0, rows, "2023-01-01", 365 * 24 * 3600 / rows)
    wh.execute("create index events_time on raw.events (occurred_at)")
    for model in MODELS:
        if model != "bench_hand_node":  # its table is made below, like the hand-written one's
            node_time(wh, model, YEAR)
    etl_run_node_time(wh, "bench_mat_run", "2023")  # etl-run's Jinja cache warm, as in production
    tables = [model for model in MODELS if model not in ("bench_floor", "bench_hand_node")]
    for table in ("bench_hand", "bench_hand_node"):
        wh.execute(
            f"create table analytics.{table} as"
            " select 0 as session_id, id, occurred_at, amount from raw.events"
        )
    if wh.name == "postgres":
        for table in [*tables, "bench_hand", "bench_hand_node"]:
            wh.execute(f"create index {table}_time on analytics.{table} (occurred_at)")
        wh.execute("create unique index bench_microbatch_id on analytics.bench_microbatch (id)")
    settle(wh)
    hand = hand_written_sql("bench_hand", "2023-05-01 00:00:00", "2023-06-01 00:00:00")
    contenders: list[tuple[str, Callable[[], float]]] = [
        ("materialization", lambda: node_time(wh, "bench_mat", MAY)),
        ("mat. by etl-run", lambda: etl_run_node_time(wh, "bench_mat_run", "2023-05")),
        ("hand-written", lambda: run_in_transaction(wh, hand)),
        ("hand, dbt node", lambda: etl_run_node_time(wh, "bench_hand_node", "2023-05")),
        ("microbatch", lambda: node_time(wh, "bench_microbatch", MAY)),
        ("strategy", lambda: node_time(wh, "bench_strategy", MAY)),
        ("dbt floor (view)", lambda: node_time(wh, "bench_floor", MAY)),
    ]
    times = rotate(rounds, contenders)
    for table in [*tables, "bench_hand", "bench_hand_node"]:
        [(count,)] = wh.query(f"select count(*) from analytics.{table}")
        assert count == rows, (table, count, rows)  # every reload kept each row exactly once
    # etl-run's loads replaced May: after one more, each May row carries that load's session.
    etl_run_node_time(wh, "bench_mat_run", "2023-05")
    may = f"occurred_at >= timestamp '{MAY[0][:10]}' and occurred_at < timestamp '{MAY[1][:10]}'"
    [(in_may,)] = wh.query(f"select count(*) from raw.events where {may}")
    [(stamped,)] = wh.query(
        f"select count(*) from analytics.bench_mat_run where {may} and session_id ="
        " (select max(session_id) from analytics.etl_sessions)"
    )
    assert stamped == in_may > 0, (stamped, in_may)
    return times


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def bench_run(wh: Warehouse, rounds: int) -> dict[str, list[float]]:
    """Whole etl-run against dbt build, the same project, model and period (after bench_month)."""
    bin_dir = Path(sys.executable).parent
    etl_run = [*wh.etl_run_command("-q", "--period", "2023-05", "--select", "bench_mat")]
    dbt_build = [str(bin_dir / "dbt"), "--quiet", "build", "--select", "bench_mat"]
    env = wh.env()
    period_env = wh.env({"ETL_SESSION_PERIOD_START": MAY[0], "ETL_SESSION_PERIOD_END": MAY[1]})
    return rotate(
        rounds,
        [
            ("etl-run", lambda: timed(etl_run, env, wh.workdir)),
            ("dbt build", lambda: timed(dbt_build, period_env, wh.project_dir)),
        ],
    )


def bench_growth(wh: Warehouse, per_day: int, rounds: int) -> list[tuple[int, float, float]]:
    """Reload one day (2020-01-06) while the table holds 10, 100, 1,000 days of `per_day` rows."""
    wh.reset()
    wh.execute("create schema if not exists analytics")
    wh.execute(
        "create table analytics.bench_hand"
        " (session_id integer, id integer, occurred_at timestamp, amount double precision)"
    )
    seconds = 24 * 3600 / per_day
    day = ("2020-01-06T00:00:00Z", "2020-01-07T00:00:00Z")
    hand = hand_written_sql("bench_hand", "2020-01-06 00:00:00", "2020-01-07 00:00:00")
    loaded = 0
    curve = []
    for days in (10, 100, 1000):
        count = days * per_day - loaded
        fill_events(wh, loaded, count, "2020-01-01", seconds)
        # Load the new days into both targets (the first time, the materialization creates it).
        span = (_instant(loaded, seconds), _instant(days * per_day, seconds))
        wh.dbt("run", "--select", "bench_mat", period=span)
        wh.execute(
            "insert into analytics.bench_hand select 0, id, occurred_at, amount from raw.events"
            f" where id >= {loaded}"
        )
        if not loaded:
            wh.execute("create index events_time on raw.events (occurred_at)")
            if wh.name == "postgres":
                for table in ("bench_mat", "bench_hand"):
                    wh.execute(f"create index {table}_time on analytics.{table} (occurred_at)")
        if wh.name == "postgres":
            for table in ("raw.events", "analytics.bench_mat", "analytics.bench_hand"):
                wh.execute(f"analyze {table}")
        loaded = days * per_day
        times = rotate(
            rounds,
            [
                ("materialization", lambda: node_time(wh, "bench_mat", day)),
                ("hand-written", lambda: run_in_transaction(wh, hand)),
            ],
        )
        curve.append(
            (
                loaded,
                statistics.median(times["materialization"]),
                statistics.median(times["hand-written"]),
            )
        )
        print(
            f"  {wh.name} {loaded:>11,} rows: {curve[-1][1]:.3f} s vs {curve[-1][2]:.3f} s",
            flush=True,
        )
    return curve


def _instant(row: int, seconds_per_row: float) -> str:
    from datetime import datetime, timedelta, timezone

    moment = datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=row * seconds_per_row)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(times: dict[str, list[float]], baseline: str) -> str:
    base = statistics.median(times[baseline])
    lines = []
    for name, runs in times.items():
        median = statistics.median(runs)
        lines.append(
            f"    {name:16} median {median:.3f} s  ÷ {baseline} {median / base:.2f}"
            f"  runs {[round(t, 3) for t in runs]}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--growth-rows-per-day", type=int, default=10_000, help="DuckDB")
    parser.add_argument("--pg-growth-rows-per-day", type=int, default=2_000, help="Postgres")
    parser.add_argument("--adapters", default="duckdb,postgres")
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument("--skip-run", action="store_true")
    options = parser.parse_args()
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as (server, _):
        project_dir = project(Path(tmp))
        for name in options.adapters.split(","):
            workdir = Path(tmp) / name
            workdir.mkdir()
            wh = Warehouse(name, workdir, server if name == "postgres" else None, project_dir)
            install_packages(project_dir, wh.env())
            print(
                f"{name}: reload May of {options.rows:,} events, {options.rounds} rounds",
                flush=True,
            )
            month = bench_month(wh, options.rows, options.rounds)
            print(summary(month, "hand-written"))
            mb = statistics.median(month["materialization"]) / statistics.median(
                month["microbatch"]
            )
            print(f"    materialization ÷ microbatch {mb:.2f}", flush=True)
            if not options.skip_run:
                print(f"{name}: etl-run vs dbt build, {options.rounds} rounds", flush=True)
                print(summary(bench_run(wh, options.rounds), "dbt build"), flush=True)
            if not options.skip_growth:
                per_day = (
                    options.growth_rows_per_day
                    if name == "duckdb"
                    else options.pg_growth_rows_per_day
                )
                print(f"{name}: reload one day of {per_day:,} rows", flush=True)
                bench_growth(wh, per_day, 3)


if __name__ == "__main__":
    main()
