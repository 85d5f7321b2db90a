"""Dagster for ETL sessions (`pip install "dbt-etl-session[dagster]"`).

A partition's time window is the session's period and the Dagster run id its run id; the
session's id and status go into the metadata of what the step materializes.

- `@dbt_assets`: `yield from dbt_build_in_session(context, dbt, ["build"], project_dir=...)`
  opens a session for the run, runs dagster-dbt's `dbt.cli(...)` with the session's
  environment (every dbt invocation joins it), closes it with the status of everything that
  ran, and yields dagster-dbt's events with `etl_session_id`, `etl_session_status`,
  `etl_run_id`, `etl_period_start`, `etl_period_end` added to their metadata.
- ops and `@asset`s: `load_period(context, project_dir=..., ...)` loads the partition's period
  with `etl_session.run` (one session), adds the same metadata to the step's output, and raises
  `dagster.Failure` (with that metadata) when the load failed.

Importing `etl_session` never imports this module (nor Dagster); this module imports Dagster.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dagster import Failure

from etl_session.errors import UsageError
from etl_session.operator import CloseResult
from etl_session.results import one_line
from etl_session.session import SessionResult, run
from etl_session.shared import SharedSession, close_session, open_session

__all__ = ["dbt_build_in_session", "load_period", "period_from_context", "session_metadata"]


def period_from_context(context: Any) -> str:
    """The period of a partitioned run: its partition's time window, `start/end` (half-open).
    A run without a time window (unpartitioned, or not a time partition) is a `UsageError`."""
    window = None
    if getattr(context, "has_partition_key", False):
        with contextlib.suppress(Exception):
            window = context.partition_time_window
    if window is None:
        raise UsageError(
            "this run has no partition time window to load: partition the asset or job by time "
            "(e.g. MonthlyPartitionsDefinition), or pass period='2023-05'"
        )
    return f"{window.start.isoformat()}/{window.end.isoformat()}"


def _run_id(context: Any) -> str:
    """The Dagster run id; a retry of the step within the run gets its own."""
    retry = int(getattr(context, "retry_number", 0) or 0)
    return str(context.run_id) if retry == 0 else f"{context.run_id}:retry{retry}"


def session_metadata(
    session_id: int | None, status: str, run_id: str, start: str | None, end: str | None
) -> dict[str, Any]:
    """The metadata etl_session attaches to materializations and outputs."""
    return {
        "etl_session_id": session_id,
        "etl_session_status": status,
        "etl_run_id": run_id,
        "etl_period_start": start,
        "etl_period_end": end,
    }


def load_period(context: Any, *, period: str | None = None, **run_options: Any) -> dict[str, Any]:
    """Load the run's period (its partition's time window, or `period`) with
    `etl_session.run(**run_options)` as one session whose run id is the Dagster run id; add the
    session's id and status to the step's output metadata and return the result as a dict.
    Raises `dagster.Failure` when nothing ran or the load failed."""
    try:
        text = period if period is not None else period_from_context(context)
        result: SessionResult = run(text, run_id=_run_id(context), **run_options)
    except UsageError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    metadata = session_metadata(
        result.session_id,
        result.status,
        result.run_id or _run_id(context),
        result.period.start_iso if result.period else None,
        result.period.end_iso if result.period else None,
    )
    if not result.ok:
        raise Failure(
            description=f"{result.summary()}: {one_line(result.message)}",
            metadata={key: value for key, value in metadata.items() if value is not None},
            allow_retries=result.busy or result.exit_code != 2,
        )
    with contextlib.suppress(Exception):  # a context without outputs (an asset check, say)
        context.add_output_metadata(metadata)
    return result.as_dict()


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_build_in_session(
    context: Any,
    dbt: Any,
    args: Sequence[str] = ("build",),
    *,
    project_dir: str | os.PathLike[str],
    period: str | None = None,
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    timezone: str | None = None,
    source: str | None = None,
    **cli_options: Any,
) -> Iterator[Any]:
    """For a `@dbt_assets` function: the run's dbt invocation(s) under one session.

    Opens a session (period: the partition's time window, or `period`; run id: the Dagster run
    id), runs `dbt.cli(args, context=context, **cli_options)` with the session's environment,
    closes the session with the status of everything that ran, and yields dagster-dbt's events
    with the session's id and final status in their metadata. When dbt fails, the session is
    closed (as `error`) before the failure goes on.
    """
    try:
        shared: SharedSession = open_session(
            period if period is not None else period_from_context(context),
            run_id=_run_id(context),
            timezone=timezone,
            source=source,
            project_dir=project_dir,
            profiles_dir=profiles_dir,
            target=target,
        )
    except UsageError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    events: list[Any] = []
    failure: BaseException | None = None
    with _environment(shared.env()):
        try:
            events.extend(dbt.cli(list(args), context=context, **cli_options).stream())
        except Exception as exc:  # dagster-dbt raises when dbt fails
            failure = exc
    closed: CloseResult = close_session(
        shared,
        status="error" if failure is not None else None,
        message=None if failure is None else one_line(f"{type(failure).__name__}: {failure}"),
        project_dir=project_dir,
        profiles_dir=profiles_dir,
        target=target,
    )
    metadata = session_metadata(
        closed.session_id,
        closed.status,
        shared.run_id,
        shared.period.start_iso,
        shared.period.end_iso,
    )
    for event in events:
        yield event.with_metadata({**(event.metadata or {}), **metadata})
    if failure is not None:
        raise failure
    if closed.status != "success":
        raise Failure(
            description=f"session {closed.session_id} closed as {closed.status}: {closed.message}",
            metadata=metadata,
        )
