"""The one module that imports dbt, lazily inside functions, so `etl-run --help` stays fast.

It runs dbt in-process (dbtRunner) with the session context in the environment, and turns
dbt's result objects into our own frozen values at this single boundary.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from etl_session import _entry, _sever
from etl_session.errors import Terminated
from etl_session.results import NodeResult, one_line, plain

#: The package announces what it did on dbt's event stream with this prefix (macros/internal).
ANNOUNCE_PREFIX = "etl_session "
#: Environment variables this module sets for one invocation and clears afterwards.
CONTEXT_PREFIX = "ETL_SESSION_"
#: The events in which `dbt run-operation` reports why a macro failed.
OPERATION_ERRORS = frozenset({"RunningOperationCaughtError", "RunningOperationUncaughtError"})


@dataclass(frozen=True)
class Invocation:
    """What one dbt invocation did."""

    args: tuple[str, ...]
    success: bool
    ran: bool
    nodes: tuple[NodeResult, ...] = ()
    #: The nodes dbt's NodeFinished events reported: for counting when dbt returned no result.
    finished_nodes: tuple[NodeResult, ...] = ()
    error: str | None = None
    interrupted: bool = False
    #: Interrupted by SIGTERM (etl_session.errors.Terminated), not by Ctrl-C.
    terminated: bool = False
    #: dbt stopped on a compile or parse error in the project (so the warehouse may be fine).
    compile_error: bool = False
    announcements: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def announced(self, event: str) -> Mapping[str, Any] | None:
        """The last announcement of `event` ('opened', 'closed', ...), if any."""
        found = [item for item in self.announcements if item.get("event") == event]
        return found[-1] if found else None


@contextlib.contextmanager
def _environment(context: Mapping[str, str]) -> Iterator[None]:
    """Set the session context for one invocation; restore the environment afterwards."""
    saved = {key: value for key, value in os.environ.items() if key.startswith(CONTEXT_PREFIX)}
    for key in saved:
        if key not in context:
            del os.environ[key]
    os.environ.update(context)
    try:
        yield
    finally:
        for key in [key for key in os.environ if key.startswith(CONTEXT_PREFIX)]:
            del os.environ[key]
        os.environ.update(saved)


def _node_result(result: Any) -> NodeResult:
    node = result.node
    status = getattr(result.status, "value", result.status)
    resource_type = getattr(node.resource_type, "value", node.resource_type)
    response = result.adapter_response if isinstance(result.adapter_response, dict) else {}
    rows = response.get("rows_affected")
    return NodeResult(
        node_id=str(node.unique_id),
        resource_type=str(resource_type),
        status=str(status).lower(),
        message=None if result.message is None else plain(str(result.message)),
        execution_time=float(result.execution_time or 0.0),
        rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
    )


def _node_results(result: Any) -> tuple[NodeResult, ...]:
    """Nodes that ran, plus failed hooks; hooks that passed are plumbing, not nodes."""
    nodes = []
    for item in getattr(result, "results", None) or ():
        if not hasattr(item, "node") or item.node is None:
            continue
        converted = _node_result(item)
        if converted.resource_type == "operation" and converted.ok:
            continue
        nodes.append(converted)
    return tuple(nodes)


def _finished_nodes(events: Sequence[Any]) -> tuple[NodeResult, ...]:
    """NodeResults from dbt's NodeFinished events (their node_info and run_result messages)."""
    nodes = []
    for data in events:
        info, result = getattr(data, "node_info", None), getattr(data, "run_result", None)
        unique_id = str(getattr(info, "unique_id", "") or "")
        if not unique_id or result is None:
            continue
        resource_type = str(getattr(info, "resource_type", "") or unique_id.split(".")[0])
        status = str(getattr(result, "status", "") or "").lower()
        if resource_type == "operation" and status == "success":
            continue
        message = getattr(result, "message", None)
        nodes.append(
            NodeResult(
                node_id=unique_id,
                resource_type=resource_type,
                status=status,
                message=plain(str(message)) if message else None,
                execution_time=float(getattr(result, "execution_time", 0.0) or 0.0),
                rows_affected=None,
            )
        )
    return tuple(nodes)


