"""The console scripts' entry points.

`etl-run` promises exit 143 for SIGTERM at any moment. Its handler is installed here, before
the CLI's imports (click, the runner, ~0.1 s), so only a signal that lands while Python itself
starts (a few milliseconds, before any of this package's code runs) ends it with the default
action instead. Nothing has been opened then.

Both commands also raise the threshold of Python's youngest garbage-collector generation before
anything is imported (`_tune_gc`). dbt's start-up builds tens of thousands of long-lived objects
(mashumaro compiles a (de)serialiser for each of its dataclasses at import time; parsing builds
the manifest), and with the default threshold (700) the collector walks the young ones again
and again while nothing of that is garbage. Once dbt is imported (`settle_after_dbt_import`,
called by `dbt_invoke`), what the import built is moved out of the collector's reach for good
(`gc.freeze()`): modules live as long as the process does. Measured on the shop example: the
whole `etl-run` load ~0.3 s faster (~9 %), peak memory unchanged (`bench/README.md`). Garbage
made after that is still collected, only in larger steps. The same moment routes dbt's Jinja
compilation through a disk cache of compiled templates (`_jinja_cache`): a new process no longer
compiles every macro it calls from its source (shop example: ~0.5 s of a 3.2 s load). This tunes
the commands' own processes only: the Python API (`run`, the Airflow operator, the Dagster
asset) leaves the GC and the dbt of its host process alone.
"""

from __future__ import annotations

import gc
import os
import signal

from etl_session import _jinja_cache

EXIT_TERMINATED = 143

# The youngest generation's threshold for the commands' processes (CPython's default: 700).
GC_YOUNG_THRESHOLD = 10_000


_tuned = False


def _tune_gc() -> None:
    global _tuned
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
    _tuned = True


def settle_after_dbt_import() -> None:
    """In a command's process, freeze what importing dbt built and route dbt's Jinja
    compilation through the disk cache (once); elsewhere nothing."""
    global _tuned
    if _tuned:
        _tuned = False
        gc.freeze()
        _jinja_cache.install()


def _terminated_while_starting(signum: int, frame: object) -> None:
    os.write(2, b"etl-run: terminated by SIGTERM\n")
    os._exit(EXIT_TERMINATED)


def etl_run() -> None:
    signal.signal(signal.SIGTERM, _terminated_while_starting)
    _tune_gc()
    from etl_session.cli import main

    main()


def etl_session() -> None:
    _tune_gc()
    from etl_session.operator_cli import main

    main()
