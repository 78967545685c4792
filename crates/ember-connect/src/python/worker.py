"""ember's Python worker: evaluates PySpark functions on Arrow batches.

Started by the ember server (one process per core, reused across tasks and functions).
Frames on stdin are length-prefixed (4-byte big-endian); a response frame is one kind
byte, then a length-prefixed payload.

Every request starts with a header JSON frame:
  {"fn": id, "eval_type": n, "command": bool, "path": [dirs], "mode": m, "tz": zone,
   "task": {"partitionId": p, "stageId": s, "attemptNumber": a, "taskAttemptId": t},
   "keys": k}
then, when "command", the cloudpickled (function, returnType).

mode "scalar" (@udf, useArrow UDFs, scalar pandas_udf): one frame, an Arrow IPC stream
  of the argument columns; response b"O" + Arrow IPC stream of one column `result`.
mode "map" (mapInPandas, mapInArrow, foreachPartition, Python UDTFs): input frames, each
  an Arrow IPC stream of the partition's batches, ended by an empty frame. A UDTF (eval
  types 300-302) gets its argument columns; its header's "udtf_type" is its return type
  in Spark's JSON form (its command is the class alone).
mode "group" (groupBy().applyInPandas / applyInArrow): input frames, one per group, the
  data columns followed by `keys` key columns; an empty frame ends the partition.
mode "cogroup" (cogroup().applyInPandas / applyInArrow): input frames in pairs (left
  group, right group; either may have no rows), ended by an empty frame.
For map, group and cogroup the worker answers b"B" + Arrow IPC stream of output rows
(any number of them), then b"Z" at the end of the input. A Python exception at any point
answers b"E" + the traceback; the worker then reads the rest of the input up to its end
frame, so that it stays in step with ember and can be reused.
"""

import inspect
import io
import json
import os
import struct
import sys
import traceback


