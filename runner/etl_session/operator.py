"""The operators' library behind `etl-session`: list, show, close and clean up ETL sessions,
and check a period before loading it.

Python decides (filters, which session, which models, whether to delete) and never writes SQL:
every question goes to a package operation (macros/operator) through `dbt run-operation`, and
the answer comes back as that operation's announcement. Imports dbt only lazily, through
etl_session.project and etl_session.dbt_invoke.

Whether a running session's owner is alive is known from the warehouse only (a Postgres
advisory lock, the DuckDB file lock), never from the host name and pid a session records: every
command that reads the sessions table first closes the sessions whose owner is known to be gone
as `abandoned`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
#: Session ids and limits are SQL bigints.
MAX_BIGINT = 2**63 - 1
#: The macro whose callers stamp the package's session ids on their rows.
SESSION_ID_MACRO = "macro.etl_session.session_id"
#: What `etl-session close` writes before the operator's own words.
CLOSED_BY_OPERATOR = "closed by operator"
MAX_MESSAGE = 2000

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class WarehouseError(EtlSessionError):
    """dbt could not run the operation (warehouse unreachable, package missing): nothing
    changed (exit code 2)."""


class OperationFailed(EtlSessionError):
    """The operation ran against the warehouse and failed (exit code 1)."""

    exit_code = 1


class Interrupted(EtlSessionError):
    """Ctrl-C while an operation ran (exit code 130)."""

    exit_code = 130


class Refused(UsageError):
    """The session's owner may still be running the load: nothing changed (exit code 2)."""


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
    project: str | None = None
    #: The IANA zone the period was stated in (None for sessions of older versions: UTC).
    period_timezone: str | None = None
    full_refresh: bool | None = None
    selection: str | None = None
    #: How the owner's life is checked: 'lock' (Postgres advisory lock), 'file' (DuckDB), None.
    liveness: str | None = None
    #: Who closed it: 'hook', 'runner', 'abandoned', 'operator' (None: older versions, running).
    closed_by: str | None = None

    @property
    def zone(self) -> str:
        """The zone to show the period in by default: the one it was stated in, else UTC."""
        return self.period_timezone or "UTC"

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
            "project": self.project,
            "period_timezone": self.period_timezone,
            "full_refresh": self.full_refresh,
            "selection": self.selection,
            "liveness": self.liveness,
            "closed_by": self.closed_by,
        }


@dataclass(frozen=True)
class SessionList:
    """What `list_sessions` found: the sessions, newest first, and where it looked."""

    table: str
    table_exists: bool
    sessions: tuple[SessionRecord, ...]
    #: Running sessions whose owner was gone, closed as abandoned before listing.
    swept: tuple[int, ...] = ()


@dataclass(frozen=True)
class SessionDetail:
    """One session and the per-node results its load wrote."""

    session: SessionRecord
    nodes: tuple[NodeResult, ...]
    #: Running sessions whose owner was gone, closed as abandoned before reading this one.
    swept: tuple[int, ...] = ()

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
class SkippedModel:
    """A model that stamps session ids but holds nothing a cleanup of this session may delete."""

    node_id: str
    relation: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "relation": self.relation, "reason": self.reason}


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
    skipped: tuple[SkippedModel, ...] = field(default_factory=tuple)
    #: Running sessions whose owner was gone, closed as abandoned before the cleanup.
    swept: tuple[int, ...] = ()

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
            "skipped": [model.as_dict() for model in self.skipped],
            "cleanup": self.cleanup,
        }


