"""Fixtures of the Spark tests: one real Spark Thrift server for the whole run, a copy of the
small Spark project (tests/spark/project) that installs this package, and a schema per test.

Every test here is marked `spark` and grouped on one xdist worker (`xdist_group("spark")`), so
the server starts once per run: `pytest -m spark` selects them, `-m "not spark"` leaves them out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spark_server import SparkServer, spark_server

REPO = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "project"
BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkServer]:
    """A Spark Thrift server started from the installed pyspark (or ETL_SESSION_TEST_SPARK_PORT)."""
    with spark_server() as server:
        yield server


@pytest.fixture(scope="session")
def spark_project_dir(tmp_path_factory: pytest.TempPathFactory, spark: SparkServer) -> Path:
    """The Spark test project, copied, with this package installed by `dbt deps`."""
    destination = tmp_path_factory.mktemp("spark") / "project"
    shutil.copytree(
        PROJECT,
        destination,
        ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml"),
    )
    (destination / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    done = subprocess.run(
        [str(BIN / "dbt"), "deps", "--project-dir", str(destination)],
        cwd=destination,
        env={**os.environ, **spark.env(), "DBT_PROFILES_DIR": str(destination)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return destination


@dataclass
class Run:
    returncode: int
    output: str

    def json(self) -> dict[str, Any]:
        """The JSON object a --json command printed last."""
        start = self.output.rfind("\n{")
        return dict(json.loads(self.output[start + 1 if start >= 0 else 0 :]))


@dataclass
class SparkProject:
    """The project on one schema of its own, and SQL on the server."""

    server: SparkServer
    directory: Path
    schema: str

    @property
    def raw(self) -> str:
        return f"{self.schema}_raw"

    def env(self, name: str = "main", extra: Mapping[str, str] | None = None) -> dict[str, str]:
        work = self.directory.parent / f"{self.schema}-{name}"
        return {
            **os.environ,
            **self.server.env(),
            "ETL_SPARK_SCHEMA": self.schema,
            "DBT_PROFILES_DIR": str(self.directory),
            "DBT_PROJECT_DIR": str(self.directory),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            **(extra or {}),
        }

    def command(self, tool: str, *args: str) -> list[str]:
        return [str(BIN / tool), *args]

    def etl_run(self, *args: str, name: str = "main", timeout: float = 600) -> Run:
        return self._run("etl-run", args, name, timeout)

    def etl_session(self, *args: str, name: str = "operator", timeout: float = 300) -> Run:
        return self._run("etl-session", args, name, timeout)

    def dbt(self, *args: str, name: str = "dbt", timeout: float = 300) -> Run:
        return self._run("dbt", args, name, timeout)

    def _run(self, tool: str, args: Sequence[str], name: str, timeout: float) -> Run:
        done = subprocess.run(
            self.command(tool, *args),
            cwd=self.directory,
            env=self.env(name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout)

    def spawn(
        self, *args: str, name: str, extra: Mapping[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """etl-run as a scheduler starts it: its own process, stdout and stderr merged."""
        return subprocess.Popen(
            self.command("etl-run", *args),
            cwd=self.directory,
            env=self.env(name, extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    # -- SQL ------------------------------------------------------------------------------------
    def query(self, sql: str) -> list[tuple[Any, ...]]:
        from pyhive import hive

        connection = hive.connect(host=self.server.host, port=self.server.port)
        try:
            cursor = connection.cursor()
            for table in re.findall(r"\b(?:from|join)\s+([a-z_0-9]+\.[a-z_0-9]+)", sql):
                cursor.execute(f"refresh table {table}")
            cursor.execute(sql)
            try:
                return [tuple(row) for row in cursor.fetchall()]
            except Exception:  # a statement without rows
                return []
        finally:
            connection.close()

    def execute(self, *statements: str) -> None:
        for statement in statements:
            self.query(statement)

    def set_events(self, rows: Sequence[tuple[int, str, float]]) -> None:
        """The source table `raw.events`, replaced by `rows` (id, UTC time, amount)."""
        self.execute(
            f"create schema if not exists {self.raw}",
            f"drop table if exists {self.raw}.events",
            f"create table {self.raw}.events (event_id bigint, event_time timestamp, amount double)"
            " using parquet",
        )
        if rows:
            values = ", ".join(f"({i}, timestamp'{t}Z', {a})" for i, t, a in rows)
            self.execute(f"insert into {self.raw}.events values {values}")

    def sessions(self) -> list[dict[str, Any]]:
        names = [
            "session_id",
            "status",
            "closed_by",
            "message",
            "period_start",
            "period_end",
            "started",
            "finished",
            "liveness",
        ]
        rows = self.query(
            f"select {', '.join(names)} from {self.schema}.etl_sessions order by session_id"
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def wait_for(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(1)


@pytest.fixture
def project(
    spark: SparkServer, spark_project_dir: Path, request: pytest.FixtureRequest
) -> SparkProject:
    """The project on a fresh schema named after the test."""
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    project = SparkProject(spark, spark_project_dir, f"t_{name}")
    for schema in (project.schema, project.raw, f"{project.schema}_etl_claims"):
        project.execute(f"drop schema if exists {schema} cascade")
    return project
