"""dbt-etl-session: an ETL session for every dbt load.

Importing this package is cheap: it never imports dbt (the CLI's ``--help`` depends on it), and
its public names are loaded on first use, so the console scripts handle SIGTERM from their first
milliseconds (`etl_session._entry`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "BackfillResult": "etl_session.backfill",
    "run_backfill": "etl_session.backfill",
    "EtlSessionError": "etl_session.errors",
    "PeriodError": "etl_session.errors",
    "UsageError": "etl_session.errors",
    "Period": "etl_session.period",
    "resolve_period": "etl_session.period",
    "NodeResult": "etl_session.results",
    "SessionResult": "etl_session.session",
    "run": "etl_session.session",
    "ETLSession": "etl_session.shared",
    "SessionBusy": "etl_session.shared",
    "SharedSession": "etl_session.shared",
    "close_session": "etl_session.shared",
    "open_session": "etl_session.shared",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'etl_session' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
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
