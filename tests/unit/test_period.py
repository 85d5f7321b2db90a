"""Specification of period resolution: ``--period`` text to a half-open UTC interval."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from etl_session.errors import PeriodError, UsageError
from etl_session.period import Period, resolve_period

UTC = timezone.utc
# Wednesday of ISO week 2023-W20.
NOW = datetime(2023, 5, 17, 10, 30, tzinfo=UTC)
FORMS = "expected [start, end], start/end, 2023-05, 2023-Q2, 2023-W18, today, last-7-days ..."
BOUND_FORMS = (
    "expected a date like 2023-05-01 or a date-time like 2023-05-01T12:00:00,"
    " optionally with Z or an offset like +02:00"
)
DURATION_FORMS = "expected e.g. P1D, P2W, P1M, PT36H or P1Y2M10DT2H30M"
TIMESTAMP_FORMS = "expected an ISO 8601 timestamp such as 2023-05-01T00:00:00Z"
ZONE_FORMS = "expected an IANA name such as UTC, Europe/Berlin or America/New_York"
# America/Santiago skips some local midnights (2023-09-03 begins at 01:00).
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Santiago",
]


def resolved(text: str, tz: str = "UTC", now: datetime = NOW) -> tuple[str, str]:
    period = resolve_period(text, timezone=tz, now=now)
    return period.start_iso, period.end_iso


def error_of(text: str, tz: str = "UTC", now: datetime = NOW) -> str:
    with pytest.raises(PeriodError) as caught:
        resolve_period(text, timezone=tz, now=now)
    return str(caught.value)


# --- forms -----------------------------------------------------------------------------------

BRACKET = [
    # A date-only upper bound covers its whole day.
    ("[2023-05-01, 2023-05-31]", "UTC", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
    ("[2023-05-01, 2023-05-01]", "UTC", "2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z"),
    ("[2023-05-01T12:00, 2023-05-01]", "UTC", "2023-05-01T12:00:00Z", "2023-05-02T00:00:00Z"),
    # A date-time upper bound is exact, even at midnight.
    (
        "[2023-05-01T12:00:00, 2023-05-01T14:00:00]",
        "UTC",
        "2023-05-01T12:00:00Z",
        "2023-05-01T14:00:00Z",
    ),
    (
        "[2023-05-01T12:00, 2023-05-02T00:00:00]",
        "UTC",
        "2023-05-01T12:00:00Z",
        "2023-05-02T00:00:00Z",
    ),
    # A space instead of T, seconds and fractions optional; digits past microseconds truncated.
    (
        "[2023-05-01 12:00, 2023-05-01 13:30:15.25]",
        "UTC",
        "2023-05-01T12:00:00Z",
        "2023-05-01T13:30:15.250000Z",
    ),
    (
        "[2023-05-01T00:00:00.123456789Z, 2023-05-02]",
        "UTC",
        "2023-05-01T00:00:00.123456Z",
        "2023-05-03T00:00:00Z",
    ),
    # Offsets keep their offset, in any of the three spellings; Z and T in any case.
    (
        "[2023-05-01T12:00+02:00, 2023-05-01T14:00+0200]",
        "UTC",
        "2023-05-01T10:00:00Z",
        "2023-05-01T12:00:00Z",
    ),
    (
        "[2023-05-01T12:00Z, 2023-05-01T14:00-05]",
        "UTC",
        "2023-05-01T12:00:00Z",
        "2023-05-01T19:00:00Z",
    ),
    (
        "[2023-05-01t12:00z, 2023-05-02]",
        "Europe/Berlin",
        "2023-05-01T12:00:00Z",
        "2023-05-02T22:00:00Z",
    ),
    # Whitespace around the bounds is free.
    ("  [ 2023-05-01 ,2023-05-31 ]  ", "UTC", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
    ("[2023-05-01,2023-05-31]\n", "UTC", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
    # Values without an offset are wall-clock time in the zone.
    (
        "[2023-05-01T12:00:00, 2023-05-01T14:00:00]",
        "Europe/Berlin",
        "2023-05-01T10:00:00Z",
        "2023-05-01T12:00:00Z",
    ),
    ("[2023-05-01, 2023-05-31]", "Europe/Berlin", "2023-04-30T22:00:00Z", "2023-05-31T22:00:00Z"),
    (
        "[2023-05-01T00:00Z, 2023-05-01T12:00]",
        "Asia/Kolkata",
        "2023-05-01T00:00:00Z",
        "2023-05-01T06:30:00Z",
    ),
    # The day clocks spring forward lasts 23 hours.
    ("[2023-03-26, 2023-03-26]", "Europe/Berlin", "2023-03-25T23:00:00Z", "2023-03-26T22:00:00Z"),
    # An ambiguous wall-clock time (clocks set back) is the earlier instant.
    (
        "[2023-10-29T02:30, 2023-10-29T04:00]",
        "Europe/Berlin",
        "2023-10-29T00:30:00Z",
        "2023-10-29T03:00:00Z",
    ),
    # Year 1 prints with four digits.
    ("[0001-01-01, 0001-01-01]", "UTC", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
]

INTERVALS = [
    # Half-open as written: a date-only end is the midnight at its start, not the whole day.
    ("2023-05-01/2023-05-31", "UTC", "2023-05-01T00:00:00Z", "2023-05-31T00:00:00Z"),
    ("2023-05-01/2023-05-01T12:00", "UTC", "2023-05-01T00:00:00Z", "2023-05-01T12:00:00Z"),
    (
        "2023-05-01T00:00:00Z/2023-06-01T00:00:00Z",
        "Europe/Berlin",
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00Z",
    ),
    (" 2023-05-01 / 2023-05-02 ", "UTC", "2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z"),
    ("2023-03-26/2023-03-27", "Europe/Berlin", "2023-03-25T23:00:00Z", "2023-03-26T22:00:00Z"),
    # start/duration: months clamp to the month's end.
    ("2023-05-01/P1M", "UTC", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
    ("2023-01-31/P1M", "UTC", "2023-01-31T00:00:00Z", "2023-02-28T00:00:00Z"),
    ("2024-01-31/P1M", "UTC", "2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z"),
    ("2023-05-01/P2W", "UTC", "2023-05-01T00:00:00Z", "2023-05-15T00:00:00Z"),
    ("2023-05-01T10:00/PT36H", "UTC", "2023-05-01T10:00:00Z", "2023-05-02T22:00:00Z"),
    ("2023-05-01/P1Y2M10DT2H30M", "UTC", "2023-05-01T00:00:00Z", "2024-07-11T02:30:00Z"),
    ("2023-05-01T00:00/PT0.5S", "UTC", "2023-05-01T00:00:00Z", "2023-05-01T00:00:00.500000Z"),
    ("2023-05-01/p1d", "UTC", "2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z"),
    # duration/end undoes the parts in reverse order.
    ("P1D/2023-05-02", "UTC", "2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z"),
    ("P1M/2023-03-31", "UTC", "2023-02-28T00:00:00Z", "2023-03-31T00:00:00Z"),
    ("P1Y/2024-02-29", "UTC", "2023-02-28T00:00:00Z", "2024-02-29T00:00:00Z"),
    ("PT1H/2023-05-01T00:00Z", "UTC", "2023-04-30T23:00:00Z", "2023-05-01T00:00:00Z"),
    # Calendar parts are wall-clock time in the zone; time parts are elapsed time.
    ("2023-03-26/P1D", "Europe/Berlin", "2023-03-25T23:00:00Z", "2023-03-26T22:00:00Z"),
    ("2023-03-25T12:00/P1D", "Europe/Berlin", "2023-03-25T11:00:00Z", "2023-03-26T10:00:00Z"),
    ("2023-03-25T12:00/PT24H", "Europe/Berlin", "2023-03-25T11:00:00Z", "2023-03-26T11:00:00Z"),
    ("P1D/2023-03-27", "Europe/Berlin", "2023-03-25T23:00:00Z", "2023-03-26T22:00:00Z"),
    ("2023-11-05/P1D", "America/New_York", "2023-11-05T04:00:00Z", "2023-11-06T05:00:00Z"),
    # A bound with an offset is moved to the zone's wall clock before adding calendar parts.
    ("2023-05-01T00:00Z/P1D", "Europe/Berlin", "2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z"),
    # A computed wall-clock time in a gap (02:30 on 2023-03-26) moves forward past it.
    ("2023-03-25T02:30/P1D", "Europe/Berlin", "2023-03-25T01:30:00Z", "2023-03-26T01:30:00Z"),
]

UNITS = [
    ("2023", "UTC", "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
    ("2023", "America/New_York", "2023-01-01T05:00:00Z", "2024-01-01T05:00:00Z"),
    ("2023-Q2", "UTC", "2023-04-01T00:00:00Z", "2023-07-01T00:00:00Z"),
    ("2023-q4", "UTC", "2023-10-01T00:00:00Z", "2024-01-01T00:00:00Z"),
    ("2023-05", "UTC", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
    ("2024-02", "UTC", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
    ("2023-05", "Europe/Berlin", "2023-04-30T22:00:00Z", "2023-05-31T22:00:00Z"),
    ("2023-W18", "UTC", "2023-05-01T00:00:00Z", "2023-05-08T00:00:00Z"),
    ("2023-W01", "UTC", "2023-01-02T00:00:00Z", "2023-01-09T00:00:00Z"),
    ("2023-w52", "UTC", "2023-12-25T00:00:00Z", "2024-01-01T00:00:00Z"),
    ("2020-W53", "UTC", "2020-12-28T00:00:00Z", "2021-01-04T00:00:00Z"),
    ("2023-05-01", "UTC", "2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z"),
    ("2023-05-01", "Asia/Kolkata", "2023-04-30T18:30:00Z", "2023-05-01T18:30:00Z"),
    ("2023-03-26", "Europe/Berlin", "2023-03-25T23:00:00Z", "2023-03-26T22:00:00Z"),
    ("2023-10-29", "Europe/Berlin", "2023-10-28T22:00:00Z", "2023-10-29T23:00:00Z"),
    ("2023-10-01", "Australia/Lord_Howe", "2023-09-30T13:30:00Z", "2023-10-01T13:00:00Z"),
    # Zones that skip a local midnight: the day starts at its first existing instant, 01:00.
    ("2023-09-03", "America/Santiago", "2023-09-03T04:00:00Z", "2023-09-04T03:00:00Z"),
    ("2023-03-12", "America/Havana", "2023-03-12T05:00:00Z", "2023-03-13T04:00:00Z"),
    (
        "[2023-09-03, 2023-09-03]",
        "America/Santiago",
        "2023-09-03T04:00:00Z",
        "2023-09-04T03:00:00Z",
    ),
    ("0001", "UTC", "0001-01-01T00:00:00Z", "0002-01-01T00:00:00Z"),
    ("9999-12-30", "UTC", "9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
]

WORDS = [
    ("today", "UTC", NOW, "2023-05-17T00:00:00Z", "2023-05-18T00:00:00Z"),
    ("  TODAY\n", "UTC", NOW, "2023-05-17T00:00:00Z", "2023-05-18T00:00:00Z"),
    ("yesterday", "UTC", NOW, "2023-05-16T00:00:00Z", "2023-05-17T00:00:00Z"),
    ("this-week", "UTC", NOW, "2023-05-15T00:00:00Z", "2023-05-22T00:00:00Z"),
    ("Last-Week", "UTC", NOW, "2023-05-08T00:00:00Z", "2023-05-15T00:00:00Z"),
    ("this-month", "UTC", NOW, "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
    ("last-month", "UTC", NOW, "2023-04-01T00:00:00Z", "2023-05-01T00:00:00Z"),
    ("this-year", "UTC", NOW, "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
    ("last-year", "UTC", NOW, "2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z"),
    ("last-7-days", "UTC", NOW, "2023-05-10T00:00:00Z", "2023-05-17T00:00:00Z"),
    ("last-1-days", "UTC", NOW, "2023-05-16T00:00:00Z", "2023-05-17T00:00:00Z"),
    ("last-1-day", "UTC", NOW, "2023-05-16T00:00:00Z", "2023-05-17T00:00:00Z"),
    ("last-030-days", "UTC", NOW, "2023-04-17T00:00:00Z", "2023-05-17T00:00:00Z"),
    # Across a year boundary.
    (
        "last-month",
        "UTC",
        datetime(2023, 1, 15, tzinfo=UTC),
        "2022-12-01T00:00:00Z",
        "2023-01-01T00:00:00Z",
    ),
    (
        "this-week",
        "UTC",
        datetime(2023, 1, 1, tzinfo=UTC),
        "2022-12-26T00:00:00Z",
        "2023-01-02T00:00:00Z",
    ),
    # "today" is the local date of now in the zone.
    (
        "today",
        "Asia/Kolkata",
        datetime(2023, 5, 17, 23, 30, tzinfo=UTC),
        "2023-05-17T18:30:00Z",
        "2023-05-18T18:30:00Z",
    ),
    (
        "today",
        "America/New_York",
        datetime(2023, 5, 17, 2, 0, tzinfo=UTC),
        "2023-05-16T04:00:00Z",
        "2023-05-17T04:00:00Z",
    ),
    # A naive now is UTC; an aware now may be in any zone.
    (
        "today",
        "Asia/Kolkata",
        datetime(2023, 5, 17, 23, 30),
        "2023-05-17T18:30:00Z",
        "2023-05-18T18:30:00Z",
    ),
    (
        "today",
        "UTC",
        datetime(2023, 5, 18, 5, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        "2023-05-17T00:00:00Z",
        "2023-05-18T00:00:00Z",
    ),
]


@pytest.mark.parametrize(("text", "tz", "start", "end"), BRACKET)
def test_bracket_form(text: str, tz: str, start: str, end: str) -> None:
    assert resolved(text, tz) == (start, end)


@pytest.mark.parametrize(("text", "tz", "start", "end"), INTERVALS)
def test_iso_interval_form(text: str, tz: str, start: str, end: str) -> None:
    assert resolved(text, tz) == (start, end)


@pytest.mark.parametrize(("text", "tz", "start", "end"), UNITS)
def test_calendar_unit_form(text: str, tz: str, start: str, end: str) -> None:
    assert resolved(text, tz) == (start, end)


@pytest.mark.parametrize(("text", "tz", "now", "start", "end"), WORDS)
def test_relative_words(text: str, tz: str, now: datetime, start: str, end: str) -> None:
    assert resolved(text, tz, now) == (start, end)


def test_relative_words_default_to_the_current_time() -> None:
    before = datetime.now(UTC)
    period = resolve_period("today")
    after = datetime.now(UTC)
    assert period.start <= after
    assert before < period.end
    assert period.duration == timedelta(days=1)


def test_now_is_read_as_an_instant_even_when_its_wall_time_does_not_exist() -> None:
    # 00:00 on 1932-09-01 does not exist in Santiago; with fold=1 it is 1932-09-01T04:00Z,
    # which is still 1932-08-31 there.
    now = datetime(1932, 9, 1, 0, 0, fold=1, tzinfo=ZoneInfo("America/Santiago"))
    assert resolved("today", "America/Santiago", now) == (
        "1932-08-31T05:00:00Z",
        "1932-09-01T05:00:00Z",
    )


def test_a_day_where_clocks_spring_forward_lasts_23_hours() -> None:
    assert resolve_period("2023-03-26", timezone="Europe/Berlin").duration == timedelta(hours=23)
    assert resolve_period("2023-11-05", timezone="America/New_York").duration == timedelta(hours=25)


# --- errors ----------------------------------------------------------------------------------

ERRORS = [
    # Empty, unknown, and the input shown on one line.
    ("", "UTC", f"empty period: {FORMS}"),
    ("  \n\t ", "UTC", f"empty period: {FORMS}"),
    ("foo", "UTC", f"unrecognised period 'foo': {FORMS}"),
    ("tomorrow", "UTC", f"unrecognised period 'tomorrow': {FORMS}"),
    ("last week", "UTC", f"unrecognised period 'last week': {FORMS}"),
    ("2023-5", "UTC", f"unrecognised period '2023-5': {FORMS}"),
    ("2023-05-01T12:00", "UTC", f"unrecognised period '2023-05-01T12:00': {FORMS}"),
    ("line one\nline two", "UTC", f"unrecognised period 'line one\\nline two': {FORMS}"),
    ("x" * 100, "UTC", f"unrecognised period '{'x' * 57}...': {FORMS}"),
    # Bracket form.
    ("[2023-05-01, 2023-04-30]", "UTC", "period end 2023-04-30 is before its start 2023-05-01"),
    (
        "[2023-05-01T12:00, 2023-05-01T12:00]",
        "UTC",
        "period end 2023-05-01T12:00 is not after its start 2023-05-01T12:00: the period is empty",
    ),
    (
        "[2023-05-01T12:00+02:00, 2023-05-01T10:00Z]",
        "UTC",
        "period end 2023-05-01T10:00Z is not after its start 2023-05-01T12:00+02:00:"
        " the period is empty",
    ),
    (
        "[2023-05-01, 2023-05-31] and more",
        "UTC",
        "unexpected text 'and more' after ']' in period '[2023-05-01, 2023-05-31] and more':"
        " expected [start, end]",
    ),
    (
        "[2023-05-01, 2023-05-31]]",
        "UTC",
        "unexpected text ']' after ']' in period '[2023-05-01, 2023-05-31]]':"
        " expected [start, end]",
    ),
    (
        "[2023-05-01, 2023-05-31",
        "UTC",
        "missing ']' in period '[2023-05-01, 2023-05-31': expected [start, end]",
    ),
    (
        "[2023-05-01]",
        "UTC",
        "period '[2023-05-01]' needs two bounds separated by one comma:"
        " expected [start, end], e.g. [2023-05-01, 2023-05-31]",
    ),
    (
        "[2023-05-01, 2023-05-02, 2023-05-03]",
        "UTC",
        "period '[2023-05-01, 2023-05-02, 2023-05-03]' needs two bounds separated by one comma:"
        " expected [start, end], e.g. [2023-05-01, 2023-05-31]",
    ),
    ("[, 2023-05-31]", "UTC", f"invalid period start '': {BOUND_FORMS}"),
    ("[2023-05-01, tomorrow]", "UTC", f"invalid period end 'tomorrow': {BOUND_FORMS}"),
    ("[2023-05-01T12, 2023-05-02]", "UTC", f"invalid period start '2023-05-01T12': {BOUND_FORMS}"),
    ("[2023-05-01Z, 2023-05-02]", "UTC", f"invalid period start '2023-05-01Z': {BOUND_FORMS}"),
    ("[2023-05, 2023-06]", "UTC", f"invalid period start '2023-05': {BOUND_FORMS}"),
    # Impossible dates, times and offsets.
    ("2023-02-30", "UTC", "impossible date 2023-02-30: 2023-02 has days 01-28"),
    ("2024-02-30", "UTC", "impossible date 2024-02-30: 2024-02 has days 01-29"),
    ("2023-04-00", "UTC", "impossible date 2023-04-00: 2023-04 has days 01-30"),
    ("2023-13-01", "UTC", "impossible date 2023-13-01: months run 01-12"),
    ("[2023-02-29, 2023-03-01]", "UTC", "impossible date 2023-02-29: 2023-02 has days 01-28"),
    ("2023-13", "UTC", "impossible month 2023-13: months run 01-12"),
    ("2023-00", "UTC", "impossible month 2023-00: months run 01-12"),
    ("2023-Q5", "UTC", "impossible quarter 2023-Q5: quarters run Q1-Q4"),
    ("2023-Q0", "UTC", "impossible quarter 2023-Q0: quarters run Q1-Q4"),
    ("2023-W54", "UTC", "impossible week 2023-W54: 2023 has ISO weeks W01-W52"),
    ("2023-W53", "UTC", "impossible week 2023-W53: 2023 has ISO weeks W01-W52"),
    ("2023-W00", "UTC", "impossible week 2023-W00: 2023 has ISO weeks W01-W52"),
    ("2020-W54", "UTC", "impossible week 2020-W54: 2020 has ISO weeks W01-W53"),
    ("[2023-05-01T24:00, 2023-05-02]", "UTC", "impossible time 24:00: hours run 00-23"),
    ("[2023-05-01T12:60, 2023-05-02]", "UTC", "impossible time 12:60: minutes run 00-59"),
    ("2023-05-01/2023-05-01T12:00:60", "UTC", "impossible time 12:00:60: seconds run 00-59"),
    (
        "[2023-05-01T12:00+24:00, 2023-05-02]",
        "UTC",
        "impossible UTC offset +24:00: offsets run from -23:59 to +23:59",
    ),
    (
        "[2023-05-01T12:00-0160, 2023-05-02]",
        "UTC",
        "impossible UTC offset -0160: offsets run from -23:59 to +23:59",
    ),
    # Years out of range.
    ("0000", "UTC", "year 0000 is out of range: years run 0001-9999"),
    ("10000", "UTC", "year 10000 is out of range: years run 0001-9999"),
    ("[0000-12-31, 2023-01-01]", "UTC", "year 0000 is out of range: years run 0001-9999"),
    ("10000-01-01/P1D", "UTC", "year 10000 is out of range: years run 0001-9999"),
    ("9999", "UTC", "period '9999' falls outside the supported years 0001-9999"),
    ("9999-12-31", "UTC", "period '9999-12-31' falls outside the supported years 0001-9999"),
    (
        "0001-01-01",
        "Asia/Kolkata",
        "period '0001-01-01' falls outside the supported years 0001-9999",
    ),
    (
        "2023-01-01/P9999Y",
        "UTC",
        "period '2023-01-01/P9999Y' falls outside the supported years 0001-9999",
    ),
    (
        "P9999Y/2023-01-01",
        "UTC",
        "period 'P9999Y/2023-01-01' falls outside the supported years 0001-9999",
    ),
    (
        "2023-01-01/P999999999D",
        "UTC",
        "period '2023-01-01/P999999999D' falls outside the supported years 0001-9999",
    ),
    (
        "2023-01-01/PT99999999999999999999H",
        "UTC",
        "period '2023-01-01/PT99999999999999999999H' falls outside the supported years 0001-9999",
    ),
    (
        "last-99999999999-days",
        "UTC",
        "period 'last-99999999999-days' falls outside the supported years 0001-9999",
    ),
    # Intervals and durations.
    ("2023-06-01/2023-05-01", "UTC", "period end 2023-05-01 is before its start 2023-06-01"),
    (
        "2023-05-01/2023-05-01",
        "UTC",
        "period end 2023-05-01 is not after its start 2023-05-01: the period is empty",
    ),
    (
        "2023-05-01/P0D",
        "UTC",
        "duration P0D is zero: a duration must be positive, e.g. P1D or PT6H",
    ),
    (
        "2023-05-01/PT0S",
        "UTC",
        "duration PT0S is zero: a duration must be positive, e.g. P1D or PT6H",
    ),
    (
        "2023-05-01/PT0.0000001S",
        "UTC",
        "duration PT0.0000001S is zero: a duration must be positive, e.g. P1D or PT6H",
    ),
    (
        "-P1D/2023-05-01",
        "UTC",
        "duration -P1D is negative: a duration must be positive, e.g. P1D or PT6H",
    ),
    ("2023-05-01/P", "UTC", f"invalid duration 'P': {DURATION_FORMS}"),
    ("2023-05-01/PT", "UTC", f"invalid duration 'PT': {DURATION_FORMS}"),
    ("2023-05-01/P1H", "UTC", f"invalid duration 'P1H': {DURATION_FORMS}"),
    ("2023-05-01/P1.5D", "UTC", f"invalid duration 'P1.5D': {DURATION_FORMS}"),
    ("2023-05-01/P1D2Y", "UTC", f"invalid duration 'P1D2Y': {DURATION_FORMS}"),
    (
        "P1D/P1D",
        "UTC",
        "period 'P1D/P1D' has two durations: expected start/end, start/duration or duration/end",
    ),
    (
        "2023/2024/2025",
        "UTC",
        "period '2023/2024/2025' has more than one '/':"
        " expected start/end, start/duration or duration/end",
    ),
    ("2023-05/2023-06", "UTC", f"invalid period start '2023-05': {BOUND_FORMS}"),
    ("2023-05-01/", "UTC", f"invalid period end '': {BOUND_FORMS}"),
    # Relative words.
    (
        "last-0-days",
        "UTC",
        "period 'last-0-days' covers no days: N in last-N-days must be at least 1",
    ),
    ("last--1-days", "UTC", f"unrecognised period 'last--1-days': {FORMS}"),
    # Wall-clock times that the zone skips.
    (
        "[2023-03-26T02:30, 2023-03-27]",
        "Europe/Berlin",
        "local time 2023-03-26T02:30 does not exist in time zone Europe/Berlin"
        " (its clocks skip it): write it with a UTC offset",
    ),
    (
        "2023-10-01T02:15/PT1H",
        "Australia/Lord_Howe",
        "local time 2023-10-01T02:15 does not exist in time zone Australia/Lord_Howe"
        " (its clocks skip it): write it with a UTC offset",
    ),
    (
        "P1D/2023-03-12T02:00",
        "America/New_York",
        "local time 2023-03-12T02:00 does not exist in time zone America/New_York"
        " (its clocks skip it): write it with a UTC offset",
    ),
    # Samoa skipped 2011-12-30 entirely.
    (
        "2011-12-30",
        "Pacific/Apia",
        "period '2011-12-30' is empty in time zone Pacific/Apia: the zone skips those days",
    ),
    (
        "P1D/2011-12-31T12:00",
        "Pacific/Apia",
        "period 'P1D/2011-12-31T12:00' is empty in time zone Pacific/Apia:"
        " the zone skips that time",
    ),
    # Unknown time zones.
    ("today", "Mars/Olympus", f"unknown time zone 'Mars/Olympus': {ZONE_FORMS}"),
    ("today", "", f"unknown time zone '': {ZONE_FORMS}"),
    ("today", "../etc", f"unknown time zone '../etc': {ZONE_FORMS}"),
    ("today", "/etc/passwd", f"unknown time zone '/etc/passwd': {ZONE_FORMS}"),
    ("today", "Europe", f"unknown time zone 'Europe': {ZONE_FORMS}"),
    ("today", "zone.tab", f"unknown time zone 'zone.tab': {ZONE_FORMS}"),
    ("today", "UTC\n", f"unknown time zone 'UTC\\n': {ZONE_FORMS}"),
    ("today", "\x00", f"unknown time zone '\\x00': {ZONE_FORMS}"),
]


@pytest.mark.parametrize(("text", "tz", "message"), ERRORS)
def test_errors_name_what_is_wrong_on_one_line(text: str, tz: str, message: str) -> None:
    assert error_of(text, tz) == message


def test_period_error_is_a_usage_error_and_a_value_error() -> None:
    with pytest.raises(PeriodError) as caught:
        resolve_period("foo")
    assert isinstance(caught.value, UsageError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.exit_code == 2


def test_non_text_is_a_period_error() -> None:
    with pytest.raises(PeriodError, match=r"^period must be text, got int$"):
        resolve_period(20230501)  # type: ignore[arg-type]


# --- Period ----------------------------------------------------------------------------------

MAY = Period(datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 6, 1, tzinfo=UTC))


def test_period_renders_for_machines_and_people() -> None:
    assert MAY.start_iso == "2023-05-01T00:00:00Z"
    assert MAY.end_iso == "2023-06-01T00:00:00Z"
    assert MAY.as_interval() == "2023-05-01T00:00:00Z/2023-06-01T00:00:00Z"
    assert str(MAY) == "2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z"
    assert MAY.duration == timedelta(days=31)


def test_iso_text_shows_microseconds_only_when_nonzero() -> None:
    period = Period(
        datetime(2023, 5, 1, 0, 0, 0, 250000, tzinfo=UTC),
        datetime(2023, 5, 1, 0, 0, 1, tzinfo=UTC),
    )
    assert period.start_iso == "2023-05-01T00:00:00.250000Z"
    assert period.end_iso == "2023-05-01T00:00:01Z"
    assert resolve_period(period.as_interval()) == period


def test_period_is_a_frozen_hashable_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MAY.start = datetime(2023, 5, 2, tzinfo=UTC)  # type: ignore[misc]
    twin = Period(datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 6, 1, tzinfo=UTC))
    assert twin == MAY
    assert len({twin, MAY}) == 1


def test_zero_offset_zones_are_stored_as_utc() -> None:
    period = Period(
        datetime(2023, 5, 1, tzinfo=ZoneInfo("UTC")),
        datetime(2023, 6, 1, tzinfo=timezone(timedelta(0))),
    )
    assert period.start.tzinfo is UTC
    assert period.end.tzinfo is UTC
    assert period == MAY


PERIOD_ERRORS = [
    (
        datetime(2023, 5, 1),
        datetime(2023, 6, 1, tzinfo=UTC),
        "period start 2023-05-01T00:00:00 has no time zone: expected an aware UTC datetime",
    ),
    (
        datetime(2023, 5, 1, tzinfo=UTC),
        datetime(2023, 6, 1, tzinfo=timezone(timedelta(hours=2))),
        "period end 2023-06-01T00:00:00+02:00 is not in UTC: expected an aware UTC datetime",
    ),
    (
        datetime(2023, 5, 1, tzinfo=UTC),
        datetime(2023, 5, 1, tzinfo=UTC),
        "period end 2023-05-01T00:00:00Z is not after its start 2023-05-01T00:00:00Z:"
        " the period is empty",
    ),
    (
        datetime(2023, 6, 1, tzinfo=UTC),
        datetime(2023, 5, 1, tzinfo=UTC),
        "period end 2023-05-01T00:00:00Z is before its start 2023-06-01T00:00:00Z",
    ),
    (
        date(2023, 5, 1),
        datetime(2023, 6, 1, tzinfo=UTC),
        "period start must be a datetime, got date",
    ),
]


@pytest.mark.parametrize(("start", "end", "message"), PERIOD_ERRORS)
def test_period_validates_its_ends(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(PeriodError) as caught:
        Period(start, end)
    assert str(caught.value) == message


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


OVERLAPS = [
    # [a, b) and [b, c) share no instant.
    ("2023-05-01", "2023-06-01", "2023-06-01", "2023-07-01", False),
    ("2023-05-01", "2023-06-01", "2023-04-01", "2023-05-01", False),
    ("2023-05-01", "2023-06-01", "2023-07-01", "2023-08-01", False),
    ("2023-05-01", "2023-06-01", "2023-05-31", "2023-06-02", True),
    ("2023-05-01", "2023-06-01", "2023-05-10", "2023-05-11", True),
    ("2023-05-01", "2023-06-01", "2023-04-01", "2023-07-01", True),
    ("2023-05-01", "2023-06-01", "2023-05-01", "2023-06-01", True),
]


@pytest.mark.parametrize(("a", "b", "c", "d", "expected"), OVERLAPS)
def test_overlaps_is_half_open(a: str, b: str, c: str, d: str, expected: bool) -> None:
    first, second = Period(_utc(a), _utc(b)), Period(_utc(c), _utc(d))
    assert first.overlaps(second) is expected
    assert second.overlaps(first) is expected


FROM_ISO = [
    (
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00Z",
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00Z",
    ),
    # As Postgres and DuckDB print a timestamp with time zone.
    (
        "2023-05-01 02:00:00+02",
        "2023-06-01 00:00:00+00",
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00Z",
    ),
    # As Python's isoformat() prints it.
    (
        "2023-05-01T02:00:00+02:00",
        "2023-05-31T19:00:00.500000-05:00",
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00.500000Z",
    ),
    # Naive values are UTC; a date alone is its midnight in UTC.
    ("2023-05-01T00:00:00", " 2023-06-01 ", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
]


@pytest.mark.parametrize(("start", "end", "start_iso", "end_iso"), FROM_ISO)
def test_from_iso_reads_timestamps_back(start: str, end: str, start_iso: str, end_iso: str) -> None:
    period = Period.from_iso(start, end)
    assert (period.start_iso, period.end_iso) == (start_iso, end_iso)


FROM_ISO_ERRORS = [
    ("yesterday", "2023-06-01T00:00:00Z", f"invalid period start 'yesterday': {TIMESTAMP_FORMS}"),
    ("2023-05-01T00:00:00Z", "", f"invalid period end '': {TIMESTAMP_FORMS}"),
    (
        "2023-02-30T00:00:00Z",
        "2023-06-01T00:00:00Z",
        "impossible date 2023-02-30: 2023-02 has days 01-28",
    ),
    (
        "2023-06-01T00:00:00Z",
        "2023-05-01T00:00:00Z",
        "period end 2023-05-01T00:00:00Z is before its start 2023-06-01T00:00:00Z",
    ),
    (
        "0001-01-01T00:00:00+01:00",
        "2023-05-01T00:00:00Z",
        "period start 0001-01-01T00:00:00+01:00 falls outside the supported years 0001-9999",
    ),
]


@pytest.mark.parametrize(("start", "end", "message"), FROM_ISO_ERRORS)
def test_from_iso_errors(start: str, end: str, message: str) -> None:
    with pytest.raises(PeriodError) as caught:
        Period.from_iso(start, end)
    assert str(caught.value) == message


# --- properties: nothing but PeriodError escapes ---------------------------------------------

GRAMMAR_ALPHABET = "0123456789-:TZWQP[]/, +."
# Text shaped like each form, with digits biased towards valid values but often impossible.
_YEAR = r"(19[0-9]{2}|20[0-9]{2}|[0-9]{4,5})"
_MONTH = r"(0[1-9]|1[0-2]|[0-9]{2})"
_DAY = r"(0[1-9]|[12][0-9]|3[01]|[0-9]{2})"
_CLOCK = (
    r"([01][0-9]|2[0-3]|[0-9]{2}):([0-5][0-9]|[0-9]{2})(:([0-5][0-9]|[0-9]{2})(\.[0-9]{1,9})?)?"
)
_OFFSET = r"(Z|[+-]([01][0-9]|2[0-3]|[0-9]{2})(:?([0-5][0-9]|[0-9]{2}))?)?"
_BOUND = rf"{_YEAR}-{_MONTH}-{_DAY}([T ]{_CLOCK}{_OFFSET})?"
_DURATION = (
    r"-?P([0-9]{1,5}Y)?([0-9]{1,5}M)?([0-9]{1,3}W)?([0-9]{1,5}D)?"
    r"(T([0-9]{1,5}H)?([0-9]{1,5}M)?([0-9]{1,5}(\.[0-9]{1,9})?S)?)?"
)
_UNIT = rf"{_YEAR}(-(Q[0-9]{{1,2}}|W[0-9]{{2}}|{_MONTH}(-{_DAY})?))?"
NEAR_VALID = (
    rf"\A(\[{_BOUND}, ?{_BOUND}\]|{_BOUND}/{_BOUND}|{_BOUND}/{_DURATION}|{_DURATION}/{_BOUND}"
    rf"|{_UNIT}|last-[0-9]{{1,12}}-days)\Z"
)


def assert_only_period_errors(text: str, tz: str = "UTC") -> None:
    try:
        period = resolve_period(text, timezone=tz, now=NOW)
    except PeriodError as error:
        message = str(error)
        assert message
        assert message.splitlines() == [message]
    else:
        assert_is_a_valid_period(period)


def assert_is_a_valid_period(period: Period) -> None:
    assert period.start < period.end
    for end in (period.start, period.end):
        assert end.tzinfo is UTC
        assert end.utcoffset() == timedelta(0)
    assert resolve_period(period.as_interval()) == period
    assert Period.from_iso(period.start_iso, period.end_iso) == period


@settings(max_examples=2000, deadline=None)
@given(st.text(), st.sampled_from(ZONES))
def test_any_text_resolves_or_raises_period_error(text: str, tz: str) -> None:
    assert_only_period_errors(text, tz)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=GRAMMAR_ALPHABET, max_size=40), st.sampled_from(ZONES))
def test_text_from_the_grammar_alphabet_resolves_or_raises_period_error(text: str, tz: str) -> None:
    assert_only_period_errors(text, tz)


@settings(max_examples=1000, deadline=None)
@given(st.from_regex(NEAR_VALID), st.sampled_from(ZONES))
def test_near_valid_text_resolves_or_raises_period_error(text: str, tz: str) -> None:
    assert_only_period_errors(text, tz)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.sampled_from(ZONES).map(lambda z: z.lower())))
def test_any_time_zone_resolves_or_raises_period_error(tz: str) -> None:
    try:
        period = resolve_period("2023-05-01", timezone=tz)
    except PeriodError as error:
        assert str(error).splitlines() == [str(error)]
    else:
        assert_is_a_valid_period(period)


# --- properties: invariants of accepted periods ----------------------------------------------

zones = st.sampled_from(ZONES)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
wall_times = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31))
offsets = st.one_of(
    st.none(),
    st.just("Z"),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).flatmap(
        lambda minutes: st.sampled_from(
            [
                f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{sep}{abs(minutes) % 60:02d}"
                for sep in (":", "")
            ]
            + (
                [f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}"]
                if minutes % 60 == 0
                else []
            )
        )
    ),
)


def offset_of(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))


@st.composite
def date_times(draw: st.DrawFn, day: date, with_offset: bool = False) -> tuple[str, datetime]:
    """Text of a date-time on ``day`` in any accepted spelling, and the value it names."""
    moment = draw(wall_times).replace(year=day.year, month=day.month, day=day.day)
    offset = draw(offsets.filter(bool) if with_offset else offsets)
    separator = draw(st.sampled_from(["T", " ", "t"]))
    clock = f"{moment:%H:%M}"
    if moment.microsecond:
        clock += f":{moment:%S}.{moment.microsecond:06d}"
    elif moment.second or draw(st.booleans()):
        clock += f":{moment:%S}"
    return f"{day.isoformat()}{separator}{clock}{offset or ''}", moment.replace(
        tzinfo=offset_of(offset)
    )


@st.composite
def bounds(draw: st.DrawFn, day: date) -> tuple[str, datetime | None]:
    """A date (value None) or a date-time on ``day``."""
    if draw(st.booleans()):
        return day.isoformat(), None
    return draw(date_times(day))


@st.composite
def ordered_bounds(draw: st.DrawFn) -> tuple[str, str]:
    # Three days apart, so offsets of up to ±24h in either bound cannot reverse them.
    first = draw(days)
    second = first + timedelta(days=draw(st.integers(min_value=3, max_value=400)))
    return draw(bounds(first))[0], draw(bounds(second))[0]


durations = st.tuples(*[st.integers(min_value=0, max_value=40)] * 7).filter(any)


def duration_text(parts: tuple[int, ...]) -> str:
    years, months, weeks, day_count, hours, minutes, seconds = parts
    dates = "".join(
        f"{n}{u}" for n, u in zip((years, months, weeks, day_count), "YMWD", strict=True) if n
    )
    times = "".join(f"{n}{u}" for n, u in zip((hours, minutes, seconds), "HMS", strict=True) if n)
    return f"P{dates}" + (f"T{times}" if times else "")


def resolve_or_skip_gap(text: str, tz: str, now: datetime = NOW) -> Period:
    """Resolve text whose wall-clock bounds may fall in a DST gap: only that error is skipped."""
    try:
        return resolve_period(text, timezone=tz, now=now)
    except PeriodError as error:
        assume("(its clocks skip it)" not in str(error))
        raise


@st.composite
def valid_texts(draw: st.DrawFn) -> str:
    form = draw(
        st.sampled_from(["bracket", "interval", "start/duration", "duration/end", "unit", "word"])
    )
    if form == "bracket":
        lower, upper = draw(ordered_bounds())
        return f"[{lower}, {upper}]"
    if form == "interval":
        lower, upper = draw(ordered_bounds())
        return f"{lower}/{upper}"
    if form == "start/duration":
        return f"{draw(bounds(draw(days)))[0]}/{duration_text(draw(durations))}"
    if form == "duration/end":
        return f"{duration_text(draw(durations))}/{draw(bounds(draw(days)))[0]}"
    if form == "unit":
        day = draw(days)
        week_year, week, _ = day.isocalendar()
        return draw(
            st.sampled_from(
                [
                    f"{day.year:04d}",
                    f"{day.year:04d}-Q{(day.month + 2) // 3}",
                    f"{day.year:04d}-{day.month:02d}",
                    f"{week_year:04d}-W{week:02d}",
                    day.isoformat(),
                ]
            )
        )
    count = draw(st.integers(min_value=1, max_value=3000))
    return draw(
        st.sampled_from(
            [
                "today",
                "yesterday",
                "this-week",
                "last-week",
                "this-month",
                "last-month",
                "this-year",
                "last-year",
                f"last-{count}-days",
            ]
        )
    )


nows = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 12, 31),
    timezones=st.one_of(st.none(), st.just(UTC), zones.map(ZoneInfo)),
)


@settings(max_examples=1000, deadline=None)
@given(valid_texts(), zones, nows)
def test_accepted_periods_are_valid_utc_intervals_that_round_trip(
    text: str, tz: str, now: datetime
) -> None:
    period = resolve_or_skip_gap(text, tz, now)
    assert_is_a_valid_period(period)
    # Deterministic given now, whatever the zone used to read the interval text back.
    assert resolve_period(text, timezone=tz, now=now) == period
    assert resolve_period(period.as_interval(), timezone=tz, now=now) == period


@settings(max_examples=300, deadline=None)
@given(days, days, zones)
def test_a_date_only_upper_bound_covers_its_whole_day(first: date, last: date, tz: str) -> None:
    first, last = min(first, last), max(first, last)
    whole_days = resolve_period(f"[{first}, {last}]", timezone=tz)
    assert whole_days == resolve_period(f"{first}/{last + timedelta(days=1)}", timezone=tz)
    assert whole_days.start == resolve_period(first.isoformat(), timezone=tz).start
    assert whole_days.end == resolve_period(last.isoformat(), timezone=tz).end


@settings(max_examples=300, deadline=None)
@given(days, st.data())
def test_bounds_with_offsets_name_exactly_their_instant(day: date, data: st.DataObject) -> None:
    lower, start = data.draw(date_times(day, with_offset=True))
    upper, end = data.draw(date_times(day + timedelta(days=3), with_offset=True))
    period = resolve_period(f"[{lower}, {upper}]", timezone=data.draw(zones))
    assert (period.start, period.end) == (start, end)


@settings(max_examples=300, deadline=None)
@given(days, zones)
def test_calendar_units_start_and_end_on_local_day_boundaries(day: date, tz: str) -> None:
    zone = ZoneInfo(tz)
    month = resolve_period(f"{day:%Y-%m}", timezone=tz)
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)

    def local_date(instant: datetime) -> date:
        return instant.astimezone(zone).date()

    assert local_date(month.start) == first
    assert local_date(month.end) == after
    for boundary in (month.start, month.end):
        assert local_date(boundary - timedelta(microseconds=1)) < local_date(boundary)
    assert month.end == resolve_period(f"{after:%Y-%m}", timezone=tz).start


@settings(max_examples=300, deadline=None)
@given(days, zones)
def test_quarters_years_and_weeks_tile(day: date, tz: str) -> None:
    quarter = (day.month + 2) // 3
    months = [
        resolve_period(f"{day.year}-{3 * quarter - 2 + i:02d}", timezone=tz) for i in range(3)
    ]
    assert resolve_period(f"{day.year}-Q{quarter}", timezone=tz) == Period(
        months[0].start, months[2].end
    )
    assert months[0].end == months[1].start
    assert months[1].end == months[2].start
    year = resolve_period(f"{day.year}", timezone=tz)
    assert year.start == resolve_period(f"{day.year}-Q1", timezone=tz).start
    assert year.end == resolve_period(f"{day.year}-Q4", timezone=tz).end
    week_year, week, weekday = day.isocalendar()
    this_week = resolve_period(f"{week_year}-W{week:02d}", timezone=tz)
    assert (
        this_week.start
        == resolve_period((day - timedelta(days=weekday - 1)).isoformat(), timezone=tz).start
    )
    next_monday = day + timedelta(days=8 - weekday)
    next_week_year, next_week, _ = next_monday.isocalendar()
    assert this_week.end == resolve_period(f"{next_week_year}-W{next_week:02d}", timezone=tz).start


@settings(max_examples=300, deadline=None)
@given(nows, zones, st.integers(min_value=1, max_value=400))
def test_relative_words_surround_now(now: datetime, tz: str, count: int) -> None:
    def word(text: str) -> Period:
        return resolve_period(text, timezone=tz, now=now)

    instant = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    today = word("today")
    assert today.start <= instant < today.end
    assert word("yesterday").end == today.start
    this_week = word("this-week")
    assert this_week.start <= instant < this_week.end
    assert this_week.start.astimezone(ZoneInfo(tz)).weekday() == 0
    assert word("last-week").end == this_week.start
    this_month = word("this-month")
    assert this_month.start <= instant < this_month.end
    assert word("last-month").end == this_month.start
    this_year = word("this-year")
    assert this_year.start <= instant < this_year.end
    assert word("last-year").end == this_year.start
    last_days = word(f"last-{count}-days")
    assert last_days.end == today.start
    local_today = today.start.astimezone(ZoneInfo(tz)).date()
    assert last_days.start.astimezone(ZoneInfo(tz)).date() == local_today - timedelta(days=count)


@settings(max_examples=300, deadline=None)
@given(days, durations, zones)
def test_durations_add_calendar_parts_then_exact_time(
    day: date, parts: tuple[int, ...], tz: str
) -> None:
    text = duration_text(parts)
    exact = timedelta(hours=parts[4], minutes=parts[5], seconds=parts[6])
    forward = resolve_period(f"{day}/{text}", timezone=tz)
    calendar_only = duration_text((*parts[:4], 0, 0, 0)) if any(parts[:4]) else None
    if calendar_only is None:
        assert forward.duration == exact
    else:
        calendar_end = resolve_period(f"{day}/{calendar_only}", timezone=tz).end
        assert forward.end == calendar_end + exact
        if tz == "UTC" and not any(parts[:2]):
            assert forward.duration == timedelta(weeks=parts[2], days=parts[3]) + exact
    backward = resolve_period(f"{text}/{forward.end_iso}", timezone=tz)
    assert backward.end == forward.end
    if tz == "UTC" and not any(parts[:2]):
        # Without months (which clamp) and without DST, duration/end undoes start/duration.
        assert backward.start == forward.start


@settings(max_examples=1000, deadline=None)
@given(
    valid_texts(),
    zones,
    st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(GRAMMAR_ALPHABET + "x")),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
def test_mutated_valid_text_resolves_or_raises_period_error(
    text: str, tz: str, edits: list[tuple[int, str]], insert: bool
) -> None:
    for position, char in edits:
        position %= len(text) + 1
        text = text[:position] + char + text[position + (0 if insert else 1) :]
    assert_only_period_errors(text, tz)
