"""dbt-etl-session: an ETL session for every dbt load.

Importing this package is cheap: it never imports dbt (the CLI's ``--help`` depends on it).
"""

from __future__ import annotations

from etl_session.errors import EtlSessionError, PeriodError, UsageError
from etl_session.period import Period, resolve_period
from etl_session.results import NodeResult
from etl_session.session import SessionResult, run

__version__ = "0.1.0"

__all__ = [
    "EtlSessionError",
    "NodeResult",
    "Period",
    "PeriodError",
    "SessionResult",
    "UsageError",
    "__version__",
    "resolve_period",
    "run",
]
