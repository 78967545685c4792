"""What runs inside ember's Python workers for an RDD: one task per partition.

An RDD's data lives in ember as a DataFrame. Between stages its rows are pickled
records: one binary column ``data`` whose every value is the pickle of a tag and a
payload, ``(DATA, [element, ...])`` (up to ``BATCH`` elements) or ``(UPDATES, {aid:
value})`` (accumulator updates of the tasks that produced the rows, passed on to the
driver through every later stage). A shuffle's map side adds an ``INT`` column ``pid``
before ``data``: the partition each row goes to (ember's ``repartitionById``).

A :class:`Stage` is the function handed to ``DataFrame.mapInArrow``: it decodes the
partition's input (pickled records, a DataFrame's rows as :class:`Row`, or text
lines), runs the RDD's pipelined function ``f(split, iterator)`` on it, and encodes
the result for the next stage, a shuffle, or a DataFrame with a schema (``toDF``).
"""

import itertools
import os
import pickle
import sys

import pyarrow as pa

#: Elements per pickled row (PySpark's ``BatchedSerializer`` batch of 1024 items).
BATCH = 1024

#: Tag of a row holding elements.
DATA = 0
#: Tag of a row holding accumulator updates.
UPDATES = 1

PICKLED = pa.schema([pa.field("data", pa.binary())])
SHUFFLED = pa.schema([pa.field("pid", pa.int32()), pa.field("data", pa.binary())])

#: The DataFrame schemas of the two shapes (DDL for ``mapInArrow``).
PICKLED_DDL = "data binary"
SHUFFLED_DDL = "pid int, data binary"


def dumps(obj):
    """Pickles records (cloudpickle when plain pickle cannot, as lambdas in records)."""
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        from pyspark import cloudpickle

        return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def portable_hash(x):
    """Hash of a key that is the same in every Python process: PySpark's
    ``portable_hash`` (strings need ``PYTHONHASHSEED``, which ember sets for its
    workers as Spark does)."""
    if "PYTHONHASHSEED" not in os.environ:
        from pyspark.errors import PySparkRuntimeError

        raise PySparkRuntimeError(
            errorClass="PYTHON_HASH_SEED_NOT_SET", messageParameters={}
        )
    if x is None:
        return 0
    if isinstance(x, tuple):
        h = 0x345678
        for i in x:
            h ^= portable_hash(i)
            h *= 1000003
            h &= sys.maxsize
        h ^= len(x)
        if h == -1:
            h = -2
        return int(h)
    return hash(x)


def _accumulators():
    from pyspark import accumulators

    return accumulators._accumulatorRegistry


def _reset_accumulators():
    for acc in _accumulators().values():
        if getattr(acc, "_deserialized", False):
            acc._value = acc.accum_param.zero(acc._value)


def _accumulator_updates():
    return {
        aid: acc._value
        for aid, acc in _accumulators().items()
        if getattr(acc, "_deserialized", False)
    }


def _split():
    from pyspark.taskcontext import TaskContext

    tc = TaskContext.get()
    return tc.partitionId() if tc is not None else 0


