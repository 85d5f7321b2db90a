"""The session lifecycle and the Python API: `etl_session.run(...) -> SessionResult`.

Python decides (period, options, what to run, the final status) and never writes SQL: whenever
it must touch the sessions table it calls a package macro through `dbt run-operation`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import yaml

from etl_session._release import release_warehouses
from etl_session._sever import GRACE_SECONDS, Severance
from etl_session.errors import Terminated, UsageError
from etl_session.operator import check_run_id
from etl_session.period import Period, resolve_period
from etl_session.project import (
    DbtProject,
    Warehouse,
    check_vars,
    default_timezone,
    load_project,
    sigint_deferred,
)
from etl_session.results import (
    ERROR,
    SUCCESS,
    NodeResult,
    SessionOutcome,
    aborted,
    one_line,
    outcome_of,
)

if TYPE_CHECKING:
    from etl_session.dbt_invoke import Invocation

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_NOTHING_RAN = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGTERM, what a shell reports for a process SIGTERM ended.
EXIT_TERMINATED = 143
TERMINATED = "terminated by SIGTERM"

COMMANDS = ("build", "run")
UP_TO_DATE = "up-to-date"
DRY_RUN = "dry-run"
OK_STATUSES = frozenset({SUCCESS, UP_TO_DATE, DRY_RUN})


@dataclass(frozen=True)
class RunOptions:
    """Everything a load needs to know, with dbt's own names."""

    period: str | None = None
    project_dir: str | os.PathLike[str] = "."
    profiles_dir: str | os.PathLike[str] | None = None
    target: str | None = None
    #: A str is one selector; the Python API also takes any iterable of str.
    select: tuple[str, ...] | str = ()
    exclude: tuple[str, ...] | str = ()
    full_refresh: bool = False
    threads: int | None = None
    #: YAML mapping text (the CLI), or a mapping (the Python API).
    vars: str | Mapping[str, Any] | None = None
    command: str = "build"
    dbt_args: tuple[str, ...] | str = ()
    source: str | None = None
    timezone: str | None = None
    quiet: bool = False
    dry_run: bool = False
    #: Seconds to wait while an overlapping load runs; None: do not wait; math.inf: no limit.
    wait: float | None = None
    #: Send dbt's log lines to stderr (etl-run --json keeps stdout for the JSON object).
    logs_to_stderr: bool = False
    now: datetime | None = None
    #: The run id of the load. When it names a running session opened by `etl-session open`
    #: (`open_session`), the load joins that session instead of opening its own. Default:
    #: $ETL_SESSION_RUN_ID, else a new one per load.
    run_id: str | None = None


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
    #: The load joined a session opened by `etl-session open`: `status` is this load's own
    #: outcome; the session stays running until `etl-session close` closes it.
    joined: bool = False
    #: Nothing ran because another load of the project and target was running (worth retrying).
    busy: bool = False
    #: A run of several chunks (`run_chunks_at_once`): the session id of each chunk, in order.
    chunk_sessions: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """True only for a successful load or a run with nothing to do (up to date, dry run)."""
        return self.status in OK_STATUSES and self.exit_code == EXIT_SUCCESS

    def summary(self) -> str:
        """One line, always the same shape: id, status, period, counts, time."""
        who = f"session {self.session_id}" if self.session_id is not None else "no session"
        if self.joined:
            who += " (joined)"
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
            "joined": self.joined,
        }


def _timezone(options: RunOptions, project: DbtProject) -> str:
    return default_timezone(options.timezone, project.timezone_var)


def _warehouse(options: RunOptions, project: DbtProject) -> Warehouse:
    return Warehouse(project, target=options.target, vars=_vars_text(options.vars))


def _quiet(options: RunOptions) -> list[str]:
    return ["--quiet"] if options.quiet else []


def _operation(
    options: RunOptions, project: DbtProject, macro: str, args: Mapping[str, Any]
) -> Invocation:
    return _warehouse(options, project).operation(
        macro, args, stdout_to_stderr=options.logs_to_stderr
    )


# -- input ------------------------------------------------------------------------------------

