"""The operators' library behind `etl-session`: list, show and clean up ETL sessions, and check
a period before loading it.

Python decides (filters, which session, whether to delete) and never writes SQL: every question
goes to a package operation (macros/operator) through `dbt run-operation`, and the answer comes
back as that operation's announcement. Imports dbt only lazily, through etl_session.project.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from etl_session.errors import EtlSessionError, UsageError
from etl_session.period import Period, resolve_period
from etl_session.project import Warehouse, check_vars, default_timezone, load_project
from etl_session.results import NodeResult

#: What a session's status can be (the sessions table's check constraint).
STATUSES = ("running", "success", "error")
#: Only a failed load may have its rows deleted: a success is data people use, a running load
#: is still writing.
CLEANABLE_STATUS = "error"
DEFAULT_LIMIT = 20
TOOL = "etl-session"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class WarehouseError(EtlSessionError):
    """dbt could not run the operation (warehouse unreachable, package missing): nothing
    changed (exit code 2)."""


class OperationFailed(EtlSessionError):
    """The operation ran against the warehouse and failed (exit code 1)."""

    exit_code = 1


class Interrupted(EtlSessionError):
    """Ctrl-C while an operation ran (exit code 130)."""

    exit_code = 130


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    """One row of the sessions table."""

    session_id: int
    source: str | None
    target: str | None
    period_start: datetime | None
    period_end: datetime | None
    run_id: str | None
    invocation_id: str | None
    dbt_command: str | None
    started: datetime | None
    finished: datetime | None
    status: str
    message: str | None
    nodes_ok: int | None
    nodes_error: int | None
    nodes_skipped: int | None
    runner_host: str | None = None
    runner_pid: int | None = None
    cleanup: str | None = None

    @property
    def period(self) -> Period | None:
        if self.period_start is None or self.period_end is None:
            return None
        return Period(self.period_start, self.period_end)

    @property
    def duration(self) -> timedelta | None:
        """finished - started; None while the session runs."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    def as_dict(self) -> dict[str, Any]:
        """The row with timestamps as ISO 8601 UTC text (`2023-05-01T00:00:00Z`)."""
        duration = self.duration
        return {
            "session_id": self.session_id,
            "source": self.source,
            "target": self.target,
            "period_start": iso(self.period_start),
            "period_end": iso(self.period_end),
            "run_id": self.run_id,
            "invocation_id": self.invocation_id,
            "dbt_command": self.dbt_command,
            "started": iso(self.started),
            "finished": iso(self.finished),
            "duration_seconds": None if duration is None else duration.total_seconds(),
            "status": self.status,
            "message": self.message,
            "nodes_ok": self.nodes_ok,
            "nodes_error": self.nodes_error,
            "nodes_skipped": self.nodes_skipped,
            "runner_host": self.runner_host,
            "runner_pid": self.runner_pid,
            "cleanup": self.cleanup,
        }


@dataclass(frozen=True)
class SessionList:
    """What `list_sessions` found: the sessions, newest first, and where it looked."""

    table: str
    table_exists: bool
    sessions: tuple[SessionRecord, ...]


@dataclass(frozen=True)
class SessionDetail:
    """One session and the per-node results its load wrote."""

    session: SessionRecord
    nodes: tuple[NodeResult, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**self.session.as_dict(), "nodes": [node.as_dict() for node in self.nodes]}


@dataclass(frozen=True)
class ModelRows:
    """How many rows of one session a model's table holds (or held, before a cleanup)."""

    node_id: str
    relation: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "relation": self.relation, "rows": self.rows}


@dataclass(frozen=True)
class CleanupResult:
    """What a cleanup found, per model, and whether it deleted it."""

    session_id: int
    status: str
    dry_run: bool
    deleted: bool
    models: tuple[ModelRows, ...]
    #: The session's cleanup column after a real cleanup (earlier cleanups come first).
    cleanup: str | None = None

    @property
    def rows(self) -> int:
        return sum(model.rows for model in self.models)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "rows": self.rows,
            "models": [model.as_dict() for model in self.models],
            "cleanup": self.cleanup,
        }


@dataclass(frozen=True)
class PeriodCheck:
    """A period as etl-run would load it, and the zone its text was read in."""

    period: Period
    timezone: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_start": self.period.start_iso,
            "period_end": self.period.end_iso,
            "interval": self.period.as_interval(),
            "timezone": self.timezone,
            "duration_seconds": self.period.duration.total_seconds(),
        }


