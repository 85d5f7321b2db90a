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
import sys
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


def _listens_in_group(group: int, port: int) -> bool:
    """Whether the socket listening on `port` belongs to process group `group` (the server's),
    not to a process that took the port meanwhile. True where /proc cannot tell (not Linux)."""
    try:
        tables = [Path(f"/proc/net/{name}").read_text() for name in ("tcp", "tcp6")]
    except OSError:
        return True
    sockets = set()
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()  # sl local_address rem_address st ... inode
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                sockets.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) != group:
                continue
            descriptors = Path(f"/proc/{pid}/fd")
            if any(os.readlink(fd) in sockets for fd in descriptors.iterdir()):
                return True
        except OSError:  # the process ended meanwhile
            continue
    return False


def _spark_submit() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "bin" / "spark-submit"


#: pip's pyspark 4 has no hive-llap-common jar, yet Hive's FunctionRegistry needs one of its
#: interfaces when it first loads; the Thrift server loads it when it closes a session on a
#: worker thread without a Hive client (after a client was killed, say), and from then on every
#: session close fails (NoClassDefFoundError: LlapSigner$Signable), failing dbt's models. The
#: interface's shape is all the JVM needs: compiled into a jar on the driver's class path.
LLAP_STUB = """package org.apache.hadoop.hive.llap.security;

public interface LlapSigner {
    interface Signable {
        void setSignInfo(int masterKeyId);
        byte[] serialize() throws java.io.IOException;
    }
    class SignedMessage {
        public byte[] message;
        public byte[] signature;
    }
}
"""


def _llap_stub(root: Path) -> Path | None:
    """The stub jar, or None without a JDK (then a killed client can break the server)."""
    javac, jar = shutil.which("javac"), shutil.which("jar")
    if javac is None or jar is None:
        return None
    source = root / "llap-stub" / "org" / "apache" / "hadoop" / "hive" / "llap" / "security"
    source.mkdir(parents=True)
    (source / "LlapSigner.java").write_text(LLAP_STUB)
    classes = root / "llap-stub-classes"
    subprocess.run(
        [javac, "-d", str(classes), str(source / "LlapSigner.java")], check=True, timeout=120
    )
    subprocess.run(
        [jar, "cf", str(root / "llap-stub.jar"), "-C", str(classes), "org"], check=True, timeout=60
    )
    return root / "llap-stub.jar"


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
    stub = _llap_stub(root)
    if stub is not None:
        command += ["--driver-class-path", str(stub)]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command += ["--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"]
    command += ["--name", "etl_session_tests", "spark-internal"]
    hiveconf = {
        "hive.server2.thrift.port": str(port),
        "hive.server2.thrift.bind.host": "127.0.0.1",
        # Per-session folders go under it; the local ones default to java.io.tmpdir (above). A
        # fixed hive.downloaded.resources.dir would be shared, and deleted by every session that
        # closes while another opens ("Couldn't create directory .../resources").
        "hive.exec.scratchdir": str(tmp / "hive"),
    }
    for key, value in hiveconf.items():
        command += ["--hiveconf", f"{key}={value}"]
    return command


#: Starts on a fresh port when the one `_free_port` found was taken before the server bound it.
PORT_TRIES = 5


class _PortTaken(Exception):
    """Another process took the port before the server bound it."""


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _remove(root: Path) -> None:
    if not os.environ.get("ETL_SESSION_TEST_SPARK_KEEP"):
        shutil.rmtree(root, ignore_errors=True)


def _start(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The server in `root`, listening on a free port of 127.0.0.1: its process and port."""
    (root / "tmp").mkdir()
    port = _free_port()
    env = dict(os.environ)
    env.pop("SPARK_HOME", None)
    env.update({"SPARK_LOG_DIR": str(root / "logs"), "SPARK_LOCAL_IP": "127.0.0.1"})
    with (root / "server.log").open("wb") as log:
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
        # Someone else's listener on the port does not count: the server fails to bind it.
        while not (_listening("127.0.0.1", port) and _listens_in_group(process.pid, port)):
            if process.poll() is not None:
                text = (root / "server.log").read_bytes()
                if b"Address already in use" in text or b"Could not create ServerSocket" in text:
                    raise _PortTaken(port)
                raise RuntimeError(
                    f"the Spark Thrift server exited with {process.returncode}: "
                    f"see {root / 'server.log'}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark Thrift server did not listen in {START_TIMEOUT} s")
            time.sleep(0.5)
    except BaseException:
        _stop(process)
        raise
    return process, port


@contextlib.contextmanager
def spark_server() -> Iterator[SparkServer]:
    """A Spark Thrift server for the duration of the block (or the one the environment names)."""
    given = os.environ.get("ETL_SESSION_TEST_SPARK_PORT")
    if given:
        host = os.environ.get("ETL_SESSION_TEST_SPARK_HOST", "127.0.0.1")
        yield SparkServer(host, int(given), None)
        return
    for attempt in range(1, PORT_TRIES + 1):
        root = Path(tempfile.mkdtemp(prefix="etl-spark-"))
        try:
            process, port = _start(root)
            break
        except _PortTaken:
            _remove(root)  # a fresh folder too: the metastore of a server that never served
            if attempt == PORT_TRIES:
                raise RuntimeError(
                    f"the Spark Thrift server found its port taken {PORT_TRIES} times"
                ) from None
        except BaseException:
            _remove(root)
            raise
    try:
        yield SparkServer("127.0.0.1", port, root)
    finally:
        _stop(process)
        _remove(root)


if __name__ == "__main__":  # a server for manual work: python tests/spark/spark_server.py
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on kill too
    with spark_server() as server:
        print(f"listening on {server.host}:{server.port} ({server.root})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
