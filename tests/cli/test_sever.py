"""etl_session._sever on real sockets: a reader blocked on a connection nested the way PyHive
nests its socket wakes up when the grace period ends, and not when the load ended first."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import pytest

from etl_session._sever import Severance, _stray_candidates, sever_connections, spare


class _Holder:
    """Stands for dbt's Connection -> PyHive wrapper -> connection -> transport -> socket."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = "model.p.m"


def _connection(sock: socket.socket) -> Any:
    connection = _Holder(None)
    connection.handle = _Holder(_Holder(_Holder(sock)))  # type: ignore[attr-defined]
    return connection


def _blocked_reader(sock: socket.socket) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(sock.recv(16)), daemon=True)
    reader.start()
    time.sleep(0.2)
    assert reader.is_alive()  # blocked: the peer sends nothing
    return reader, got


def test_the_cut_wakes_a_reader_blocked_on_a_nested_socket() -> None:
    ours, peer = socket.socketpair()
    with ours, peer:
        reader, got = _blocked_reader(ours)
        severance = Severance(grace=0.3, connections=lambda: [_connection(ours)])
        started = time.monotonic()
        severance.start()
        reader.join(timeout=10)
        assert not reader.is_alive()
        assert got == [b""]  # the read ended, with nothing read
        assert time.monotonic() - started >= 0.3
        # The reader wakes while the cut is still counting (CI read 0 here once).
        severance.join(timeout=10)
        assert severance.severed == 1


def test_no_cut_once_cancelled() -> None:
    ours, peer = socket.socketpair()
    with ours, peer:
        reader, got = _blocked_reader(ours)
        severance = Severance(grace=0.3, connections=lambda: [_connection(ours)])
        severance.start()
        severance.cancel()
        time.sleep(0.8)
        assert reader.is_alive() and got == []
        assert severance.severed == 0
        peer.sendall(b"x")  # let the reader go
        reader.join(timeout=10)
        assert got == [b"x"]


def test_connections_without_a_python_socket_are_left_alone() -> None:
    assert sever_connections(lambda: [_Holder(object()), _Holder(None), object()]) == 0


def test_a_connection_not_opened_yet_is_not_opened_by_the_cut() -> None:
    from dbt.adapters.contracts.connection import Connection, LazyHandle

    opened: list[object] = []
    lazy = Connection(
        type="spark",
        name="model.p.lazy",
        credentials=None,  # type: ignore[arg-type]
        handle=LazyHandle(lambda connection: opened.append(connection) or connection),
    )
    assert sever_connections(lambda: [lazy]) == 0
    assert opened == []


def _duckdb_query_in_thread(
    conn: Any, delay: float
) -> tuple[threading.Thread, list[BaseException | int]]:
    """After `delay` seconds, a query that would run for minutes, on `conn`, in a thread."""
    outcome: list[BaseException | int] = []

    def run() -> None:
        time.sleep(delay)
        try:
            outcome.append(
                conn.execute("select sum(hash(range)) from range(200000000000)").fetchone()[0]
            )
        except BaseException as error:  # the interrupt is what is looked for
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_duckdb_statement_that_starts_after_the_grace_is_still_cancelled() -> None:
    """dbt's cancel (DuckDB's interrupt()) misses a statement that is not running yet; after the
    grace period the statements are cancelled again until the load ends, so one that starts
    late is stopped too. A real DuckDB connection nested as dbt-duckdb nests it."""
    import duckdb

    conn = duckdb.connect()
    try:
        connection = _Holder(None)
        connection.handle = _Holder(_Holder(conn.cursor()))  # type: ignore[attr-defined]
        cursor = connection.handle.inner.inner  # type: ignore[attr-defined]
        thread, outcome = _duckdb_query_in_thread(cursor, delay=1.0)  # starts after the grace
        severance = Severance(grace=0.2, connections=lambda: [connection])
        severance.start()
        thread.join(timeout=60)
        severance.cancel()
        assert not thread.is_alive(), "the statement was never cancelled"
        assert len(outcome) == 1 and isinstance(outcome[0], duckdb.InterruptException), outcome
        assert severance.cancelled_statements >= 2  # at the grace, then again once it ran
        assert severance.severed == 0  # nothing to cut: the connection stays usable
        assert cursor.execute("select 42").fetchone() == (42,)
    finally:
        conn.close()


