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



_STAND_INS = {"pyspark.rdd", "pyspark.context", "pyspark.broadcast"}


class _ActivateRdds:
    """RDDs, `spark.sparkContext`, `df.rdd` (`ember_pyspark`, the package ember
    carries), activated once the program imports the Connect session (or asks for
    `pyspark.SparkContext`, `pyspark.rdd`...). Not at start-up: the Connect client
    cannot be imported while the interpreter starts (it looks for SPARK_HOME from
    sys.argv, which is not set yet)."""

    def find_spec(self, fullname, path=None, target=None):
        import importlib.util

        if fullname in _STAND_INS:
            if not _activate():
                return None
            module = sys.modules.get(fullname)
            return None if module is None else importlib.util.spec_from_loader(
                fullname, _Existing(module))
        if fullname != "pyspark.sql.connect.session":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _activate()

        spec.loader.exec_module = exec_module
        return spec

    def invalidate_caches(self):
        pass


class _Existing:
    """Loader of a module that is already built (ember_pyspark's stand-ins)."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


def _activate():
    try:
        import ember_pyspark

        ember_pyspark.activate()
        return True
    except Exception as e:  # noqa: BLE001 - the program runs without RDDs
        print(f"ember submit: RDD support not active: {e}", file=sys.stderr)
        return False


def _lazy_names():
    try:
        import pyspark
    except Exception:  # no pyspark client: ember submit reported that already
        return

    def lazy(name):
        if name in ("SparkContext", "RDD", "Broadcast") and _activate():
            return getattr(pyspark, name)
        raise AttributeError(f"module 'pyspark' has no attribute {name!r}")

    pyspark.__getattr__ = lazy


sys.meta_path.insert(0, _ActivateRdds())
_lazy_names()

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
