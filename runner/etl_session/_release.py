"""Give the warehouse back when an in-process dbt run is over.

dbt-duckdb keeps its DuckDB database open in a class-level environment for the life of the
process (`keep_open`), so after `etl_session.run()` returned, the calling process still held
the file's lock and every other process (a second task, a notebook) got "Could not set lock".
This closes that environment once our work is done. It never imports dbt: when dbt-duckdb was
not loaded, there is nothing to release.
"""

from __future__ import annotations

import contextlib
import sys


def release_warehouses() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process, if any."""
    module = sys.modules.get("dbt.adapters.duckdb.connections")
    manager = getattr(module, "DuckDBConnectionManager", None)
    if manager is None:
        return
    with manager._LOCK:
        environment = manager._ENV
        if environment is not None:
            with contextlib.suppress(Exception):
                environment.close()
            manager._ENV = None