@dataclass(frozen=True)
class CloseResult:
    """What `close_session` did: `closed` is false when the session was not running."""

    session_id: int
    closed: bool
    #: The status before, and after.
    previous: str
    status: str
    message: str | None
    closed_by: str | None
    #: The owner's state when the session was running: 'alive', 'dead' or 'unknown';
    #: 'external' for a session opened by etl-session open (no process holds it).
    owner: str | None
    forced: bool
    run_id: str | None = None
    #: Opened by etl-session open: closed with the status of everything that ran in it.
    external: bool = False
    #: The session's node counts after closing (sessions opened by etl-session open).
    nodes_ok: int | None = None
    nodes_error: int | None = None
    nodes_skipped: int | None = None

    @property
    def ok(self) -> bool:
        """The session ended `success`."""
        return self.status == "success"

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "run_id": self.run_id,
            "closed": self.closed,
            "previous_status": self.previous,
            "status": self.status,
            "message": self.message,
            "closed_by": self.closed_by,
            "owner": self.owner,
            "forced": self.forced,
            "external": self.external,
            "nodes_ok": self.nodes_ok,
            "nodes_error": self.nodes_error,
            "nodes_skipped": self.nodes_skipped,
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
    dbt target to connect to. No sessions table yet is an empty list, not an error. Running
    sessions whose owner is gone are closed as abandoned first (`SessionList.swept`).
    """
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not {_show(status)}")
    if target_name is not None and not isinstance(target_name, str):
        raise UsageError(f"--session-target must be text, not {type(target_name).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise UsageError(f"--limit must be a whole number, not {limit!r}")
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}")
    if limit > MAX_BIGINT:
        raise UsageError(f"--limit must be at most {MAX_BIGINT}, not {limit}")
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
            # The day after --until; 9999-12-31 has none, and then nothing is later anyway.
            "started_before": None
            if last is None or last == date.max
            else _midnight(last + timedelta(days=1)),
            "limit": limit,
        },
        event="sessions",
        what="list the sessions",
    )
    return SessionList(
        table=str(answer.get("table")),
        table_exists=bool(answer.get("exists")),
        sessions=tuple(_session(row) for row in answer.get("sessions") or ()),
        swept=_ids(answer.get("swept")),
    )


def show_session(
    session_id: int,
    *,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | None = None,
) -> SessionDetail:
    """One session with all its fields and its per-node results; UsageError if there is none.
    Running sessions whose owner is gone are closed as abandoned first."""
    session_id = check_session_id(session_id)
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
        swept=_ids(answer.get("swept")),
    )


def close_session(
    session_id: int | None = None,
    *,
    run_id: str | None = None,
    status: str | None = None,
    force: bool = False,
    message: str | None = None,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | None = None,
) -> CloseResult:
    """Close a `running` session, found by its id or by its run id.

    A session opened by `etl-session open` (`open_session`, liveness 'external') is closed with
    the status of everything that ran in it: `success` only when every node that ran in any of
    its invocations ended well; no result at all is `error` ("nothing ran in this session").
    `status='error'` closes it as error whatever ran (`message` says why); no status turns a
    failure into a success. closed_by 'owner'.

    Any other session is closed as `error` by hand: message `closed by operator: <message>`,
    closed_by 'operator', finished now; refused (`Refused`, exit code 2, nothing changed)
    while its owner may still be running the load: on Postgres, while the load holds its
    advisory lock (alive), or when the session has no lock to tell by (unknown: opened by plain
    dbt) — `force=True` closes it anyway. On DuckDB this process holds the file, so the owner
    is gone.

    A session that is not running is left exactly as it is (`CloseResult.closed` is false).
    """
    if (session_id is None) == (run_id is None):
        raise UsageError("give a session id or a run id (one of them)")
    if session_id is not None:
        session_id = check_session_id(session_id)
    if run_id is not None:
        run_id = check_run_id(run_id)
    if not isinstance(force, bool):
        raise UsageError(f"force must be true or false, not {force!r}")
    if status is not None and status not in ("success", "error"):
        raise UsageError(f"--status must be success or error, not {_show(str(status))}")
    text = _operator_message(message)
    who = f"session {session_id}" if session_id is not None else f"the session of run id {run_id}"
    warehouse = _warehouse(project_dir, profiles_dir, target, vars)
    invocation = warehouse.operation(
        "finish_session",
        {
            "session_id": session_id,
            "run_id": run_id,
            "status": status,
            "force": force,
            "message": text,
        },
        stdout_to_stderr=True,
    )
    if invocation.interrupted:
        raise Interrupted("interrupted: check the session with etl-session show")
    answer = invocation.announced("close")
    if answer is None or not invocation.success:
        raise _could_not(invocation.error, "finish_session", f"close {who}")
    if not answer.get("found"):
        raise UsageError(f"no {who}".replace("the session of run id", "session with run id"))
    found_id = _int(answer.get("session_id")) or 0
    previous = str(answer.get("status"))
    owner = _text(answer.get("owner"))
    closed = bool(answer.get("closed"))
    external = bool(answer.get("external"))
    if not external and status == "success":
        raise UsageError(
            f"session {found_id} was not opened by etl-session open: closing it by hand always "
            "makes it error; leave out --status success"
        )
    if previous == "running" and not closed and not force:
        raise Refused(_refusal(found_id, owner))
    return CloseResult(
        session_id=found_id,
        closed=closed,
        previous=previous,
        status=str(answer.get("final")),
        message=_text(answer.get("message")),
        closed_by=_text(answer.get("closed_by")),
        owner=owner,
        forced=force,
        run_id=_text(answer.get("run_id")) or run_id,
        external=external,
        nodes_ok=_int(answer.get("ok")),
        nodes_error=_int(answer.get("error")),
        nodes_skipped=_int(answer.get("skipped")),
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
    """Delete the rows an `error` session wrote.

    Only from the models that stamp the package's session ids — those whose SQL calls
    `etl_session.session_id()`, directly or through macros, read from the project's manifest
    (never recognised by a column name) — whose table exists and has a session_id column; only
    rows with that session's id; for a model with an `etl_period_column`, only rows in the
    session's period; and, when the session recorded per-model results, only from the models
    it wrote successfully. The deletes and the record of what was deleted (the session's
    cleanup column) are one transaction. `dry_run` counts and changes nothing. A session that
    is not `error` is refused with a UsageError, and nothing changes.
    """
    session_id = check_session_id(session_id)
    if not isinstance(dry_run, bool):
        raise UsageError(f"dry_run must be true or false, not {dry_run!r}")
    warehouse = _warehouse(project_dir, profiles_dir, target, vars)
    models = _stamping_models_of(warehouse)
    invocation = warehouse.operation(
        "cleanup_session",
        {
            "session_id": session_id,
            "dry_run": dry_run,
            "only_status": CLEANABLE_STATUS,
            "models": models,
        },
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
        hint = " (close it first with etl-session close)" if status == "running" else ""
        raise UsageError(
            f"session {session_id} is {status}: only {CLEANABLE_STATUS} sessions can be "
            f"cleaned up{hint}"
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
        skipped=tuple(
            SkippedModel(
                node_id=str(model.get("node_id")),
                relation=_text(model.get("relation")),
                reason=str(model.get("reason")),
            )
            for model in answer.get("skipped") or ()
        ),
        swept=_ids(answer.get("swept")),
    )


def stamping_models(manifest: Mapping[str, Any]) -> list[str]:
    """The models of a dbt manifest that stamp the package's session ids: those whose SQL or
    materialization calls `etl_session.session_id()`, directly or through other macros. Sorted.
    """
    macros = manifest.get("macros") if isinstance(manifest.get("macros"), Mapping) else {}
    calls = {uid: set(_depends_on(macro)) for uid, macro in (macros or {}).items()}
    stamping = {SESSION_ID_MACRO}
    grew = True
    while grew:
        grew = False
        for uid, called in calls.items():
            if uid not in stamping and called & stamping:
                stamping.add(uid)
                grew = True
    stamping_names = {uid.rsplit(".", 1)[-1] for uid in stamping}
    found = []
    nodes = manifest.get("nodes") if isinstance(manifest.get("nodes"), Mapping) else {}
    for uid, node in (nodes or {}).items():
        if not isinstance(node, Mapping) or node.get("resource_type") != "model":
            continue
        config = node.get("config") if isinstance(node.get("config"), Mapping) else {}
        materialized = str((config or {}).get("materialized") or "")
        materialization = f"materialization_{materialized}_"
        if set(_depends_on(node)) & stamping or any(
            name.startswith(materialization) for name in stamping_names
        ):
            found.append(str(uid))
    return sorted(found)


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


def check_session_id(value: Any) -> int:
    """A session id: a whole number from 1 to the largest bigint; UsageError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BIGINT:
        raise UsageError(f"a session id is a whole number from 1 to {MAX_BIGINT}, not {value!r}")
    return int(value)