def _is_compile_error(exception: BaseException | None) -> bool:
    names = {cls.__name__ for cls in type(exception).__mro__} if exception is not None else set()
    return bool(names & {"CompilationError", "ParsingError"})


def _error_text(exception: BaseException | None) -> str | None:
    if exception is None:
        return None
    if isinstance(exception, Terminated):
        return "terminated by SIGTERM"
    text = str(exception) or getattr(exception, "msg", None) or type(exception).__name__
    return one_line(str(text), limit=2000)


def _import_dbt_runner() -> Any:
    """dbt's `dbtRunner`, imported, with this process made ready for it: in a command's process
    the GC settled and the Jinja cache installed (`_entry`), and in any process dbt's tracebacks
    kept out of the console."""
    from dbt.cli.main import dbtRunner

    _entry.settle_after_dbt_import()
    _hide_stack_traces_from_console()
    return dbtRunner


def _hide_stack_traces_from_console() -> None:
    """Keep dbt's Python tracebacks (event MainStackTrace) out of the console.

    A wrong path or an unreachable warehouse is a user's problem, not a bug: the user gets
    dbt's one-line "Encountered an error" and our summary; the traceback still goes to
    logs/dbt.log. Wraps dbt 1.11's console logger config; a dbt without that hook is left as is.
    """
    try:
        import dbt.events.logging as dbt_logging
    except ImportError:  # pragma: no cover - dbt is a dependency
        return
    original = getattr(dbt_logging, "get_stdout_config", None)
    if original is None or getattr(original, "hides_stack_traces", False):
        return

    def console_config(*args: Any, **kwargs: Any) -> Any:
        config = original(*args, **kwargs)
        keep = config.filter

        def console_filter(msg: Any) -> bool:
            return bool(msg.info.name != "MainStackTrace" and (keep is None or keep(msg)))

        config.filter = console_filter
        return config

    console_config.hides_stack_traces = True  # type: ignore[attr-defined]
    dbt_logging.get_stdout_config = console_config  # type: ignore[attr-defined]


class LivenessHold:
    """The load's own warehouse connection that proves it is alive (plan: "Liveness").

    When open_session announces `hold {sql}` (Postgres: take a session-level advisory lock keyed
    by the run id), this opens a connection of its own with the credentials of the adapter dbt
    is using for the current invocation, runs that statement in autocommit mode and keeps the
    connection until `close()` — after the load and any repair. If the process dies, the
    warehouse drops the connection and the lock with it, so the next load knows the session is
    dead. With `every` seconds (Spark, which has no such lock: a heartbeat row), a daemon thread
    runs the statement again at that interval on the same connection until `close()`; when the
    process dies the beats stop, and the next load finds the session gone after the timeout.
    Failing to hold is a warning, never a reason to stop the load.
    """

    def __init__(self) -> None:
        self._handles: list[Any] = []
        self._stop = threading.Event()
        self._beats: list[threading.Thread] = []
        self.warnings: list[str] = []

    @property
    def held(self) -> bool:
        return bool(self._handles)

    def acquire(self, sql: str, every: float | None = None, first: str | None = None) -> None:
        """Hold with `sql`, repeated every `every` seconds; `first` (when given) instead of
        `sql` the first time (Spark: the first heartbeat fills both of the run's slots)."""
        try:
            handle = _open_and_execute(first or sql)
        except Exception as exc:  # any failure only costs liveness, never the load
            self._warn(exc)
            return
        self._handles.append(handle)
        _sever.spare(handle)  # a cut after a signal must not end the load's proof of life
        if every is not None and every > 0:
            beat = threading.Thread(
                target=self._beat, args=(handle, sql, float(every)), name="etl-session-heartbeat"
            )
            beat.daemon = True
            self._beats.append(beat)
            beat.start()

    def _beat(self, handle: Any, sql: str, every: float) -> None:
        warned = False
        while not self._stop.wait(every):
            try:
                _execute_on(handle, sql)
            except Exception as exc:  # keep beating: the warehouse may come back
                if not warned:
                    warned = True
                    self._warn(exc)

    def _warn(self, exc: BaseException) -> None:
        warning = (
            "etl-run: warning: could not hold this load's liveness lock "
            f"({one_line(str(exc) or type(exc).__name__, limit=300)}); if this process dies, "
            "close its session with etl-session close ID --force"
        )
        self.warnings.append(warning)
        print(warning, file=sys.stderr)

    def close(self) -> None:
        self._stop.set()
        while self._beats:
            self._beats.pop().join(timeout=30)
        while self._handles:
            handle = self._handles.pop()
            with contextlib.suppress(Exception):
                handle.close()