def test_no_statement_is_cancelled_once_the_load_ended() -> None:
    import duckdb

    conn = duckdb.connect()
    try:
        connection = _Holder(None)
        connection.handle = _Holder(conn.cursor())  # type: ignore[attr-defined]
        severance = Severance(grace=0.2, connections=lambda: [connection])
        severance.start()
        severance.cancel()  # dbt returned within the grace
        thread, outcome = _duckdb_query_in_thread(
            connection.handle.inner,
            delay=0.0,  # type: ignore[attr-defined]
        )
        time.sleep(1.5)
        assert thread.is_alive() and outcome == []  # still running: nobody cancelled it
        assert severance.cancelled_statements == 0
        connection.handle.inner.interrupt()  # type: ignore[attr-defined]
        thread.join(timeout=60)
        assert isinstance(outcome[0], duckdb.InterruptException)
    finally:
        conn.close()


class _BustedHandle:
    """A cut PyHive connection: closing it the adapter's way raises."""

    def __init__(self, sock: socket.socket) -> None:
        self.transport = _Holder(sock)

    def close(self) -> None:
        raise OSError("unexpected exception")


def test_cut_connections_are_forgotten_so_the_next_dbt_invocation_starts_clean() -> None:
    """The CI failure behind forget_connections: dbt's reset_adapters closed the cut connection
    first, that raised, and every later invocation (the runner's repair) failed the same way."""
    from dbt.adapters.contracts.connection import Connection, ConnectionState
    from dbt.adapters.factory import FACTORY, reset_adapters

    ours, peer = socket.socketpair()
    with ours, peer:
        connection = Connection(
            type="spark",
            name="model.p.m",
            credentials=None,  # type: ignore[arg-type]
            state=ConnectionState.OPEN,
            handle=_BustedHandle(ours),
        )

        class _Manager:
            def __init__(self) -> None:
                self.thread_connections = {1: connection}

            def cleanup_all(self) -> None:
                for opened in self.thread_connections.values():
                    if opened.state not in {ConnectionState.CLOSED, ConnectionState.INIT}:
                        opened.handle.close()
                self.thread_connections.clear()

        class _Adapter:
            connections = _Manager()

            def cleanup_connections(self) -> None:
                self.connections.cleanup_all()

        FACTORY.adapters["etl_session_test"] = _Adapter()  # type: ignore[assignment]
        try:
            severance = Severance(grace=0, connections=lambda: [connection])
            severance.start()
            deadline = time.monotonic() + 10
            while severance.severed == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert severance.severed == 1
            severance.cancel()
            assert "etl_session_test" not in FACTORY.adapters
            assert connection.state == ConnectionState.CLOSED
            assert ours.fileno() == -1  # its socket is closed too
            reset_adapters()  # what the next invocation runs first: no error now
        finally:
            FACTORY.adapters.pop("etl_session_test", None)


