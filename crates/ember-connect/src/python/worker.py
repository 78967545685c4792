"""ember's Python UDF worker: evaluates PySpark UDFs on Arrow batches.

Started by the ember server (one process per core, reused across batches and UDFs).
Frames on stdin/stdout are length-prefixed (4-byte big-endian):
  request:  header JSON {"fn": id, "eval_type": n, "command": bool, "path": dir}
            [command: the cloudpickled (function, returnType) when "command"]
            Arrow IPC stream of the argument columns (one batch)
  response: b"O" + Arrow IPC stream of one column `result`
            b"E" + UTF-8 traceback of the Python exception
"""

import io
import json
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


def main():
    import pyarrow as pa
    from pyspark.serializers import CloudPickleSerializer
    from pyspark.sql.pandas.types import to_arrow_type
    from pyspark.sql.types import Row, StructType, ArrayType, MapType

    pickle = CloudPickleSerializer()
    functions = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

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

    while True:
        header = read_frame(stdin)
        if header is None:
            return
        h = json.loads(header)
        if h.get("path") and h["path"] not in sys.path:
            sys.path.insert(0, h["path"])
        if h.get("command"):
            command = read_frame(stdin)
            functions[h["fn"]] = command
        data = read_frame(stdin)
        try:
            fn = functions[h["fn"]]
            if isinstance(fn, (bytes, bytearray)):
                fn = pickle.loads(fn)
                functions[h["fn"]] = fn
            func, return_type = fn
            batch = pa.ipc.open_stream(io.BytesIO(data)).read_all()
            arrow_type = to_arrow_type(return_type)
            n = batch.num_rows
            if h["eval_type"] == 200:  # SQL_SCALAR_PANDAS_UDF
                args = [c.to_pandas() for c in batch.columns]
                out = func(*args)
                result = pa.Array.from_pandas(out, type=arrow_type)
            else:  # SQL_BATCHED_UDF, SQL_ARROW_BATCHED_UDF: row at a time
                cols = [c.to_pylist() for c in batch.columns]
                values = []
                for i in range(n):
                    values.append(plain(func(*[c[i] for c in cols]), return_type))
                result = pa.array(values, type=arrow_type)
            if len(result) != n:
                raise RuntimeError(f"the UDF returned {len(result)} values for {n} rows")
            sink = io.BytesIO()
            table = pa.table({"result": result})
            with pa.ipc.new_stream(sink, table.schema) as w:
                w.write_table(table)
            write_frame(stdout, b"O", sink.getvalue())
        except BaseException:
            write_frame(stdout, b"E", traceback.format_exc().encode("utf-8", "replace"))


if __name__ == "__main__":
    main()
