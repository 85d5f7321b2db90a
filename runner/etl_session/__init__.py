"""dbt-etl-session: an ETL session for every dbt load.

Importing this package is cheap: it never imports dbt (the CLI's ``--help`` depends on it).
"""

from __future__ import annotations

from etl_session.errors import EtlSessionError, PeriodError, UsageError
from etl_session.period import Period, resolve_period

__version__ = "0.1.0"

__all__ = [
    "EtlSessionError",
    "Period",
    "PeriodError",
    "UsageError",
    "__version__",
    "resolve_period",
]