# --- operations -------------------------------------------------------------------------------


def list_sessions(
    *,
    status: str | None = None,
    target_name: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    limit: int = DEFAULT_LIMIT,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | None = None,
) -> SessionList:
    """The newest sessions first, at most `limit`.

    `status` and `target_name` (the dbt target a session recorded) filter exactly; `since` and
    `until` are UTC days (YYYY-MM-DD), both inclusive, on the session's start. `target` is the
    dbt target to connect to. No sessions table yet is an empty list, not an error.
    """
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not {status!r}")
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}")
    first = _day(since, "--since")
    last = _day(until, "--until")
    if first is not None and last is not None and last < first:
        raise UsageError(f"--until {last.isoformat()} is before --since {first.isoformat()}")
    warehouse = _warehouse(project_dir, profiles_dir, target, vars)
    answer = _ask(
        warehouse,
        "list_sessions",
        {
            "status": status,
            "target_name": target_name,
            "started_from": None if first is None else _midnight(first),
            "started_before": None if last is None else _midnight(last + timedelta(days=1)),
            "limit": limit,
        },
        event="sessions",
        what="list the sessions",
    )
    return SessionList(
        table=str(answer.get("table")),
        table_exists=bool(answer.get("exists")),
        sessions=tuple(_session(row) for row in answer.get("sessions") or ()),
    )


def show_session(
    session_id: int,
    *,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | None = None,
) -> SessionDetail:
    """One session with all its fields and its per-node results; UsageError if there is none."""
    warehouse = _warehouse(project_dir, profiles_dir, target, vars)
    answer = _ask(
        warehouse,
        "show_session",
        {"session_id": session_id},
        event="session",
        what=f"look up session {session_id}",
    )
    row = answer.get("session")
    if not isinstance(row, Mapping):
        raise UsageError(f"no session {session_id}")
    return SessionDetail(
        session=_session(row),
        nodes=tuple(_node(item) for item in answer.get("nodes") or ()),
    )


def cleanup_session(
    session_id: int,
    *,
    dry_run: bool = False,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | None = None,
) -> CleanupResult:
    """Delete the rows an `error` session wrote from every model with a session_id column.

    The models are those of the project graph materialized as table or incremental whose
    table exists and has a session_id column. The deletes and the record of what was deleted
    (the session's cleanup column) are one transaction. `dry_run` counts and changes nothing.
    A session that is not `error` is refused with a UsageError, and nothing changes.
    """
    warehouse = _warehouse(project_dir, profiles_dir, target, vars)
    invocation = warehouse.operation(
        "cleanup_session",
        {"session_id": session_id, "dry_run": dry_run, "only_status": CLEANABLE_STATUS},
        stdout_to_stderr=True,
    )
    if invocation.interrupted:
        raise Interrupted("interrupted: the cleanup was not committed")
    answer = invocation.announced("cleanup")
    if answer is None or not invocation.success:
        if invocation.announced("cleanup_plan") is not None and not dry_run:
            reason = invocation.error or "dbt reported a failure"
            raise OperationFailed(f"cleanup of session {session_id} failed: {reason}")
        raise _could_not(invocation.error, "cleanup_session", f"clean up session {session_id}")
    if not answer.get("found"):
        raise UsageError(f"no session {session_id}")
    status = str(answer.get("status"))
    if status != CLEANABLE_STATUS:
        raise UsageError(
            f"session {session_id} is {status}: only {CLEANABLE_STATUS} sessions can be cleaned up"
        )
    return CleanupResult(
        session_id=session_id,
        status=status,
        dry_run=dry_run,
        deleted=bool(answer.get("deleted")),
        models=tuple(
            ModelRows(
                node_id=str(model.get("node_id")),
                relation=str(model.get("relation")),
                rows=_int(model.get("rows")) or 0,
            )
            for model in answer.get("models") or ()
        ),
        cleanup=_text(answer.get("cleanup")),
    )


def check_period(
    text: str,
    *,
    timezone: str | None = None,
    project_dir: str | os.PathLike[str] = ".",
    now: datetime | None = None,
) -> PeriodCheck:
    """Resolve a period as etl-run would: the zone is `timezone`, else $ETL_SESSION_TIMEZONE,
    else the project var etl_session_timezone (when project_dir holds a dbt project), else UTC.
    Needs no warehouse. Raises PeriodError with one line for bad input."""
    given = timezone or os.environ.get("ETL_SESSION_TIMEZONE")
    zone = default_timezone(given, None if given else _project_timezone(project_dir))
    return PeriodCheck(period=resolve_period(text, timezone=zone, now=now), timezone=zone)


