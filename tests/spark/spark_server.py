"""A real Spark Thrift server for the Spark tests, started from the installed pyspark.

pip's pyspark has no sbin/start-thriftserver.sh but ships the jar: spark-submit starts
HiveThriftServer2 with a temporary warehouse, Derby metastore and temp dirs, on a free port of
127.0.0.1. ETL_SESSION_TEST_SPARK_PORT points the tests at a server that already runs instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Seconds to wait for the server to listen (SPARK.md: 7-14 s on this machine kind).
START_TIMEOUT = float(os.environ.get("ETL_SESSION_TEST_SPARK_START_TIMEOUT", "180"))


@dataclass(frozen=True)
class SparkServer:
    host: str
    port: int
    #: The server's folder (warehouse, metastore, logs); None for a server this suite does not own.
    root: Path | None

    def env(self) -> dict[str, str]:
        """What the Spark profiles read."""
        return {"ETL_SPARK_HOST": self.host, "ETL_SPARK_PORT": str(self.port)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _spark_submit() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "bin" / "spark-submit"


def _command(root: Path, port: int) -> list[str]:
    tmp = root / "tmp"
    java_opts = f"-Dderby.system.home={root / 'derby'} -Djava.io.tmpdir={tmp}"
    conf = {
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.driver.extraJavaOptions": java_opts,
        "spark.ui.enabled": "false",
        "spark.local.dir": str(tmp),
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true"
        ),
    }
    command = [str(_spark_submit()), "--master", "local[2]", "--driver-memory", "2g"]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command += ["--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"]
    command += ["--name", "etl_session_tests", "spark-internal"]
    hiveconf = {
        "hive.server2.thrift.port": str(port),
        "hive.server2.thrift.bind.host": "127.0.0.1",
        "hive.exec.scratchdir": str(tmp / "hive"),
        "hive.exec.local.scratchdir": str(tmp / "hive-local"),
        "hive.downloaded.resources.dir": str(tmp / "resources"),
    }
    for key, value in hiveconf.items():
        command += ["--hiveconf", f"{key}={value}"]
    return command


@contextlib.contextmanager
def spark_server() -> Iterator[SparkServer]:
    """A Spark Thrift server for the duration of the block (or the one the environment names)."""
    given = os.environ.get("ETL_SESSION_TEST_SPARK_PORT")
    if given:
        yield SparkServer(os.environ.get("ETL_SESSION_TEST_SPARK_HOST", "127.0.0.1"), int(given), None)
        return
    root = Path(tempfile.mkdtemp(prefix="etl-spark-"))
    (root / "tmp").mkdir()
    port = _free_port()
    log = (root / "server.log").open("wb")
    env = dict(os.environ)
    env.pop("SPARK_HOME", None)
    env.update({"SPARK_LOG_DIR": str(root / "logs"), "SPARK_LOCAL_IP": "127.0.0.1"})
    process = subprocess.Popen(
        _command(root, port),
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening("127.0.0.1", port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"the Spark Thrift server exited with {process.returncode}: "
                    f"see {root / 'server.log'}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark Thrift server did not listen in {START_TIMEOUT} s")
            time.sleep(0.5)
        yield SparkServer("127.0.0.1", port, root)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        if not os.environ.get("ETL_SESSION_TEST_SPARK_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":  # a server for manual work: python tests/spark/spark_server.py
    with spark_server() as server:
        print(f"listening on {server.host}:{server.port} ({server.root})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
