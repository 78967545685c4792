"""RDDs and SparkContext for PySpark programs on ember, through the stock Spark
Connect client (``pyspark-client``).

``import ember_pyspark`` (done for you by ``ember submit``) makes a Connect
``SparkSession`` behave as a classic one for RDD programs:

- ``spark.sparkContext`` and ``SparkContext.getOrCreate()`` / ``SparkContext(conf=...)``
  give an :class:`~ember_pyspark.context.SparkContext`;
- ``DataFrame.rdd`` gives an RDD of :class:`~pyspark.sql.Row`;
- ``spark.createDataFrame(rdd, schema)`` and ``rdd.toDF()`` make DataFrames of RDDs;
- ``from pyspark import SparkContext, RDD, Broadcast`` and ``pyspark.rdd.portable_hash``
  resolve.

Every transformation runs in ember's Python workers (see :mod:`ember_pyspark.rdd`).
"""

import os
import sys
import types

from ember_pyspark.context import Broadcast, SparkContext
from ember_pyspark.rdd import RDD, Partitioner, portable_hash

__all__ = ["activate", "SparkContext", "RDD", "Broadcast", "Partitioner", "portable_hash"]

_active = False


def activate():
    """Installs the RDD API into the Spark Connect client (idempotent)."""
    global _active
    if _active:
        return
    import pyspark
    from pyspark.sql.connect.dataframe import DataFrame
    from pyspark.sql.connect.session import SparkSession

    SparkSession.sparkContext = property(
        SparkContext._of, doc="The SparkContext of this session (ember_pyspark).")

    def rdd(self):
        return RDD(SparkContext._of(self.sparkSession), self, "rows", schema=self.schema)

    DataFrame.rdd = property(rdd, doc="The rows as an RDD of Row (ember_pyspark).")

    original = SparkSession.createDataFrame

    def createDataFrame(self, data, schema=None, samplingRatio=None, *args, **kwargs):
        if isinstance(data, RDD):
            from ember_pyspark.convert import rdd_to_dataframe

            return rdd_to_dataframe(self, data, schema, samplingRatio)
        return original(self, data, schema, samplingRatio, *args, **kwargs)

    createDataFrame.__doc__ = original.__doc__
    SparkSession.createDataFrame = createDataFrame

    for name, value in (("SparkContext", SparkContext), ("RDD", RDD),
                        ("Broadcast", Broadcast)):
        setattr(pyspark, name, value)
    _module("pyspark.rdd", RDD=RDD, portable_hash=portable_hash, Partitioner=Partitioner)
    _module("pyspark.context", SparkContext=SparkContext)
    _module("pyspark.broadcast", Broadcast=Broadcast)
    _active = True


def _module(name, **attrs):
    if name in sys.modules:
        mod = sys.modules[name]
    else:
        mod = types.ModuleType(name, "ember_pyspark's stand-in for PySpark's %s" % name)
        sys.modules[name] = mod
    for k, v in attrs.items():
        setattr(mod, k, v)


if not os.environ.get("EMBER_PYTHON_WORKER"):  # ember's workers only run tasks
    try:
        activate()
    except ImportError:  # no Spark Connect client in this Python
        pass