# --- helpers ----------------------------------------------------------------------------------


def iso(instant: datetime | None) -> str | None:
    """An instant as `2023-05-01T00:00:00Z` (microseconds only when nonzero), or None."""
    if instant is None:
        return None
    utc = instant.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds") + "Z"


def _warehouse(
    project_dir: str | os.PathLike[str],
    profiles_dir: str | os.PathLike[str] | None,
    target: str | None,
    vars: str | None,
) -> Warehouse:
    project = load_project(project_dir, profiles_dir, tool=TOOL)
    check_vars(vars)
    if project.needs_deps():
        raise UsageError(
            f"the packages of {project.directory} are not installed: run dbt deps "
            "(or etl-run, which installs them) first"
        )
    return Warehouse(project, target=target, vars=vars)


def _ask(
    warehouse: Warehouse, macro: str, args: Mapping[str, Any], *, event: str, what: str
) -> Mapping[str, Any]:
    """Run a read-only package operation and return what it announced."""
    invocation = warehouse.operation(macro, args, stdout_to_stderr=True)
    if invocation.interrupted:
        raise Interrupted("interrupted")
    answer = invocation.announced(event)
    if answer is None or not invocation.success:
        raise _could_not(invocation.error, macro, what)
    return answer


def _could_not(error: str | None, macro: str, what: str) -> WarehouseError:
    if error:
        return WarehouseError(f"dbt could not {what}: {error}")
    # `dbt run-operation` reports a failure of the macro itself (an unreachable warehouse, a
    # database error) only on its log, not in the result it returns.
    return WarehouseError(
        f"dbt could not {what}: run-operation etl_session.{macro} failed "
        "(is the warehouse reachable? dbt's log file has the details)"
    )


def _day(value: str | date | None, option: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, not a date-time")
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


def _midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _project_timezone(project_dir: str | os.PathLike[str]) -> str | None:
    """The project var etl_session_timezone, when project_dir holds a dbt project."""
    project_file = Path(project_dir).expanduser() / "dbt_project.yml"
    if not project_file.is_file():
        return None
    try:
        project = yaml.safe_load(project_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{project_file} is not valid YAML: {' '.join(str(exc).split())}") from exc
    variables = project.get("vars") if isinstance(project, dict) else None
    zone = variables.get("etl_session_timezone") if isinstance(variables, dict) else None
    return str(zone) if zone else None


def _session(row: Mapping[str, Any]) -> SessionRecord:
    session_id = _int(row.get("session_id"))
    if session_id is None:
        raise WarehouseError(f"the sessions table returned a row without a session_id: {row}")
    return SessionRecord(
        session_id=session_id,
        source=_text(row.get("source")),
        target=_text(row.get("target")),
        period_start=_instant(row.get("period_start")),
        period_end=_instant(row.get("period_end")),
        run_id=_text(row.get("run_id")),
        invocation_id=_text(row.get("invocation_id")),
        dbt_command=_text(row.get("dbt_command")),
        started=_instant(row.get("started")),
        finished=_instant(row.get("finished")),
        status=str(row.get("status")),
        message=_text(row.get("message")),
        nodes_ok=_int(row.get("nodes_ok")),
        nodes_error=_int(row.get("nodes_error")),
        nodes_skipped=_int(row.get("nodes_skipped")),
        runner_host=_text(row.get("runner_host")),
        runner_pid=_int(row.get("runner_pid")),
        cleanup=_text(row.get("cleanup")),
    )


def _node(row: Mapping[str, Any]) -> NodeResult:
    execution_time = row.get("execution_time")
    return NodeResult(
        node_id=str(row.get("node_id")),
        resource_type=str(row.get("resource_type")),
        status=str(row.get("status")),
        message=_text(row.get("message")),
        execution_time=float(execution_time) if isinstance(execution_time, int | float) else None,
        rows_affected=_int(row.get("rows_affected")),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _instant(value: Any) -> datetime | None:
    """ISO 8601 text from an announcement (a Z or an offset; naive is UTC) as aware UTC."""
    if value is None:
        return None
    text = str(value).strip()
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
