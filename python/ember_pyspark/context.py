"""PySpark's SparkContext over a Spark Connect session, for RDD programs run by ember.

``spark.sparkContext`` (and ``SparkContext.getOrCreate()``) give a :class:`SparkContext`
bound to the Connect session: it creates RDDs whose work runs in ember
(:mod:`ember_pyspark.rdd`), broadcasts values, keeps accumulators (their updates
come back with each action's results) and answers the context's questions
(``defaultParallelism``, ``applicationId``, ``getConf``...) from the session's
configuration.
"""

import getpass
import itertools
import os
import sys
import threading
import time

from ember_pyspark import tasks
from ember_pyspark.rdd import RDD

__all__ = ["SparkContext", "Broadcast"]


class Broadcast:
    """A read-only value shipped with the functions that use it (PySpark's
    ``Broadcast``: ``value``, ``unpersist``, ``destroy``)."""

    def __init__(self, sc=None, value=None):
        self._value = value
        self._destroyed = False

    @property
    def value(self):
        """The broadcast value."""
        if self._destroyed:
            raise RuntimeError("Attempted to use broadcast variable after it was destroyed")
        return self._value

    def unpersist(self, blocking=False):
        """Nothing to drop: the value travels with each task's function."""

    def destroy(self, blocking=False):
        """Forbids later use of the value on the driver."""
        self._destroyed = True

    def __reduce__(self):
        if self._destroyed:
            raise RuntimeError("Attempted to use broadcast variable after it was destroyed")
        return (_rebuild_broadcast, (self._value,))


def _rebuild_broadcast(value):
    return Broadcast(None, value)


