"""Cut the warehouse connections of an in-process dbt that does not return after a signal.

On SIGTERM etl-run raises inside dbt like Ctrl-C, and dbt cancels its open queries. On
dbt-spark's Thrift method that can wait forever: dbt's cancel (`CancelOperation`) and cleanup
(`CloseOperation`) go over the very Thrift connection a model thread is still polling, the two
threads read each other's answers, and both wait for an answer that never comes (no socket
timeout; a faulthandler dump showed the main thread in `recv_CloseOperation` and the model
thread in `recv_GetOperationStatus`). CI saw etl-run still running 300 s after SIGTERM.

`Severance` waits a grace period after the signal for dbt's own cancel; if dbt still runs, it
shuts down the sockets under dbt's open connections. Every read blocked on them returns at
once with an error, dbt gives up, and the runner closes the session as usual (on a connection
of its own). The server sees the client gone and closes its session, which ends the session's
statements.

DuckDB and psycopg2 connections are not cut, but their cancel has a gap of its own: DuckDB's
`interrupt()` stops only a statement that is running, and dbt-postgres ends the backends it
knows of at that moment. A signal that lands after dbt started a model and before its query
reached the warehouse (while the model compiles, say) stops nothing, and the query then runs to
its end, minutes or hours later (seen on both: etl-run still running 90 s after SIGTERM). So
after the grace period `Severance` also cancels their running statements (`interrupt()`,
psycopg2's `cancel()`), again every `REPEAT_SECONDS`, until dbt returns.

dbt's registry does not always hold the connection a statement runs on. dbt opens a
connection lazily, on the first read of `Connection.handle`, without a lock, and its cancel reads
the handle of every thread's connection: when a model thread opens its connection at that very
moment, both threads open one, the registry keeps one and the model thread runs its statement
on the other, which only that thread holds (seen on Postgres in CI: `pg_sleep(600)` still active
90 s after SIGTERM while the statements of the registry were cancelled every 0.25 s). So the
repeated cancel also covers the open psycopg2 connections of the process that connect as a
connection of the registry does (same DSN), and dbt-duckdb's connections of the environment (the
database) of one in the registry, found through the garbage collector every
`STRAY_SCAN_SECONDS` (cancelling an idle connection does nothing). dbt-duckdb loses one the same
way: its `open()` checks the connection's state before it takes its lock, so the cancel's read
and the model thread's first statement both open a cursor. The cut covers the TCP sockets of
the process connected to where a cut socket of dbt's was (a Thrift connection lost the same
way).
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Seconds dbt gets to cancel its queries after a signal before its sockets are shut down.
GRACE_SECONDS = 5.0

#: After the grace period, how often the statements of DuckDB and psycopg2 connections are
#: cancelled again (a statement that starts later is stopped within this time).
REPEAT_SECONDS = 0.25

#: After the grace period, how often the process is searched for psycopg2 connections and TCP
#: sockets that dbt's registry lost (a full garbage-collector scan: tens of milliseconds).
STRAY_SCAN_SECONDS = 1.0

#: How deep below a connection's handle a socket is looked for (PyHive: wrapper, connection,
#: SASL transport, TSocket, socket).
_DEPTH = 5


def _sockets(root: object) -> Iterator[socket.socket]:
    for item in _below(root):
        if isinstance(item, socket.socket):
            yield item


def _cancellers(root: object) -> Iterator[tuple[object, Callable[[], object]]]:
    """Each DuckDB or psycopg2 connection below `root`, with how to cancel its running statement
    (`interrupt()`, `cancel()`: safe from another thread, and nothing when no statement runs)."""
    for item in _below(root):
        package = (type(item).__module__ or "").split(".")[0]
        method = {"duckdb": "interrupt", "_duckdb": "interrupt", "psycopg2": "cancel"}.get(package)
        cancel = getattr(item, method, None) if method else None
        if callable(cancel):
            yield item, cancel


#: What the runner's own connections hold (the load's liveness hold): never cut, never cancelled.
_SPARED: weakref.WeakSet[Any] = weakref.WeakSet()


def spare(handle: object) -> None:
    """Keep the cut and the repeated cancel off `handle`, a connection of the runner's own that
    connects where dbt does (the liveness hold: its lock or heartbeat must outlive dbt)."""
    for item in _below(handle):
        with contextlib.suppress(TypeError):  # not weakly referenceable: not a socket either
            _SPARED.add(item)


def _duckdb_handle_kinds() -> tuple[type, ...]:
    """dbt-duckdb's handle class, the object `Connection.handle` holds (never imports it)."""
    kind = getattr(
        sys.modules.get("dbt.adapters.duckdb.environments.local"), "DuckDBConnectionWrapper", None
    )
    return (kind,) if isinstance(kind, type) else ()


