"""PySpark's RDD over Spark Connect, executed by ember.

An :class:`RDD` is a Spark Connect DataFrame (its partitions are the RDD's
partitions) plus a pending function ``f(split, iterator)``: narrow transformations
compose that function, as PySpark's ``PipelinedRDD`` does, and run in ember's Python
workers as one ``mapInArrow`` stage per partition (see :mod:`ember_pyspark.tasks`).
Shuffles (``partitionBy`` and everything built on it: ``reduceByKey``, ``groupByKey``,
``join``, ``sortByKey``, ``distinct``...) send each record to
``partitionFunc(key) % numPartitions`` through ember's ``repartitionById`` exchange,
which reads the map outputs in map order, as Spark does. Only actions bring data to
the driver. Semantics, orders and partition counts follow PySpark's ``pyspark.rdd``.
"""

import copy
import heapq
import itertools
import math
import operator
import random
import sys
from collections import defaultdict
from functools import reduce

from ember_pyspark import tasks
from ember_pyspark.tasks import portable_hash

__all__ = ["RDD", "BoundedFloat", "Partitioner", "portable_hash"]


class BoundedFloat(float):
    """A float with an error bound (PySpark's ``BoundedFloat``): ``confidence``,
    ``low`` and ``high``."""

    def __new__(cls, mean, confidence, low, high):
        obj = float.__new__(cls, mean)
        obj.confidence = confidence
        obj.low = low
        obj.high = high
        return obj


class Partitioner:
    """How a shuffled RDD's keys map to partitions (PySpark's ``Partitioner``)."""

    def __init__(self, numPartitions, partitionFunc):
        self.numPartitions = numPartitions
        self.partitionFunc = partitionFunc

    def __eq__(self, other):
        return (
            isinstance(other, Partitioner)
            and self.numPartitions == other.numPartitions
            and self.partitionFunc == other.partitionFunc
        )

    def __call__(self, k):
        return self.partitionFunc(k) % self.numPartitions


def _compose(prev, f):
    if prev is None:
        return f
    # A partition function always receives an iterator (an earlier one may have
    # returned a list or a range), as PySpark's pipelined functions do.
    return lambda split, it: f(split, iter(prev(split, it)))


