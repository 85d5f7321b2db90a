"""Coverage: which periods of which period model are loaded, by which session, and what is missing.

The sessions table and the per-node results are the record. For each period model the loads of
its source on its target are painted onto a timeline in the order they started, so the latest
load of an instant decides its state:

- ``loaded``: a successful session in which the model succeeded (its rows are live);
- ``failed``: a session that ended ``error`` and in which the model ran, or that failed before
  any node ran (the model's rows of that period, if any, are an older load's);
- ``running``: a session still running;
- ``missing``: no load yet, between the model's beginning and ``until``.

A model's beginning is its ``etl_period_begin`` config (the same config the full-refresh rule
uses); without it the start of its first load. A ``--full-refresh`` load of a model with a
beginning rebuilds it from there, so it covers ``[begin, period_end)``. Each segment also names
the session whose rows are live there now (the latest successful load covering it), so a
reloaded period shows which load replaced which.

Pure: the warehouse is read through the package operation ``etl_session.coverage``; painting,
splitting and planning import neither click nor dbt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any
from zoneinfo import ZoneInfo

from etl_session.errors import PeriodError, UsageError
from etl_session.period import Period, iso_instant, resolve_period

LOADED = "loaded"
FAILED = "failed"
RUNNING = "running"
MISSING = "missing"
STATES = (LOADED, FAILED, RUNNING, MISSING)
#: What to load again: never loaded, or the last load failed.
TO_LOAD = frozenset({MISSING, FAILED})
CALENDAR_UNITS = ("day", "week", "month")


@dataclass(frozen=True)
class Load:
    """One session of the source on the target, as coverage needs it."""

    session_id: int
    status: str
    period: Period
    started: datetime | None
    full_refresh: bool = False


@dataclass(frozen=True)
class Segment:
    """A stretch of one model's timeline with one state."""

    start: datetime
    end: datetime
    state: str
    #: The session whose load decided the state (None for missing).
    session_id: int | None = None
    #: The session whose rows are live here now: the latest successful load covering it.
    live_session_id: int | None = None

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso_instant(self.start),
            "end": iso_instant(self.end),
            "state": self.state,
            "session_id": self.session_id,
            "live_session_id": self.live_session_id,
        }


@dataclass(frozen=True)
class ModelCoverage:
    unique_id: str
    name: str
    begin: datetime | None
    segments: tuple[Segment, ...]

    def intervals(self, states: Iterable[str]) -> list[Period]:
        """The merged periods whose state is one of `states`."""
        wanted = set(states)
        return _merged((s.start, s.end) for s in self.segments if s.state in wanted)

    @property
    def loaded_end(self) -> datetime | None:
        """The end of the newest loaded stretch."""
        ends = [s.end for s in self.segments if s.state == LOADED]
        return max(ends) if ends else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.unique_id,
            "name": self.name,
            "begin": _instant_iso(self.begin),
            "segments": [s.as_dict() for s in self.segments],
            "loaded": [_pair(p) for p in self.intervals({LOADED})],
            "missing": [_pair(p) for p in self.intervals({MISSING})],
            "failed": [_pair(p) for p in self.intervals({FAILED})],
        }


@dataclass(frozen=True)
class Coverage:
    source: str
    target: str
    until: datetime
    models: tuple[ModelCoverage, ...]
    #: Loads that ran no period model the record knows of (no per-node results): session level.
    sessions: int = 0
    swept: tuple[int, ...] = field(default_factory=tuple)

    def to_load(self, model_ids: Iterable[str] | None = None) -> list[Period]:
        """The merged missing and failed periods of the given models (default: all), up to
        `until`: exactly what a load of those models must still do."""
        chosen = None if model_ids is None else set(model_ids)
        periods: list[Period] = []
        for model in self.models:
            if chosen is None or model.unique_id in chosen:
                periods += model.intervals(TO_LOAD)
        return [p for p in (_clip(p, None, self.until) for p in merge(periods)) if p is not None]

    def as_dict(self, models: Sequence[ModelCoverage] | None = None) -> dict[str, Any]:
        """As JSON; `models` (default: all) chooses the models shown."""
        return {
            "source": self.source,
            "target": self.target,
            "until": _instant_iso(self.until),
            "sessions": self.sessions,
            "swept": list(self.swept),
            "models": [m.as_dict() for m in (self.models if models is None else models)],
        }


def _instant_iso(instant: datetime | None) -> str | None:
    return None if instant is None else iso_instant(instant)


def _pair(period: Period) -> list[str]:
    return [period.start_iso, period.end_iso]


def merge(periods: Iterable[Period]) -> list[Period]:
    """Sorted, with overlapping and touching periods joined."""
    return _merged((p.start, p.end) for p in periods)


def _merged(bounds: Iterable[tuple[datetime, datetime]]) -> list[Period]:
    """`merge` of (start, end) pairs: a Period is built only for each merged stretch (a
    timeline of 10,000 loads has tens of thousands of segments)."""
    merged: list[list[datetime]] = []
    for start, end in sorted(bounds):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Period(start, end) for start, end in merged]


