"""The session lifecycle and the Python API: `etl_session.run(...) -> SessionResult`.

Python decides (period, options, what to run, the final status) and never writes SQL: whenever
it must touch the sessions table it calls a package macro through `dbt run-operation`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from etl_session.errors import UsageError
from etl_session.period import Period, resolve_period
from etl_session.project import (
    DbtProject,
    Warehouse,
    check_vars,
    default_timezone,
    load_project,
    sigint_deferred,
)
from etl_session.results import ERROR, SUCCESS, NodeResult, SessionOutcome, aborted, outcome_of

if TYPE_CHECKING:
    from etl_session.dbt_invoke import Invocation

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_NOTHING_RAN = 2
EXIT_INTERRUPTED = 130

COMMANDS = ("build", "run")
UP_TO_DATE = "up-to-date"
DRY_RUN = "dry-run"


@dataclass(frozen=True)
class RunOptions:
    """Everything a load needs to know, with dbt's own names."""

    period: str | None = None
    project_dir: str | os.PathLike[str] = "."
    profiles_dir: str | os.PathLike[str] | None = None
    target: str | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_refresh: bool = False
    threads: int | None = None
    vars: str | None = None
    command: str = "build"
    dbt_args: tuple[str, ...] = ()
    source: str | None = None
    timezone: str | None = None
    quiet: bool = False
    dry_run: bool = False
    #: Seconds to wait while an overlapping load runs; None: do not wait; math.inf: no limit.
    wait: float | None = None
    #: Send dbt's log lines to stderr (etl-run --json keeps stdout for the JSON object).
    logs_to_stderr: bool = False
    now: datetime | None = None


@dataclass(frozen=True)
class SessionResult:
    """How a load ended: what the scheduler and the summary line need."""

    status: str
    exit_code: int
    message: str
    period: Period | None = None
    session_id: int | None = None
    run_id: str | None = None
    nodes: tuple[NodeResult, ...] = ()
    elapsed: float = 0.0
    counts: SessionOutcome | None = None
    dbt_command: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_SUCCESS

    def summary(self) -> str:
        """One line, always the same shape: id, status, period, counts, time."""
        who = f"session {self.session_id}" if self.session_id is not None else "no session"
        parts = [f"{who} {self.status}"]
        if self.period is not None:
            parts.append(str(self.period))
        if self.counts is not None:
            parts.append(
                f"{self.counts.ok} ok, {self.counts.error} error, {self.counts.skipped} skipped"
            )
        parts.append(f"{self.elapsed:.1f} s")
        return " · ".join(parts)

    def failures(self) -> list[str]:
        """One line per failed or skipped node, for people."""
        return [
            f"  {node.node_id}: {node.status}: {' '.join((node.message or '').split())[:300]}"
            for node in self.nodes
            if not node.ok
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "run_id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "message": self.message,
            "period_start": self.period.start_iso if self.period else None,
            "period_end": self.period.end_iso if self.period else None,
            "elapsed_seconds": round(self.elapsed, 3),
            "counts": None
            if self.counts is None
            else {"ok": self.counts.ok, "error": self.counts.error, "skipped": self.counts.skipped},
            "dbt_command": list(self.dbt_command),
            "nodes": [node.as_dict() for node in self.nodes],
        }


def _timezone(options: RunOptions, project: DbtProject) -> str:
    return default_timezone(options.timezone, project.timezone_var)


def _warehouse(options: RunOptions, project: DbtProject) -> Warehouse:
    return Warehouse(project, target=options.target, vars=options.vars)


def _quiet(options: RunOptions) -> list[str]:
    return ["--quiet"] if options.quiet else []


def _operation(
    options: RunOptions, project: DbtProject, macro: str, args: Mapping[str, Any]
) -> Invocation:
    return _warehouse(options, project).operation(
        macro, args, stdout_to_stderr=options.logs_to_stderr
    )