class RDD:
    """A Resilient Distributed Dataset (PySpark's ``RDD``).

    Not built directly: ``sc.parallelize``, ``sc.textFile``, ``df.rdd`` and the
    transformations make them.
    """

    def __init__(self, ctx, df, source="pickled", func=None, partitions=None,
                 schema=None):
        self.ctx = ctx
        self._df = df
        self._source = source
        self._func = func
        self._partitions = partitions
        self._schema = schema
        self.partitioner = None
        self.is_cached = False
        self.is_checkpointed = False
        self._locally_checkpointed = False
        self._storage_level = None
        self._id = ctx._next_rdd_id()
        self._name = None

    # ---- plumbing -------------------------------------------------------------
    def _derive(self, func, preservesPartitioning=False):
        rdd = RDD(self.ctx, self._df, self._source, _compose(self._func, func),
                  self._partitions, self._schema)
        if preservesPartitioning:
            rdd.partitioner = self.partitioner
        return rdd

    def _stage_df(self, sink="pickled", out_schema=None, partitions=None,
                  partition_func=None):
        """The DataFrame of this RDD's records after its pending function."""
        if (sink == "pickled" and self._source == "pickled" and self._func is None):
            return self._df
        stage = tasks.Stage(self._source, self._func, sink, self._schema,
                            out_schema, partitions, partition_func)

        def run(batches):
            return stage(batches)

        if sink == "shuffle":
            ddl = tasks.SHUFFLED_DDL
        elif sink == "rows":
            ddl = out_schema
        else:
            ddl = tasks.PICKLED_DDL
        return self._df.mapInArrow(run, ddl)

    def _pickled(self):
        """This RDD with its pending function run (records pickled)."""
        if self._source == "pickled" and self._func is None:
            return self
        rdd = RDD(self.ctx, self._stage_df(), "pickled", None, self._partitions)
        rdd.partitioner = self.partitioner
        return rdd

    def _collect(self):
        if self._partitions == 0:
            return []
        table = self._stage_df().toArrow()
        values = table.column(0).to_pylist() if table.num_columns else []
        elements, updates = tasks.decode_rows(values)
        self.ctx._apply_updates(updates)
        return elements

    def _shuffle(self, numPartitions, partitionFunc):
        """Records (key-value pairs; with ``partitionFunc`` None, any record kept in
        the partition ``numPartitions`` maps its own partition to) in the
        partition ``partitionFunc(key) % numPartitions``."""
        df = self._stage_df("shuffle", partitions=numPartitions,
                            partition_func=partitionFunc)
        out = self.ctx._keep_shuffle(df.repartitionById(numPartitions, "pid").select("data"))
        return RDD(self.ctx, out, "pickled", None, numPartitions)

    def _defaultReducePartitions(self):
        if self.ctx._conf_default_parallelism() is not None:
            return self.ctx.defaultParallelism
        return self.getNumPartitions()

    # ---- identity -------------------------------------------------------------
    @property
    def context(self):
        """The :class:`SparkContext` this RDD was created on."""
        return self.ctx

    def id(self):
        """A unique ID for this RDD (within its SparkContext)."""
        return self._id

    def name(self):
        """The name set by :meth:`setName`, or None."""
        return self._name

    def setName(self, name):
        """Names this RDD; returns it."""
        self._name = name
        return self

    def __repr__(self):
        kind = {"pickled": "PythonRDD", "rows": "MapPartitionsRDD",
                "text": "MapPartitionsRDD"}[self._source]
        return f"{kind}[{self._id}] at RDD at PythonRDD.scala:0"

    def toDebugString(self):
        """A description of this RDD and its lineage (bytes, as PySpark's)."""
        return f"({self.getNumPartitions()}) {self!r} []".encode("utf-8")

    def getNumPartitions(self):
        """Number of partitions: known for parallelized and shuffled RDDs, read from
        ember's plan for a text file (its scan's splits), else a job over the data
        (a DataFrame's)."""
        if self._partitions is None and self._source == "text":
            import re

            try:
                plan = self._df._explain_string()
            except Exception:  # fall back to counting
                plan = ""
            found = re.findall(r"SparkTextScan: files=\d+, partitions=(\d+)", plan)
            if len(found) == 1:
                self._partitions = int(found[0])
        if self._partitions is None:
            def one(batches):
                import pyarrow as pa

                for _ in batches:
                    pass
                yield pa.RecordBatch.from_pydict({"n": [1]})

            self._partitions = int(self._df.mapInArrow(one, "n int").count())
        return self._partitions

    # ---- persistence ----------------------------------------------------------
    def cache(self):
        """Persists with ``MEMORY_ONLY``."""
        from pyspark.storagelevel import StorageLevel

        return self.persist(StorageLevel.MEMORY_ONLY)

    def persist(self, storageLevel=None):
        """Keeps the computed records in ember (``DataFrame.persist``) so later
        actions reuse them."""
        from pyspark.storagelevel import StorageLevel

        level = storageLevel or StorageLevel.MEMORY_ONLY
        if self._storage_level is not None and level != self._storage_level:
            raise RuntimeError(
                "java.lang.UnsupportedOperationException: Cannot change storage level of "
                "an RDD after it was already assigned a level")
        if not self.is_cached:
            df = self._stage_df().persist(level)
            self._df, self._source, self._func, self._schema = df, "pickled", None, None
        self.is_cached = True
        self._storage_level = level
        return self

    def unpersist(self, blocking=False):
        """Drops the persisted records."""
        if self.is_cached:
            self._df.unpersist(blocking)
        self.is_cached = False
        self._storage_level = None
        return self

    def getStorageLevel(self):
        """The current storage level (``StorageLevel(False, False, False, False, 1)``
        when not persisted)."""
        from pyspark.storagelevel import StorageLevel

        return self._storage_level or StorageLevel(False, False, False, False, 1)

    def checkpoint(self):
        """Materialises the records (needs ``sc.setCheckpointDir``, as Spark)."""
        if self.ctx._checkpoint_dir is None:
            raise RuntimeError("Checkpoint directory has not been set in the SparkContext")
        self._materialise()
        self.is_checkpointed = True

    def localCheckpoint(self):
        """Materialises the records in ember (no checkpoint directory needed)."""
        self._materialise()
        self._locally_checkpointed = True

    def _materialise(self):
        from pyspark.storagelevel import StorageLevel

        if not self.is_cached:
            df = self._stage_df().persist(StorageLevel.MEMORY_AND_DISK)
            self._df, self._source, self._func, self._schema = df, "pickled", None, None

    def isCheckpointed(self):
        """Whether :meth:`checkpoint` ran."""
        return self.is_checkpointed

    def isLocallyCheckpointed(self):
        """Whether :meth:`localCheckpoint` ran."""
        return self._locally_checkpointed

    def getCheckpointFile(self):
        """None: ember keeps checkpoints in its own storage."""
        return None

    # ---- narrow transformations ----------------------------------------------
    def map(self, f, preservesPartitioning=False):
        """``f`` applied to every record."""
        return self._derive(lambda _, it: map(f, it), preservesPartitioning)

    def flatMap(self, f, preservesPartitioning=False):
        """The records of ``f`` applied to every record, flattened."""
        return self._derive(
            lambda _, it: itertools.chain.from_iterable(map(f, it)), preservesPartitioning
        )

    def mapPartitions(self, f, preservesPartitioning=False):
        """``f`` applied to each partition's iterator."""
        return self._derive(lambda _, it: f(it), preservesPartitioning)

    def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
        """``f(index, iterator)`` applied to each partition."""
        return self._derive(f, preservesPartitioning)

    def mapPartitionsWithSplit(self, f, preservesPartitioning=False):
        """Deprecated name of :meth:`mapPartitionsWithIndex`."""
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

    def filter(self, f):
        """The records for which ``f`` is true."""
        return self._derive(lambda _, it: filter(f, it), True)

    def glom(self):
        """Each partition as one list."""
        return self._derive(lambda _, it: [list(it)])

    def keyBy(self, f):
        """``(f(x), x)`` for each record."""
        return self.map(lambda x: (f(x), x))

    def keys(self):
        """The keys of key-value records."""
        return self.map(lambda x: x[0])

    def values(self):
        """The values of key-value records."""
        return self.map(lambda x: x[1])

    def mapValues(self, f):
        """``(k, f(v))``, keeping the partitioning."""
        return self.map(lambda kv: (kv[0], f(kv[1])), True)

    def flatMapValues(self, f):
        """``(k, w)`` for each ``w`` in ``f(v)``, keeping the partitioning."""
        return self.flatMap(lambda kv: ((kv[0], x) for x in f(kv[1])), True)

    def sample(self, withReplacement, fraction, seed=None):
        """A sample of the records, per partition, as PySpark's ``RDDSampler``."""
        from pyspark.rddsampler import RDDSampler

        if fraction < 0.0:
            raise ValueError("Fraction must be nonnegative.")
        return self.mapPartitionsWithIndex(
            RDDSampler(withReplacement, fraction, seed).func, True)

    def randomSplit(self, weights, seed=None):
        """Splits by weights (normalised), as PySpark's ``RDDRangeSampler``."""
        from pyspark.rddsampler import RDDRangeSampler

        if not all(w >= 0 for w in weights):
            raise ValueError("Weights must be nonnegative")
        s = float(sum(weights))
        if not s > 0:
            raise ValueError("Sum of weights must be positive")
        cweights = [0.0]
        for w in weights:
            cweights.append(cweights[-1] + w / s)
        if seed is None:
            seed = random.randint(0, 2**32 - 1)
        return [
            self.mapPartitionsWithIndex(RDDRangeSampler(lb, ub, seed).func, True)
            for lb, ub in zip(cweights, cweights[1:])
        ]

    def sampleByKey(self, withReplacement, fractions, seed=None):
        """A sample per key with ``fractions[key]``."""
        from pyspark.rddsampler import RDDStratifiedSampler

        for fraction in fractions.values():
            if fraction < 0.0:
                raise ValueError("Negative fraction value: %s" % fraction)
        return self.mapPartitionsWithIndex(
            RDDStratifiedSampler(withReplacement, fractions, seed).func, True)

    def zipWithUniqueId(self):
        """``(x, i * n + k)`` for the ``i``-th record of partition ``k`` of ``n``."""
        n = self.getNumPartitions()

        def func(k, it):
            for i, v in enumerate(it):
                yield v, i * n + k

        return self.mapPartitionsWithIndex(func)

    def zipWithIndex(self):
        """``(x, index)`` in the records' order (a job counts the partitions first,
        as PySpark)."""
        starts = [0]
        if self.getNumPartitions() > 1:
            nums = self.mapPartitions(lambda it: [sum(1 for _ in it)]).collect()
            for i in range(len(nums) - 1):
                starts.append(starts[-1] + nums[i])

        def func(k, it):
            for i, v in enumerate(it, starts[k]):
                yield v, i

        return self.mapPartitionsWithIndex(func)

    def pipe(self, command, env=None, checkCode=False):
        """Each partition's records, one per line, through an external command."""
        env = dict(env or {})

        def func(iterator):
            import shlex
            import subprocess

            pipe = subprocess.Popen(shlex.split(command), env=env or None,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            data = "".join(str(x).rstrip("\n") + "\n" for x in iterator)
            out, _ = pipe.communicate(data.encode("utf-8"))
            if checkCode and pipe.returncode:
                raise RuntimeError(
                    "Pipe function `%s' exited with error code %d" % (command, pipe.returncode))
            return (line.rstrip("\n") for line in out.decode("utf-8").splitlines(True))

        return self.mapPartitions(func)

    # ---- partition-level -------------------------------------------------------
    def union(self, other):
        """This RDD's partitions followed by ``other``'s (one set of partitions when
        both have the same partitioner, as Spark's ``PartitionerAwareUnionRDD``)."""
        a, b = self._pickled(), other._pickled()
        if (self.partitioner is not None and self.partitioner == other.partitioner
                and self.getNumPartitions() == other.getNumPartitions()):
            n = self.getNumPartitions()
            both = RDD(self.ctx, a._df.union(b._df), "pickled", None,
                       2 * n)._by_index(lambda split: split % n, n)
            both.partitioner = self.partitioner
            return both
        n = None
        if a._partitions is not None and b._partitions is not None:
            n = a._partitions + b._partitions
        return RDD(self.ctx, a._df.union(b._df), "pickled", None, n)

    def __add__(self, other):
        if not isinstance(other, RDD):
            raise TypeError
        return self.union(other)

    def _by_index(self, target, n):
        """Whole partitions moved: partition ``k`` goes to ``target(k)`` of ``n``,
        each output taking its inputs in order."""
        rdd = self._derive(
            lambda split, it: ((target(split), x) for x in it))
        df = rdd._stage_df("shuffle", partitions=n, partition_func=_SplitKey())
        out = df.repartitionById(n, "pid").select("data")
        return RDD(self.ctx, out, "pickled", None, n)._derive(
            lambda _, it: (x for _, x in it))

    def coalesce(self, numPartitions, shuffle=False):
        """Fewer partitions: consecutive ranges of partitions joined (Spark's
        ``CoalescedRDD`` without locality), or with ``shuffle`` dealt in batches of
        10 records from a random start per partition, as Spark."""
        if numPartitions <= 0:
            raise ValueError("Number of partitions (%s) must be positive." % numPartitions)
        if shuffle:
            return self._deal(numPartitions)
        m = self.getNumPartitions()
        if numPartitions >= m:
            return self._pickled()
        target = {}
        for g in range(numPartitions):
            for p in range(g * m // numPartitions, (g + 1) * m // numPartitions):
                target[p] = g
        return self._by_index(target.__getitem__, numPartitions)

    def repartition(self, numPartitions):
        """``coalesce(numPartitions, shuffle=True)``."""
        return self.coalesce(numPartitions, shuffle=True)

    def _deal(self, n):
        def func(split, it):
            position = _xorshift_next_int(split, n)
            it = iter(it)
            while True:
                chunk = list(itertools.islice(it, 10))
                if not chunk:
                    return
                position += 1
                for x in chunk:
                    yield position % n, x

        df = self._derive(func)._stage_df("shuffle", partitions=n,
                                          partition_func=_SplitKey())
        out = df.repartitionById(n, "pid").select("data")
        return RDD(self.ctx, out, "pickled", None, n)._derive(
            lambda _, it: (x for _, x in it))

    def _tagged_by_partition(self, other):
        """Partition ``k`` of both RDDs together: ``(0, x)`` for this RDD's records
        then ``(1, y)`` for ``other``'s."""
        n = self.getNumPartitions()
        if other.getNumPartitions() != n:
            raise ValueError("Can only zip with RDD which has the same number of partitions")
        a = self.map(lambda x: (0, x))._pickled()
        b = other.map(lambda x: (1, x))._pickled()
        both = RDD(self.ctx, a._df.union(b._df), "pickled", None, 2 * n)
        return both._by_index(lambda split: split % n, n)

    def zip(self, other):
        """Pairs of the records at the same position of the same partition."""
        def func(it):
            left, right = [], []
            for side, x in it:
                (left if side == 0 else right).append(x)
            if len(left) != len(right):
                raise ValueError(
                    "Can only zip RDDs with same number of elements in each partition")
            return zip(left, right)

        return self._tagged_by_partition(other).mapPartitions(func)

    def cartesian(self, other):
        """All pairs; partition ``i * n + j`` pairs partition ``i`` of this RDD with
        partition ``j`` of ``other`` (``n`` its partitions), as Spark's
        ``CartesianRDD``."""
        m, n = self.getNumPartitions(), other.getNumPartitions()
        left = self.glom().mapPartitionsWithIndex(
            lambda i, it: (((i * n + j), (0, part)) for part in it for j in range(n)))
        right = other.glom().mapPartitionsWithIndex(
            lambda j, it: (((i * n + j), (1, part)) for part in it for i in range(m)))
        a = left._stage_df("shuffle", partitions=m * n, partition_func=_SplitKey())
        b = right._stage_df("shuffle", partitions=m * n, partition_func=_SplitKey())
        out = a.union(b).repartitionById(m * n, "pid").select("data")

        def pairs(it):
            xs, ys = [], []
            for _, (side, part) in it:
                (xs if side == 0 else ys).extend(part)
            return ((x, y) for x in xs for y in ys)

        return RDD(self.ctx, out, "pickled", None, m * n).mapPartitions(pairs)

    # ---- shuffles --------------------------------------------------------------
    def partitionBy(self, numPartitions=None, partitionFunc=portable_hash):
        """Key-value records in partition ``partitionFunc(key) % numPartitions``."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()
        partitioner = Partitioner(numPartitions, partitionFunc)
        if self.partitioner == partitioner:
            return self
        rdd = self._shuffle(numPartitions, partitionFunc)
        rdd.partitioner = partitioner
        return rdd

    def combineByKey(self, createCombiner, mergeValue, mergeCombiners,
                     numPartitions=None, partitionFunc=portable_hash):
        """Per key, values combined map-side then merged after the shuffle."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def combine_locally(it):
            d = {}
            for k, v in it:
                d[k] = mergeValue(d[k], v) if k in d else createCombiner(v)
            return iter(d.items())

        def merge(it):
            d = {}
            for k, c in it:
                d[k] = mergeCombiners(d[k], c) if k in d else c
            return iter(d.items())

        locally = self.mapPartitions(combine_locally, True)
        shuffled = locally.partitionBy(numPartitions, partitionFunc)
        return shuffled.mapPartitions(merge, True)

    def reduceByKey(self, func, numPartitions=None, partitionFunc=portable_hash):
        """Values of each key reduced with ``func``."""
        return self.combineByKey(lambda x: x, func, func, numPartitions, partitionFunc)

    def foldByKey(self, zeroValue, func, numPartitions=None, partitionFunc=portable_hash):
        """Values of each key folded from ``zeroValue``."""
        def create(v):
            return func(copy.deepcopy(zeroValue), v)

        return self.combineByKey(create, func, func, numPartitions, partitionFunc)

    def aggregateByKey(self, zeroValue, seqFunc, combFunc, numPartitions=None,
                       partitionFunc=portable_hash):
        """Values of each key aggregated from ``zeroValue``."""
        def create(v):
            return seqFunc(copy.deepcopy(zeroValue), v)

        return self.combineByKey(create, seqFunc, combFunc, numPartitions, partitionFunc)

    def groupByKey(self, numPartitions=None, partitionFunc=portable_hash):
        """Values of each key as a ``ResultIterable``."""
        from pyspark.resultiterable import ResultIterable

        def create(x):
            return [x]

        def merge_value(xs, x):
            xs.append(x)
            return xs

        def merge_combiners(a, b):
            a.extend(b)
            return a

        return self.combineByKey(create, merge_value, merge_combiners, numPartitions,
                                 partitionFunc).mapValues(ResultIterable)

    def groupBy(self, f, numPartitions=None, partitionFunc=portable_hash):
        """Records grouped by ``f(x)``."""
        return self.map(lambda x: (f(x), x)).groupByKey(numPartitions, partitionFunc)

    def reduceByKeyLocally(self, func):
        """Values of each key reduced, returned to the driver as a dict."""
        def reduce_partition(it):
            m = {}
            for k, v in it:
                m[k] = func(m[k], v) if k in m else v
            yield m

        def merge_maps(m1, m2):
            for k, v in m2.items():
                m1[k] = func(m1[k], v) if k in m1 else v
            return m1

        return self.mapPartitions(reduce_partition).reduce(merge_maps)

    def distinct(self, numPartitions=None):
        """Distinct records."""
        return (self.map(lambda x: (x, None))
                .reduceByKey(lambda x, _: x, numPartitions)
                .map(lambda x: x[0]))

    def cogroup(self, other, numPartitions=None):
        """Per key, ``(values here, values in other)`` as ``ResultIterable``s."""
        return self.groupWith(other, numPartitions=numPartitions)

    def groupWith(self, other, *others, numPartitions=None):
        """Per key, a tuple of the values of each RDD."""
        from pyspark.resultiterable import ResultIterable

        rdds = (self, other) + others
        n = len(rdds)
        tagged = None
        for i, rdd in enumerate(rdds):
            t = rdd.mapValues(lambda v, i=i: (i, v))
            tagged = t if tagged is None else tagged.union(t)

        def dispatch(seq):
            bufs = [[] for _ in range(n)]
            for i, v in seq:
                bufs[i].append(v)
            return tuple(ResultIterable(vs) for vs in bufs)

        # Without numPartitions, the union's partitions (PySpark's python_cogroup).
        return tagged.groupByKey(numPartitions).mapValues(dispatch)

    def _join(self, other, numPartitions, pad_left=False, pad_right=False):
        """PySpark's python join: both sides tagged, grouped by key, then the pairs
        of each key (a None standing in for a missing side when padded)."""
        def dispatch(seq):
            vbuf, wbuf = [], []
            for n, v in seq:
                (vbuf if n == 1 else wbuf).append(v)
            if pad_left and not vbuf:
                vbuf.append(None)
            if pad_right and not wbuf:
                wbuf.append(None)
            return ((v, w) for v in vbuf for w in wbuf)

        vs = self.mapValues(lambda v: (1, v))
        ws = other.mapValues(lambda v: (2, v))
        # Without numPartitions, the union's partitions (PySpark's _do_python_join).
        return vs.union(ws).groupByKey(numPartitions).flatMapValues(dispatch)

    def join(self, other, numPartitions=None):
        """Inner join of key-value RDDs: ``(k, (v, w))``."""
        return self._join(other, numPartitions)

    def leftOuterJoin(self, other, numPartitions=None):
        """``(k, (v, w))``, ``w`` None where ``other`` lacks ``k``."""
        return self._join(other, numPartitions, pad_right=True)

    def rightOuterJoin(self, other, numPartitions=None):
        """``(k, (v, w))``, ``v`` None where this RDD lacks ``k``."""
        return self._join(other, numPartitions, pad_left=True)

    def fullOuterJoin(self, other, numPartitions=None):
        """``(k, (v, w))`` with None on the side that lacks ``k``."""
        return self._join(other, numPartitions, pad_left=True, pad_right=True)

    def subtractByKey(self, other, numPartitions=None):
        """Pairs whose key is not in ``other``."""
        def keep(pair):
            _, (val1, val2) = pair
            return val1 and not val2

        return (self.cogroup(other, numPartitions).filter(keep)
                .flatMapValues(lambda x: x[0]))

    def subtract(self, other, numPartitions=None):
        """Records not in ``other``."""
        rdd = other.map(lambda x: (x, True))
        return self.map(lambda x: (x, True)).subtractByKey(rdd, numPartitions).keys()

    def intersection(self, other):
        """Distinct records present in both."""
        return (self.map(lambda v: (v, None))
                .cogroup(other.map(lambda v: (v, None)))
                .filter(lambda k_vs: all(k_vs[1]))
                .keys())

    def sortByKey(self, ascending=True, numPartitions=None, keyfunc=lambda x: x):
        """Sorted by key: a sample of the keys sets range bounds, the records are
        shuffled into ranges and each range sorted, as PySpark's ``sortByKey``."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def sort_partition(iterator):
            return iter(sorted(iterator, key=lambda kv: keyfunc(kv[0]),
                               reverse=not ascending))

        if numPartitions == 1:
            rdd = self
            if self.getNumPartitions() > 1:
                rdd = self.coalesce(1)
            return rdd.mapPartitions(sort_partition, True)

        size = self.count()
        if not size:
            return self
        max_sample = numPartitions * 20.0
        fraction = min(max_sample / max(size, 1), 1.0)
        samples = self.sample(False, fraction, 1).map(lambda kv: kv[0]).collect()
        samples = sorted(samples, key=keyfunc)
        bounds = [
            samples[int(len(samples) * (i + 1) / numPartitions)]
            for i in range(0, numPartitions - 1)
        ]

        def range_partitioner(k):
            import bisect

            p = bisect.bisect_left(bounds, keyfunc(k))
            return p if ascending else numPartitions - 1 - p

        return (self.partitionBy(numPartitions, range_partitioner)
                .mapPartitions(sort_partition, True))

    def sortBy(self, keyfunc, ascending=True, numPartitions=None):
        """Sorted by ``keyfunc(x)``."""
        return self.keyBy(keyfunc).sortByKey(ascending, numPartitions).values()

    def repartitionAndSortWithinPartitions(self, numPartitions=None,
                                           partitionFunc=portable_hash,
                                           ascending=True, keyfunc=lambda x: x):
        """Shuffled by ``partitionFunc`` and sorted by key within each partition."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def sort_partition(iterator):
            return iter(sorted(iterator, key=lambda kv: keyfunc(kv[0]),
                               reverse=not ascending))

        return self.partitionBy(numPartitions, partitionFunc).mapPartitions(
            sort_partition, True)

    # ---- actions ---------------------------------------------------------------
    def collect(self):
        """All records, in partition order."""
        return self._collect()

    def collectAsMap(self):
        """Key-value records as a dict."""
        return dict(self.collect())

    def toLocalIterator(self, prefetchPartitions=False):
        """An iterator over all records."""
        return iter(self.collect())

    def foreach(self, f):
        """``f`` applied to every record, in ember's workers."""
        def process(iterator):
            for x in iterator:
                f(x)
            return iter([])

        self.mapPartitions(process).count()

    def foreachPartition(self, f):
        """``f`` applied to each partition's iterator, in ember's workers."""
        def func(it):
            r = f(it)
            try:
                return iter(r)
            except TypeError:
                return iter([])

        self.mapPartitions(func).count()

    def count(self):
        """Number of records."""
        return self.mapPartitions(lambda i: [sum(1 for _ in i)]).sum()

    def sum(self):
        """Sum of the records."""
        return self.mapPartitions(lambda x: [sum(x)]).fold(0, operator.add)

    def reduce(self, f):
        """The records reduced with ``f`` (ValueError when empty)."""
        def func(iterator):
            iterator = iter(iterator)
            try:
                initial = next(iterator)
            except StopIteration:
                return
            yield reduce(f, iterator, initial)

        vals = self.mapPartitions(func).collect()
        if vals:
            return reduce(f, vals)
        raise ValueError("Can not reduce() empty RDD")

    def treeReduce(self, f, depth=2):
        """As :meth:`reduce` (the tree's shape does not change the result of an
        associative ``f``)."""
        if depth < 1:
            raise ValueError("Depth cannot be smaller than 1 but got %d." % depth)
        return self.reduce(f)

    def fold(self, zeroValue, op):
        """Each partition folded from ``zeroValue``, then the results."""
        return self.aggregate(zeroValue, op, op)

    def aggregate(self, zeroValue, seqOp, combOp):
        """Each partition aggregated with ``seqOp`` from ``zeroValue``, then combined."""
        def func(iterator):
            acc = zeroValue
            for obj in iterator:
                acc = seqOp(acc, obj)
            yield acc

        vals = self.mapPartitions(func).collect()
        return reduce(combOp, vals, zeroValue)

    def treeAggregate(self, zeroValue, seqOp, combOp, depth=2):
        """As :meth:`aggregate`."""
        if depth < 1:
            raise ValueError("Depth cannot be smaller than 1 but got %d." % depth)
        return self.aggregate(zeroValue, seqOp, combOp)

    def max(self, key=None):
        """The largest record (by ``key``)."""
        if key is None:
            return self.reduce(max)
        return self.reduce(lambda a, b: max(a, b, key=key))

    def min(self, key=None):
        """The smallest record (by ``key``)."""
        if key is None:
            return self.reduce(min)
        return self.reduce(lambda a, b: min(a, b, key=key))

    def stats(self):
        """A ``StatCounter`` of the records."""
        from pyspark.statcounter import StatCounter

        def redFunc(left, right):
            return left.mergeStats(right)

        return self.mapPartitions(lambda i: [StatCounter(i)]).reduce(redFunc)

    def mean(self):
        """Mean of the records."""
        return self.stats().mean()

    def variance(self):
        """Population variance."""
        return self.stats().variance()

    def stdev(self):
        """Population standard deviation."""
        return self.stats().stdev()

    def sampleStdev(self):
        """Sample standard deviation (divides by N - 1)."""
        return self.stats().sampleStdev()

    def sampleVariance(self):
        """Sample variance (divides by N - 1)."""
        return self.stats().sampleVariance()

    def histogram(self, buckets):
        """``(buckets, counts)``: ``buckets`` an int (evenly spaced between min and
        max) or a sorted list of bounds, the last bucket closed, as PySpark."""
        if isinstance(buckets, int):
            if buckets < 1:
                raise ValueError("number of buckets must be >= 1")

            def comparable(x):
                if x is None:
                    return False
                if type(x) is float and math.isnan(x):
                    return False
                return True

            filtered = self.filter(comparable)

            def minmax(a, b):
                return min(a[0], b[0]), max(a[1], b[1])

            try:
                minv, maxv = filtered.map(lambda x: (x, x)).reduce(minmax)
            except TypeError as e:
                if " empty " in str(e):
                    raise ValueError("can not generate buckets from empty RDD")
                raise
            except ValueError:
                raise ValueError("can not generate buckets from empty RDD")
            if minv == maxv or buckets == 1:
                return [minv, maxv], [filtered.count()]
            try:
                inc = (maxv - minv) / buckets
            except TypeError:
                raise TypeError("Can not generate buckets with non-number in RDD")
            if math.isinf(inc):
                raise ValueError("Can not generate buckets with infinite value")
            inc = int(inc)
            if inc * buckets != maxv - minv:
                inc = (maxv - minv) * 1.0 / buckets
            buckets = [i * inc + minv for i in range(buckets)]
            buckets.append(maxv)
            even = True
        elif isinstance(buckets, (list, tuple)):
            if len(buckets) < 2:
                raise ValueError("buckets should have more than one value")
            if any(i is None or isinstance(i, float) and math.isnan(i) for i in buckets):
                raise ValueError("can not have None or NaN in buckets")
            if sorted(buckets) != list(buckets):
                raise ValueError("buckets should be sorted")
            if len(set(buckets)) != len(buckets):
                raise ValueError("buckets should not contain duplicated values")
            minv = buckets[0]
            maxv = buckets[-1]
            even = False
            inc = None
            try:
                steps = [buckets[i + 1] - buckets[i] for i in range(len(buckets) - 1)]
            except TypeError:
                pass
            else:
                if max(steps) - min(steps) < 1e-10:
                    even = True
                    inc = (maxv - minv) / (len(buckets) - 1)
        else:
            raise TypeError("buckets should be a list or tuple or number(int or long)")

        def histogram(iterator):
            import bisect

            counters = [0] * len(buckets)
            for i in iterator:
                if (i is None or (isinstance(i, float) and math.isnan(i))
                        or i > maxv or i < minv):
                    continue
                t = (int((i - minv) / inc) if even
                     else bisect.bisect_right(buckets, i) - 1)
                counters[t] += 1
            last = counters.pop()
            counters[-1] += last
            return [counters]

        def merge(a, b):
            return [i + j for i, j in zip(a, b)]

        return buckets, self.mapPartitions(histogram).reduce(merge)

    def countApproxDistinct(self, relativeSD=0.05):
        """The number of distinct records, counted as PySpark does over
        ``portable_hash(x) & 0xFFFFFFFF``; ember counts the distinct hashes
        exactly (no sketch error; hash collisions aside). ``ValueError`` when
        ``relativeSD`` < 0.000017, as Spark."""
        if relativeSD < 0.000017:
            raise ValueError("relativeSD should be greater than 0.000017")
        return self.map(lambda x: portable_hash(x) & 0xFFFFFFFF).distinct().count()

    def countByValue(self):
        """``{record: count}`` (a ``defaultdict(int)``)."""
        def count_partition(iterator):
            counts = defaultdict(int)
            for obj in iterator:
                counts[obj] += 1
            yield counts

        def merge_maps(m1, m2):
            for k, v in m2.items():
                m1[k] += v
            return m1

        return self.mapPartitions(count_partition).reduce(merge_maps)

    def countByKey(self):
        """``{key: count}``."""
        return self.map(lambda x: x[0]).countByValue()

    def lookup(self, key):
        """Values of ``key``."""
        values = self.filter(lambda kv: kv[0] == key).values()
        return values.collect()

    def top(self, num, key=None):
        """The ``num`` largest records, largest first."""
        def top_iterator(iterator):
            yield heapq.nlargest(num, iterator, key=key)

        def merge(a, b):
            return heapq.nlargest(num, a + b, key=key)

        return self.mapPartitions(top_iterator).reduce(merge)

    def takeOrdered(self, num, key=None):
        """The ``num`` smallest records, smallest first."""
        if num < 0:
            raise ValueError("top N cannot be negative.")
        if num == 0 or self.getNumPartitions() == 0:
            return []

        def merge(a, b):
            return heapq.nsmallest(num, a + b, key)

        return self.mapPartitions(lambda it: [heapq.nsmallest(num, it, key)]).reduce(merge)

    def take(self, num):
        """The first ``num`` records, in partition order."""
        if num <= 0:
            return []

        def first(iterator):
            return itertools.islice(iterator, num)

        return self.mapPartitions(first).collect()[:num]

    def first(self):
        """The first record (ValueError when empty)."""
        rs = self.take(1)
        if rs:
            return rs[0]
        raise ValueError("RDD is empty")

    def isEmpty(self):
        """Whether there are no records."""
        return self.getNumPartitions() == 0 or len(self.take(1)) == 0

    def takeSample(self, withReplacement, num, seed=None):
        """A fixed-size sample, as PySpark's ``takeSample``."""
        num_st_dev = 10.0
        max_sample = sys.maxsize - int(num_st_dev * math.sqrt(sys.maxsize))
        if num < 0:
            raise ValueError("Sample size cannot be negative.")
        elif num > max_sample:
            raise ValueError("Sample size cannot be greater than %d." % max_sample)
        if num == 0 or self.getNumPartitions() == 0:
            return []
        initial = self.count()
        if initial == 0:
            return []
        rand = random.Random(seed)
        if (not withReplacement) and num >= initial:
            samples = self.collect()
            rand.shuffle(samples)
            return samples
        fraction = _fraction_for_sample_size(num, initial, withReplacement)
        samples = self.sample(withReplacement, fraction, seed).collect()
        while len(samples) < num:
            seed = rand.randint(0, sys.maxsize)
            samples = self.sample(withReplacement, fraction, seed).collect()
        rand.shuffle(samples)
        return samples[0:num]

    def countApprox(self, timeout, confidence=0.95):
        """The exact count (ember finishes the job)."""
        return self.count()

    def sumApprox(self, timeout, confidence=0.95):
        """The exact sum as a ``BoundedFloat`` (ember finishes the job)."""
        s = float(self.sum())
        return BoundedFloat(s, confidence, s, s)

    def meanApprox(self, timeout, confidence=0.95):
        """The exact mean as a ``BoundedFloat`` (ember finishes the job)."""
        m = float(self.mean())
        return BoundedFloat(m, confidence, m, m)

    def saveAsTextFile(self, path, compressionCodecClass=None):
        """Each partition written as ``part-NNNNN`` (``str`` of each record, one per
        line) under the directory ``path``, then ``_SUCCESS``, as Spark; the
        directory must not exist."""
        self.ctx._save_as_text_file(self, path, compressionCodecClass)

    def saveAsPickleFile(self, path, batchSize=10):
        """Each partition written as ``part-NNNNN`` of pickled batches of
        ``batchSize`` records under the directory ``path`` (then ``_SUCCESS``),
        read back by ``sc.pickleFile``. The files are ember's (pickle streams),
        not Spark's SequenceFiles."""
        self.ctx._save_as_pickle_file(self, path, batchSize)

    # ---- DataFrames ------------------------------------------------------------
    def toDF(self, schema=None, sampleRatio=None):
        """A DataFrame of the records (Rows, tuples, dicts): ``spark.createDataFrame(
        self, schema, sampleRatio)``."""
        return self.ctx._session.createDataFrame(self, schema, sampleRatio)


class _SplitKey:
    """Partition function of records already keyed by their target partition."""

    def __call__(self, k):
        return k

    def __eq__(self, other):
        return isinstance(other, _SplitKey)

    def __hash__(self):
        return 0


def _fraction_for_sample_size(lower_bound, total, with_replacement):
    fraction = float(lower_bound) / total
    if with_replacement:
        num_st_dev = 5
        if lower_bound < 12:
            num_st_dev = 9
        return fraction + num_st_dev * math.sqrt(fraction / total)
    delta = 0.00005
    gamma = -math.log(delta) / total
    return min(1, fraction + gamma + math.sqrt(gamma * gamma + 2 * gamma * fraction))


def _int32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def _rotl32(x, r):
    return ((x << r) | (x >> (32 - r))) & _M32


def _mix_last(h, k):
    k = (k * 0xCC9E2D51) & _M32
    k = _rotl32(k, 15)
    k = (k * 0x1B873593) & _M32
    return h ^ k


def _mix(h, k):
    h = _rotl32(_mix_last(h, k), 13)
    return (h * 5 + 0xE6546B64) & _M32


def _bytes_hash(data, seed):
    """Scala's ``MurmurHash3.bytesHash`` (little-endian 4-byte blocks)."""
    h = seed
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        h = _mix(h, int.from_bytes(data[i:i + 4], "little"))
    tail = data[n:]
    if tail:
        h = _mix_last(h, int.from_bytes(tail, "little"))
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def _xorshift_next_int(seed, bound):
    """``new XORShiftRandom(seed).nextInt(bound)``: Spark's start of the batches of
    partition ``seed`` in ``RDD.coalesce(n, shuffle = true)``."""
    data = (seed & _M64).to_bytes(8, "big")
    low = _bytes_hash(data, 0x3C074A61)
    high = _bytes_hash(data, low)
    state = ((high << 32) | low) & _M64

    def next31():
        nonlocal state
        s = state ^ ((state << 21) & _M64)
        s ^= s >> 35
        s ^= (s << 4) & _M64
        state = s
        return s & ((1 << 31) - 1)

    r = next31()
    m = bound - 1
    if bound & m == 0:
        return (bound * r) >> 31
    u = r
    r = u % bound
    while _int32(u - r + m) < 0:
        u = next31()
        r = u % bound
    return r
