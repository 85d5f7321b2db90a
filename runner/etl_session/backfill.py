"""Backfills: a long period as consecutive chunks, one session each, and loading what is missing.

`backfill()` plans the chunks, then runs each one as an ordinary load (`run_with`), in order:

- with a period and `split`, the period cut into chunks (see `coverage.split`); unless `reload`,
  chunks that every selected period model already has loaded are skipped, so a rerun with the
  same arguments continues where a failed or stopped one ended;
- with `missing` (and whenever no period is given), the missing and failed periods of the
  selected period models (`coverage`) up to `until` (default: the start of today), plus the
  `lookback` before the newest loaded end; each contiguous stretch is one chunk, or is split.

It stops at the first chunk that fails unless `keep_going`; a signal (Ctrl-C, SIGTERM) always
stops it. Chunks run one after the other: the package allows one load per project and target at
a time (see the README), so chunks of one project cannot run side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from etl_session import coverage as cov
from etl_session.errors import Terminated, UsageError
from etl_session.period import Period, resolve_period
from etl_session.project import DbtProject, adapter_type, load_project
from etl_session.results import SUCCESS
from etl_session.session import (
    DRY_RUN,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_RAN,
    EXIT_SUCCESS,
    EXIT_TERMINATED,
    UP_TO_DATE,
    RunOptions,
    SessionResult,
    _check_project_vars,
    _is_period_model,
    _selected_nodes,
    _timezone,
    _validated,
    _warehouse,
    run_chunks_at_once,
    run_with,
)

#: The most chunks one dbt run loads (`--per-run`): on Postgres the run holds a liveness lock
#: per chunk session, and the server's lock table is shared (64 x max_connections by default).
MAX_PER_RUN = 1000
#: A chunk already loaded by a successful session (a rerun without --reload skips it).
SKIPPED = "skipped"
#: A chunk not started because an earlier one failed or a signal stopped the backfill.
NOT_RUN = "not-run"
PLANNED = "planned"


@dataclass(frozen=True)
class Chunk:
    period: Period
    status: str
    result: SessionResult | None = None

    def as_dict(self) -> dict[str, Any]:
        found = self.result.as_dict() if self.result is not None else {}
        return {
            "period_start": self.period.start_iso,
            "period_end": self.period.end_iso,
            "status": self.status,
            "session_id": found.get("session_id"),
            "exit_code": found.get("exit_code"),
            "message": found.get("message"),
            "elapsed_seconds": found.get("elapsed_seconds"),
        }


@dataclass(frozen=True)
class BackfillResult:
    status: str
    exit_code: int
    message: str
    chunks: tuple[Chunk, ...] = ()
    elapsed: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for chunk in self.chunks if chunk.status == status)

    def summary(self) -> str:
        ran = [c for c in self.chunks if c.result is not None]
        parts = [
            f"backfill {self.status}",
            f"{len(self.chunks)} chunk{'s' if len(self.chunks) != 1 else ''}",
            f"{self.count(SUCCESS)} loaded, {self.count('error')} failed, "
            f"{self.count(SKIPPED)} already loaded, {self.count(NOT_RUN)} not run",
        ]
        if self.chunks:
            parts.insert(2, f"{self.chunks[0].period.start_iso} → {self.chunks[-1].period.end_iso}")
        parts.append(f"{self.elapsed:.1f} s" if ran else "nothing ran")
        return " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "message": self.message,
            "elapsed_seconds": round(self.elapsed, 3),
            "chunks": [chunk.as_dict() for chunk in self.chunks],
        }


class CoverageUnavailable(UsageError):
    """The warehouse could not say what is loaded (unreachable, say): nothing ran."""


@dataclass(frozen=True)
class Plan:
    chunks: tuple[Period, ...]
    skipped: tuple[Period, ...] = ()
    #: Why there is nothing to load, when there is nothing.
    reason: str = ""


def run_backfill(
    period: str | None = None,
    *,
    split: str | None = None,
    missing: bool = False,
    until: str | None = None,
    lookback: str | None = None,
    keep_going: bool = False,
    reload: bool = False,
    per_run: int = 1,
    **kwargs: Any,
) -> BackfillResult:
    """`etl-run --split/--missing` from Python: `run()`'s options as keyword arguments, plus the
    backfill's. Raises UsageError (before anything runs) for bad input."""
    unknown = sorted(set(kwargs) - {f.name for f in fields(RunOptions)})
    if unknown:
        raise UsageError(f"run_backfill() got an unknown option {unknown[0]!r}")
    return backfill(
        RunOptions(period=period, **kwargs),
        split=split,
        missing=missing,
        until=until,
        lookback=lookback,
        keep_going=keep_going,
        reload=reload,
        per_run=per_run,
    )