def _current_adapter() -> Any:
    """The adapter dbt registered for the invocation that is running now."""
    from dbt.adapters.factory import FACTORY

    with FACTORY.lock:
        adapters = list(FACTORY.adapters.values())
    if not adapters:
        raise RuntimeError("dbt has no adapter registered")
    return adapters[-1]


def _open_and_execute(sql: str) -> Any:
    """A new connection opened by the adapter's own ConnectionManager, autocommit, after `sql`."""
    from dbt.adapters.contracts.connection import Connection, ConnectionState, Identifier

    adapter = _current_adapter()
    connection = Connection(
        type=Identifier(adapter.type()),
        name="etl_session_liveness",
        credentials=adapter.config.credentials,
        state=ConnectionState.INIT,
        transaction_open=False,
        handle=None,
    )
    handle = adapter.ConnectionManager.open(connection).handle
    try:
        handle.autocommit = True
        _execute_on(handle, sql)
    except BaseException:
        with contextlib.suppress(Exception):
            handle.close()
        raise
    return handle


def _execute_on(handle: Any, sql: str) -> None:
    """Run `sql` on a connection handle and keep the connection open.

    dbt-spark's handle is its own cursor (closing that closes the connection): there, only the
    statement's inner cursor is closed, so a heartbeat leaves no open operation on the server.
    """
    cursor = handle.cursor()
    cursor.execute(sql)
    inner = cursor if cursor is not handle else getattr(handle, "_cursor", None)
    if inner is not None:
        with contextlib.suppress(Exception):
            inner.close()


#: Tells open_session that this process lists dbt's relations again when it announces
#: `stale_cache` (see `_relist_relations`), so a load that just ended need not refuse it.
RELISTS_RELATIONS = {"ETL_SESSION_REFRESHES_CACHE": "1"}


def _relist_relations() -> None:
    """List the warehouse's relations again into dbt's relation cache, as dbt does before
    on-run-start: the same nodes, the adapter's own way (Postgres also records which views
    depend on which relations).

    dbt takes its cache before on-run-start opens the session; a load of the project that built
    relations and ended in between leaves it missing them (CI: `relation "daily_amounts" already
    exists`; on Spark, `create or replace` of a Delta table dbt took for new would replace every
    other period). open_session announces `stale_cache` then, and this runs inside that hook,
    before any model.
    """
    adapter = _current_adapter()
    manifest = adapter.get_macro_resolver()
    nodes = [
        node
        for node in getattr(manifest, "nodes", {}).values()
        if node.is_relational and not node.is_ephemeral_model and not node.is_external_node
    ]
    adapter.set_relations_cache(nodes, clear=True)