#: A run id is text that names one session (etl-run makes 32 hex digits; orchestrators pass
#: their own run ids, e.g. Airflow's `scheduled__2023-05-01T00:00:00+00:00`).
MAX_RUN_ID = 255


def check_run_id(value: Any) -> str:
    """A run id: 1 to 255 printable characters, no space at either end; UsageError otherwise."""
    if not isinstance(value, str):
        raise UsageError(f"a run id is text, not {type(value).__name__}")
    if (
        not value.strip()
        or value != value.strip()
        or len(value) > MAX_RUN_ID
        or not value.isprintable()
    ):
        raise UsageError(
            f"a run id is 1 to {MAX_RUN_ID} printable characters without spaces at either end, "
            f"not {_show(value)}"
        )
    return value


def check_timezone(name: Any, option: str = "--timezone") -> str:
    """An IANA zone name; a one-line UsageError otherwise."""
    try:
        if not isinstance(name, str) or not name or "\x00" in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        raise UsageError(
            f"{option} must be an IANA time zone such as UTC, Europe/Berlin or America/New_York, "
            f"not {_show(str(name))}"
        ) from None
    return name


def local_iso(instant: datetime | None, zone: str) -> str | None:
    """An instant as ISO 8601 in `zone`: `2023-05-01T00:00:00Z` in UTC, else with the zone's
    offset at that instant (`2023-05-01T00:00:00-04:00`). An unknown zone shows UTC."""
    if instant is None:
        return None
    if zone == "UTC":
        return iso(instant)
    try:
        local = instant.astimezone(ZoneInfo(zone))
    except (ValueError, OSError, KeyError):
        return iso(instant)
    return local.isoformat(timespec="microseconds" if local.microsecond else "seconds")