def backfill(
    options: RunOptions,
    *,
    split: str | None = None,
    missing: bool = False,
    until: str | None = None,
    lookback: str | None = None,
    keep_going: bool = False,
    reload: bool = False,
    per_run: int = 1,
    on_plan: Callable[[Plan], None] | None = None,
    on_chunk: Callable[[int, Chunk], None] | None = None,
) -> BackfillResult:
    """Plan and run the chunks; see the module docstring. Raises UsageError for bad input."""
    started = time.monotonic()
    options = _validated(options)
    for name, text in (("split", split), ("until", until), ("lookback", lookback)):
        if text is not None and not isinstance(text, str):
            raise UsageError(f"--{name} must be a string, not {type(text).__name__}")
    for name, flag in (("missing", missing), ("keep-going", keep_going), ("reload", reload)):
        if not isinstance(flag, bool):
            raise UsageError(f"--{name} must be true or false, not {type(flag).__name__}")
    unit = cov.check_split(split) if split is not None else None
    duration = cov.lookback(lookback) if lookback is not None else None
    if options.period is not None and (missing or until is not None or duration):
        raise UsageError("--missing, --until and --lookback find the periods: leave out --period")
    if isinstance(per_run, bool) or not isinstance(per_run, int) or per_run < 1:
        raise UsageError(f"--per-run must be a whole number of chunks, 1 or more, not {per_run!r}")
    if per_run > MAX_PER_RUN:
        raise UsageError(
            f"--per-run is at most {MAX_PER_RUN} chunks (a run holds a lock per chunk session on "
            f"Postgres), not {per_run}"
        )
    if per_run > 1 and (options.full_refresh or "--full-refresh" in options.dbt_args):
        raise UsageError(
            "--full-refresh rebuilds from each model's etl_period_begin: load one chunk per run "
            "(leave out --per-run)"
        )
    if reload and options.period is None:
        raise UsageError("--reload needs --period: --missing loads only what is not loaded yet")
    project = load_project(options.project_dir, options.profiles_dir)
    _check_project_vars(project)
    if per_run > 1 and adapter_type(project, options.target) in ("spark", "databricks"):
        raise UsageError(
            "--per-run is not supported on Spark (its sessions are opened one per run): "
            "leave out --per-run"
        )
    timezone = _timezone(options, project)
    plan = _plan(options, project, timezone, unit, until, duration, reload)
    if on_plan is not None:
        on_plan(plan)
    done = [Chunk(period, SKIPPED) for period in plan.skipped]
    if not plan.chunks:
        return BackfillResult(
            UP_TO_DATE, EXIT_SUCCESS, plan.reason, tuple(done), time.monotonic() - started
        )
    if options.dry_run:
        planned = [Chunk(period, PLANNED) for period in plan.chunks]
        return BackfillResult(
            DRY_RUN,
            EXIT_SUCCESS,
            f"would load {len(planned)} chunk{'s' if len(planned) != 1 else ''}",
            tuple(sorted(done + planned, key=lambda c: c.period.start)),
            time.monotonic() - started,
        )
    chunks, exit_code = _run_chunks(options, plan, keep_going, on_chunk, per_run)
    failed = [c for c in chunks if c.status == "error"]
    message = (
        f"{len(failed)} of {len(chunks)} chunks failed; the first: {failed[0].result.message}"
        if failed and failed[0].result is not None
        else "every chunk loaded"
    )
    return BackfillResult(
        SUCCESS if exit_code == EXIT_SUCCESS else "error",
        exit_code,
        message,
        tuple(sorted(done + chunks, key=lambda c: c.period.start)),
        time.monotonic() - started,
    )