def test_ctrl_c_starts_the_grace_period_and_its_handler_is_given_back() -> None:
    import signal

    from etl_session.session import _Interrupts

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ours, peer = socket.socketpair()
    with ours, peer:
        interrupts = _Interrupts(grace=0)
        interrupts._severance = Severance(grace=0, connections=lambda: [_connection(ours)])
        with interrupts:
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass
            else:
                raise AssertionError("Ctrl-C no longer raises KeyboardInterrupt")
            interrupts._severance.join(timeout=10)
            assert interrupts._severance.severed == 1
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    # A Ctrl-C handler someone else installed is theirs: left alone.
    def custom(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGINT, custom)
    try:
        with _Interrupts(grace=0):
            assert signal.getsignal(signal.SIGINT) is custom
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_postgres_connection_lost_in_dbts_lazy_open_race_is_still_cancelled(pg: Any) -> None:
    """Seen in CI (`test_sigterm_before_the_query_starts_still_stops_it[postgres]`): etl-run
    still running 90 s after SIGTERM, `pg_sleep(600)` active. dbt opens a connection lazily on
    the first read of `Connection.handle`, without a lock; on Ctrl-C/SIGTERM its cancel reads
    the handle of every thread's connection. When the model thread opens its connection at that
    very moment, both threads open one: the model thread runs its statement on its own, dbt's
    registry keeps the other one (and dbt's cancel ends that one). The statement's connection is
    held by nothing but the model thread, so cancelling what the registry holds never reaches
    it. Reproduced here with dbt's own Connection and LazyHandle, on a real PostgreSQL server.
    A connection of the process to somewhere else (another DSN) is not etl-run's: left alone."""
    import psycopg2
    from dbt.adapters.contracts.connection import Connection, LazyHandle

    both_opening = threading.Barrier(2, timeout=30)
    model_thread_started = threading.Event()

    def opener(connection: Connection) -> Connection:
        handle = pg.connect()
        both_opening.wait()  # both threads hold a fresh connection before either stores it
        if threading.current_thread() is threading.main_thread():
            # The order of the race that loses one: the model thread stores its connection and
            # takes it, then dbt's cancel stores its own over it.
            model_thread_started.wait(30)
        connection.handle = handle
        return connection

    connection = Connection(type="postgres", name="model.p.slow", credentials=None)  # type: ignore[arg-type]
    connection.handle = LazyHandle(opener)
    outcome: list[object] = []
    got: list[Any] = []

    def model_thread() -> None:
        handle = connection.handle  # opens: the model's first statement
        got.append(handle)
        model_thread_started.set()
        time.sleep(1.0)  # compiles on: the statement starts after the grace period
        try:
            handle.cursor().execute("select pg_sleep(600)")
            outcome.append("ran to its end")
        except psycopg2.Error as error:
            outcome.append(error)

    elsewhere = psycopg2.connect(
        host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.dbname,
        application_name="not-dbt",
    )  # fmt: skip
    elsewhere_outcome: list[object] = []

    def someone_elses_statement() -> None:
        try:
            elsewhere.cursor().execute("select pg_sleep(4)")
            elsewhere_outcome.append("ran to its end")
        except psycopg2.Error as error:
            elsewhere_outcome.append(error)

    other = threading.Thread(target=someone_elses_statement, daemon=True)
    other.start()
    thread = threading.Thread(target=model_thread, daemon=True)
    thread.start()
    seen_by_cancel = connection.handle  # dbt's cancel, in the main thread, at the same time
    try:
        registered = connection.__dict__["_handle"]
        assert registered is seen_by_cancel and got[0] is not registered  # the race happened
        registered.close()  # what dbt's cancel does to the one it knows (pg_terminate_backend)
        severance = Severance(grace=0.2, connections=lambda: [connection])
        severance.start()
        thread.join(timeout=20)
        severance.cancel()
        assert not thread.is_alive(), "the statement on the connection dbt lost was never cancelled"
        assert len(outcome) == 1 and isinstance(outcome[0], psycopg2.errors.QueryCanceled), outcome
        other.join(timeout=30)
        assert elsewhere_outcome == ["ran to its end"]
        assert severance.cancelled_statements >= 2
    finally:
        elsewhere.close()
        for handle in (got[0] if got else None, seen_by_cancel):
            if handle is not None and not handle.closed:
                handle.cancel()
                handle.close()


def test_a_thrift_socket_lost_the_same_way_is_cut_with_the_ones_dbt_holds() -> None:
    """dbt-spark's connections open lazily too: a model thread that opens its connection while
    dbt's cancel reads the handle keeps a connection the registry does not hold, and polls its
    statement on it. The cut also shuts down every TCP socket of the process connected to where
    a cut socket of dbt's was; a socket to another server is left alone, and so is the runner's
    own liveness connection to the same server (`spare`). Real TCP sockets."""
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_server(("127.0.0.1", 0)) as elsewhere_server,
    ):
        registered = socket.create_connection(server.getsockname())
        lost = socket.create_connection(server.getsockname())  # held by nothing dbt knows
        hold = socket.create_connection(server.getsockname())  # the liveness heartbeat's
        spare(_Holder(_Holder(hold)))
        elsewhere = socket.create_connection(elsewhere_server.getsockname())
        accepted = [server.accept()[0] for _ in range(3)] + [elsewhere_server.accept()[0]]
        try:
            lost_reader, lost_got = _blocked_reader(lost)
            hold_reader, hold_got = _blocked_reader(hold)
            elsewhere_reader, elsewhere_got = _blocked_reader(elsewhere)
            severance = Severance(grace=0.3, connections=lambda: [_connection(registered)])
            severance.start()
            lost_reader.join(timeout=10)
            assert not lost_reader.is_alive(), "the socket dbt lost was never cut"
            assert lost_got == [b""]
            severance.join(timeout=10)
            time.sleep(1.5)  # the repeated scans run meanwhile
            assert elsewhere_reader.is_alive() and elsewhere_got == []
            assert hold_reader.is_alive() and hold_got == []
            severance.cancel()
            assert severance.severed >= 2
            for sock in accepted:
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")  # let the readers still blocked go
            elsewhere_reader.join(timeout=10)
            hold_reader.join(timeout=10)
            assert elsewhere_got == [b"x"] and hold_got == [b"x"]
        finally:
            for sock in (registered, lost, hold, elsewhere, *accepted):
                sock.close()


