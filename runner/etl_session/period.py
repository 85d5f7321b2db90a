"""Resolve the text of ``--period`` to a half-open interval ``[start, end)`` in UTC.

Pure: imports neither click nor dbt, and uses only the standard library.

Accepted forms (case-insensitive, surrounding whitespace ignored):

``[A, B]``
    Each bound is a date (``2023-05-01``) or a date-time (``2023-05-01T12:00``, ``T`` or one
    space before the time; seconds and a fraction optional; ``Z`` or an offset such as
    ``+02:00``, ``+0200`` or ``+02`` optional). A date-only *upper* bound covers that whole
    day: ``[2023-05-01, 2023-05-31]`` ends at 2023-06-01T00:00. The rule is keyed on the
    absence of a time part, not on midnight: ``[..., 2023-05-02T00:00]`` ends at 2023-05-02T00:00.
``A/B``, ``A/P1M``, ``P1D/B``
    ISO 8601 intervals, half-open as written: ``B`` is exclusive, and a date-only ``B`` means
    the midnight at the *start* of that day (no whole-day rule here). Durations take years,
    months, weeks, days (calendar parts, added in the wall-clock time of the zone) and hours,
    minutes, seconds with an optional fraction (exact elapsed time): ``P1Y2M10DT2H30M``,
    ``P2W``, ``PT36H``, ``PT0.5S``. ``A + duration`` adds the calendar parts first (years and
    months, clamped to the month's end, then weeks and days), then the time parts;
    ``duration/B`` undoes them in the reverse order. A computed wall-clock time that a
    daylight-saving change skips moves forward by the length of the gap.
``2023``, ``2023-Q2``, ``2023-05``, ``2023-W18``, ``2023-05-01``
    One calendar unit: a year, a quarter, a month, an ISO week (Monday start), a day.
``today``, ``yesterday``, ``this-week``, ``last-week``, ``this-month``, ``last-month``, ...
    Also ``this-year``, ``last-year`` and ``last-N-days``: local days, weeks, months or years
    relative to ``now`` in the zone. ``last-N-days`` is the N whole days (N >= 1) that end at
    the start of today.

Time zones: a value without an offset is wall-clock time in ``timezone`` (an IANA name); a value
with an offset keeps its offset. Day, week, month and year boundaries are local midnights, so a
day can last 23 or 25 hours; where a zone skips a midnight, the day starts at its first existing
instant. A written wall-clock time that the zone skips is an error; an ambiguous one (clocks set
back) is the earlier instant. Fractions of a second beyond microseconds are truncated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from etl_session.errors import PeriodError

__all__ = ["Period", "resolve_period"]

UTC = timezone.utc

_FORMS = "expected [start, end], start/end, 2023-05, 2023-Q2, 2023-W18, today, last-7-days ..."
_BOUND_FORMS = (
    "expected a date like 2023-05-01 or a date-time like 2023-05-01T12:00:00,"
    " optionally with Z or an offset like +02:00"
)
_DURATION_FORMS = "expected e.g. P1D, P2W, P1M, PT36H or P1Y2M10DT2H30M"
_TIMESTAMP_FORMS = "expected an ISO 8601 timestamp such as 2023-05-01T00:00:00Z"
_SHOWN_MAX = 60
_MAX_DIGITS = 12  # longer numbers cannot fit in years 0001-9999 in any unit we accept

_FLAGS = re.ASCII | re.IGNORECASE
_DATE = r"(?P<year>\d{4,})-(?P<month>\d{2})-(?P<day>\d{2})"
_TIME = r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
_OFFSET = r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)"
_BOUND_RE = re.compile(rf"(?P<date>{_DATE})(?:[T ](?P<time>{_TIME}){_OFFSET}?)?", _FLAGS)
_DURATION_RE = re.compile(
    r"(?P<sign>-?)P(?!\Z)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?(?:T(?!\Z)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)(?:\.(?P<fraction>\d+))?S)?)?",
    _FLAGS,
)
_YEAR_RE = re.compile(r"(?P<year>\d{4,})", _FLAGS)
_QUARTER_RE = re.compile(r"(?P<year>\d{4,})-Q(?P<quarter>\d+)", _FLAGS)
_MONTH_RE = re.compile(r"(?P<year>\d{4,})-(?P<month>\d{2})", _FLAGS)
_WEEK_RE = re.compile(r"(?P<year>\d{4,})-W(?P<week>\d{2})", _FLAGS)
_DAY_RE = re.compile(_DATE, _FLAGS)
_LAST_DAYS_RE = re.compile(r"last-(?P<count>\d+)-days?", _FLAGS)
_WORDS = frozenset(
    {"today", "yesterday", "this-week", "last-week"}
    | {"this-month", "last-month", "this-year", "last-year"}
)


class _OutOfRangeError(Exception):
    """A date left years 0001-9999; resolve_period turns it into one PeriodError."""


@dataclass(frozen=True)
class Period:
    """A loading period: the half-open interval ``[start, end)``, both ends aware UTC datetimes.

    Any aware datetime whose offset is zero is accepted and stored with ``timezone.utc``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _as_utc(self.start, "start"))
        object.__setattr__(self, "end", _as_utc(self.end, "end"))
        if self.end <= self.start:
            raise PeriodError(_not_after(self.start_iso, self.end_iso, self.end < self.start))

    @classmethod
    def from_iso(cls, start: str, end: str) -> Period:
        """Read a period back from two ISO 8601 timestamps (``Z`` or an offset; naive is UTC).

        A date alone is read as its midnight in UTC.
        """
        return cls(_parse_timestamp(start, "start"), _parse_timestamp(end, "end"))

    @property
    def start_iso(self) -> str:
        """The start as ``2023-05-01T00:00:00Z`` (microseconds only when nonzero)."""
        return _iso(self.start)

    @property
    def end_iso(self) -> str:
        """The end (exclusive) as ``2023-06-01T00:00:00Z`` (microseconds only when nonzero)."""
        return _iso(self.end)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def as_interval(self) -> str:
        """``start/end`` in ISO 8601; ``resolve_period`` reads it back to an equal period."""
        return f"{self.start_iso}/{self.end_iso}"

    def overlaps(self, other: Period) -> bool:
        """Whether the two half-open intervals share an instant ([a, b) and [b, c) do not)."""
        return self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return f"{self.start_iso} → {self.end_iso}"