def _clip(period: Period, start: datetime | None, end: datetime | None) -> Period | None:
    lo = period.start if start is None else max(period.start, start)
    hi = period.end if end is None else min(period.end, end)
    return Period(lo, hi) if lo < hi else None


# -- painting ----------------------------------------------------------------------------------


def paint(
    unique_id: str,
    loads: Sequence[Load],
    outcomes: Mapping[int, Mapping[str, str]],
    *,
    begin: datetime | None,
    until: datetime,
    name: str | None = None,
) -> ModelCoverage:
    """One model's timeline. `loads` oldest first; `outcomes[session_id][node_id]` is the
    node's status in that session (sessions absent from `outcomes` ran no node at all)."""
    attempts: list[tuple[datetime, datetime, str, int]] = []
    for load in loads:
        status = outcomes.get(load.session_id, {}).get(unique_id)
        if load.status == "running":
            state = RUNNING
        elif status is None:
            if load.status == "error" and load.session_id not in outcomes:
                state = FAILED  # it failed before any node ran: the model was not loaded
            else:
                continue  # the model was not part of this load
        elif load.status == "success":
            if status != "success":
                continue
            state = LOADED
        else:
            state = FAILED
        start = load.period.start
        if load.full_refresh and begin is not None and state == LOADED and begin < start:
            start = begin
        attempts.append((start, load.period.end, state, load.session_id))

    starts = [a[0] for a in attempts]
    lo = min([*starts, begin] if begin is not None else starts, default=None)
    if lo is None:
        return ModelCoverage(unique_id, name or unique_id, begin, ())
    marks = [lo, *starts, *(a[1] for a in attempts)]
    marks += [m for m in (begin, until) if m is not None and m > lo]
    bounds = sorted(set(marks))
    index = {bound: i for i, bound in enumerate(bounds)}
    states: list[str | None] = [None] * (len(bounds) - 1)
    deciders: list[int | None] = [None] * (len(bounds) - 1)
    live: list[int | None] = [None] * (len(bounds) - 1)
    for start, end, state, session_id in attempts:
        for k in range(index[start], index[end]):
            states[k] = state
            deciders[k] = session_id
            if state == LOADED:
                live[k] = session_id
    first_due = lo if begin is None else begin
    segments: list[Segment] = []
    for k, painted in enumerate(states):
        start, end = bounds[k], bounds[k + 1]
        if painted is None and (start < first_due or start >= until):
            continue
        state = painted or MISSING
        segment = Segment(start, end, state, deciders[k], live[k])
        last = segments[-1] if segments else None
        if (
            last is not None
            and last.end == start
            and (last.state, last.session_id, last.live_session_id)
            == (state, segment.session_id, segment.live_session_id)
        ):
            segments[-1] = Segment(last.start, end, state, last.session_id, last.live_session_id)
        else:
            segments.append(segment)
    return ModelCoverage(unique_id, name or unique_id, begin, tuple(segments))


def from_announcement(
    answer: Mapping[str, Any], *, until: datetime, timezone: str = "UTC"
) -> Coverage:
    """Coverage from what the `etl_session.coverage` operation announced; a date-only
    etl_period_begin is a local midnight of `timezone` (the zone periods are stated in)."""
    loads = [
        Load(
            session_id=int(sid),
            status=status,
            period=Period(_epoch(start), _epoch(end)),
            started=_epoch(started),
            full_refresh=refresh == "T",
        )
        for sid, status, start, end, started, refresh in _rows(answer.get("sessions"), 6)
    ]
    loads.sort(key=lambda load: (load.started or _EPOCH, load.session_id))
    outcomes: dict[int, dict[str, str]] = {}
    for session_id, node_id, status in _rows(answer.get("results"), 3):
        outcomes.setdefault(int(session_id), {})[node_id] = status
    models = []
    for model in sorted(answer.get("models") or (), key=lambda m: str(m["unique_id"])):
        begin = _begin(model.get("begin"), str(model["unique_id"]), timezone)
        models.append(
            paint(
                str(model["unique_id"]),
                loads,
                outcomes,
                begin=begin,
                until=until,
                name=str(model.get("name") or model["unique_id"]),
            )
        )
    return Coverage(
        source=str(answer.get("source")),
        target=str(answer.get("target")),
        until=until,
        models=tuple(models),
        sessions=len(loads),
        swept=tuple(int(i) for i in answer.get("swept") or ()),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)


def _epoch(microseconds: str) -> datetime:
    return _EPOCH + timedelta(microseconds=int(microseconds.split(".")[0]))


def _rows(text: Any, width: int) -> list[list[str]]:
    """The operation's compact text: rows separated by `;`, fields by `,`."""
    if not text:
        return []
    rows = [row.split(",") for row in str(text).split(";") if row]
    bad = [row for row in rows if len(row) != width]
    if bad:
        raise UsageError(f"the coverage operation returned a malformed row: {','.join(bad[0])!r}")
    return rows