def read_frame(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack(">I", head)
    data = stream.read(n)
    if len(data) < n:
        return None
    return data


def write_frame(stream, kind, payload):
    stream.write(kind)
    stream.write(struct.pack(">I", len(payload)))
    stream.write(payload)
    stream.flush()


class WorkerEOF(Exception):
    """ember closed the pipe in the middle of a request."""


def main():
    try:
        import pyarrow as pa
        import pyspark  # noqa: F401
    except ImportError as e:
        sys.stderr.write(
            f"ember's Python worker ({sys.executable}) cannot import {e.name}: "
            f"run `{sys.executable} -m pip install pyspark-client pandas pyarrow`, or set "
            "spark.pyspark.python / PYSPARK_PYTHON to a Python that has them\n")
        sys.stderr.flush()
        sys.exit(1)
    from pyspark.serializers import CloudPickleSerializer
    from pyspark.sql.pandas.types import to_arrow_type
    from pyspark.sql.types import Row, StructType, ArrayType, MapType, _create_row

    pickle = CloudPickleSerializer()
    functions = {}
    # Frames go out on a private copy of fd 1; what user code prints (print() in a
    # foreach function) goes to stderr, as Spark redirects its Python workers' output.
    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    def plain(v, t):
        """A Python value in the form pyarrow builds `t` from."""
        if v is None:
            return None
        if isinstance(t, StructType):
            if isinstance(v, Row):
                v = v.asDict(recursive=False) if hasattr(v, "__fields__") else dict(zip(t.names, v))
            elif isinstance(v, (tuple, list)):
                v = dict(zip(t.names, v))
            return {f.name: plain(v.get(f.name), f.dataType) for f in t.fields}
        if isinstance(t, ArrayType):
            return [plain(x, t.elementType) for x in v]
        if isinstance(t, MapType):
            return [(plain(k, t.keyType), plain(x, t.valueType)) for k, x in v.items()]
        return v

    def converter(arrow_type):
        """Arrow's Python value to the one Spark hands a UDF: structs as Rows, maps as
        dicts, timestamps as naive local datetimes (None when nothing to convert)."""
        if pa.types.is_struct(arrow_type):
            names = [arrow_type.field(i).name for i in range(arrow_type.num_fields)]
            subs = [converter(arrow_type.field(i).type) for i in range(arrow_type.num_fields)]

            def conv_struct(v):
                if v is None:
                    return None
                values = [v.get(n) for n in names]
                values = [s(x) if s else x for s, x in zip(subs, values)]
                return _create_row(names, values)
            return conv_struct
        if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
            sub = converter(arrow_type.value_type)
            if sub is None:
                return None
            return lambda v: None if v is None else [sub(x) for x in v]
        if pa.types.is_map(arrow_type):
            kc, vc = converter(arrow_type.key_type), converter(arrow_type.item_type)

            def conv_map(v):
                if v is None:
                    return None
                return {(kc(k) if kc else k): (vc(x) if vc else x) for k, x in v}
            return conv_map
        if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
            return lambda v: None if v is None else v.astimezone().replace(tzinfo=None)
        return None

    def set_task(h):
        t = h.get("task")
        if t is None:
            return
        try:
            from pyspark.taskcontext import TaskContext
            tc = TaskContext._getOrCreate()
            tc._partitionId = t.get("partitionId")
            tc._stageId = t.get("stageId")
            tc._attemptNumber = t.get("attemptNumber")
            tc._taskAttemptId = t.get("taskAttemptId")
            tc._localProperties = {}
            tc._resources = {}
            tc._cpus = 1
        except Exception:  # an older client without TaskContext: nothing to set
            pass

    def ipc(table_or_batch):
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table_or_batch.schema) as w:
            if isinstance(table_or_batch, pa.Table):
                w.write_table(table_or_batch)
            else:
                w.write_batch(table_or_batch)
        return sink.getvalue()

    def read_table(data):
        return pa.ipc.open_stream(io.BytesIO(data)).read_all()

    def input_frames():
        """Frames up to the end frame."""
        while True:
            data = read_frame(stdin)
            if data is None:
                raise WorkerEOF()
            if not data:
                return
            yield data

    def drain(frames):
        for _ in frames:
            pass

    def to_pandas(table, tz):
        import pandas as pd  # noqa: F401  (pandas is needed by to_pandas)
        pdf = table.to_pandas(date_as_object=True)
        for f in table.schema:
            if pa.types.is_timestamp(f.type) and f.type.tz is not None and f.name in pdf:
                col = pdf[f.name]
                if hasattr(col, "dt") and getattr(col.dt, "tz", None) is not None:
                    pdf[f.name] = col.dt.tz_convert(tz).dt.tz_localize(None)
        return pdf

    def from_pandas(pdf, schema, tz, what):
        """A pandas DataFrame returned by a function as Arrow columns of `schema`:
        by name when its column labels are strings, else by position (Spark's
        spark.sql.legacy.execution.pandas.groupedMap.assignColumnsByName)."""
        import pandas as pd
        if not isinstance(pdf, pd.DataFrame):
            raise TypeError(
                f"[INVALID_RETURN_TYPE] Return type of the user-defined function should be "
                f"pandas.DataFrame, but is {type(pdf).__name__}.")
        if len(pdf.columns) == 0 and len(pdf) == 0:
            return pa.RecordBatch.from_pylist([], schema=schema)
        by_name = all(isinstance(c, str) for c in pdf.columns)
        if by_name:
            missing = [f.name for f in schema if f.name not in pdf.columns]
            if missing:
                raise RuntimeError(
                    f"[RESULT_COLUMNS_MISMATCH_FOR_PANDAS_UDF] Column names of the returned "
                    f"pandas.DataFrame do not match specified schema. Missing: "
                    f"{', '.join(missing)}.")
            series = [pdf[f.name] for f in schema]
        else:
            if len(pdf.columns) != len(schema):
                raise RuntimeError(
                    f"[RESULT_COLUMNS_MISMATCH_FOR_PANDAS_UDF] Number of columns of the "
                    f"returned pandas.DataFrame doesn't match specified schema. Expected: "
                    f"{len(schema)} Actual: {len(pdf.columns)}")
            series = [pdf.iloc[:, i] for i in range(len(schema))]
        arrays = []
        for f, s in zip(schema, series):
            if pa.types.is_timestamp(f.type) and f.type.tz is not None and hasattr(s, "dt") \
                    and getattr(s.dt, "tz", None) is None:
                s = s.dt.tz_localize(tz)
            try:
                arrays.append(pa.Array.from_pandas(s, type=f.type, safe=False))
            except Exception as e:
                raise RuntimeError(
                    f"Exception thrown when converting pandas.Series ({s.dtype}) with name "
                    f"'{f.name}' to Arrow Array ({f.type}) in {what}: {e}") from e
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def conform(batch, schema, what):
        """An Arrow batch or table returned by a function, cast to `schema`."""
        names = batch.schema.names
        if all(f.name in names for f in schema):
            cols = [batch.column(names.index(f.name)) for f in schema]
        elif len(names) == len(schema):
            cols = list(batch.columns)
        else:
            raise RuntimeError(
                f"[RESULT_COLUMNS_MISMATCH_FOR_ARROW_UDF] Column names of the returned "
                f"pyarrow.{type(batch).__name__} do not match specified schema. Expected: "
                f"{', '.join(schema.names)} Actual: {', '.join(names)} ({what}).")
        cols = [c if c.type == f.type else c.cast(f.type) for c, f in zip(cols, schema)]
        if isinstance(batch, pa.Table):
            return pa.Table.from_arrays(cols, schema=schema)
        return pa.RecordBatch.from_arrays(cols, schema=schema)

    class Output:
        """Output rows, sent in batches of about `limit` rows."""

        def __init__(self, limit=10000):
            self.parts, self.rows, self.limit = [], 0, limit

        def add(self, part):
            if part.num_rows == 0:
                return
            self.parts.append(part)
            self.rows += part.num_rows
            if self.rows >= self.limit:
                self.flush()

        def flush(self):
            if not self.parts:
                return
            tables = [p if isinstance(p, pa.Table) else pa.Table.from_batches([p]) for p in self.parts]
            self.parts, self.rows = [], 0
            write_frame(stdout, b"B", ipc(pa.concat_tables(tables)))

    def arity(func):
        try:
            return len(inspect.getfullargspec(func).args)
        except TypeError:
            return len(inspect.signature(func).parameters)

    def key_of(table, n_keys):
        """The group's key as Spark passes it: a tuple of the key columns' first values
        (numpy scalars for numbers, as pandas gives them)."""
        if table.num_rows == 0:
            return tuple()
        pdf = table.select(list(range(table.num_columns - n_keys, table.num_columns))).slice(0, 1).to_pandas()
        return tuple(pdf.iloc[0, i] for i in range(n_keys))

    def output_schema(return_type):
        """The Arrow schema of a map/group function's declared StructType."""
        schema = to_arrow_type(return_type)
        return pa.schema(list(schema)) if isinstance(schema, pa.StructType) else schema

    def expect_table(res):
        if not isinstance(res, pa.Table):
            raise TypeError(
                f"[INVALID_RETURN_TYPE] Return type of the user-defined function should "
                f"be pyarrow.Table, but is {type(res).__name__}.")

    def run_map(h, func, return_type, frames):
        schema = output_schema(return_type)
        tz = h.get("tz") or "UTC"
        out = Output()

        def batches():
            for data in frames:
                for b in pa.ipc.open_stream(io.BytesIO(data)):
                    yield b
        if h["eval_type"] == 205:  # SQL_MAP_PANDAS_ITER_UDF
            result = func(to_pandas(pa.Table.from_batches([b]), tz) for b in batches())
            for pdf in result:
                out.add(from_pandas(pdf, schema, tz, "mapInPandas"))
        else:  # 207 SQL_MAP_ARROW_ITER_UDF
            result = func(batches())
            for b in result:
                if not isinstance(b, pa.RecordBatch):
                    raise TypeError(
                        f"[INVALID_RETURN_TYPE] Return type of the user-defined function should "
                        f"be iterator of pyarrow.RecordBatch, but is iterator of {type(b).__name__}.")
                out.add(conform(b, schema, "mapInArrow"))
        out.flush()

    def run_group(h, func, return_type, frames):
        schema = output_schema(return_type)
        tz = h.get("tz") or "UTC"
        n_keys = h.get("keys", 0)
        two = arity(func) == 2
        out = Output()
        for data in frames:
            table = read_table(data)
            key = key_of(table, n_keys)
            values = table.select(list(range(table.num_columns - n_keys)))
            if h["eval_type"] == 201:  # SQL_GROUPED_MAP_PANDAS_UDF
                pdf = to_pandas(values, tz)
                res = func(key, pdf) if two else func(pdf)
                out.add(from_pandas(res, schema, tz, "applyInPandas"))
            else:  # 209 SQL_GROUPED_MAP_ARROW_UDF
                key = tuple(pa.scalar(table.column(table.num_columns - n_keys + i)[0]) for i in range(n_keys)) \
                    if table.num_rows else tuple()
                res = func(key, values) if two else func(values)
                expect_table(res)
                out.add(conform(res, schema, "applyInArrow"))
        out.flush()

    def run_cogroup(h, func, return_type, frames):
        schema = output_schema(return_type)
        tz = h.get("tz") or "UTC"
        n_left, n_right = h.get("keys", 0), h.get("right_keys", 0)
        three = arity(func) == 3
        out = Output()
        it = iter(frames)
        for left_data in it:
            right_data = next(it)
            left, right = read_table(left_data), read_table(right_data)
            key = key_of(left, n_left) if left.num_rows else key_of(right, n_right)
            lv = left.select(list(range(left.num_columns - n_left)))
            rv = right.select(list(range(right.num_columns - n_right)))
            if h["eval_type"] == 206:  # SQL_COGROUPED_MAP_PANDAS_UDF
                lp, rp = to_pandas(lv, tz), to_pandas(rv, tz)
                res = func(key, lp, rp) if three else func(lp, rp)
                out.add(from_pandas(res, schema, tz, "cogroup().applyInPandas"))
            else:  # 210 SQL_COGROUPED_MAP_ARROW_UDF
                res = func(key, lv, rv) if three else func(lv, rv)
                expect_table(res)
                out.add(conform(res, schema, "cogroup().applyInArrow"))
        out.flush()

    def run_scalar(func, return_type, h, data):
        batch = read_table(data)
        arrow_type = to_arrow_type(return_type)
        n = batch.num_rows
        et = h["eval_type"]
        # Arguments passed by name arrive as columns `kw:<name>` (`f(b => x)`).
        keywords = [c[3:] if c.startswith("kw:") else None for c in batch.schema.names]
        if any(keywords):
            plain_func = func

            def func(*args):
                pos = [a for a, k in zip(args, keywords) if k is None]
                kw = {k: a for a, k in zip(args, keywords) if k is not None}
                return plain_func(*pos, **kw)
        if et in (202, 252):  # SQL_GROUPED_AGG_PANDAS_UDF / _ARROW_UDF: one group in
            if et == 202:
                args = [c.to_pandas() for c in batch.columns]
            else:
                args = [c.combine_chunks() for c in batch.columns]
            out = func(*args)
            if isinstance(out, pa.Scalar):
                out = out.as_py()
            elif hasattr(out, "item") and not isinstance(out, (list, tuple, dict)):
                out = out.item()  # a numpy scalar
            return ipc(pa.table({"result": pa.array([plain(out, return_type)], type=arrow_type)}))
        if et in (200, 204):  # SQL_SCALAR_PANDAS_UDF, SQL_SCALAR_PANDAS_ITER_UDF
            import pandas as pd
            args = [c.to_pandas() for c in batch.columns]
            if et == 204:
                parts = list(func(iter([tuple(args) if len(args) > 1 else args[0]])))
                out = pd.concat(parts) if parts else pd.Series([], dtype=object)
            else:
                out = func(*args)
            if isinstance(out, pd.DataFrame):  # a struct return type
                result = pa.StructArray.from_arrays(
                    [pa.Array.from_pandas(out[f.name], type=arrow_type.field(f.name).type)
                     for f in return_type.fields], names=[f.name for f in return_type.fields])
            else:
                result = pa.Array.from_pandas(out, type=arrow_type)
        elif et in (250, 251):  # SQL_SCALAR_ARROW_UDF, SQL_SCALAR_ARROW_ITER_UDF
            args = [c.combine_chunks() for c in batch.columns]
            if et == 251:
                parts = list(func(iter([tuple(args) if len(args) > 1 else args[0]])))
                out = pa.concat_arrays([p if isinstance(p, pa.Array) else p.combine_chunks()
                                        for p in parts]) if parts else pa.array([], type=arrow_type)
            else:
                out = func(*args)
            if isinstance(out, pa.ChunkedArray):
                out = out.combine_chunks()
            result = out if out.type == arrow_type else out.cast(arrow_type)
        else:  # SQL_BATCHED_UDF, SQL_ARROW_BATCHED_UDF: row at a time, Spark's values
            convs = [converter(f.type) for f in batch.schema]
            cols = [c.to_pylist() for c in batch.columns]
            cols = [[cv(x) for x in c] if cv else c for c, cv in zip(cols, convs)]
            if len(cols) == 1:
                values = [func(x) for x in cols[0]]
            elif cols:
                values = [func(*args) for args in zip(*cols)]
            else:
                values = [func() for _ in range(n)]
            if isinstance(return_type, (StructType, ArrayType, MapType)):
                values = [plain(v, return_type) for v in values]
            result = pa.array(values, type=arrow_type)
        if len(result) != n:
            raise RuntimeError(f"the UDF returned {len(result)} values for {n} rows")
        return ipc(pa.table({"result": result}))

    def udtf_rows(res, return_type, what):
        """The rows a UDTF's eval/terminate yielded, as dicts of the return type."""
        if res is None:
            return []
        rows = []
        for r in res:
            if not isinstance(r, (tuple, list, Row, dict)):
                raise RuntimeError(
                    f"[UDTF_INVALID_OUTPUT_ROW_TYPE] The type of an individual output row "
                    f"in the '{what}' method of the UDTF is invalid. Each row should be a "
                    f"tuple, list, or dict, but got '{type(r).__name__}'. Please make sure "
                    f"that the output rows are of the correct type.")
            if isinstance(r, (tuple, list)) and not isinstance(r, Row) \
                    and len(r) != len(return_type.fields):
                raise RuntimeError(
                    f"[UDTF_RETURN_SCHEMA_MISMATCH] The number of columns in the result "
                    f"does not match the specified schema. Expected column count: "
                    f"{len(return_type.fields)}, Actual column count: {len(r)}. Please make "
                    f"sure the values returned by the '{what}' method have the same number "
                    f"of columns as specified in the output schema.")
            rows.append(plain(r, return_type))
        return rows

    def run_udtf(h, cls, return_type, frames):
        """A Python UDTF over one partition's argument rows (see the module docs)."""
        schema = output_schema(return_type)
        out = Output()
        handler = cls()
        arrow_udtf = h["eval_type"] == 302

        def emit(res, what):
            if arrow_udtf:
                for t in (res or []):
                    out.add(conform(t, schema, what))
            else:
                rows = udtf_rows(res, return_type, what)
                if rows:
                    out.add(pa.RecordBatch.from_pylist(rows, schema=schema))
        try:
            for data in frames:
                for b in pa.ipc.open_stream(io.BytesIO(data)):
                    if arrow_udtf:
                        emit(handler.eval(*b.columns), "eval")
                        continue
                    convs = [converter(f.type) for f in b.schema]
                    cols = [c.to_pylist() for c in b.columns]
                    cols = [[cv(x) for x in c] if cv else c for c, cv in zip(cols, convs)]
                    for i in range(b.num_rows):
                        emit(handler.eval(*[c[i] for c in cols]), "eval")
            if hasattr(handler, "terminate"):
                emit(handler.terminate(), "terminate")
        finally:
            if hasattr(handler, "cleanup"):
                handler.cleanup()
        out.flush()

    def load(fn, h):
        """A command as (function, returnType): UDTF commands carry the class alone,
        their return type comes in the header (Spark's JSON form)."""
        if h.get("udtf_type"):
            return pickle.loads(fn), StructType.fromJson(json.loads(h["udtf_type"]))
        return pickle.loads(fn)

    runners = {"map": run_map, "group": run_group, "cogroup": run_cogroup}
    while True:
        header = read_frame(stdin)
        if header is None:
            return
        h = json.loads(header)
        paths = h.get("path") or []
        if isinstance(paths, str):
            paths = [paths]
        for p in reversed(paths):
            if p and p not in sys.path:
                sys.path.insert(0, p)
        if h.get("command"):
            functions[h["fn"]] = read_frame(stdin)
        mode = h.get("mode", "scalar")
        set_task(h)
        if mode == "scalar":
            data = read_frame(stdin)
            try:
                fn = functions[h["fn"]]
                if isinstance(fn, (bytes, bytearray)):
                    fn = pickle.loads(fn)
                    functions[h["fn"]] = fn
                func, return_type = fn
                write_frame(stdout, b"O", run_scalar(func, return_type, h, data))
            except BaseException:
                write_frame(stdout, b"E", traceback.format_exc().encode("utf-8", "replace"))
            continue
        frames = input_frames()
        try:
            fn = functions[h["fn"]]
            if isinstance(fn, (bytes, bytearray)):
                fn = load(fn, h)
                functions[h["fn"]] = fn
            func, return_type = fn
            if h["eval_type"] in (300, 301, 302):
                run_udtf(h, func, return_type, frames)
            else:
                runners[mode](h, func, return_type, frames)
            drain(frames)
            write_frame(stdout, b"Z", b"")
        except WorkerEOF:
            return
        except BaseException:
            write_frame(stdout, b"E", traceback.format_exc().encode("utf-8", "replace"))
            try:
                drain(frames)
            except WorkerEOF:
                return


if __name__ == "__main__":
    main()
