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
    _system_properties = {}

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
        self._dead_shuffles = []
        self._accumulator_ids = itertools.count(0)
        self._start_time = int(time.time() * 1000)
        self._parallelism = None
        self._local_properties = {}
        self._added_files = []
        self._added_archives = []
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
        self._clean_shuffles()
        return next(self._rdd_ids)

    def _keep_shuffle(self, df):
        """Keeps a shuffle's output in ember (a lazily persisted DataFrame) so that
        later jobs over the shuffled RDD skip its map side, as Spark reuses shuffle
        files; dropped once no RDD of this driver refers to it (Spark's
        ``ContextCleaner``). ``spark.ember.rdd.reuseShuffles=false`` turns it off."""
        import weakref

        if str(self._conf("spark.ember.rdd.reuseShuffles", "true")).lower() == "false":
            return df
        df.persist()
        # Unpersisted later on the driver's thread (a finalizer may run inside a call).
        weakref.finalize(df, self._dead_shuffles.append, (df._plan, df._session))
        return df

    def _clean_shuffles(self):
        """Unpersists the outputs of shuffles no RDD refers to any more."""
        dead = getattr(self, "_dead_shuffles", None)
        if not dead:
            return
        from pyspark.sql.connect.dataframe import DataFrame

        while dead:
            plan, session = dead.pop()
            try:
                DataFrame(plan, session).unpersist()
            except Exception:  # the session may be stopping; the data goes with it
                pass

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
        items = self._session.conf.getAll
        items = items() if callable(items) else items
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

    def addJobTag(self, tag):
        """Adds a tag to the session's operations (Spark Connect's job tags)."""
        self._session.addTag(tag)

    def removeJobTag(self, tag):
        """Removes a tag added by :meth:`addJobTag`."""
        self._session.removeTag(tag)

    def getJobTags(self):
        """The tags of the session's operations, a set."""
        return set(self._session.getTags())

    def clearJobTags(self):
        """Removes all tags."""
        self._session.clearTags()

    def cancelJobsWithTag(self, tag):
        """Interrupts the running operations carrying ``tag``."""
        self._session.interruptTag(tag)

    @classmethod
    def setSystemProperty(cls, key, value):
        """Sets a process-wide property (kept by the driver; read back with
        :meth:`getSystemProperty`)."""
        cls._system_properties[key] = value

    def getSystemProperty(self, key):
        """A property set with :meth:`setSystemProperty`, or None."""
        return SparkContext._system_properties.get(key)

    def listFiles(self):
        """The paths given to :meth:`addFile`."""
        return list(self._added_files)

    def listArchives(self):
        """The paths given to :meth:`addArchive`."""
        return list(self._added_archives)

    def runJob(self, rdd, partitionFunc, partitions=None, allowLocal=False):
        """``partitionFunc(iterator)`` on the given partitions (all by default),
        their results concatenated in the order of ``partitions``, as PySpark's
        ``runJob``."""
        n = rdd.getNumPartitions()
        partitions = list(range(n)) if partitions is None else list(partitions)
        for p in partitions:
            if p < 0 or p >= n:
                raise ValueError("Partition index %d out of range 0..%d" % (p, n - 1))
        wanted = set(partitions)

        def run(split, iterator):
            if split in wanted:
                return [(split, list(partitionFunc(iterator)))]
            return []

        results = dict(rdd.mapPartitionsWithIndex(run).collect())
        out = []
        for p in partitions:
            out.extend(results.get(p, []))
        return out

    def addFile(self, path, recursive=False):
        """Ships a file to the workers (a session artifact)."""
        self._session.addArtifacts(path, file=True)
        self._added_files.append(path)

    def addPyFile(self, path):
        """Ships a .py, .zip or .egg to the workers' import path."""
        self._session.addArtifacts(path, pyfile=True)

    def addArchive(self, path):
        """Ships an archive to the workers."""
        self._session.addArtifacts(path, archive=True)
        self._added_archives.append(path)

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
        read by ember's text source in Hadoop's input splits as Spark's
        ``textFile``: split size ``max(1, min(total bytes / minPartitions, 32 MiB))``,
        compressed files whole, one partition per split (``minPartitions`` default
        ``defaultMinPartitions``)."""
        paths = [p for p in str(name).split(",") if p]
        n = int(minPartitions) if minPartitions is not None else self.defaultMinPartitions
        df = self._session.read.option("minPartitions", str(max(n, 0))) \
            .text(paths if len(paths) > 1 else paths[0])
        return RDD(self, df, "text")

    def wholeTextFiles(self, path, minPartitions=None, use_unicode=True):
        """``(path, content)`` pairs, one per file, as Spark's ``wholeTextFiles``:
        ``path`` is ``file:/absolute/path``; ``.gz`` / ``.bz2`` / ``.xz`` files are
        decompressed; content is decoded as UTF-8 (bytes when ``use_unicode`` is
        false). Files are packed into partitions in listing order, each closed once it
        reaches ``ceil(total bytes / minPartitions)`` (Spark's
        ``WholeTextFileInputFormat.setMinPartitions`` with Hadoop's
        ``CombineFileInputFormat`` on one host; listing order as
        :func:`_list_input_files`), ``minPartitions`` default
        ``defaultMinPartitions``. Reads local (or shared) paths: the files are
        listed on the driver and read by ember's Python workers; raises
        ``FileNotFoundError`` ("Input path does not exist: ...") when a path
        matches nothing and ``NotImplementedError`` for object-storage URLs."""
        return self._whole_files(path, minPartitions, "text" if use_unicode else "bytes")

    def pickleFile(self, name, minPartitions=None):
        """The records of a directory written by ``RDD.saveAsPickleFile`` (one
        partition per part file, in part order). ember writes its own files
        (pickled batches), not Spark's SequenceFiles: files written by Spark
        are not read."""
        files = [f for f, _ in _list_input_files(name)]
        files.sort()

        def read(fname):
            import pickle

            with open(fname, "rb") as f:
                while True:
                    try:
                        batch = pickle.load(f)
                    except EOFError:
                        return
                    yield from batch

        return self.parallelize([[f] for f in files], max(len(files), 1)) \
            .flatMap(lambda group: (x for f in group for x in read(f)))

    def binaryRecords(self, path, recordLength):
        """Fixed-length records of ``recordLength`` bytes from flat binary files
        (one file's records in order; a trailing partial record raises
        ``ValueError`` naming the file and byte offset)."""
        recordLength = int(recordLength)
        if recordLength <= 0:
            raise ValueError("recordLength must be positive, got %d" % recordLength)

        def split(pair):
            name, data = pair
            if len(data) % recordLength:
                raise ValueError(
                    "%s: %d bytes is not a multiple of the record length %d (partial "
                    "record at byte offset %d)" % (name, len(data), recordLength,
                                                   len(data) - len(data) % recordLength))
            return [data[i:i + recordLength] for i in range(0, len(data), recordLength)]

        return self._whole_files(path, None, "binary").flatMap(split)

    def binaryFiles(self, path, minPartitions=None):
        """``(path, bytes)`` pairs, one per file, packed into partitions as
        :meth:`wholeTextFiles` (files are not decompressed, as Spark's
        ``binaryFiles``)."""
        return self._whole_files(path, minPartitions, "binary")

    def _whole_files(self, path, minPartitions, mode):
        files = _list_input_files(path)
        n = int(minPartitions) if minPartitions is not None else self.defaultMinPartitions
        total = sum(size for _, size in files)
        max_split = -(-total // max(n, 1))
        groups, current, current_size = [], [], 0
        for name, size in files:
            current.append(name)
            current_size += size
            if max_split and current_size >= max_split:
                groups.append(current)
                current, current_size = [], 0
        if current:
            groups.append(current)

        def read(group):
            for name in group:
                yield "file:" + name, _read_whole_file(name, mode)

        return self.parallelize(groups, max(len(groups), 1)).flatMap(read)

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
        """Writes ``part-NNNNN`` text files from the tasks, then ``_SUCCESS``."""
        gzip_out = codec is not None and "gzip" in str(codec).lower()

        def write(f, iterator):
            for x in iterator:
                if isinstance(x, bytes):
                    f.write(x)
                else:
                    f.write(str(x).encode("utf-8"))
                f.write(b"\n")

        self._save_part_files(rdd, path, ".gz" if gzip_out else "", write)

    def _save_as_pickle_file(self, rdd, path, batch_size):
        """Writes ``part-NNNNN`` files of pickled batches of ``batch_size`` records."""
        import pickle

        batch_size = max(int(batch_size or 10), 1)

        def write(f, iterator):
            iterator = iter(iterator)
            while True:
                batch = list(itertools.islice(iterator, batch_size))
                if not batch:
                    break
                pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)

        self._save_part_files(rdd, path, "", write)

    def _save_part_files(self, rdd, path, suffix, write):
        """Runs ``write(binary file, iterator)`` for each partition into
        ``path/part-NNNNN<suffix>`` (gzip-compressed when ``suffix`` is ``.gz``),
        then creates ``_SUCCESS``; ``FileExistsError`` (Hadoop's message) when
        ``path`` exists, as Spark."""
        local = _local_path(
            path, "saveAsTextFile/saveAsPickleFile write to local (or shared) paths; use "
            "rdd.toDF().write.text(...) for object storage", expand_user=False)
        if os.path.exists(local):
            raise FileExistsError(
                "org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory "
                "file:%s already exists" % local)

        def task(split, iterator):
            import gzip

            os.makedirs(local, exist_ok=True)
            name = os.path.join(local, "part-%05d%s" % (split, suffix))
            opener = gzip.open if suffix == ".gz" else open
            with opener(name, "wb") as f:
                write(f, iterator)
            return iter([])

        rdd.mapPartitionsWithIndex(task).count()
        os.makedirs(local, exist_ok=True)
        open(os.path.join(local, "_SUCCESS"), "wb").close()


def _local_path(path, refusal=None, expand_user=True):
    """``path`` without a ``file:`` scheme, absolute (``~`` expanded when
    ``expand_user``); object-storage URLs raise ``NotImplementedError`` with
    ``refusal`` (default: the readers' message)."""
    local = path
    if local.startswith("file:"):
        local = local[len("file:"):]
        while local.startswith("//"):
            local = local[1:]
    if "://" in local:
        raise NotImplementedError(refusal or (
            "wholeTextFiles/binaryFiles read local (or shared) paths; %s is object "
            "storage: use spark.read.text(path, wholetext=...) or textFile" % path))
    return os.path.abspath(os.path.expanduser(local) if expand_user else local)


def _list_input_files(paths):
    """``[(absolute path, size in bytes)]`` of comma-separated paths (in the order
    given), globs (matches sorted, as Hadoop's globber) and directories (a
    directory's files in the file system's listing order, as Hadoop's local
    ``listStatus``; not its subdirectories; names starting with ``_`` or ``.``
    skipped, as Hadoop's input listing)."""
    import glob

    out = []
    for raw in [p for p in str(paths).split(",") if p]:
        local = _local_path(raw)
        matches = sorted(glob.glob(local)) if glob.has_magic(local) else (
            [local] if os.path.exists(local) else [])
        if not matches:
            raise FileNotFoundError("Input path does not exist: file:%s" % local)
        for m in matches:
            if os.path.isdir(m):
                for name in os.listdir(m):
                    full = os.path.join(m, name)
                    if name.startswith(("_", ".")) or os.path.isdir(full):
                        continue
                    out.append((full, os.path.getsize(full)))
            else:
                out.append((m, os.path.getsize(m)))
    return out


def _read_whole_file(name, mode):
    """One file's content: ``mode`` ``text`` (decompressed, UTF-8), ``bytes``
    (decompressed) or ``binary`` (raw bytes)."""
    if mode == "binary":
        with open(name, "rb") as f:
            return f.read()
    if name.endswith(".gz"):
        import gzip as codec
    elif name.endswith(".bz2"):
        import bz2 as codec
    elif name.endswith(".xz"):
        import lzma as codec
    else:
        codec = None
    if codec is not None:
        with codec.open(name, "rb") as f:
            data = f.read()
    else:
        with open(name, "rb") as f:
            data = f.read()
    return data.decode("utf-8", errors="replace") if mode == "text" else data