def _run_chunks(
    options: RunOptions,
    plan: Plan,
    keep_going: bool,
    on_chunk: Callable[[int, Chunk], None] | None,
    per_run: int = 1,
) -> tuple[list[Chunk], int]:
    chunks: list[Chunk] = []
    exit_code = EXIT_SUCCESS
    index = 0
    for group in _groups(plan.chunks, per_run):
        stopped = exit_code != EXIT_SUCCESS and (
            not keep_going or exit_code in (EXIT_INTERRUPTED, EXIT_TERMINATED)
        )
        if stopped:
            chunks += [Chunk(period, NOT_RUN) for period in group]
            index += len(group)
            continue
        # dbt's JSON artifacts (run_results.json, manifest.json) describe the last run only:
        # writing them for every chunk costs a fifth of a chunk on a small project.
        last = index + len(group) == len(plan.chunks)
        dbt_args = tuple(options.dbt_args) + (() if last else ("--no-write-json",))
        ran = _run_group(replace(options, dry_run=False, dbt_args=dbt_args), group)
        if ran is None:
            # The run of several chunks failed after opening their sessions: load them one
            # at a time, so each chunk ends on its own and a failure stops at its chunk.
            for period in group:
                if exit_code != EXIT_SUCCESS and (
                    not keep_going or exit_code in (EXIT_INTERRUPTED, EXIT_TERMINATED)
                ):
                    chunks.append(Chunk(period, NOT_RUN))
                    index += 1
                    continue
                result = run_with(
                    replace(options, period=period.as_interval(), dry_run=False, dbt_args=dbt_args)
                )
                exit_code = _record(chunks, period, result, exit_code, index, on_chunk)
                index += 1
            continue
        for period, result in ran:
            exit_code = _record(chunks, period, result, exit_code, index, on_chunk)
            index += 1
    return chunks, exit_code


def _record(
    chunks: list[Chunk],
    period: Period,
    result: SessionResult,
    exit_code: int,
    index: int,
    on_chunk: Callable[[int, Chunk], None] | None,
) -> int:
    """Add a chunk's outcome; the backfill's exit code after it."""
    chunk = Chunk(period, SUCCESS if result.exit_code == EXIT_SUCCESS else "error", result)
    chunks.append(chunk)
    if result.exit_code != EXIT_SUCCESS and (
        exit_code == EXIT_SUCCESS or result.exit_code in (EXIT_INTERRUPTED, EXIT_TERMINATED)
    ):
        exit_code = result.exit_code
    if on_chunk is not None:
        on_chunk(index, chunk)
    return exit_code


def _groups(periods: Sequence[Period], per_run: int) -> list[list[Period]]:
    """Consecutive chunks, at most `per_run` a group; a gap between chunks starts a new one."""
    groups: list[list[Period]] = []
    for period in periods:
        if groups and len(groups[-1]) < per_run and groups[-1][-1].end == period.start:
            groups[-1].append(period)
        else:
            groups.append([period])
    return groups


def _run_group(
    options: RunOptions, group: Sequence[Period]
) -> list[tuple[Period, SessionResult]] | None:
    """Each chunk's result; None when a run of several chunks failed after it opened their
    sessions (the caller loads them one at a time)."""
    whole = Period(group[0].start, group[-1].end)
    if len(group) == 1:
        return [(group[0], run_with(replace(options, period=whole.as_interval())))]
    result = run_chunks_at_once(replace(options, period=whole.as_interval()), group)
    if result.exit_code == EXIT_FAILED and result.chunk_sessions:
        return None
    ids: Sequence[int | None] = result.chunk_sessions
    if len(ids) != len(group):
        # No session per chunk was opened (dbt could not start, or an adapter whose macros open
        # one session a run): the run's own session, if any, loaded the whole group.
        ids = [result.session_id] * len(group)
    return [
        (period, replace(result, period=period, session_id=session_id))
        for period, session_id in zip(group, ids, strict=True)
    ]


def _plan(
    options: RunOptions,
    project: DbtProject,
    timezone: str,
    unit: str | None,
    until: str | None,
    duration: str | None,
    reload: bool,
) -> Plan:
    if options.period is not None:
        return _plan_period(options, project, timezone, unit, reload)
    return plan_missing(options, project, timezone, unit, until, duration)


def _plan_period(
    options: RunOptions, project: DbtProject, timezone: str, unit: str | None, reload: bool
) -> Plan:
    period = resolve_period(str(options.period), timezone=timezone, now=options.now)
    chunks = cov.split(period, unit, timezone) if unit else [period]
    if reload or not unit:
        return Plan(tuple(chunks))
    found = _coverage(options, project, timezone, period.end)
    if found is None:
        return Plan(tuple(chunks))
    coverage, models = found
    if not models:
        return Plan(tuple(chunks))
    loaded = [
        cov.merge(m.intervals({cov.LOADED})) for m in coverage.models if m.unique_id in models
    ]
    done = [c for c in chunks if all(_within(c, spans) for spans in loaded)]
    return Plan(
        tuple(c for c in chunks if c not in done),
        tuple(done),
        f"every chunk of {period} is already loaded (--reload loads them again)",
    )