def invoke(
    args: Sequence[str],
    *,
    context: Mapping[str, str] | None = None,
    stdout_to_stderr: bool = False,
    hold: LivenessHold | None = None,
    on_announcement: Callable[[Mapping[str, Any]], None] | None = None,
) -> Invocation:
    """Run `dbt <args>` in this process; never raises for what dbt reports.

    With `hold`, a `hold {sql}` announcement opens the load's liveness connection (see
    `LivenessHold`), synchronously inside the hook that announced it. `on_announcement` is
    called with every announcement, inside dbt (its adapter is `_current_adapter()` then).
    """
    dbtRunner = _import_dbt_runner()
    announcements: list[Mapping[str, Any]] = []
    caught: list[str] = []
    finished: list[Any] = []

    def listen(event: Any) -> None:
        if getattr(getattr(event, "info", None), "name", None) == "NodeFinished":
            finished.append(event.data)
        if getattr(getattr(event, "info", None), "name", None) in OPERATION_ERRORS:
            # run-operation reports a failing macro only here, not in the returned exception.
            caught.append(str(getattr(event.data, "exc", "") or ""))
        message = getattr(getattr(event, "data", None), "msg", None)
        if not isinstance(message, str) or not message.startswith(ANNOUNCE_PREFIX):
            return
        try:
            announced = json.loads(message[len(ANNOUNCE_PREFIX) :])
        except ValueError:
            return
        announcements.append(announced)
        if not isinstance(announced, dict):
            return
        if (
            hold is not None
            and announced.get("event") == "hold"
            and isinstance(announced.get("sql"), str)
        ):
            every = announced.get("every")
            first = announced.get("first")
            hold.acquire(
                announced["sql"],
                every=float(every) if isinstance(every, (int, float)) else None,
                first=first if isinstance(first, str) else None,
            )
        if announced.get("event") == "opened" and announced.get("stale_cache"):
            _relist_relations()  # a failure fails the hook: no model runs on the stale cache
        if on_announcement is not None:
            on_announcement(announced)

    runner = dbtRunner(callbacks=[listen])
    redirect = (
        contextlib.redirect_stdout(sys.stderr) if stdout_to_stderr else contextlib.nullcontext()
    )
    with _environment({**RELISTS_RELATIONS, **(context or {})}), redirect:
        outcome = runner.invoke(list(args))
    exception = outcome.exception
    return Invocation(
        args=tuple(args),
        success=bool(outcome.success),
        ran=outcome.result is not None,
        nodes=_node_results(outcome.result),
        # dbt returns no result when it raised after the nodes ran (an on-run-end hook that
        # lost the warehouse, say): the nodes' own NodeFinished events still say how they ended.
        finished_nodes=_finished_nodes(finished),
        error=_error_text(exception) or (one_line(caught[-1], limit=2000) if caught else None),
        interrupted=isinstance(exception, KeyboardInterrupt),
        terminated=isinstance(exception, Terminated),
        compile_error=_is_compile_error(exception),
        announcements=tuple(announcements),
    )


def list_nodes(args: Sequence[str]) -> list[Mapping[str, Any]] | Invocation:
    """`dbt ls <args> --output json`: the selected nodes, or the failed Invocation."""
    dbtRunner = _import_dbt_runner()
    # No JSON artifacts: manifest.json keeps describing the last load (see Warehouse.operation).
    command = ["--log-level", "none", "ls", "--output", "json", "--no-write-json", *args]
    outcome = dbtRunner().invoke(command)
    if not outcome.success:
        return Invocation(
            args=tuple(command),
            success=False,
            ran=outcome.result is not None,
            error=_error_text(outcome.exception) or "dbt ls failed",
            interrupted=isinstance(outcome.exception, KeyboardInterrupt),
            terminated=isinstance(outcome.exception, Terminated),
            compile_error=_is_compile_error(outcome.exception),
        )
    nodes: list[Mapping[str, Any]] = []
    listed: Any = outcome.result if isinstance(outcome.result, list) else []
    for line in listed:
        with contextlib.suppress(ValueError, TypeError):
            parsed = json.loads(line)
            if isinstance(parsed, dict):
                nodes.append(parsed)
    return nodes