def resolve_period(text: str, *, timezone: str = "UTC", now: datetime | None = None) -> Period:
    """Resolve ``text`` (see the module docstring for the forms) to a :class:`Period`.

    ``timezone`` is the IANA zone in which values without an offset, day boundaries and the
    relative words are read. ``now`` anchors the relative words; it defaults to the current
    time, and a naive ``now`` is taken as UTC. Raises :class:`PeriodError` with a one-line
    message for any text that is not a period.
    """
    zone = _zone(timezone)
    if not isinstance(text, str):
        raise PeriodError(f"period must be text, got {type(text).__name__}")
    stripped = text.strip()
    try:
        return _resolve(stripped, zone, now)
    except (_OutOfRangeError, OverflowError):
        raise PeriodError(
            f"period {_show(stripped)} falls outside the supported years 0001-9999"
        ) from None


# --- forms -----------------------------------------------------------------------------------


def _resolve(text: str, zone: ZoneInfo, now: datetime | None) -> Period:
    if not text:
        raise PeriodError(f"empty period: {_FORMS}")
    if text.startswith("["):
        return _bracket(text, zone)
    if "/" in text:
        return _interval(text, zone)
    unit = _calendar_unit(text)
    if unit is None:
        unit = _relative(text, zone, now)
    if unit is None:
        raise PeriodError(f"unrecognised period {_show(text)}: {_FORMS}")
    return _days(text, unit[0], unit[1], zone)


def _bracket(text: str, zone: ZoneInfo) -> Period:
    close = text.find("]")
    if close < 0:
        raise PeriodError(f"missing ']' in period {_show(text)}: expected [start, end]")
    rest = text[close + 1 :].strip()
    if rest:
        raise PeriodError(
            f"unexpected text {_show(rest)} after ']' in period {_show(text)}:"
            " expected [start, end]"
        )
    parts = text[1:close].split(",")
    if len(parts) != 2:
        raise PeriodError(
            f"period {_show(text)} needs two bounds separated by one comma:"
            " expected [start, end], e.g. [2023-05-01, 2023-05-31]"
        )
    lower = _parse_bound(parts[0].strip(), "start")
    upper = _parse_bound(parts[1].strip(), "end")
    start = _bound_instant(lower, zone)
    written_end = _bound_instant(upper, zone)
    end = (
        _day_start(upper.value.date() + timedelta(days=1), zone) if upper.date_only else written_end
    )
    if end <= start:
        raise PeriodError(_not_after(lower.text, upper.text, written_end < start))
    return Period(start, end)