def _default_period(options: RunOptions, project: DbtProject, timezone: str) -> Period | str:
    """[end of the last successful session, start of today): a Period, or why there is none."""
    today = resolve_period("today", timezone=timezone, now=options.now).start
    found = _operation(
        options, project, "last_session_end", {"source": options.source or project.name}
    )
    if not found.success:
        raise _NothingRan(found.error or "dbt could not look up the last session")
    answer = found.announced("last_session_end") or {}
    last_end = answer.get("period_end")
    if not last_end:
        raise UsageError(
            f"no earlier successful session for {options.source or project.name}: give the first "
            'period, e.g. etl-run --period "[2023-05-01, 2023-05-31]"'
        )
    start = datetime.fromisoformat(str(last_end).replace("Z", "+00:00"))
    if start >= today:
        return f"data is up to date: the last successful session ended at {last_end}"
    return Period.from_iso(start.isoformat(), today.isoformat())


class _NothingRan(Exception):
    """dbt could not start: the reason, for a session result with exit code 2."""


def run(period: str | None = None, **kwargs: Any) -> SessionResult:
    """Load one period as an ETL session and return how it ended.

    Raises `etl_session.UsageError` (and its subclass `PeriodError`) for bad input, before
    anything runs. Everything that happens once dbt starts is reported in the result.
    """
    return run_with(RunOptions(period=period, **kwargs))


def run_with(options: RunOptions) -> SessionResult:
    started = time.monotonic()
    if options.command not in COMMANDS:
        raise UsageError(f"--command must be one of {', '.join(COMMANDS)}, not {options.command!r}")
    if options.threads is not None and options.threads < 1:
        raise UsageError(f"--threads must be at least 1, not {options.threads}")
    project = load_project(options.project_dir, options.profiles_dir)
    check_vars(options.vars)
    timezone = _timezone(options, project)
    period = (
        resolve_period(options.period, timezone=timezone, now=options.now)
        if options.period is not None
        else None
    )
    if period is None:
        # Validates the zone even when the period comes from the warehouse.
        resolve_period("today", timezone=timezone, now=options.now)

    command = [options.command, *_warehouse(options, project).flags()]
    for selector in options.select:
        command += ["--select", selector]
    for selector in options.exclude:
        command += ["--exclude", selector]
    if options.full_refresh:
        command.append("--full-refresh")
    if options.threads is not None:
        command += ["--threads", str(options.threads)]
    command += list(options.dbt_args)
    command = [*_quiet(options), *command]

    if options.dry_run:
        what = str(period) if period else "from the end of the last successful session to today"
        return SessionResult(
            status=DRY_RUN,
            exit_code=EXIT_SUCCESS,
            message=f"would run dbt {' '.join(command)} for {what}",
            period=period,
            dbt_command=("dbt", *command),
            elapsed=time.monotonic() - started,
        )

    from etl_session import dbt_invoke

    if project.needs_deps():
        deps = dbt_invoke.invoke(
            [*_quiet(options), "deps", *Warehouse(project).flags()],
            stdout_to_stderr=options.logs_to_stderr,
        )
        if not deps.success:
            return _nothing_ran(f"dbt deps failed: {deps.error}", period, started, command)

    if period is None:
        try:
            found = _default_period(options, project, timezone)
        except _NothingRan as exc:
            return _nothing_ran(str(exc), None, started, command)
        if isinstance(found, str):
            return SessionResult(
                status=UP_TO_DATE,
                exit_code=EXIT_SUCCESS,
                message=found,
                elapsed=time.monotonic() - started,
                dbt_command=("dbt", *command),
            )
        period = found

    deadline = None if options.wait is None else time.monotonic() + options.wait
    retries_after_abandon = 3
    catalog_retries = 2
    while True:
        run_id = uuid.uuid4().hex
        context = {
            "ETL_SESSION_PERIOD_START": period.start_iso,
            "ETL_SESSION_PERIOD_END": period.end_iso,
            "ETL_SESSION_RUN_ID": run_id,
            "ETL_SESSION_SOURCE": options.source or project.name,
            "ETL_SESSION_HOST": socket.gethostname(),
            "ETL_SESSION_PID": str(os.getpid()),
        }
        invocation = dbt_invoke.invoke(
            command, context=context, stdout_to_stderr=options.logs_to_stderr
        )
        if _catalog_race(invocation) and catalog_retries > 0:
            catalog_retries -= 1
            continue  # another load created the same schema or table a moment earlier
        overlap = invocation.announced("overlap")
        busy = overlap is not None and invocation.announced("opened") is None
        if not busy and not _warehouse_locked(invocation):
            break
        blocking = list(overlap.get("blocking", [])) if overlap else []
        if blocking and retries_after_abandon > 0 and _close_abandoned(options, project, blocking):
            retries_after_abandon -= 1
            continue  # the blocking load was dead: try again at once
        if deadline is not None and time.monotonic() < deadline:
            time.sleep(max(0.0, min(WAIT_POLL_SECONDS, deadline - time.monotonic())))
            continue
        reason = invocation.error or "the warehouse is busy"
        if blocking:
            first = blocking[0]
            reason = (
                f"the period overlaps running session {first.get('session_id')} "
                f"({first.get('period_start')} → {first.get('period_end')}, started "
                f"{first.get('started')}, host {first.get('host')}, pid {first.get('pid')}): "
                "wait for it, or use --wait"
            )
        return _nothing_ran(reason, period, started, command)

    result = _finish(options, project, period, run_id, invocation, started, command)
    opened = invocation.announced("opened")
    if opened and opened.get("others"):
        # Running sessions of this source and target whose etl-run died: close them now.
        _close_abandoned(options, project, list(opened["others"]))
    return result


