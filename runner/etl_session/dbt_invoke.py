"""The one module that imports dbt, lazily inside functions, so `etl-run --help` stays fast.

It runs dbt in-process (dbtRunner) with the session context in the environment, and turns
dbt's result objects into our own frozen values at this single boundary.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from etl_session.results import NodeResult, one_line

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
    error: str | None = None
    interrupted: bool = False
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
        message=None if result.message is None else str(result.message),
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


def _is_compile_error(exception: BaseException | None) -> bool:
    names = {cls.__name__ for cls in type(exception).__mro__} if exception is not None else set()
    return bool(names & {"CompilationError", "ParsingError"})


def _error_text(exception: BaseException | None) -> str | None:
    if exception is None:
        return None
    text = str(exception) or getattr(exception, "msg", None) or type(exception).__name__
    return one_line(str(text), limit=2000)


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


def invoke(
    args: Sequence[str],
    *,
    context: Mapping[str, str] | None = None,
    stdout_to_stderr: bool = False,
) -> Invocation:
    """Run `dbt <args>` in this process; never raises for what dbt reports."""
    from dbt.cli.main import dbtRunner

    _hide_stack_traces_from_console()
    announcements: list[Mapping[str, Any]] = []
    caught: list[str] = []

    def listen(event: Any) -> None:
        if getattr(getattr(event, "info", None), "name", None) in OPERATION_ERRORS:
            # run-operation reports a failing macro only here, not in the returned exception.
            caught.append(str(getattr(event.data, "exc", "") or ""))
        message = getattr(getattr(event, "data", None), "msg", None)
        if isinstance(message, str) and message.startswith(ANNOUNCE_PREFIX):
            with contextlib.suppress(ValueError):
                announcements.append(json.loads(message[len(ANNOUNCE_PREFIX) :]))

    runner = dbtRunner(callbacks=[listen])
    redirect = (
        contextlib.redirect_stdout(sys.stderr) if stdout_to_stderr else contextlib.nullcontext()
    )
    with _environment(context or {}), redirect:
        outcome = runner.invoke(list(args))
    exception = outcome.exception
    return Invocation(
        args=tuple(args),
        success=bool(outcome.success),
        ran=outcome.result is not None,
        nodes=_node_results(outcome.result),
        error=_error_text(exception) or (one_line(caught[-1], limit=2000) if caught else None),
        interrupted=isinstance(exception, KeyboardInterrupt),
        compile_error=_is_compile_error(exception),
        announcements=tuple(announcements),
    )