def _interval(text: str, zone: ZoneInfo) -> Period:
    parts = [part.strip() for part in text.split("/")]
    if len(parts) != 2:
        raise PeriodError(
            f"period {_show(text)} has more than one '/':"
            " expected start/end, start/duration or duration/end"
        )
    first, second = parts
    first_is_duration, second_is_duration = _is_duration(first), _is_duration(second)
    if first_is_duration and second_is_duration:
        raise PeriodError(
            f"period {_show(text)} has two durations:"
            " expected start/end, start/duration or duration/end"
        )
    if second_is_duration:
        lower = _parse_bound(first, "start")
        duration = _parse_duration(second)
        start = _bound_instant(lower, zone)
        end = _add(lower, start, duration, zone)
    elif first_is_duration:
        duration = _parse_duration(first)
        upper = _parse_bound(second, "end")
        end = _bound_instant(upper, zone)
        start = _subtract(upper, end, duration, zone)
    else:
        lower = _parse_bound(first, "start")
        upper = _parse_bound(second, "end")
        start = _bound_instant(lower, zone)
        end = _bound_instant(upper, zone)
        if end <= start:
            raise PeriodError(_not_after(lower.text, upper.text, end < start))
    if end <= start:
        raise PeriodError(
            f"period {_show(text)} is empty in time zone {zone.key}: the zone skips that time"
        )
    return Period(start, end)


def _calendar_unit(text: str) -> tuple[date, date] | None:
    """The first day and the day after the last day of a year, quarter, month, week or day."""
    if match := _YEAR_RE.fullmatch(text):
        year = _year(match["year"])
        return date(year, 1, 1), _first_of_month(year + 1, 1)
    if match := _QUARTER_RE.fullmatch(text):
        year = _year(match["year"])
        quarter = int(match["quarter"]) if len(match["quarter"]) <= 2 else 0
        if not 1 <= quarter <= 4:
            raise PeriodError(f"impossible quarter {_clip(text)}: quarters run Q1-Q4")
        first = date(year, 3 * quarter - 2, 1)
        return first, _shift_date(first, months=3)
    if match := _MONTH_RE.fullmatch(text):
        year, month = _year(match["year"]), int(match["month"])
        if not 1 <= month <= 12:
            raise PeriodError(f"impossible month {_clip(text)}: months run 01-12")
        first = date(year, month, 1)
        return first, _shift_date(first, months=1)
    if match := _WEEK_RE.fullmatch(text):
        year, week = _year(match["year"]), int(match["week"])
        weeks = _iso_weeks(year)
        if not 1 <= week <= weeks:
            raise PeriodError(
                f"impossible week {_clip(text)}: {year:04d} has ISO weeks W01-W{weeks}"
            )
        monday = date.fromisocalendar(year, week, 1)
        return monday, monday + timedelta(days=7)
    if match := _DAY_RE.fullmatch(text):
        day = _date(match)
        return day, day + timedelta(days=1)
    return None


def _relative(text: str, zone: ZoneInfo, now: datetime | None) -> tuple[date, date] | None:
    word = text.lower()
    if word not in _WORDS and not _LAST_DAYS_RE.fullmatch(word):
        return None
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=UTC)
    today = _wall(now, zone).date()
    monday = today - timedelta(days=today.weekday())
    this_month = today.replace(day=1)
    this_year = date(today.year, 1, 1)
    if word == "today":
        return today, today + timedelta(days=1)
    if word == "yesterday":
        return today - timedelta(days=1), today
    if word == "this-week":
        return monday, monday + timedelta(days=7)
    if word == "last-week":
        return monday - timedelta(days=7), monday
    if word == "this-month":
        return this_month, _shift_date(this_month, months=1)
    if word == "last-month":
        return _shift_date(this_month, months=-1), this_month
    if word == "this-year":
        return this_year, _first_of_month(today.year + 1, 1)
    if word == "last-year":
        return _first_of_month(today.year - 1, 1), this_year
    if match := _LAST_DAYS_RE.fullmatch(word):
        count = _int(match["count"])
        if count < 1:
            raise PeriodError(
                f"period {_show(text)} covers no days: N in last-N-days must be at least 1"
            )
        return today - timedelta(days=count), today
    return None


