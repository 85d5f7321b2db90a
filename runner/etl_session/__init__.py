"""dbt-etl-session: an ETL session for every dbt load.

Importing this package is cheap: it never imports dbt (the CLI's ``--help`` depends on it).
"""

from __future__ import annotations

from etl_session.backfill import BackfillResult, run_backfill
from etl_session.errors import EtlSessionError, PeriodError, UsageError
from etl_session.period import Period, resolve_period
from etl_session.results import NodeResult
from etl_session.session import SessionResult, run
from etl_session.shared import (
    ETLSession,
    SessionBusy,
    SharedSession,
    close_session,
    open_session,
)

__version__ = "0.1.0"

__all__ = [
    "BackfillResult",
    "ETLSession",
    "EtlSessionError",
    "NodeResult",
    "Period",
    "PeriodError",
    "SessionBusy",
    "SessionResult",
    "SharedSession",
    "UsageError",
    "__version__",
    "close_session",
    "open_session",
    "resolve_period",
    "run",
    "run_backfill",
]
