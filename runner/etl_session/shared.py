"""A session many dbt invocations share: opened once, joined by every invocation given its run
id, closed once with the status of everything that ran in it.

Orchestrators run one dbt invocation per task (Cosmos: per node). Each would open a session of
its own; instead, open one first (`open_session`, `etl-session open`), give every invocation
its run id and period (`SharedSession.env()`: plain `dbt`, `etl-run`, a Cosmos task), and close
it at the end (`close_session`, `etl-session close RUN_ID`). `ETLSession` does both around a
`with` block and closes it as `error` when the block raises.

Such a session has liveness 'external': between its invocations no process holds it, so it is
never closed as abandoned; while it runs, other loads of the project and target are refused
(one load at a time), and it ends only when it is closed. Imports dbt only lazily.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from etl_session import operator as ops
from etl_session._release import release_warehouses
from etl_session.errors import UsageError
from etl_session.period import Period, resolve_period
from etl_session.project import Warehouse, check_vars, default_timezone, load_project
from etl_session.results import one_line

__all__ = ["ETLSession", "SessionBusy", "SharedSession", "close_session", "open_session"]


class SessionBusy(UsageError):
    """Another load of the project and target is running: nothing changed; try again later
    (an orchestrator retries this one)."""


@dataclass(frozen=True)
class SharedSession:
    """A running session that dbt invocations join by its run id."""

    session_id: int
    run_id: str
    period: Period
    #: The IANA zone the period was stated in (date columns use its local days).
    timezone: str
    source: str | None = None
    #: True when the session was already open with this run id and period (a retried open).
    reopened: bool = False

    def env(self) -> dict[str, str]:
        """The environment variables that make a dbt invocation (plain dbt, etl-run, a Cosmos
        task) join this session. They are read at execution time: no re-parse."""
        env = {
            "ETL_SESSION_RUN_ID": self.run_id,
            "ETL_SESSION_PERIOD_START": self.period.start_iso,
            "ETL_SESSION_PERIOD_END": self.period.end_iso,
            "ETL_SESSION_PERIOD_TIMEZONE": self.timezone,
        }
        if self.source is not None:
            env["ETL_SESSION_SOURCE"] = self.source
        return env

    def dbt_vars(self) -> dict[str, str]:
        """The same as dbt vars, for `dbt build --vars '...'` (a change of vars re-parses)."""
        names = {
            "ETL_SESSION_RUN_ID": "etl_run_id",
            "ETL_SESSION_PERIOD_START": "etl_period_start",
            "ETL_SESSION_PERIOD_END": "etl_period_end",
            "ETL_SESSION_PERIOD_TIMEZONE": "etl_period_timezone",
            "ETL_SESSION_SOURCE": "etl_source",
        }
        return {names[key]: value for key, value in self.env().items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "run_id": self.run_id,
            "status": "running",
            "period_start": self.period.start_iso,
            "period_end": self.period.end_iso,
            "period_timezone": self.timezone,
            "source": self.source,
            "reopened": self.reopened,
            "env": self.env(),
            "vars": self.dbt_vars(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SharedSession:
        """Read back `as_dict()` (an orchestrator passes the session between tasks as JSON)."""
        try:
            return cls(
                session_id=int(data["session_id"]),
                run_id=ops.check_run_id(data["run_id"]),
                period=Period.from_iso(str(data["period_start"]), str(data["period_end"])),
                timezone=str(data.get("period_timezone") or "UTC"),
                source=None if data.get("source") is None else str(data["source"]),
                reopened=bool(data.get("reopened", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"not a shared session: {one_line(str(exc))}") from None


def new_run_id() -> str:
    """A fresh run id, like etl-run's."""
    return uuid.uuid4().hex