class SparkContext:
    """The entry point to RDDs (PySpark's ``SparkContext``) of a Spark Connect
    session. ``SparkContext(conf=...)`` and ``getOrCreate()`` use the active
    session (built with the conf's settings when there is none)."""

    _active = None
    _lock = threading.RLock()

    def __init__(self, master=None, appName=None, sparkHome=None, pyFiles=None,
                 environment=None, batchSize=0, serializer=None, conf=None,
                 gateway=None, jsc=None, profiler_cls=None, udf_profiler_cls=None,
                 memory_profiler_cls=None, session=None):
        if session is None:
            from pyspark.sql import SparkSession

            builder = SparkSession.builder
            if appName:
                builder = builder.appName(appName)
            if conf is not None:
                for k, v in conf.getAll():
                    if k != "spark.master":
                        builder = builder.config(k, v)
            session = builder.getOrCreate()
        self._session = session
        self._batchSize = batchSize
        self.environment = dict(environment or {})
        self._checkpoint_dir = None
        self._rdd_ids = itertools.count(1)
        self._accumulator_ids = itertools.count(0)
        self._start_time = int(time.time() * 1000)
        self._parallelism = None
        self._local_properties = {}
        self.pythonExec = os.environ.get("PYSPARK_PYTHON", "python3")
        self.pythonVer = "%d.%d" % sys.version_info[:2]
        with SparkContext._lock:
            SparkContext._active = self
        session._ember_spark_context = self

    @classmethod
    def getOrCreate(cls, conf=None):
        """The active context, or a new one on the active session."""
        with cls._lock:
            if cls._active is None or cls._active._session_stopped():
                cls(conf=conf)
            return cls._active

    @classmethod
    def _of(cls, session):
        sc = getattr(session, "_ember_spark_context", None)
        if sc is None:
            sc = cls(session=session)
        return sc

    def _session_stopped(self):
        return bool(getattr(self._session, "is_stopped", False))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return "<SparkContext master=%s appName=%s>" % (self.master, self.appName)

    # ---- internals -------------------------------------------------------------
    def _next_rdd_id(self):
        return next(self._rdd_ids)

    def _conf(self, key, default=None):
        try:
            return self._session.conf.get(key, default)
        except Exception:
            return default

    def _conf_default_parallelism(self):
        v = self._conf("spark.default.parallelism")
        return int(v) if v not in (None, "") and str(v).isdigit() else None

    def _apply_updates(self, updates):
        """Adds accumulator updates collected from tasks (see ``tasks``)."""
        from pyspark.accumulators import _accumulatorRegistry

        for batch in updates:
            for aid, values in batch.items():
                acc = _accumulatorRegistry.get(aid)
                if acc is None:
                    continue
                for v in values:
                    acc._value = acc.accum_param.addInPlace(acc._value, v)

    def _pickled_df(self, slices):
        """A DataFrame of pickled records, partition ``i`` holding ``slices[i]``."""
        import pyarrow as pa

        pids, data = [], []
        for i, part in enumerate(slices):
            for chunk in tasks._chunks(part):
                pids.append(i)
                data.append(tasks.dumps((tasks.DATA, chunk)))
        table = pa.Table.from_arrays(
            [pa.array(pids, pa.int32()), pa.array(data, pa.binary())],
            schema=tasks.SHUFFLED)
        from pyspark.sql.types import BinaryType, IntegerType, StructField, StructType

        schema = StructType([StructField("pid", IntegerType()), StructField("data", BinaryType())])
        df = self._session.createDataFrame(table, schema=schema)
        return df.repartitionById(max(len(slices), 1), "pid").select("data")

    # ---- properties ------------------------------------------------------------
    @property
    def defaultParallelism(self):
        """``spark.default.parallelism``, else the number of partitions ember gives
        ``spark.range`` (the cores of ``local[*]``, ``n`` of ``local[n]``)."""
        if self._parallelism is None:
            v = self._conf_default_parallelism()
            if v is None:
                v = RDD(self, self._session.range(0, 1), "rows").getNumPartitions()
            self._parallelism = v
        return self._parallelism

    @property
    def defaultMinPartitions(self):
        """``min(defaultParallelism, 2)``, as Spark."""
        return min(self.defaultParallelism, 2)

    @property
    def version(self):
        """The Spark version ember reports."""
        return self._session.version

    @property
    def applicationId(self):
        """``spark.app.id`` (``local-<start ms>`` when the server sets none)."""
        return self._conf("spark.app.id") or "local-%d" % self._start_time

    @property
    def appName(self):
        """``spark.app.name``."""
        return self._conf("spark.app.name")

    @property
    def master(self):
        """``spark.master``."""
        return self._conf("spark.master") or "local[*]"

    @property
    def startTime(self):
        """When this context was created, in ms since the epoch."""
        return self._start_time

    @property
    def uiWebUrl(self):
        """The web UI's address (``spark.ui.url`` when ember serves one)."""
        return self._conf("spark.ui.url")

    @property
    def resources(self):
        """No custom resources."""
        return {}

    def sparkUser(self):
        """The user running the program."""
        return getpass.getuser()

    def getConf(self):
        """A copy of the session's settings as a ``SparkConf``."""
        from pyspark.conf import SparkConf

        conf = SparkConf(loadDefaults=False)
        try:
            items = self._session.conf.getAll
            items = items() if callable(items) else items
        except Exception:
            items = {}
        for k, v in dict(items).items():
            conf.set(k, v)
        return conf

    def setLogLevel(self, logLevel):
        """Accepted as Spark does (ember's log level is set with RUST_LOG)."""
        valid = {"ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN"}
        if str(logLevel).upper() not in valid:
            raise ValueError(
                "Supplied level %s did not match one of: %s" % (logLevel, ",".join(sorted(valid))))

    def setCheckpointDir(self, dirName):
        """Where ``RDD.checkpoint`` may keep data (ember keeps it in memory/disk)."""
        self._checkpoint_dir = dirName

    def getCheckpointDir(self):
        """The directory set by :meth:`setCheckpointDir`, or None."""
        return self._checkpoint_dir

    def setJobGroup(self, groupId, description, interruptOnCancel=False):
        """Recorded as local properties."""
        self._local_properties["spark.jobGroup.id"] = groupId
        self._local_properties["spark.job.description"] = description

    def setJobDescription(self, value):
        """Recorded as a local property."""
        self._local_properties["spark.job.description"] = value

    def setLocalProperty(self, key, value):
        """Sets a local property (None removes it)."""
        if value is None:
            self._local_properties.pop(key, None)
        else:
            self._local_properties[key] = value

    def getLocalProperty(self, key):
        """A local property, or None."""
        return self._local_properties.get(key)

    def setInterruptOnCancel(self, interruptOnCancel):
        """Accepted."""

    def cancelJobGroup(self, groupId):
        """Interrupts the session's running operations."""
        self._session.interruptAll()

    def cancelAllJobs(self):
        """Interrupts the session's running operations."""
        self._session.interruptAll()

    def addFile(self, path, recursive=False):
        """Ships a file to the workers (a session artifact)."""
        self._session.addArtifacts(path, file=True)

    def addPyFile(self, path):
        """Ships a .py, .zip or .egg to the workers' import path."""
        self._session.addArtifacts(path, pyfile=True)

    def addArchive(self, path):
        """Ships an archive to the workers."""
        self._session.addArtifacts(path, archive=True)

    def stop(self):
        """Stops the session."""
        with SparkContext._lock:
            if SparkContext._active is self:
                SparkContext._active = None
        self._session.stop()

    # ---- RDD sources -----------------------------------------------------------
    def parallelize(self, c, numSlices=None):
        """An RDD of a local collection in ``numSlices`` partitions (default
        ``defaultParallelism``) sliced as PySpark slices: a ``range`` evenly, any
        other collection in batches of ``max(1, min(len // numSlices, 1024))``
        items dealt by Spark's ``ParallelCollectionRDD`` positions."""
        n = int(numSlices) if numSlices is not None else self.defaultParallelism
        if n <= 0:
            raise ValueError("Number of partitions (%s) must be positive." % n)
        if isinstance(c, range):
            size = len(c)
            if size == 0:
                return self.parallelize([], n)
            step = c[1] - c[0] if size > 1 else 1
            start0 = c[0]

            def get_start(split):
                return start0 + int((split * size / n)) * step

            def f(split, iterator):
                return range(get_start(split), get_start(split + 1), step)

            return self.parallelize([], n).mapPartitionsWithIndex(f)
        if not hasattr(c, "__len__"):
            c = list(c)
        c = list(c)
        batch = max(1, min(len(c) // n, self._batchSize or 1024))
        batches = [c[i:i + batch] for i in range(0, len(c), batch)]
        m = len(batches)
        slices = []
        for i in range(n):
            part = []
            for b in batches[(i * m) // n:((i + 1) * m) // n]:
                part.extend(b)
            slices.append(part)
        return RDD(self, self._pickled_df(slices), "pickled", None, n)

    def range(self, start, end=None, step=1, numSlices=None):
        """``parallelize(range(start, end, step), numSlices)``; one argument is the
        end."""
        if end is None:
            end = start
            start = 0
        return self.parallelize(range(start, end, step), numSlices)

    def emptyRDD(self):
        """An RDD without partitions."""
        return RDD(self, self._pickled_df([]), "pickled", None, 0)

    def textFile(self, name, minPartitions=None, use_unicode=True):
        """The lines of text files (a file, a directory, a glob, comma-separated
        paths; ``.gz`` and the other codecs ember reads; local or object storage),
        through ember's text reader."""
        paths = [p for p in str(name).split(",") if p]
        df = self._session.read.text(paths if len(paths) > 1 else paths[0])
        return RDD(self, df, "text")

    def union(self, rdds):
        """The RDDs' partitions one after the other."""
        rdds = list(rdds)
        if not rdds:
            raise ValueError("union() needs at least one RDD")
        out = rdds[0]
        for r in rdds[1:]:
            out = out.union(r)
        return out

    def broadcast(self, value):
        """A :class:`Broadcast` of ``value``."""
        return Broadcast(self, value)

    def accumulator(self, value, accum_param=None):
        """An accumulator with initial ``value`` (int, float and complex have
        default params); tasks ``add`` to it, the driver reads ``value`` after an
        action."""
        from pyspark import accumulators

        if accum_param is None:
            if isinstance(value, int):
                accum_param = accumulators.INT_ACCUMULATOR_PARAM
            elif isinstance(value, float):
                accum_param = accumulators.FLOAT_ACCUMULATOR_PARAM
            elif isinstance(value, complex):
                accum_param = accumulators.COMPLEX_ACCUMULATOR_PARAM
            else:
                raise TypeError("No default accumulator param for type %s" % type(value))
        return accumulators.Accumulator(next(self._accumulator_ids), value, accum_param)

    # ---- outputs ---------------------------------------------------------------
    def _save_as_text_file(self, rdd, path, codec):
        """Writes ``part-NNNNN`` files from the tasks, then ``_SUCCESS``."""
        local = path
        if local.startswith("file:"):
            local = local[len("file:"):]
            while local.startswith("//"):
                local = local[1:]
        if "://" in local:
            raise NotImplementedError(
                "saveAsTextFile writes to local (or shared) paths; use "
                "rdd.toDF().write.text(...) for object storage")
        local = os.path.abspath(local)
        if os.path.exists(local):
            raise FileExistsError(
                "org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory "
                "file:%s already exists" % local)
        gzip_out = codec is not None and "gzip" in str(codec).lower()

        def write(split, iterator):
            import gzip

            os.makedirs(local, exist_ok=True)
            name = os.path.join(local, "part-%05d%s" % (split, ".gz" if gzip_out else ""))
            opener = gzip.open if gzip_out else open
            with opener(name, "wb") as f:
                for x in iterator:
                    if isinstance(x, bytes):
                        f.write(x)
                    else:
                        f.write(str(x).encode("utf-8"))
                    f.write(b"\n")
            return iter([])

        rdd.mapPartitionsWithIndex(write).count()
        os.makedirs(local, exist_ok=True)
        open(os.path.join(local, "_SUCCESS"), "wb").close()