class Stage:
    """The per-partition function of one RDD stage (see the module docs).

    ``source``: ``"pickled"`` (rows of ``data``), ``"rows"`` (a DataFrame's rows, made
    :class:`Row` with ``schema``) or ``"text"`` (its first column, as ``str``).
    ``func``: ``f(split, iterator) -> iterable`` or None. ``sink``: ``"pickled"``,
    ``"shuffle"`` (by ``partition_func(key) % partitions``, or to the task's own
    partition when ``partition_func`` is None) or ``"rows"`` (a DataFrame of
    ``out_schema``).
    """

    def __init__(self, source, func, sink, schema=None, out_schema=None,
                 partitions=None, partition_func=None):
        self.source = source
        self.func = func
        self.sink = sink
        self.schema = schema
        self.out_schema = out_schema
        self.partitions = partitions
        self.partition_func = partition_func

    def __call__(self, batches):
        _reset_accumulators()
        split = _split()
        passed = []
        elements = self._decode(batches, passed)
        if self.func is not None:
            elements = self.func(split, elements)
        if self.sink == "rows":
            yield from self._to_rows(elements)
            return
        if self.sink == "shuffle":
            yield from _grouped(self._shuffle(elements, split), _shuffled)
        else:
            yield from _grouped(((None, dumps((DATA, chunk))) for chunk in _chunks(elements)),
                                lambda _, values: _pickled(values))
        updates = _merge_updates(passed, _accumulator_updates())
        if updates:
            row = dumps((UPDATES, updates))
            if self.sink == "shuffle":
                yield _shuffled([0], [row])
            else:
                yield _pickled([row])

    def _decode(self, batches, passed):
        if self.source == "pickled":
            for b in batches:
                for v in b.column(0).to_pylist():
                    tag, payload = pickle.loads(v)
                    if tag == DATA:
                        yield from payload
                    else:
                        passed.append(payload)
        elif self.source == "text":
            for b in batches:
                yield from b.column(0).to_pylist()
        else:
            from pyspark.sql.conversion import ArrowTableToRowsConversion

            for b in batches:
                if b.num_rows:
                    yield from ArrowTableToRowsConversion.convert(
                        pa.Table.from_batches([b]), self.schema, binary_as_bytes=False
                    )

    def _shuffle(self, elements, split):
        n = self.partitions
        func = self.partition_func
        buckets = {}
        for kv in elements:
            p = split if func is None else func(kv[0]) % n
            bucket = buckets.get(p)
            if bucket is None:
                bucket = buckets[p] = []
            bucket.append(kv)
            if len(bucket) >= BATCH:
                yield p, dumps((DATA, bucket))
                buckets[p] = []
        for p, bucket in buckets.items():
            if bucket:
                yield p, dumps((DATA, bucket))

    def _to_rows(self, elements):
        from pyspark.sql.conversion import LocalDataToArrowConversion

        schema = self.out_schema
        for chunk in _chunks(elements):
            table = LocalDataToArrowConversion.convert(chunk, schema, False)
            for b in table.to_batches():
                yield b


def _chunks(elements, size=BATCH):
    it = iter(elements)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


def _grouped(rows, make, max_rows=64, max_bytes=1 << 22):
    """Arrow batches of several ``(pid, pickled chunk)`` rows (``make(pids, values)``),
    at most ``max_rows`` rows or about ``max_bytes`` bytes each: fewer, larger batches
    through ember's exchange than one per chunk, in the same order."""
    pids, values, size = [], [], 0
    for pid, value in rows:
        pids.append(pid)
        values.append(value)
        size += len(value)
        if len(values) >= max_rows or size >= max_bytes:
            yield make(pids, values)
            pids, values, size = [], [], 0
    if values:
        yield make(pids, values)


def _pickled(values):
    return pa.RecordBatch.from_arrays([pa.array(values, pa.binary())], schema=PICKLED)


def _shuffled(pids, values):
    return pa.RecordBatch.from_arrays(
        [pa.array(pids, pa.int32()), pa.array(values, pa.binary())], schema=SHUFFLED
    )


def _merge_updates(passed, own):
    """Accumulator updates to pass on: those read from the input, then this task's,
    as ``{aid: [value, ...]}`` (the driver adds them with each accumulator's param)."""
    merged = {}
    for updates in passed:
        for aid, values in updates.items():
            merged.setdefault(aid, []).extend(values)
    for aid, value in own.items():
        merged.setdefault(aid, []).append(value)
    return merged


def decode_rows(values):
    """Elements and accumulator updates of collected pickled rows, in order."""
    elements = []
    updates = []
    for v in values:
        tag, payload = pickle.loads(v)
        if tag == DATA:
            elements.extend(payload)
        else:
            updates.append(payload)
    return elements, updates
