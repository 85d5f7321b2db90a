"""etl-run on a local Spark Thrift server: what a load costs, and the etl_period materialization
against the hand-written partition overwrite a data engineer would run.

    python bench/bench_spark.py [--rows 1000000] [--rounds 3] [--port PORT]

Starts a Spark Thrift server from the installed pyspark (tests/spark/spark_server.py), or uses
the one on --port. The Spark test project (tests/spark/project) on a schema of its own; N events
over 2023 in its source table. Each round reloads May (etl-run --period 2023-05, new process,
wall time) and, side by side, runs the hand-written statement that replaces May's daily
partitions of a copy of fct_events (dynamic partition overwrite). Reports medians: the wall time
of etl-run, the execution time dbt reports for the fct_events node (run_results.json), and the
hand-written statement's wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "spark"))

from spark_server import SparkServer, spark_server  # noqa: E402

BIN = Path(sys.executable).parent
SCHEMA = "bench_spark"


@contextlib.contextmanager
def _server(port: int | None) -> Iterator[SparkServer]:
    if port is not None:
        yield SparkServer("127.0.0.1", port, None)
        return
    with spark_server() as server:
        yield server


def _sql(server: SparkServer, statement: str) -> list[tuple[object, ...]]:
    from pyhive import hive

    connection = hive.connect(host=server.host, port=server.port)
    try:
        cursor = connection.cursor()
        cursor.execute(statement)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        except Exception:  # no result set
            return []
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=None, help="use a running Thrift server")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    project = work / "project"
    shutil.copytree(
        REPO / "tests" / "spark" / "project",
        project,
        ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml"),
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    with _server(args.port) as server:
        env = {
            **os.environ,
            **server.env(),
            "ETL_SPARK_SCHEMA": SCHEMA,
            "DBT_PROFILES_DIR": str(project),
            "DBT_PROJECT_DIR": str(project),
        }
        for schema in (SCHEMA, f"{SCHEMA}_raw", f"{SCHEMA}_etl_claims"):
            _sql(server, f"drop schema if exists {schema} cascade")
        _sql(server, f"create schema {SCHEMA}_raw")
        seconds = 365 * 86400
        _sql(
            server,
            f"create table {SCHEMA}_raw.events using parquet as select id as event_id,"
            f" timestamp_seconds(1672531200 + id * {seconds} div {args.rows}) as event_time,"
            f" cast(id % 100 as double) as amount from range({args.rows})",
        )
        subprocess.run([BIN / "dbt", "deps"], cwd=project, env=env, check=True)
        vars_ = "{etl_session_reporting: false}"

        def load() -> tuple[float, float]:
            started = time.monotonic()
            subprocess.run(
                [BIN / "etl-run", "--period", "2023-05", "--vars", vars_, "--quiet"],
                cwd=project,
                env=env,
                check=True,
            )
            wall = time.monotonic() - started
            results = json.loads((project / "target" / "run_results.json").read_text())
            node = next(r for r in results["results"] if r["unique_id"].endswith(".fct_events"))
            return wall, float(node["execution_time"])

        load()  # the first load creates the tables
        _sql(
            server,
            f"create table {SCHEMA}.fct_by_hand using parquet partitioned by (event_date)"
            f" options ('partitionOverwriteMode' = 'dynamic')"
            f" as select * from {SCHEMA}.fct_events",
        )
        by_hand_sql = (
            f"insert overwrite table {SCHEMA}.fct_by_hand partition (event_date)"
            f" select session_id, event_id, event_time, amount, event_date"
            f" from (select 0 as session_id, event_id, event_time, amount,"
            f" to_date(event_time) as event_date from {SCHEMA}_raw.events"
            f" where event_time >= timestamp'2023-05-01 00:00:00Z'"
            f" and event_time < timestamp'2023-06-01 00:00:00Z')"
        )
        walls, nodes, by_hand = [], [], []
        for round_ in range(args.rounds):
            order = [0, 1] if round_ % 2 == 0 else [1, 0]
            for which in order:
                if which == 0:
                    wall, node = load()
                    walls.append(wall)
                    nodes.append(node)
                else:
                    started = time.monotonic()
                    _sql(server, by_hand_sql)
                    by_hand.append(time.monotonic() - started)
        rows = _sql(server, f"select count(*) from {SCHEMA}.fct_events")[0][0]
    shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.rows:,} events over 2023, fct_events holds {rows:,}", end="")
    print(f"; reload May, {args.rounds} rounds\n")
    print("| | median | runs (s) |")
    print("| --- | --- | --- |")
    for name, values in (
        ("etl-run (whole load, new process)", walls),
        ("fct_events node (dbt's execution time)", nodes),
        ("hand-written insert overwrite", by_hand),
    ):
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {statistics.median(values):.2f} s | {runs} |")


if __name__ == "__main__":
    main()
