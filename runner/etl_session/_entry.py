"""The console scripts' entry points.

`etl-run` promises exit 143 for SIGTERM at any moment. Its handler is installed here, before
the CLI's imports (click, the runner, ~0.1 s), so only a signal that lands while Python itself
starts (a few milliseconds, before any of this package's code runs) ends it with the default
action instead. Nothing has been opened then.
"""

from __future__ import annotations

import os
import signal

EXIT_TERMINATED = 143


def _terminated_while_starting(signum: int, frame: object) -> None:
    os.write(2, b"etl-run: terminated by SIGTERM\n")
    os._exit(EXIT_TERMINATED)


def etl_run() -> None:
    signal.signal(signal.SIGTERM, _terminated_while_starting)
    from etl_session.cli import main

    main()


def etl_session() -> None:
    from etl_session.operator_cli import main

    main()