def _stray_candidates() -> Iterator[object]:
    """Every open psycopg2 connection, dbt-duckdb handle and TCP socket of this process,
    wherever it is held (never imports psycopg2 or dbt-duckdb)."""
    pg_kind = getattr(sys.modules.get("psycopg2.extensions"), "connection", None)
    duckdb_kinds = _duckdb_handle_kinds()
    kinds: tuple[type, ...] = (
        (socket.socket, pg_kind) if isinstance(pg_kind, type) else (socket.socket,)
    ) + duckdb_kinds
    for item in gc.get_objects():
        # By type alone: isinstance() would ask a proxy object for its __class__, which may raise.
        if not issubclass(type(item), kinds) or item in _SPARED:
            continue
        if isinstance(item, socket.socket):
            if item.family in (socket.AF_INET, socket.AF_INET6) and item.fileno() != -1:
                yield item
        elif duckdb_kinds and issubclass(type(item), duckdb_kinds):
            yield item  # a closed one: its interrupt() raises, and is ignored
        elif not getattr(item, "closed", 1):
            yield item


def _peer(sock: socket.socket) -> tuple[Any, ...] | None:
    """Where a TCP socket is connected to (host, port); None for anything else."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    try:
        return tuple(sock.getpeername()[:2])
    except OSError:
        return None


def _below(root: object) -> Iterator[object]:
    """`root` and the objects its attributes hold, breadth first, `_DEPTH` levels down."""
    seen: set[int] = set()
    level: list[object] = [root]
    for _ in range(_DEPTH + 1):
        below: list[object] = []
        for item in level:
            if id(item) in seen:
                continue
            seen.add(id(item))
            yield item
            if isinstance(item, socket.socket):
                continue
            attributes = getattr(item, "__dict__", None)
            if isinstance(attributes, dict):
                below.extend(
                    value
                    for value in list(attributes.values())
                    if not isinstance(value, (str, bytes, int, float, bool, type(None)))
                )
        level = below


def _handle_of(connection: object) -> object:
    """The connection's handle as stored: reading dbt's `Connection.handle` property would open
    a connection that is still lazy."""
    stored = getattr(connection, "__dict__", None)
    if not isinstance(stored, dict):
        return None
    handle = stored.get("_handle", stored.get("handle"))
    return None if type(handle).__name__ == "LazyHandle" else handle


def _registered_adapters() -> dict[Any, Any] | None:
    """dbt's adapter registry when dbt was loaded in this process (never imports it)."""
    factory = getattr(sys.modules.get("dbt.adapters.factory"), "FACTORY", None)
    adapters = getattr(factory, "adapters", None)
    return adapters if isinstance(adapters, dict) else None


def _thread_connections(adapter: object) -> dict[Any, Any]:
    # Without the manager's lock: the thread that cancels holds it while it waits.
    opened = getattr(getattr(adapter, "connections", None), "thread_connections", None)
    return opened if isinstance(opened, dict) else {}


def _open_connections() -> list[Any]:
    adapters = _registered_adapters() or {}
    return [c for a in list(adapters.values()) for c in list(_thread_connections(a).values())]


def sever_connections(
    connections: Callable[[], Iterable[Any]] = _open_connections,
    strays: Iterable[object] = (),
    peers: set[tuple[Any, ...]] | None = None,
) -> int:
    """Shut down every socket under dbt's open connections, and each TCP socket of `strays`
    (connections dbt's registry may have lost) connected to where one of them is, or to one of
    `peers` (which gets the places of dbt's sockets added); how many were shut down."""
    peers = set() if peers is None else peers
    cuts: dict[int, socket.socket] = {}
    for connection in connections():
        for sock in _sockets(_handle_of(connection)):
            peer = _peer(sock)
            if peer is not None:
                peers.add(peer)
            cuts.setdefault(id(sock), sock)
    for stray in strays:
        if isinstance(stray, socket.socket) and peers and _peer(stray) in peers:
            cuts.setdefault(id(stray), stray)
    severed = 0
    for sock in cuts.values():
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
            severed += 1
    return severed


def cancel_statements(
    connections: Callable[[], Iterable[Any]] = _open_connections,
    strays: Iterable[object] = (),
) -> int:
    """Cancel the running statement of every DuckDB or psycopg2 connection dbt holds, and of
    each of `strays` (connections dbt's registry may have lost) that has the DSN of one of them;
    how many connections were asked."""
    cancels: dict[int, Callable[[], object]] = {}
    dsns: set[str] = set()
    #: The dbt-duckdb environments (one per database) the handles of dbt's registry come from.
    environments: set[int] = set()
    for connection in connections():
        handle = _handle_of(connection)
        if handle is not None:
            environment = getattr(handle, "__dict__", {}).get("_env")
            if environment is not None:
                environments.add(id(environment))
            for owner, cancel in _cancellers(handle):
                cancels.setdefault(id(owner), cancel)
                dsns.add(str(getattr(owner, "dsn", "")))
    # Only a stray of the very profile dbt connects with (a lost connection has its twin in the
    # registry): another connection of the process, to somewhere else, is not etl-run's. On
    # DuckDB: a dbt-duckdb handle of the very environment (database) a handle of dbt's is from.
    for stray in strays:
        stray_env = getattr(stray, "__dict__", {}).get("_env") if environments else None
        if str(getattr(stray, "dsn", "")) in dsns - {""} or (
            stray_env is not None and id(stray_env) in environments
        ):
            for owner, cancel in _cancellers(stray):
                cancels.setdefault(id(owner), cancel)
    asked = 0
    for cancel in cancels.values():
        with contextlib.suppress(Exception):  # closed meanwhile: nothing runs on it
            cancel()
            asked += 1
    return asked


