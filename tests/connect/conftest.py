"""Fixtures for the Spark Connect conformance suite: an `ember connect` server on a
free loopback port (started once per test session, stopped at the end) and PySpark
sessions connected to it through the stock `pyspark-client`."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """`shared/` beside the project root or any of its ancestors (the project lives at
    `<work>/main` with `<work>/shared` beside it), else `/work/shared`."""
    for d in [ROOT, *ROOT.parents]:
        if (d / "shared" / "golden" / "VIEWS.sql").exists():
            return d / "shared"
    return Path("/work/shared")


SHARED = shared_dir()
GOLDEN = SHARED / "golden"
DATA = SHARED / "data"


def ember_binary() -> str:
    """The ember binary: $EMBER_BIN, else the debug build in the target dir."""
    if os.environ.get("EMBER_BIN"):
        return os.environ["EMBER_BIN"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "debug" / "ember")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `ember connect`."""

    def __init__(self, *conf: str, master: str = "local[2]"):
        self.port = free_port()
        args = [ember_binary(), "connect", "--port", str(self.port), "--master", master]
        # A fresh warehouse per server, as a new Spark installation has: tables that
        # tests and doctests save (`saveAsTable`) neither leak into the repository nor
        # exist already on the next run.
        self.warehouse = tempfile.mkdtemp(prefix="ember-warehouse-")
        defaults = (
            "spark.sql.session.timeZone=UTC",
            "spark.sql.shuffle.partitions=4",
            f"spark.sql.warehouse.dir={self.warehouse}/spark-warehouse",
        )
        for c in defaults + conf:
            args += ["--conf", c]
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"ember-connect-{self.port}.log", "w+")
        env = dict(os.environ)
        # Python UDF workers: this interpreter has pyspark-client and pyarrow.
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"ember connect exited: {self.log.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("ember connect did not start listening within 60 s")

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.warehouse, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    s = Server("spark.connect.execute.manager.detachedTimeout=2s")
    yield s
    s.stop()


def new_session(url: str):
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(url).create()


@pytest.fixture(scope="session")
def spark(server):
    s = new_session(server.url)
    yield s
    s.stop()


def register_views(spark):
    """Runs ../shared/golden/VIEWS.sql with ${DATA} bound."""
    text = (GOLDEN / "VIEWS.sql").read_text().replace("${DATA}", str(DATA))
    for stmt in text.split(";\n"):
        if stmt.strip():
            spark.sql(stmt)