def _begin(value: Any, model: str, timezone: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return resolve_period(str(value), timezone=timezone).start
    except PeriodError as exc:
        raise UsageError(f"{model}: etl_period_begin {value!r} is not a date: {exc}") from None


# -- splitting ---------------------------------------------------------------------------------


def check_split(unit: str) -> str:
    """`day`, `week`, `month` or a positive ISO 8601 duration (P3D, PT6H, P1W ...)."""
    text = unit.strip()
    if text.lower() in CALENDAR_UNITS:
        return text.lower()
    try:
        resolve_period(f"2000-01-01T00:00:00Z/{text}")
    except PeriodError:
        raise UsageError(
            f"--split must be day, week, month or an ISO 8601 duration such as P3D or PT6H, "
            f"not {text[:60]!r}"
        ) from None
    return text.upper()


def split(period: Period, unit: str, timezone: str = "UTC") -> list[Period]:
    """`period` as consecutive chunks. Calendar units cut at the local midnights, Mondays or
    first days of the month of `timezone` (so the first and last chunks may be partial); a
    duration steps from the period's start in wall-clock time of the zone."""
    unit = check_split(unit)
    zone = ZoneInfo(timezone)
    chunks: list[Period] = []
    cursor = period.start
    end: datetime
    while cursor < period.end:
        if unit in CALENDAR_UNITS:
            local = cursor.astimezone(zone)
            if unit == "day":
                label = local.date().isoformat()
            elif unit == "week":
                year, week, _ = local.isocalendar()
                label = f"{year:04d}-W{week:02d}"
            else:
                label = f"{local.year:04d}-{local.month:02d}"
            end = resolve_period(label, timezone=timezone).end
        else:
            wall = cursor.astimezone(zone).replace(tzinfo=None).isoformat()
            end = resolve_period(f"{wall}/{unit}", timezone=timezone).end
            if end <= cursor:  # a duration inside a repeated hour cannot move back
                end = cursor + timedelta(hours=1)
        end = min(end, period.end)
        chunks.append(Period(cursor, end))
        cursor = end
    return chunks


def lookback(text: str) -> str:
    """`--lookback N<unit>` (3d, 2w, 1m, 12h) as an ISO duration; else a UsageError."""
    raw = text.strip().lower()
    units = {"h": "PT{}H", "d": "P{}D", "w": "P{}W", "m": "P{}M"}
    number, unit = raw[:-1], raw[-1:]
    if not number.isdigit() or unit not in units or int(number) < 1 or len(number) > 6:
        raise UsageError(
            f"--lookback must be a whole number of hours, days, weeks or months such as 3d, "
            f"12h, 2w or 1m, not {text[:60]!r}"
        )
    return units[unit].format(int(number))


def lookback_period(end: datetime, duration: str, timezone: str) -> Period:
    """The `duration` before `end`, in wall-clock time of the zone."""
    local = end.astimezone(ZoneInfo(timezone)).replace(tzinfo=None).isoformat()
    return resolve_period(f"{duration}/{local}", timezone=timezone)


# -- reading the warehouse ---------------------------------------------------------------------


def read(
    *,
    source: str | None = None,
    until: datetime,
    project_dir: str | os.PathLike[str] = ".",
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: str | None = None,
    timezone: str = "UTC",
    fast: bool = False,
) -> Coverage:
    """Coverage of every period model of the project for `source` (default: the project name)
    on the target, up to `until`; `timezone` is the zone periods are stated in.

    With `fast` (etl-session coverage), the statements of the last such read run again without
    dbt while nothing dbt resolved for them has changed (etl_session._coverage_plan)."""
    from etl_session import _coverage_plan, operator

    capture: _coverage_plan.Capture | None = None
    plan = ""
    if fast:
        plan = _coverage_plan.key(
            project_dir=project_dir,
            profiles_dir=profiles_dir,
            target=target,
            vars=vars,
            source=source,
        )
        found = _coverage_plan.answer(plan)
        if found is not None:
            return from_announcement(found, until=until, timezone=timezone)
        capture = _coverage_plan.Capture(os.environ)
    warehouse = operator._warehouse(project_dir, profiles_dir, target, vars)
    answer = operator._ask(
        warehouse,
        "coverage",
        {"source": source, "plan": True} if fast else {"source": source},
        event="coverage",
        what="read the coverage",
        on_announcement=capture,
    )
    if capture is not None:
        _coverage_plan.keep(plan, capture)
    return from_announcement(answer, until=until, timezone=timezone)


def models_matching(coverage: Coverage, patterns: Sequence[str]) -> tuple[ModelCoverage, ...]:
    """The models whose name or unique id is one of `patterns` (all when none)."""
    if not patterns:
        return coverage.models
    chosen = [m for m in coverage.models if m.name in patterns or m.unique_id in patterns]
    unknown = [p for p in patterns if all(p not in (m.name, m.unique_id) for m in chosen)]
    if unknown:
        known = ", ".join(m.name for m in coverage.models) or "none"
        raise UsageError(f"--model {unknown[0]!r} is not a period model of the project ({known})")
    return tuple(chosen)


__all__ = [
    "FAILED",
    "LOADED",
    "MISSING",
    "RUNNING",
    "STATES",
    "Coverage",
    "Load",
    "ModelCoverage",
    "Segment",
    "check_split",
    "lookback",
    "merge",
    "paint",
    "read",
    "split",
]