def _operator_message(message: Any) -> str | None:
    if message is None:
        return None
    if not isinstance(message, str):
        raise UsageError(f"--message must be text, not {type(message).__name__}")
    text = " ".join(message.replace("\x00", " ").split())
    if len(text) > MAX_MESSAGE:
        raise UsageError(f"--message is {len(text)} characters long; at most {MAX_MESSAGE}")
    return text or None


def _refusal(session_id: int, owner: str | None) -> str:
    if owner == "alive":
        return (
            f"session {session_id} is running and its owner is alive (it holds its lock in the "
            "warehouse): nothing changed; wait for it to end, or pass --force"
        )
    return (
        f"session {session_id} is running and nobody can tell whether its owner is alive (it "
        "holds no lock: opened by plain dbt on Postgres?): nothing changed; make sure the load "
        "is gone, then pass --force"
    )


def _stamping_models_of(warehouse: Warehouse) -> list[str]:
    """Parse the project (dbt parse) and read its manifest: the models that stamp session ids."""
    from etl_session import dbt_invoke

    invocation = dbt_invoke.invoke(
        ["--log-level", "none", "parse", *warehouse.flags()], stdout_to_stderr=True
    )
    if invocation.interrupted:
        raise Interrupted("interrupted: nothing deleted")
    path = _manifest_path(warehouse)
    if not invocation.success or not path.is_file():
        reason = invocation.error or f"no manifest at {path}"
        raise WarehouseError(f"dbt could not parse the project: {reason}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WarehouseError(f"could not read {path}: {' '.join(str(exc).split())}") from None
    return stamping_models(manifest if isinstance(manifest, Mapping) else {})


def _manifest_path(warehouse: Warehouse) -> Path:
    """Where dbt parse wrote manifest.json: $DBT_TARGET_PATH, else the project's target-path,
    else `target`, relative to the project folder."""
    directory = warehouse.project.directory
    configured = os.environ.get("DBT_TARGET_PATH")
    if not configured:
        try:
            project = yaml.safe_load((directory / "dbt_project.yml").read_text()) or {}
        except (OSError, yaml.YAMLError):
            project = {}
        configured = (
            str(project.get("target-path") or "target") if isinstance(project, dict) else "target"
        )
    path = Path(configured).expanduser()
    return (path if path.is_absolute() else directory / path) / "manifest.json"


def _depends_on(item: Any) -> Iterable[str]:
    depends = item.get("depends_on") if isinstance(item, Mapping) else None
    macros = depends.get("macros") if isinstance(depends, Mapping) else None
    return [str(uid) for uid in macros] if isinstance(macros, list) else []


def _ids(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(found for found in (_int(item) for item in value) if found is not None)


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


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
    warehouse: Warehouse,
    macro: str,
    args: Mapping[str, Any],
    *,
    event: str,
    what: str,
    on_announcement: Callable[[Mapping[str, Any]], None] | None = None,
) -> Mapping[str, Any]:
    """Run a read-only package operation and return what it announced."""
    invocation = warehouse.operation(
        macro, args, stdout_to_stderr=True, on_announcement=on_announcement
    )
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
    if not isinstance(value, str):
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, not {type(value).__name__}")
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, not {_show(value)}") from None


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
        project=_text(row.get("project")),
        period_timezone=_text(row.get("period_timezone")),
        full_refresh=_bool(row.get("full_refresh")),
        selection=_text(row.get("selection")),
        liveness=_text(row.get("liveness")),
        closed_by=_text(row.get("closed_by")),
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


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "t", "1", "yes"}


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