#: dbt vars that carry the session context. While etl-run drives the session they are its own:
#: a var would silently override what etl-run resolved and reports. The option to use instead.
RESERVED_VARS = {
    "etl_period_start": "use --period instead",
    "etl_period_end": "use --period instead",
    "etl_period_timezone": "use --timezone instead",
    "etl_source": "use --source instead",
    "etl_run_id": "etl-run makes a new run id for every load; remove it",
    "etl_period_chunks": "use --split with --per-run instead",
}

_TEXT_OPTIONS = ("period", "target", "source", "timezone", "command", "run_id")
_PATH_OPTIONS = ("project_dir", "profiles_dir")
_LIST_OPTIONS = ("select", "exclude", "dbt_args")
_FLAG_OPTIONS = ("full_refresh", "quiet", "dry_run", "logs_to_stderr")


def _option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-") if field_name != "dbt_args" else "dbt_args"


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_text(name: str, value: str) -> str:
    """Text that can reach dbt, the environment and the warehouse: UTF-8, no NUL."""
    if "\x00" in value:
        raise UsageError(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{name} is not valid UTF-8 text") from None
    return value


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a string, not {_type_name(value)}")
    return _check_text(name, value)


def _items(name: str, value: object) -> tuple[str, ...]:
    """A str is ONE item (run(select="fct_orders+")); otherwise an iterable of str."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (_check_text(name, value),)
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise UsageError(f"{name} must be a string or a list of strings, not {_type_name(value)}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"{name} must hold strings only, not {_type_name(item)}")
        _check_text(name, item)
    return items


def _vars_text(value: str | Mapping[str, Any] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(dict(value), default=str, sort_keys=True)


def _vars(value: object) -> str | None:
    """--vars as YAML text: a mapping (Python API) or YAML mapping text; a UsageError otherwise."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise UsageError("vars must have string keys")
        try:
            text = json.dumps(dict(value), default=str, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"vars cannot be passed to dbt: {one_line(str(exc))}") from None
    elif isinstance(value, str):
        text = value
    else:
        raise UsageError(f"vars must be a mapping or YAML text, not {_type_name(value)}")
    _check_text("--vars", text)
    check_vars(text)
    parsed = yaml.safe_load(text)  # a mapping: check_vars said so
    for name, fix in RESERVED_VARS.items():
        if name in parsed:
            raise UsageError(f"--vars {name} is reserved while etl-run drives the session: {fix}")
    return text


def _validated(options: RunOptions) -> RunOptions:
    """The options with their types checked and normalized; a one-line UsageError otherwise."""
    changes: dict[str, Any] = {}
    for name in _TEXT_OPTIONS:
        changes[name] = _text(_option_name(name), getattr(options, name))
    for name in _PATH_OPTIONS:
        value = getattr(options, name)
        if value is None and name == "profiles_dir":
            continue
        if not isinstance(value, (str, os.PathLike)):
            raise UsageError(f"{_option_name(name)} must be a path, not {_type_name(value)}")
        path = os.fspath(value)
        if not isinstance(path, str):
            raise UsageError(f"{_option_name(name)} must be a text path, not {_type_name(path)}")
        _check_text(_option_name(name), path)
    for name in _LIST_OPTIONS:
        changes[name] = _items(_option_name(name), getattr(options, name))
    for name in _FLAG_OPTIONS:
        if not isinstance(getattr(options, name), bool):
            value = getattr(options, name)
            raise UsageError(f"{_option_name(name)} must be True or False, not {value!r}")
    threads = options.threads
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise UsageError(f"--threads must be an integer, not {threads!r}")
    if threads is not None and threads < 1:
        raise UsageError(f"--threads must be at least 1, not {threads}")
    wait = options.wait
    if wait is not None and (
        isinstance(wait, bool) or not isinstance(wait, (int, float)) or math.isnan(wait) or wait < 0
    ):
        raise UsageError(f"--wait must be a number of seconds (0 or more), not {wait!r}")
    if options.now is not None and not isinstance(options.now, datetime):
        raise UsageError(f"now must be a datetime, not {_type_name(options.now)}")
    changes["vars"] = _vars(options.vars)
    if changes["run_id"] is not None:
        changes["run_id"] = check_run_id(changes["run_id"])
    validated = replace(options, **changes)
    if validated.command not in COMMANDS:
        raise UsageError(
            f"--command must be one of {', '.join(COMMANDS)}, not {validated.command!r}"
        )
    return validated


def _check_project_vars(project: DbtProject) -> None:
    """A period (or another session var) in dbt_project.yml would override every --period."""
    if project.reserved_vars:
        name = project.reserved_vars[0]
        raise UsageError(
            f"{project.directory / 'dbt_project.yml'} sets the var {name}, which would override "
            f"what etl-run sets for every load: remove it ({RESERVED_VARS[name]})"
        )


# -- the default period -----------------------------------------------------------------------


def _is_period_model(node: Mapping[str, Any]) -> bool:
    materialized = node.get("config.materialized")
    strategy = node.get("config.incremental_strategy")
    return node.get("resource_type") == "model" and (
        materialized == "etl_period" or (materialized == "incremental" and strategy == "etl_period")
    )


def _selected_nodes(options: RunOptions, project: DbtProject) -> list[Mapping[str, Any]]:
    """The nodes the load would run (`dbt ls` with its selection); exit 2 when there are none."""
    from etl_session import dbt_invoke

    args = [*_warehouse(options, project).flags()]
    for selector in options.select:
        args += ["--select", selector]
    for selector in options.exclude:
        args += ["--exclude", selector]
    args += ["--output-keys", "unique_id resource_type config.materialized"]
    args += ["--output-keys", "config.incremental_strategy"]
    listed = dbt_invoke.list_nodes(args)
    if not isinstance(listed, list):
        if listed.terminated:
            raise Terminated()
        if listed.interrupted:
            raise KeyboardInterrupt()
        raise _NothingRan(listed.error or "dbt could not list the selected nodes")
    if not listed:
        raise UsageError(_no_match(options))
    return listed


def _no_match(options: RunOptions) -> str:
    given = [f"--select {s}" for s in options.select] + [f"--exclude {s}" for s in options.exclude]
    if not given:
        return "nothing to load: the project has no models, seeds, snapshots or tests"
    return f"the selection matches no node: {' '.join(given)}"


def _instant(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _default_period(options: RunOptions, project: DbtProject, timezone: str) -> Period | str:
    """Where a load without a period goes: the earliest missing or failed stretch of the
    selected period models up to the start of today (see etl_session.backfill, which loads
    every stretch), or why there is nothing to load."""
    from etl_session.backfill import CoverageUnavailable, plan_missing

    try:
        plan = plan_missing(options, project, timezone)
    except CoverageUnavailable as exc:
        raise _NothingRan(str(exc)) from None
    return plan.chunks[0] if plan.chunks else plan.reason


def _iso(instant: datetime) -> str:
    return instant.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _NothingRan(Exception):
    """dbt could not start: the reason, for a session result with exit code 2."""


# -- signals ----------------------------------------------------------------------------------


class _Interrupts:
    """SIGTERM handled like Ctrl-C for the length of one load (main thread only).

    While dbt runs, SIGTERM raises `Terminated` (a KeyboardInterrupt) so dbt cancels its queries
    and returns; while the session is repaired (`deferred()`), SIGTERM is only noted and Ctrl-C
    is ignored, so the row is always closed. A SIGTERM handler someone else installed (a
    scheduler's) is left alone; etl-run's own (exit 143 before the load starts) is replaced.
    Both signals start the grace period after which dbt's connections are cut (`Severance`);
    Ctrl-C otherwise keeps Python's own behaviour, and a Ctrl-C handler someone else installed
    is left alone.
    """

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.received = False
        #: Ctrl-C (SIGINT) arrived while dbt ran.
        self.interrupted = False
        # dbt-spark's cancel can wait forever on its own connection: cut it if dbt lingers.
        self._severance = Severance(grace)
        self._raising = True
        self._previous: Any = None
        self._installed = False
        self._previous_sigint: Any = None
        self._installed_sigint = False

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGTERM)
            if previous in (signal.SIG_DFL, None) or getattr(
                previous, "replaceable_by_etl_session", False
            ):
                self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
                self._installed = True
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous_sigint = signal.signal(signal.SIGINT, self._on_sigint)
                self._installed_sigint = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._severance.cancel()
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False
        if self._installed_sigint:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._installed_sigint = False

    def _on_sigterm(self, signum: int, frame: object) -> None:
        first = not self.received
        self.received = True
        if self._raising and first:
            self._severance.start()
            raise Terminated()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        # Ctrl-C as Python has it (KeyboardInterrupt, at every press), and the same cut as
        # SIGTERM if dbt's cancel then hangs on its connection (dbt-spark).
        if self._raising:
            self.interrupted = True
            self._severance.start()
        signal.default_int_handler(signum, frame)

    def noted_in(self, invocation: Invocation) -> Invocation:
        """`invocation` as the signals that reached the load say it ended. dbt does not always
        end on the signal's exception: a dependency's bare `except:` (at import time, say) can
        swallow the Terminated raised inside dbt, which then runs on; once the cut lands, dbt
        may end on the cut connection's error (seen on Spark: "unexpected exception")."""
        if self.received and not invocation.terminated:
            invocation = replace(invocation, terminated=True)
        if self.interrupted and not invocation.interrupted:
            invocation = replace(invocation, interrupted=True)
        return invocation

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Let a repair finish whatever signal arrives: a session must not stay running."""
        raising, self._raising = self._raising, False
        self._severance.cancel()
        try:
            with sigint_deferred():
                yield
        finally:
            self._raising = raising


# -- the load ---------------------------------------------------------------------------------


def run(period: str | None = None, **kwargs: Any) -> SessionResult:
    """Load one period as an ETL session and return how it ended.

    Raises `etl_session.UsageError` (and its subclass `PeriodError`) for bad input, before
    anything runs. Everything that happens once dbt starts is reported in the result.
    """
    unknown = sorted(set(kwargs) - {f.name for f in fields(RunOptions)})
    if unknown:
        raise UsageError(f"run() got an unknown option {unknown[0]!r}")
    return run_with(RunOptions(period=period, **kwargs))


def run_with(options: RunOptions) -> SessionResult:
    try:
        return _run_with(options)
    finally:
        # In-process dbt keeps a DuckDB file open: give it back to other processes.
        release_warehouses()


def run_chunks_at_once(options: RunOptions, chunks: Sequence[Period]) -> SessionResult:
    """Load consecutive chunks in one dbt invocation, one session each (`etl-run --per-run`).

    `options.period` must be the chunks' whole period. The package opens a session per chunk in
    on-run-start (the first has the run id, the k-th the run id + "~k"), the etl_period
    materialization stamps each row with its chunk's session, and on-run-end closes them all with
    the run's status. The result is the run's, with `chunk_sessions` in the chunks' order."""
    if len(chunks) < 2:
        return run_with(options)
    for before, after in itertools.pairwise(chunks):
        if before.end != after.start:
            raise UsageError("chunks loaded in one run must be consecutive")
    try:
        return _run_with(options, tuple(chunk.start_iso for chunk in chunks[1:]))
    finally:
        release_warehouses()


def _run_with(options: RunOptions, inner_bounds: tuple[str, ...] = ()) -> SessionResult:
    started = time.monotonic()
    if options.run_id is None and os.environ.get("ETL_SESSION_RUN_ID", "").strip():
        options = replace(options, run_id=os.environ["ETL_SESSION_RUN_ID"].strip())
    options = _validated(options)
    _repair_patience()
    grace = _cancel_grace()
    project = load_project(options.project_dir, options.profiles_dir)
    _check_project_vars(project)
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

    with _Interrupts(grace) as interrupts:
        try:
            return _load(
                options, project, period, timezone, command, started, interrupts, inner_bounds
            )
        except Terminated:
            return _stopped(TERMINATED, EXIT_TERMINATED, period, started, command)
        except KeyboardInterrupt:
            return _stopped("interrupted", EXIT_INTERRUPTED, period, started, command)


def _stopped(
    reason: str, exit_code: int, period: Period | None, started: float, command: Sequence[str]
) -> SessionResult:
    """A signal arrived before a session was opened: nothing to repair."""
    return replace(_nothing_ran(reason, period, started, command), exit_code=exit_code)


def _load(
    options: RunOptions,
    project: DbtProject,
    period: Period | None,
    timezone: str,
    command: list[str],
    started: float,
    interrupts: _Interrupts,
    inner_bounds: tuple[str, ...] = (),
) -> SessionResult:
    if options.dry_run and period is not None:
        return _dry_run(period, command, started)

    from etl_session import dbt_invoke

    if project.needs_deps():
        if options.dry_run:
            return _nothing_ran(
                "cannot tell which period the load would start at before the etl_session "
                "package is installed: run dbt deps, or give --period",
                None,
                started,
                command,
            )
        deps = dbt_invoke.invoke(
            [*_quiet(options), "deps", *Warehouse(project).flags()],
            stdout_to_stderr=options.logs_to_stderr,
        )
        if deps.terminated:
            raise Terminated()
        if not deps.success:
            return _nothing_ran(f"dbt deps failed: {deps.error}", period, started, command)

    joining = None
    if options.run_id is not None:
        try:
            joining = _session_to_join(options, project, period)
        except _NothingRan as exc:
            return _nothing_ran(str(exc), period, started, command)
        if joining is not None:
            period, timezone = joining.period, joining.timezone
            if options.dry_run:
                return _dry_run(period, command, started)

    if period is None:
        try:
            found = _default_period(options, project, timezone)
        except _NothingRan as exc:
            reason = str(exc)
            if options.dry_run:
                reason = f"cannot tell which period the load would start at: {reason}"
            return _nothing_ran(reason, None, started, command)
        if isinstance(found, str):
            return SessionResult(
                status=UP_TO_DATE,
                exit_code=EXIT_SUCCESS,
                message=found,
                elapsed=time.monotonic() - started,
                dbt_command=("dbt", *command),
            )
        period = found
        if options.dry_run:
            return _dry_run(period, command, started)

    deadline = None if options.wait is None else time.monotonic() + options.wait
    catalog_retries = 2
    holds: list[dbt_invoke.LivenessHold] = []
    try:
        while True:
            run_id = options.run_id or uuid.uuid4().hex
            context = {
                "ETL_SESSION_PERIOD_START": period.start_iso,
                "ETL_SESSION_PERIOD_END": period.end_iso,
                "ETL_SESSION_PERIOD_TIMEZONE": timezone,
                "ETL_SESSION_RUN_ID": run_id,
                "ETL_SESSION_SOURCE": options.source or project.name,
                # For display only: liveness comes from the warehouse (the hold below).
                "ETL_SESSION_HOST": socket.gethostname(),
                "ETL_SESSION_PID": str(os.getpid()),
            }
            if inner_bounds:
                context["ETL_SESSION_PERIOD_CHUNKS"] = ",".join(inner_bounds)
            hold = dbt_invoke.LivenessHold()
            holds.append(hold)
            invocation = dbt_invoke.invoke(
                command, context=context, stdout_to_stderr=options.logs_to_stderr, hold=hold
            )
            opened = invocation.announced("opened") is not None
            if not opened:
                hold.close()  # this attempt never opened a session: nothing to prove alive
            if _catalog_race(invocation) and catalog_retries > 0:
                catalog_retries -= 1
                continue  # another load created the same schema or table a moment earlier
            overlap = invocation.announced("overlap")
            busy = overlap is not None and not opened
            if not busy and not _warehouse_locked(invocation):
                break
            if deadline is not None and time.monotonic() < deadline:
                time.sleep(max(0.0, min(WAIT_POLL_SECONDS, deadline - time.monotonic())))
                continue
            return replace(
                _nothing_ran(_busy_reason(invocation, overlap), period, started, command),
                busy=True,
            )

        refused = invocation.announced("refused")
        if refused is not None and not opened:
            reason = one_line(str(refused.get("reason") or invocation.error or "refused"))
            return _nothing_ran(reason, period, started, command)
        if not opened and invocation.ran and invocation.success and not invocation.nodes:
            # dbt found nothing to do: the selection matched no node, so no hook ran.
            return _nothing_ran(_no_match(options), period, started, command)
        ended = interrupts.noted_in(invocation)
        if joining is not None and not opened:
            return _finish_joined(options, project, joining, ended, started, command, interrupts)
        return _finish(
            options, project, period, run_id, ended, started, command, interrupts, len(inner_bounds)
        )
    finally:
        for hold in holds:
            hold.close()


@dataclass(frozen=True)
class _Joining:
    """A running session opened by `etl-session open` that this load joins."""

    session_id: int
    run_id: str
    period: Period
    timezone: str


def _session_to_join(
    options: RunOptions, project: DbtProject, period: Period | None
) -> _Joining | None:
    """The shared session the load's run id names, with the period it loads; None when the run
    id names no session (the load opens its own with that run id). A closed session, or a
    --period or --timezone that differs from the session's, is a UsageError: nothing runs."""
    assert options.run_id is not None
    found = _operation(options, project, "lookup_session", {"run_id": options.run_id})
    if found.terminated:
        raise Terminated()
    if found.interrupted:
        raise KeyboardInterrupt()
    answer = found.announced("lookup")
    if answer is None or not found.success:
        raise _NothingRan(found.error or "dbt could not look up the session of the run id")
    if not answer.get("found"):
        return None
    name = f"session {answer.get('session_id')} (run id {options.run_id})"
    if not answer.get("external"):
        raise UsageError(
            f"run id {options.run_id} is taken by {name}, which etl-session open did not open: "
            "a run id names one load; give another, or leave it out"
        )
    if answer.get("status") != "running":
        raise UsageError(
            f"{name} is already {answer.get('status')}: a closed session cannot be joined; "
            "open a new one (etl-session open)"
        )
    joined = _Joining(
        session_id=int(answer["session_id"]),
        run_id=options.run_id,
        period=Period.from_iso(str(answer["period_start"]), str(answer["period_end"])),
        timezone=str(answer.get("period_timezone") or "UTC"),
    )
    if options.timezone is not None and options.timezone != joined.timezone:
        raise UsageError(
            f"--timezone {options.timezone} is not the zone of {name}, which this load joins "
            f"({joined.timezone}): leave it out"
        )
    if period is not None and period != joined.period:
        raise UsageError(
            f"--period {options.period} ({period}) is not the period of {name}, which this "
            f"load joins ({joined.period}): leave --period out"
        )
    return joined


def _finish_joined(
    options: RunOptions,
    project: DbtProject,
    joining: _Joining,
    invocation: Invocation,
    started: float,
    command: Sequence[str],
    interrupts: _Interrupts,
) -> SessionResult:
    """The outcome of a load that joined a shared session. The session stays running; this
    load's node results are in it (written by its on-run-end hook, or here when the hook could
    not), and so is a failure the nodes do not show (one `invocation` row), so that closing
    the session sees it."""
    nodes: tuple[NodeResult, ...] = invocation.nodes
    if invocation.terminated:
        outcome, exit_code = aborted(TERMINATED, nodes), EXIT_TERMINATED
    elif invocation.interrupted:
        outcome, exit_code = aborted("interrupted", nodes), EXIT_INTERRUPTED
    elif not invocation.ran:
        outcome, exit_code = aborted(invocation.error or "dbt did not run", nodes), EXIT_FAILED
    else:
        outcome = outcome_of(nodes)
        if not invocation.success and outcome.succeeded:
            outcome = aborted(invocation.error or "dbt reported a failure", nodes)
        exit_code = EXIT_SUCCESS if outcome.succeeded else EXIT_FAILED
    recorded = invocation.announced("recorded")
    hook_saw_failure = recorded is not None and recorded.get("status") != SUCCESS
    message = outcome.message
    if recorded is None or (not outcome.succeeded and not hook_saw_failure):
        with interrupts.deferred():
            saved = _operation(
                options,
                project,
                "record_session_results",
                {
                    "run_id": joining.run_id,
                    "nodes": [node.as_dict() for node in nodes] if recorded is None else [],
                    "error": None if outcome.succeeded else outcome.message,
                },
            )
        if not (saved.announced("recorded") or {}).get("found"):
            message = f"{message}; the session's results could not be written: {saved.error}"
    return SessionResult(
        status=outcome.status,
        exit_code=exit_code,
        message=message,
        period=joining.period,
        session_id=joining.session_id,
        run_id=joining.run_id,
        nodes=nodes,
        elapsed=time.monotonic() - started,
        counts=outcome,
        dbt_command=("dbt", *command),
        joined=True,
    )


def _dry_run(period: Period, command: Sequence[str], started: float) -> SessionResult:
    return SessionResult(
        status=DRY_RUN,
        exit_code=EXIT_SUCCESS,
        message=f"would run dbt {' '.join(command)} for {period}",
        period=period,
        dbt_command=("dbt", *command),
        elapsed=time.monotonic() - started,
    )


def _busy_reason(invocation: Invocation, overlap: Mapping[str, Any] | None) -> str:
    blocking = list(overlap.get("blocking", [])) if overlap else []
    if not blocking:
        text = one_line(_failure_text(invocation).strip(), limit=2000)
        return text or "the warehouse is busy: another process holds it; use --wait"
    first = blocking[0]
    hint = (
        "wait for it, or use --wait"
        if first.get("liveness")
        else "it holds no lock (opened by plain dbt?), so nothing can tell whether its owner is "
        f"alive: once you know it is gone, etl-session close {first.get('session_id')} --force"
    )
    return one_line(
        f"another load of this project and target is running: session "
        f"{first.get('session_id')} ({first.get('period_start')} → {first.get('period_end')}, "
        f"started {first.get('started')}, host {first.get('host')}, pid {first.get('pid')}): "
        + hint
    )


WAIT_POLL_SECONDS = 2.0


#: Postgres' `create ... if not exists` is not safe against a concurrent create of the same name:
#: the loser fails on these catalog indexes before anything ran, and simply runs again.
CATALOG_RACE_MARKERS = ("pg_namespace_nspname_index", "pg_type_typname_nsp_index")


def _failure_text(invocation: Invocation) -> str:
    """dbt's error and the messages of failed nodes (a failing on-run-start hook is a node)."""
    failed = [node.message or "" for node in invocation.nodes if node.failed]
    return " ".join([invocation.error or "", *failed])


def _catalog_race(invocation: Invocation) -> bool:
    """dbt lost a race creating a schema or table another load created at the same moment."""
    opened = invocation.announced("opened") is not None
    return not opened and any(m in _failure_text(invocation) for m in CATALOG_RACE_MARKERS)


def _warehouse_locked(invocation: Invocation) -> bool:
    """DuckDB lets one process write a file: another etl-run holds it. dbt opens the file
    while it parses or in the on-run-start hook, so it fails there, before any session."""
    opened = invocation.announced("opened") is not None
    return not opened and "Could not set lock on file" in _failure_text(invocation)


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


#: How long the runner keeps trying to close its session when the warehouse cannot be reached
#: (a restart or a fail-over): the session must not stay `running` after etl-run exits.
REPAIR_RETRY_SECONDS = 60.0


#: A stopped load retries for less: schedulers send SIGKILL some seconds after SIGTERM.
REPAIR_RETRY_SECONDS_STOPPING = 10.0


def _repair_patience() -> float:
    """REPAIR_RETRY_SECONDS, or the environment's ETL_SESSION_REPAIR_RETRY_SECONDS (checked
    before a load starts: a bad value is refused then, never met at the end)."""
    return _seconds_from_env("ETL_SESSION_REPAIR_RETRY_SECONDS", REPAIR_RETRY_SECONDS, 86400)


def _cancel_grace() -> float:
    """How long dbt may take to stop after SIGTERM before its warehouse connections are cut
    (etl_session._sever): GRACE_SECONDS, or ETL_SESSION_CANCEL_GRACE_SECONDS."""
    return _seconds_from_env("ETL_SESSION_CANCEL_GRACE_SECONDS", GRACE_SECONDS, 3600)


def _seconds_from_env(name: str, default: float, maximum: float) -> float:
    given = os.environ.get(name, "").strip()
    if not given:
        return default
    try:
        seconds = float(given)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= maximum:
        raise UsageError(
            f"{name} is {given[:40]!r}: expected a number of seconds from 0 to {maximum:g}"
        )
    return seconds


def _announced_for(invocation: Invocation, event: str, run_id: object) -> Mapping[str, Any] | None:
    """The last announcement of `event` about `run_id`."""
    found = [
        item
        for item in invocation.announcements
        if item.get("event") == event and item.get("run_id") == run_id
    ]
    return found[-1] if found else None


def _repair(
    options: RunOptions, project: DbtProject, args: Mapping[str, Any], *, stopping: bool
) -> Invocation:
    """Close the session through the package, retrying with backoff while the warehouse is
    unreachable; the last attempt's invocation (its error says why when none closed it)."""
    patience = REPAIR_RETRY_SECONDS_STOPPING if stopping else _repair_patience()
    deadline = time.monotonic() + patience
    pause = 0.5
    while True:
        repaired = _operation(options, project, "end_session", args)
        # The run's own session decides: the other chunks' sessions are closed (and announced)
        # before it, so a repair that failed between them is retried.
        run_id = args.get("run_id")
        done = _announced_for(repaired, "closed", run_id) or _announced_for(
            repaired, "missing", run_id
        )
        if done or time.monotonic() + pause > deadline:
            return repaired
        time.sleep(pause)
        pause = min(pause * 2, 8.0)


def _finish(
    options: RunOptions,
    project: DbtProject,
    period: Period,
    run_id: str,
    invocation: Invocation,
    started: float,
    command: Sequence[str],
    interrupts: _Interrupts,
    more_chunks: int = 0,
) -> SessionResult:
    """Map dbt's result to the session's final status and make the sessions table agree.
    `more_chunks`: how many chunks after the first this run loads (their sessions are closed
    with the first's)."""
    # Counted from dbt's events when it returned no result; only dbt's own results are
    # written as per-node results by the repair below (as before the events were read).
    nodes: tuple[NodeResult, ...] = invocation.nodes or invocation.finished_nodes
    if invocation.terminated:
        outcome, exit_code = aborted(TERMINATED, nodes), EXIT_TERMINATED
    elif invocation.interrupted:
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
    # A signal inside on-run-start can land after the row was written and before the hook said
    # so (Spark writes without a transaction): the hold was announced, so close it by run id.
    opening = (
        not opened
        and exit_code in (EXIT_TERMINATED, EXIT_INTERRUPTED)
        and invocation.announced("hold") is not None
    )
    if (opened or opening) and (closed is None or (status == SUCCESS and not outcome.succeeded)):
        # The on-run-end hook did not close the session (Ctrl-C, crash, failed hook), or closed
        # it as success before something else failed: close it through the package.
        with interrupts.deferred():
            repaired = _repair(
                options,
                project,
                {
                    "run_id": run_id,
                    "status": outcome.status,
                    "message": outcome.message,
                    "counts": {
                        "ok": outcome.ok,
                        "error": outcome.error,
                        "skipped": outcome.skipped,
                    },
                    "nodes": [node.as_dict() for node in invocation.nodes]
                    if closed is None
                    else [],
                    "downgrade": True,
                    "chunk_run_ids": [f"{run_id}~{k}" for k in range(2, more_chunks + 2)],
                },
                stopping=exit_code in (EXIT_TERMINATED, EXIT_INTERRUPTED),
            )
        final = _announced_for(repaired, "closed", run_id)
        status = final.get("status") if final else None
        if opening and final is not None:
            session_id = int(final["session_id"])
        if status is None and not (opening and _announced_for(repaired, "missing", run_id)):
            outcome = replace(
                outcome,
                message=f"{outcome.message}; the session could not be closed: {repaired.error}",
            )
    elif not opened and invocation.compile_error and not invocation.announced("overlap"):
        # dbt could not start (a compile error, say): record the attempt when the warehouse is
        # reachable, so the sessions table shows it.
        with interrupts.deferred():
            recorded = _record_attempt(options, project, period, run_id, outcome.message)
        if recorded is not None:
            session_id = int(recorded["session_id"])
            status = str(recorded.get("status"))
    elif not opened and invocation.ran and not invocation.interrupted:
        status = outcome.status
    final_status = status or outcome.status
    if final_status != SUCCESS and exit_code == EXIT_SUCCESS:
        exit_code = EXIT_FAILED  # the hook closed the session as error: never report ok
    return SessionResult(
        status=final_status,
        exit_code=exit_code,
        message=outcome.message,
        period=period,
        session_id=session_id,
        run_id=run_id,
        nodes=nodes,
        elapsed=time.monotonic() - started,
        counts=outcome if (invocation.ran or nodes or session_id is not None) else None,
        dbt_command=("dbt", *command),
        chunk_sessions=tuple(
            int(item["session_id"]) for item in (opened or {}).get("chunks") or ()
        ),
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
        given = yaml.safe_load(_vars_text(options.vars) or "") if options.vars else None
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