WAIT_POLL_SECONDS = 2.0


#: Postgres' `create ... if not exists` is not safe against a concurrent create of the same name:
#: the loser fails on these catalog indexes before anything ran, and simply runs again.
CATALOG_RACE_MARKERS = ("pg_namespace_nspname_index", "pg_type_typname_nsp_index")


def _catalog_race(invocation: Invocation) -> bool:
    """dbt lost a race creating a schema or table another load created at the same moment."""
    opened = invocation.announced("opened") is not None
    return not opened and any(m in (invocation.error or "") for m in CATALOG_RACE_MARKERS)


def _warehouse_locked(invocation: Invocation) -> bool:
    """DuckDB lets one process write a file: another etl-run holds it."""
    return not invocation.ran and "Could not set lock on file" in (invocation.error or "")


def _process_alive(pid: int) -> bool:
    """Whether a process runs on this machine (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _close_abandoned(
    options: RunOptions, project: DbtProject, sessions: Sequence[Mapping[str, Any]]
) -> bool:
    """Close, as error 'abandoned', the running sessions whose etl-run is gone from this host.

    Only a process on this host can be checked; a session of another host, or one whose pid is
    alive, is never touched. Returns whether any session was closed.
    """
    here = socket.gethostname()
    closed = False
    for session in sessions:
        pid = session.get("pid")
        if session.get("host") != here or not isinstance(pid, int) or pid == os.getpid():
            continue
        if _process_alive(pid):
            continue
        with sigint_deferred():
            ended = _operation(
                options,
                project,
                "end_session",
                {"run_id": session["run_id"], "status": ERROR, "message": "abandoned"},
            )
        closed = closed or ended.announced("closed") is not None
    return closed


def _nothing_ran(
    reason: str, period: Period | None, started: float, command: Sequence[str]
) -> SessionResult:
    return SessionResult(
        status=ERROR,
        exit_code=EXIT_NOTHING_RAN,
        message=reason,
        period=period,
        elapsed=time.monotonic() - started,
        dbt_command=("dbt", *command),
    )


def _finish(
    options: RunOptions,
    project: DbtProject,
    period: Period,
    run_id: str,
    invocation: Invocation,
    started: float,
    command: Sequence[str],
) -> SessionResult:
    """Map dbt's result to the session's final status and make the sessions table agree."""
    nodes: tuple[NodeResult, ...] = invocation.nodes
    if invocation.interrupted:
        outcome, exit_code = aborted("interrupted", nodes), EXIT_INTERRUPTED
    elif not invocation.ran:
        outcome = aborted(invocation.error or "dbt did not run", nodes)
        # Once the session was opened the load did run (and failed): exit 1, not 2.
        exit_code = EXIT_FAILED if invocation.announced("opened") else EXIT_NOTHING_RAN
    else:
        outcome = outcome_of(nodes)
        if not invocation.success and outcome.succeeded:
            outcome = aborted(invocation.error or "dbt reported a failure", nodes)
        exit_code = EXIT_SUCCESS if outcome.succeeded else EXIT_FAILED

    opened = invocation.announced("opened")
    closed = invocation.announced("closed")
    session_id = int(opened["session_id"]) if opened else None
    status = closed.get("status") if closed else None
    if opened and (closed is None or (status == SUCCESS and not outcome.succeeded)):
        # The on-run-end hook did not close the session (Ctrl-C, crash, failed hook), or closed
        # it as success before something else failed: close it through the package.
        with sigint_deferred():
            repaired = _operation(
                options,
                project,
                "end_session",
                {
                    "run_id": run_id,
                    "status": outcome.status,
                    "message": outcome.message,
                    "counts": {
                        "ok": outcome.ok,
                        "error": outcome.error,
                        "skipped": outcome.skipped,
                    },
                    "nodes": [node.as_dict() for node in nodes] if closed is None else [],
                    "downgrade": True,
                },
            )
        final = repaired.announced("closed")
        status = final.get("status") if final else None
        if status is None:
            outcome = replace(
                outcome,
                message=f"{outcome.message}; the session could not be closed: {repaired.error}",
            )
    elif not opened and invocation.compile_error and not invocation.announced("overlap"):
        # dbt could not start (a compile error, say): record the attempt when the warehouse is
        # reachable, so the sessions table shows it.
        with sigint_deferred():
            recorded = _record_attempt(options, project, period, run_id, outcome.message)
        if recorded is not None:
            session_id = int(recorded["session_id"])
            status = str(recorded.get("status"))
    elif not opened and invocation.ran and not invocation.interrupted:
        status = outcome.status
    return SessionResult(
        status=status or outcome.status,
        exit_code=exit_code,
        message=outcome.message,
        period=period,
        session_id=session_id,
        run_id=run_id,
        nodes=nodes,
        elapsed=time.monotonic() - started,
        counts=outcome if (invocation.ran or nodes or session_id is not None) else None,
        dbt_command=("dbt", *command),
    )


def _record_attempt(
    options: RunOptions, project: DbtProject, period: Period, run_id: str, reason: str
) -> Mapping[str, Any] | None:
    """Record a load that could not start as an `error` session; None when that is impossible.

    The user's project may not even parse, so the installed package runs as the root project
    with the user's profile and target.
    """
    from etl_session import dbt_invoke

    package = project.packages_dir / "etl_session"
    if not (package / "dbt_project.yml").is_file() or project.profile is None:
        return None
    scratch = Path(tempfile.mkdtemp(prefix="etl-session-attempt-"))
    variables = dict(project.package_vars)
    with contextlib.suppress(yaml.YAMLError):
        given = yaml.safe_load(options.vars) if options.vars else None
        if isinstance(given, dict):
            variables.update(given)
    args = [
        "--log-level",
        "none",
        "run-operation",
        "etl_session.record_attempt",
        "--args",
        json.dumps(
            {
                "run_id": run_id,
                "period_start": period.start_iso,
                "period_end": period.end_iso,
                "source": options.source or project.name,
                "message": reason,
                "command": options.command,
            }
        ),
        "--project-dir",
        str(package.resolve()),
        "--profile",
        project.profile,
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
        "--vars",
        json.dumps(variables, default=str),
    ]
    if project.profiles_dir is not None:
        args += ["--profiles-dir", str(project.profiles_dir)]
    if options.target:
        args += ["--target", options.target]
    try:
        recorded = dbt_invoke.invoke(args, stdout_to_stderr=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return recorded.announced("closed")