def _days(text: str, first: date, after_last: date, zone: ZoneInfo) -> Period:
    start, end = _day_start(first, zone), _day_start(after_last, zone)
    if end <= start:
        raise PeriodError(
            f"period {_show(text)} is empty in time zone {zone.key}: the zone skips those days"
        )
    return Period(start, end)


# --- bounds and durations --------------------------------------------------------------------


@dataclass(frozen=True)
class _Bound:
    text: str
    value: datetime  # wall-clock time, or aware when the bound has an offset
    date_only: bool


@dataclass(frozen=True)
class _Duration:
    months: int
    days: int
    exact: timedelta

    @property
    def calendar(self) -> bool:
        return bool(self.months or self.days)


def _parse_bound(text: str, role: str) -> _Bound:
    match = _BOUND_RE.fullmatch(text)
    if match is None:
        raise PeriodError(f"invalid period {role} {_show(text)}: {_BOUND_FORMS}")
    day = _date(match)
    if match["time"] is None:
        return _Bound(text, datetime(day.year, day.month, day.day), date_only=True)
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    for part, name, limit in (
        (hour, "hours", 23),
        (minute, "minutes", 59),
        (second, "seconds", 59),
    ):
        if part > limit:
            raise PeriodError(f"impossible time {_clip(match['time'])}: {name} run 00-{limit}")
    micro = int((match["fraction"] or "").ljust(6, "0")[:6])
    offset = _offset(match["offset"]) if match["offset"] else None
    value = datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=offset)
    return _Bound(text, value, date_only=False)


def _offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise PeriodError(f"impossible UTC offset {text}: offsets run from -23:59 to +23:59")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text.startswith("-") else delta)


def _parse_duration(text: str) -> _Duration:
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise PeriodError(f"invalid duration {_show(text)}: {_DURATION_FORMS}")
    number = {name: _int(match[name] or "0") for name in ("years", "months", "weeks", "days")}
    exact = timedelta(
        hours=_int(match["hours"] or "0"),
        minutes=_int(match["minutes"] or "0"),
        seconds=_int(match["seconds"] or "0"),
        microseconds=int((match["fraction"] or "").ljust(6, "0")[:6]),
    )
    duration = _Duration(
        months=12 * number["years"] + number["months"],
        days=7 * number["weeks"] + number["days"],
        exact=exact,
    )
    if not duration.calendar and not exact:
        raise PeriodError(
            f"duration {_clip(text)} is zero: a duration must be positive, e.g. P1D or PT6H"
        )
    if match["sign"]:
        raise PeriodError(
            f"duration {_clip(text)} is negative: a duration must be positive, e.g. P1D or PT6H"
        )
    return duration


def _is_duration(text: str) -> bool:
    return text[:1].upper() == "P" or text[:2].upper() == "-P"


def _add(bound: _Bound, start: datetime, duration: _Duration, zone: ZoneInfo) -> datetime:
    if not duration.calendar:
        return start + duration.exact
    if bound.date_only:
        day = _shift_date(bound.value.date(), duration.months, duration.days)
        return _day_start(day, zone) + duration.exact
    wall = _wall(start, zone)
    wall = _shift_datetime(wall, duration.months) + timedelta(days=duration.days)
    return _lenient_instant(wall, zone) + duration.exact


def _subtract(bound: _Bound, end: datetime, duration: _Duration, zone: ZoneInfo) -> datetime:
    moment = end - duration.exact
    if not duration.calendar:
        return moment
    if bound.date_only and not duration.exact:
        day = bound.value.date() - timedelta(days=duration.days)
        return _day_start(_shift_date(day, -duration.months), zone)
    wall = _wall(moment, zone) - timedelta(days=duration.days)
    return _lenient_instant(_shift_datetime(wall, -duration.months), zone)


# --- time zones ------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        raise PeriodError(
            f"unknown time zone {_show(str(name))}:"
            " expected an IANA name such as UTC, Europe/Berlin or America/New_York"
        ) from None