def forget_connections() -> int:
    """Drop dbt's adapters and their connections without closing them through the adapter.

    A cut connection cannot be closed the adapter's way (PyHive sends `CloseOperation` on it and
    raises), and dbt's `reset_adapters`, which every later dbt invocation of this process runs
    first, then raises before it clears anything: the runner's repair failed with "unexpected
    exception" every time (seen in CI). Marked closed and forgotten, they are skipped; the next
    invocation registers a fresh adapter. Returns how many connections were forgotten.
    """
    adapters = _registered_adapters()
    if adapters is None:
        return 0
    forgotten = 0
    for adapter in list(adapters.values()):
        opened = _thread_connections(adapter)
        for connection in list(opened.values()):
            for sock in _sockets(_handle_of(connection)):
                with contextlib.suppress(OSError):
                    sock.close()
            with contextlib.suppress(Exception):
                connection.state = "closed"
            forgotten += 1
        opened.clear()
    adapters.clear()
    return forgotten


class Severance:
    """After `start()`, cuts dbt's connections once `grace` seconds pass unless `cancel()`."""

    def __init__(
        self,
        grace: float = GRACE_SECONDS,
        connections: Callable[[], Iterable[Any]] = _open_connections,
        strays: Callable[[], Iterable[object]] = _stray_candidates,
    ) -> None:
        self._grace = grace
        self._connections = connections
        self._strays = strays
        self._stray_list: list[object] = []
        self._scanned_at = 0.0
        #: Where dbt's cut sockets were connected to: a lost socket to the same place is cut too.
        self._peers: set[tuple[Any, ...]] = set()
        self._cancelled = False
        self._forgotten = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._cut = threading.Event()
        self.severed = 0
        #: How many times a connection's running statement was cancelled after the grace.
        self.cancelled_statements = 0

    def start(self) -> None:
        """Count the grace period from now (once; later calls change nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._wait, name="etl-session-severance", daemon=True
            )
            self._thread.start()

    def cancel(self) -> None:
        """No cut from now on; waits for a cut under way (new connections are not touched).
        When a cut was made, dbt's cut connections are forgotten (`forget_connections`), so
        that the next dbt invocation of this process starts clean."""
        self._wake.set()
        with self._lock:
            self._cancelled = True
            self._stray_list = []
            if self.severed and not self._forgotten:
                self._forgotten = True
                forget_connections()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the grace period has passed and the cut, if one was due, is made (the
        statements are cancelled again after that, until `cancel()`)."""
        if self._thread is not None:
            self._cut.wait(timeout)

    def _wait(self) -> None:
        try:
            if not self._wake.wait(self._grace):
                self._cut_and_cancel()
        finally:
            self._cut.set()
        # A statement that was not running yet escaped the cancel: ask again until dbt returns.
        while not self._wake.wait(REPEAT_SECONDS):
            with self._lock:
                if self._cancelled:
                    return
                strays = self._current_strays()
                self.cancelled_statements += cancel_statements(self._connections, strays)
                if self._peers:
                    self.severed += sever_connections(lambda: (), strays, self._peers)

    def _current_strays(self) -> list[object]:
        """The psycopg2 connections and TCP sockets of the process, searched anew every
        STRAY_SCAN_SECONDS (held only between two scans: a closed one is skipped)."""
        now = time.monotonic()
        if now - self._scanned_at >= STRAY_SCAN_SECONDS:
            self._scanned_at = now
            try:
                self._stray_list = list(self._strays())
            except Exception:  # a scan that fails must not stop the cancel of what dbt holds
                self._stray_list = []
        return self._stray_list

    def _cut_and_cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            strays = self._current_strays()
            self.severed = sever_connections(self._connections, strays, self._peers)
            asked = cancel_statements(self._connections, strays)
            self.cancelled_statements += asked
            if self.severed:
                os.write(
                    2,
                    f"etl-session: dbt did not stop within {self._grace:g} s of the signal: "
                    f"shut down {self.severed} warehouse connection(s)\n".encode(),
                )
            if asked:
                os.write(
                    2,
                    f"etl-session: dbt did not stop within {self._grace:g} s of the signal: "
                    "cancelling its running statements until it does\n".encode(),
                )