def open_session(
    period: str,
    *,
    run_id: str | None = None,
    source: str | None = None,
    timezone: str | None = None,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> SharedSession:
    """Open a session that dbt invocations join by its run id (default: a new one).

    `period` takes every form `etl-run --period` does, read in `timezone` (default:
    $ETL_SESSION_TIMEZONE, the project var etl_session_timezone, UTC). Opening again with the
    run id of a running session of the same period returns it (`reopened`), so a retried task
    is harmless. Raises `UsageError` for bad input (nothing written), `SessionBusy` while
    another load of the project and target runs, `operator.WarehouseError` when dbt cannot
    reach the warehouse.
    """
    if not isinstance(period, str):
        raise UsageError(f"period must be text, not {type(period).__name__}")
    run_id = new_run_id() if run_id is None else ops.check_run_id(run_id)
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise UsageError(f"--source must be non-empty text, not {source!r}")
    vars_text = _vars_text(vars)
    project = load_project(project_dir, profiles_dir, tool="etl-session")
    zone = default_timezone(timezone, project.timezone_var)
    resolved = resolve_period(period, timezone=zone, now=now)
    warehouse = Warehouse(project, target=target, vars=vars_text)
    try:
        _install_packages(warehouse)
        invocation = warehouse.operation(
            "open_external_session",
            {
                "run_id": run_id,
                "period_start": resolved.start_iso,
                "period_end": resolved.end_iso,
                "period_timezone": zone,
                "source": source,
                "runner_host": socket.gethostname(),
                "runner_pid": os.getpid(),
            },
            stdout_to_stderr=True,
        )
    finally:
        release_warehouses()
    if invocation.interrupted:
        raise ops.Interrupted("interrupted: check with etl-session list whether it was opened")
    opened = invocation.announced("opened")
    if opened is not None and invocation.success:
        return SharedSession(
            session_id=int(opened["session_id"]),
            run_id=str(opened["run_id"]),
            period=Period.from_iso(str(opened["period_start"]), str(opened["period_end"])),
            timezone=str(opened.get("period_timezone") or zone),
            source=None if opened.get("source") is None else str(opened["source"]),
            reopened=bool(opened.get("reopened")),
        )
    overlap = invocation.announced("overlap")
    refused = invocation.announced("refused")
    error = invocation.error or ""
    if overlap is not None:
        raise SessionBusy(_busy(overlap, error))
    if "Could not set lock on file" in error:
        raise SessionBusy(
            f"the warehouse is busy: another process holds it ({one_line(error, limit=300)})"
        )
    if refused is not None:
        raise UsageError(one_line(str(refused.get("reason"))))
    raise ops._could_not(invocation.error, "open_external_session", "open the session")


def close_session(
    session: SharedSession | str | int,
    *,
    status: str | None = None,
    message: str | None = None,
    force: bool = False,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | Mapping[str, Any] | None = None,
) -> ops.CloseResult:
    """Close a session: a `SharedSession`, a run id (text) or a session id (int).

    A session opened by `open_session` is closed with the status of everything that ran in it
    (`status='error'` forces error, with `message`); closing it again changes nothing. See
    `etl_session.operator.close_session` for sessions opened by a load.
    """
    if isinstance(session, SharedSession):
        by: dict[str, Any] = {"run_id": session.run_id}
    elif isinstance(session, str):
        by = {"run_id": session}
    elif isinstance(session, int) and not isinstance(session, bool):
        by = {"session_id": session}
    else:
        raise UsageError(
            f"close_session takes a session, a run id or a session id, not {type(session).__name__}"
        )
    try:
        return ops.close_session(
            **by,
            status=status,
            message=message,
            force=force,
            project_dir=project_dir,
            profiles_dir=profiles_dir,
            target=target,
            vars=_vars_text(vars),
        )
    finally:
        release_warehouses()


class ETLSession:
    """A shared session around a block: opened on entry, closed on exit with the status of
    everything that ran in it, or as `error` when the block raises (the exception goes on).

    >>> with ETLSession("2023-05", project_dir="examples/shop") as session:
    ...     etl_session.run(run_id=session.run_id, project_dir="examples/shop", select="staging")
    ...     etl_session.run(run_id=session.run_id, project_dir="examples/shop", select="marts")
    >>> session.closed.status
    'success'
    """

    def __init__(self, period: str, **options: Any) -> None:
        self._period = period
        self._options = dict(options)
        self._connection = {
            key: self._options[key]
            for key in ("project_dir", "profiles_dir", "target", "vars")
            if key in self._options
        }
        self.session: SharedSession | None = None
        self.closed: ops.CloseResult | None = None

    @property
    def run_id(self) -> str:
        return self._open().run_id

    @property
    def session_id(self) -> int:
        return self._open().session_id

    @property
    def period(self) -> Period:
        return self._open().period

    def env(self) -> dict[str, str]:
        return self._open().env()

    def _open(self) -> SharedSession:
        if self.session is None:
            raise UsageError("the session is not open: use ETLSession(...) in a with statement")
        return self.session

    def __enter__(self) -> ETLSession:
        self.session = open_session(self._period, **self._options)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self._open()
        if exc is None:
            self.closed = close_session(session, **self._connection)
            return
        why = one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        self.closed = close_session(session, status="error", message=why, **self._connection)


def _vars_text(value: str | Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        import json

        text = json.dumps(dict(value), default=str, sort_keys=True)
    elif isinstance(value, str):
        text = value
    else:
        raise UsageError(f"vars must be a mapping or YAML text, not {type(value).__name__}")
    check_vars(text)
    return text


def _install_packages(warehouse: Warehouse) -> None:
    """`dbt deps` when the project's packages are missing (etl-run does the same)."""
    if not warehouse.project.needs_deps():
        return
    from etl_session import dbt_invoke

    deps = dbt_invoke.invoke(
        ["--quiet", "deps", *Warehouse(warehouse.project).flags()], stdout_to_stderr=True
    )
    if not deps.success:
        raise ops.WarehouseError(f"dbt deps failed: {deps.error}")


def _busy(overlap: Mapping[str, Any], error: str) -> str:
    blocking = list(overlap.get("blocking") or [])
    if not blocking:
        return one_line(error or "another load of this project and target is running")
    first = blocking[0]
    return one_line(
        f"another load of this project and target is running: session "
        f"{first.get('session_id')} ({first.get('period_start')} → {first.get('period_end')}, "
        f"started {first.get('started')}, run id {first.get('run_id')}): wait for it, or join it"
    )
