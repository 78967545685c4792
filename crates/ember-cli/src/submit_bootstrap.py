"""sitecustomize for programs run by `ember submit` (put first on PYTHONPATH).

It activates `ember_pyspark` (RDDs and `spark.sparkContext` over Spark Connect).

The stock pyspark-client refuses `SparkSession.builder.master(...)` whenever
SPARK_REMOTE is set (CANNOT_CONFIGURE_SPARK_CONNECT_MASTER), while spark-submit runs
such programs: `--master` on the command line wins and the builder's master is
ignored. This keeps the client's other checks and only leaves `spark.master` out of
that one (the server records it and ignores it, as Spark does for a running
session). Any other sitecustomize on the path is loaded afterwards.
"""
import importlib
import os
import sys


def _allow_master():
    try:
        from pyspark.sql.session import SparkSession
    except Exception:  # no pyspark client: ember submit reported that already
        return
    builder = SparkSession.Builder
    original = builder._validate_startup_urls

    def validate(self):
        master = self._options.pop("spark.master", None)
        try:
            original(self)
        finally:
            if master is not None:
                self._options["spark.master"] = master

    builder._validate_startup_urls = validate


_allow_master()

# RDDs, `spark.sparkContext`, `df.rdd` (the package ember carries; see its docs).
try:
    import ember_pyspark  # noqa: F401  (activates on import)
except ImportError:  # no pyspark client: ember submit reported that already
    pass

_here = os.path.dirname(os.path.abspath(__file__))
_rest = [p for p in sys.path if os.path.abspath(p or ".") != _here]
# The import machinery takes this module back out of sys.modules once this file has
# run, so an entry must be there then: another sitecustomize when one loads, else this.
_self = sys.modules.pop("sitecustomize", None)
_saved, sys.path[:] = sys.path[:], _rest
try:
    importlib.import_module("sitecustomize")
except ImportError:
    pass
finally:
    sys.path[:] = _saved
    if "sitecustomize" not in sys.modules and _self is not None:
        sys.modules["sitecustomize"] = _self