def test_the_search_for_lost_connections_survives_an_object_that_lies_about_its_class() -> None:
    """The search walks every object of the process, an orchestrator's too: a proxy whose
    `__class__` raises (as werkzeug's LocalProxy does outside its context) must not stop it."""

    class Proxy:
        @property  # type: ignore[misc]
        def __class__(self) -> type:
            raise RuntimeError("working outside of application context")

    proxy = Proxy()
    with pytest.raises(RuntimeError):
        isinstance(proxy, socket.socket)  # what the search must not do
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as sock,
    ):
        found = list(_stray_candidates())
        assert any(item is sock for item in found)
        assert not any(item is proxy for item in found)


def test_a_duckdb_connection_lost_in_dbts_lazy_open_race_is_still_cancelled(tmp_path: Any) -> None:
    """dbt-duckdb's `open()` tests `connection.state` before it takes its lock: when dbt's cancel
    (main thread) reads `Connection.handle` while the model thread opens it, both open a DuckDB
    cursor, the registry keeps the cancel's, the model thread runs its statement on its own.
    Reproduced with dbt's Connection and LazyHandle and dbt-duckdb's own open()."""
    import duckdb
    from dbt.adapters.contracts.connection import Connection, LazyHandle
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments import local

    model_opening = threading.Event()
    original = local.LocalEnvironment.handle

    def handle(self: Any) -> Any:
        opened = original(self)
        if threading.current_thread().name == "model":
            model_opening.set()
            time.sleep(0.3)  # the model thread's open is slow: the cancel's read lands in it
        return opened

    credentials = DuckDBCredentials(path=str(tmp_path / "w.duckdb"), database="w", schema="main")
    connection = Connection(type="duckdb", name="model.p.slow", credentials=credentials)
    connection.handle = LazyHandle(DuckDBConnectionManager.open)
    got: list[Any] = []
    saved_env = DuckDBConnectionManager._ENV
    local.LocalEnvironment.handle = handle  # type: ignore[method-assign]
    # the model thread's first statement opens its connection
    opener = threading.Thread(target=lambda: got.append(connection.handle), name="model")
    thread: threading.Thread | None = None
    try:
        opener.start()
        assert model_opening.wait(30)
        seen_by_cancel = connection.handle  # dbt's cancel, in the main thread, at the same time
        seen_by_cancel.cursor().interrupt()  # what dbt-duckdb's cancel does: nothing runs yet
        opener.join(30)
        assert connection.__dict__["_handle"] is seen_by_cancel and got[0] is not seen_by_cancel
        # the model compiles on: its statement starts after the grace period, on its own cursor
        thread, outcome = _duckdb_query_in_thread(got[0].cursor(), delay=1.0)
        severance = Severance(grace=0.2, connections=lambda: [connection])
        severance.start()
        thread.join(timeout=20)
        severance.cancel()
        assert not thread.is_alive(), "the statement on the connection dbt lost was never cancelled"
        assert len(outcome) == 1 and isinstance(outcome[0], duckdb.InterruptException), outcome
    finally:
        local.LocalEnvironment.handle = original  # type: ignore[method-assign]
        if thread is not None and thread.is_alive():
            got[0].cursor().interrupt()
            thread.join(10)
        DuckDBConnectionManager._ENV = saved_env