def plan_missing(
    options: RunOptions,
    project: DbtProject,
    timezone: str,
    unit: str | None = None,
    until: str | None = None,
    duration: str | None = None,
) -> Plan:
    """The missing and failed stretches of the selected period models up to `until` (default:
    the start of today), plus the look-back window; split by `unit` when given."""
    today = resolve_period("today", timezone=timezone, now=options.now).start
    end = resolve_period(until, timezone=timezone, now=options.now).start if until else today
    found = _coverage(options, project, timezone, end)
    source = options.source or project.name
    first = 'give the first period, e.g. etl-run --period "[2023-05-01, 2023-05-31]"'
    if found is None:
        raise UsageError(f"no earlier successful session for {source}: {first}")
    coverage, models = found
    if not models:
        raise UsageError(
            "the selection has no period models (materialized='etl_period' or the etl_period "
            f"strategy), so nothing tells which periods are missing: {first}"
        )
    chosen = [m for m in coverage.models if m.unique_id in models]
    never = [m for m in chosen if not m.segments]
    if never and len(never) == len(chosen):
        raise UsageError(f"no earlier successful session for {source}: {first}")
    if never:
        more = f" (and {len(never) - 1} more)" if len(never) > 1 else ""
        raise UsageError(
            f"{never[0].unique_id}{more} has no successful load of {source} yet, so the period "
            f"to continue from is unknown: load its first period with --period (e.g. -s "
            f"{never[0].name}), set its etl_period_begin, or --exclude it"
        )
    periods = coverage.to_load(models)
    if duration:
        ends = [m.loaded_end for m in chosen if m.loaded_end is not None]
        if ends:
            window = cov.lookback_period(min(max(ends), end), duration, timezone)
            clipped = cov._clip(window, None, end)
            if clipped is not None:
                periods = cov.merge([*periods, clipped])
    if not periods:
        loaded_ends = [m.loaded_end for m in chosen if m.loaded_end is not None]
        newest = f": loaded up to {_iso(max(loaded_ends))}" if loaded_ends else ""
        return Plan((), (), f"data is up to date{newest}, nothing missing before {_iso(end)}")
    chunks: list[Period] = []
    for period in periods:
        chunks += cov.split(period, unit, timezone) if unit else [period]
    return Plan(tuple(chunks))


def _iso(instant: datetime) -> str:
    return cov._instant_iso(instant) or ""


def _within(chunk: Period, spans: Sequence[Period]) -> bool:
    return any(span.start <= chunk.start and chunk.end <= span.end for span in spans)


def _coverage(
    options: RunOptions, project: DbtProject, timezone: str, until: datetime
) -> tuple[cov.Coverage, set[str]] | None:
    """Coverage and the selected period models' ids, or None before the package is installed
    (then nothing has been loaded through it)."""
    if project.needs_deps():
        return None
    # First the selection: an empty one is an error of its own (and costs no warehouse).
    selected = _selected_nodes(options, project)
    warehouse = _warehouse(options, project)
    invocation = warehouse.operation(
        "coverage", {"source": options.source}, stdout_to_stderr=options.logs_to_stderr
    )
    if invocation.terminated:
        raise Terminated()
    if invocation.interrupted:
        raise KeyboardInterrupt()
    answer = invocation.announced("coverage")
    if answer is None or not invocation.success:
        raise CoverageUnavailable(
            "cannot tell which periods are missing: dbt could not read the coverage: "
            + (invocation.error or "is the warehouse reachable? dbt's log file has the details")
        )
    coverage = cov.from_announcement(answer, until=until, timezone=timezone)
    models = {
        str(node["unique_id"])
        for node in selected
        if _is_period_model(node) and node.get("unique_id")
    }
    return coverage, models


__all__ = [
    "NOT_RUN",
    "SKIPPED",
    "BackfillResult",
    "Chunk",
    "CoverageUnavailable",
    "Plan",
    "backfill",
    "plan_missing",
    "run_backfill",
]

# Exit codes a backfill returns, for the CLI's epilog.
EXIT_CODES = (EXIT_SUCCESS, EXIT_FAILED, EXIT_NOTHING_RAN, EXIT_INTERRUPTED, EXIT_TERMINATED)
