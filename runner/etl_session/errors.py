"""Errors a person can act on. Pure: imports neither click nor dbt."""

from __future__ import annotations


class EtlSessionError(Exception):
    """Base class for errors etl_session reports as one line, without a traceback."""

    exit_code: int = 2


class UsageError(EtlSessionError, ValueError):
    """Bad options or configuration: nothing ran, nothing was written (exit code 2)."""


class PeriodError(UsageError):
    """A loading period could not be resolved. Its message is one line naming what is wrong."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a load. Raised inside dbt like Ctrl-C, so dbt cancels its queries
    and returns; the load then ends as `error`, "terminated by SIGTERM", exit code 143."""
