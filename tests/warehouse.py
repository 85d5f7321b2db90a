"""Real warehouses for the integration tests: a DuckDB file and a PostgreSQL server.

Tests drive real dbt as a subprocess against tests/integration_project and check results with
plain SQL through the warehouse's own Python driver. Nothing here is a mock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pg_server import PgServer

REPO = Path(__file__).resolve().parent.parent
INTEGRATION_PROJECT = REPO / "tests" / "integration_project"
BIN = Path(sys.executable).parent


@dataclass
class DbtRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def events(self) -> list[dict[str, Any]]:
        """dbt's structured events, when the run used --log-format json."""
        found = []
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found


@dataclass
class Warehouse:
    """One adapter's warehouse, reset before each test."""

    name: str
    workdir: Path
    pg: PgServer | None = None
    project_dir: Path = INTEGRATION_PROJECT
    extra_env: dict[str, str] = field(default_factory=dict)

    # -- environment -------------------------------------------------------------------------
    @property
    def duckdb_path(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    def env(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ETL_SESSION_", "DBT_"))
            or key in ("ETL_SESSION_JINJA_CACHE", "ETL_SESSION_COVERAGE_CACHE")
        }
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "DBT_PROFILES_DIR": str(self.project_dir),
                "DBT_TARGET_PATH": str(self.workdir / "target"),
                "DBT_LOG_PATH": str(self.workdir / "logs"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DBT_TARGET": self.name,
                "ETL_IT_DUCKDB_PATH": str(self.duckdb_path),
            }
        )
        if self.pg is not None:
            env.update(self.pg.env())
        env.update(self.extra_env)
        if overrides:
            env.update(overrides)
        return env

    # -- dbt ---------------------------------------------------------------------------------
    def dbt(
        self,
        *args: str,
        period: tuple[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> DbtRun:
        """Run the dbt CLI in the integration project; `period` is (start, end) in ISO 8601."""
        overrides = dict(env or {})
        if period is not None:
            overrides["ETL_SESSION_PERIOD_START"], overrides["ETL_SESSION_PERIOD_END"] = period
        command = [str(BIN / "dbt"), *args, "--target", self.name]
        if args and args[0] in {"deps", "clean", "init", "debug"}:
            command = [str(BIN / "dbt"), *args]
        run = self._run(command, self.project_dir, self.env(overrides))
        if check and run.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {run.returncode}:\n{run.output}")
        return run

    def etl_run_command(self, *args: str) -> list[str]:
        return [str(BIN / "etl-run"), "--project-dir", str(self.project_dir), *args]

    def etl_run(self, *args: str, env: Mapping[str, str] | None = None) -> DbtRun:
        """Run etl-run as a user would: a new process, its output and exit code."""
        return self._run(self.etl_run_command(*args), self.workdir, self.env(env))

    def _run(self, command: list[str], cwd: Path, env: dict[str, str]) -> DbtRun:
        """A dbt or etl-run process to its end, with the partial-parse manifest kept (below)."""
        target, cached = self._seed_parse(command, env)
        proc = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        saved = target / "partial_parse.msgpack"
        if saved.is_file():
            cached.parent.mkdir(exist_ok=True)
            staging = cached.with_suffix(".tmp")
            shutil.copyfile(saved, staging)
            os.replace(staging, cached)
            (target / ".parse-key").write_text(cached.stem)
        return DbtRun(command, proc.returncode, proc.stdout, proc.stderr)

    def spawn_etl_run(
        self, *args: str, name: str | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """etl-run started as a scheduler starts it: its own process, stdout and stderr merged.
        `name` gives it its own dbt target and log folders (for loads that run side by side)."""
        overrides = dict(env or {})
        if name is not None:
            overrides["DBT_TARGET_PATH"] = str(self.workdir / f"target-{name}")
            overrides["DBT_LOG_PATH"] = str(self.workdir / f"logs-{name}")
        command = self.etl_run_command(*args)
        env_ = self.env(overrides)
        self._seed_parse(command, env_)
        return subprocess.Popen(
            command,
            cwd=self.workdir,
            env=env_,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    # -- dbt's partial parsing ------------------------------------------------------------
    # dbt parses the whole project again (some 2-3 s of CPU) when the saved manifest in the
    # target folder was made with other `--vars`, or when a load gets a target folder of its
    # own (loads side by side). Each worker keeps the last manifest of every combination of
    # project, vars and environment, and gives it to a target folder that lacks it. dbt still
    # checks the manifest against the project, vars and profile, and parses again on any
    # difference: this changes the suite's speed, never what dbt runs.
    _PARSE_ENV_IGNORED = ("ETL_SESSION_PERIOD_", "DBT_TARGET_PATH", "DBT_LOG_PATH")

    def _parse_key(self, command: Sequence[str], env: Mapping[str, str]) -> str:
        given = [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == "--vars"]
        setting = sorted(
            (key, value)
            for key, value in env.items()
            if key.startswith(("ETL_", "DBT_", "SHOP_", "PG"))
            and not key.startswith(self._PARSE_ENV_IGNORED)
        )
        text = repr((str(self.project_dir), given, setting))
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def _seed_parse(self, command: Sequence[str], env: Mapping[str, str]) -> tuple[Path, Path]:
        """Give the command's target folder the manifest last saved for its vars and settings
        (when there is one yet), and mark the folder as theirs: the command leaves its own
        manifest there. Returns the target folder and the cached manifest's path."""
        target = Path(env.get("DBT_TARGET_PATH") or self.workdir / "target")
        if not target.is_absolute():
            target = self.project_dir / target
        cached = self.workdir / ".parse-cache" / f"{self._parse_key(command, env)}.msgpack"
        key_file = target / ".parse-key"
        if not (key_file.is_file() and key_file.read_text() == cached.stem):
            target.mkdir(parents=True, exist_ok=True)
            if cached.is_file():
                shutil.copyfile(cached, target / "partial_parse.msgpack")
            key_file.write_text(cached.stem)
        return target, cached

    # -- SQL ---------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.name == "duckdb":
            import duckdb

            conn = duckdb.connect(str(self.duckdb_path))
            try:
                return conn.execute(sql, list(params or [])).fetchall()
            finally:
                conn.close()
        assert self.pg is not None
        conn = self.pg.connect()
        try:
            with conn.cursor() as cur:
                if params:
                    cur.execute(sql.replace("?", "%s"), tuple(params))
                else:  # no parameters: a literal % in the SQL stays as written
                    cur.execute(sql)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.query(sql, params)

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return bool(rows[0][0])

    # -- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """An empty warehouse with the raw.events source table."""
        if self.name == "duckdb":
            for suffix in ("", ".wal"):
                Path(str(self.duckdb_path) + suffix).unlink(missing_ok=True)
        else:
            for schema in ("raw", "analytics", "etl_audit"):
                self.execute(f"drop schema if exists {schema} cascade")
        self.execute("create schema raw")
        self.execute(
            "create table raw.events (id integer, occurred_at timestamp, amount double precision)"
        )

    def insert_events(self, rows: Sequence[tuple[int, str, float]]) -> None:
        for row in rows:
            self.execute("insert into raw.events values (?, cast(? as timestamp), ?)", list(row))


def install_packages(project_dir: Path, env: Mapping[str, str]) -> None:
    """`dbt deps` once per project (the package is installed from the repo with `local:`).

    A file lock makes parallel test workers (pytest-xdist) install it once, one at a time.
    """
    if (project_dir / "dbt_packages" / "etl_session").exists():
        return
    with (project_dir / ".deps.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (project_dir / "dbt_packages" / "etl_session").exists():
            return
        subprocess.run(
            [str(BIN / "dbt"), "deps"],
            cwd=project_dir,
            env=dict(env),
            check=True,
            capture_output=True,
        )


def copy_project(source: Path, destination: Path) -> Path:
    """A copy of a test dbt project whose `local:` package path still points at this repo."""
    shutil.copytree(
        source, destination, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs")
    )
    (destination / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    return destination