def _bound_instant(bound: _Bound, zone: ZoneInfo) -> datetime:
    """The instant a bound names: a date-only bound is the start of its day."""
    if bound.date_only:
        return _day_start(bound.value.date(), zone)
    if bound.value.tzinfo is not None:
        return bound.value.astimezone(UTC)
    instant = bound.value.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(instant, zone) != bound.value:
        raise PeriodError(
            f"local time {_clip(bound.text)} does not exist in time zone {zone.key}"
            " (its clocks skip it): write it with a UTC offset"
        )
    return instant


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``: its midnight, or the end of a gap over it."""
    midnight = datetime(day.year, day.month, day.day)
    late = midnight.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(late, zone) == midnight:
        return late
    # The zone skips midnight: the day starts at the transition, between the readings of
    # midnight with the offset after the gap (too early) and before it (not too early).
    # Offsets and transitions are whole seconds, so bisect over whole seconds.
    early = midnight.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = 0, int((late - early).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(early + timedelta(seconds=middle), zone) >= midnight:
            high = middle
        else:
            low = middle
    return early + timedelta(seconds=high)


def _lenient_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A computed wall-clock time as an instant: earlier if ambiguous, moved past any gap."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time of an instant in ``zone``.

    Through UTC: ``astimezone`` leaves a datetime already in ``zone`` as it is, even when its
    wall-clock time does not exist there.
    """
    return instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)


# --- calendar arithmetic ---------------------------------------------------------------------


def _date(match: re.Match[str]) -> date:
    year, month, day = _year(match["year"]), int(match["month"]), int(match["day"])
    text = _clip(f"{match['year']}-{match['month']}-{match['day']}")
    if not 1 <= month <= 12:
        raise PeriodError(f"impossible date {text}: months run 01-12")
    last = _days_in_month(year, month)
    if not 1 <= day <= last:
        raise PeriodError(f"impossible date {text}: {year:04d}-{month:02d} has days 01-{last}")
    return date(year, month, day)


def _year(digits: str) -> int:
    if len(digits) > 4 or digits == "0000":
        raise PeriodError(f"year {_clip(digits)} is out of range: years run 0001-9999")
    return int(digits)


def _int(digits: str) -> int:
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        raise _OutOfRangeError(digits)
    return int(digits)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _iso_weeks(year: int) -> int:
    return 53 if date(year, 12, 28).isocalendar()[1] == 53 else 52


def _first_of_month(year: int, month: int) -> date:
    if not 1 <= year <= 9999:
        raise _OutOfRangeError(year)
    return date(year, month, 1)


def _shift_date(day: date, months: int = 0, days: int = 0) -> date:
    """``day`` plus whole months (clamped to the month's end), then plus days."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    clamped = _first_of_month(year, month).replace(day=min(day.day, _days_in_month(year, month)))
    return clamped + timedelta(days=days)


def _shift_datetime(wall: datetime, months: int) -> datetime:
    day = _shift_date(wall.date(), months)
    return wall.replace(year=day.year, month=day.month, day=day.day)


# --- text ------------------------------------------------------------------------------------


def _as_utc(value: datetime, role: str) -> datetime:
    if not isinstance(value, datetime):
        raise PeriodError(f"period {role} must be a datetime, got {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise PeriodError(
            f"period {role} {value.isoformat()} has no time zone: expected an aware UTC datetime"
        )
    if offset:
        raise PeriodError(
            f"period {role} {value.isoformat()} is not in UTC: expected an aware UTC datetime"
        )
    return value.replace(tzinfo=UTC, fold=0)


def _parse_timestamp(text: str, role: str) -> datetime:
    stripped = text.strip() if isinstance(text, str) else ""
    match = _BOUND_RE.fullmatch(stripped)
    if match is None:
        raise PeriodError(f"invalid period {role} {_show(str(text))}: {_TIMESTAMP_FORMS}")
    value = _parse_bound(stripped, role).value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PeriodError(
            f"period {role} {_clip(stripped)} falls outside the supported years 0001-9999"
        ) from None


def iso_instant(instant: datetime) -> str:
    """An aware UTC instant as a Period prints its bounds: ``2023-05-01T00:00:00Z``
    (microseconds only when nonzero). Cheaper than building a Period to print one bound."""
    return _iso(_as_utc(instant, "instant"))


def _iso(instant: datetime) -> str:
    spec = "microseconds" if instant.microsecond else "seconds"
    return instant.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _not_after(start: str, end: str, before: bool) -> str:
    start, end = _clip(start), _clip(end)
    if before:
        return f"period end {end} is before its start {start}"
    return f"period end {end} is not after its start {start}: the period is empty"


def _clip(text: str) -> str:
    """A fragment the grammar matched (ASCII, no whitespace) shown as is, cut when long."""
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def _show(text: str) -> str:
    """``text`` quoted on one line (``repr`` escapes every line break), cut when long."""
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 3] + "..."
    return repr(text)
