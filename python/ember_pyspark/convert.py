"""DataFrames of RDDs: ``spark.createDataFrame(rdd, schema, samplingRatio)`` and
``rdd.toDF(...)``, as PySpark's ``SparkSession.createDataFrame`` for an RDD.

The schema is the one given (a ``StructType``, a DDL string, or any other data type
as a single column ``value``), or inferred as PySpark infers it: from the first
record, then up to the first 100 while a field's type is still unknown (or from a
sample when ``samplingRatio`` is set); a list of names renames the inferred fields.
The records become Arrow batches in ember's workers; the DataFrame keeps the RDD's
partitions.
"""

from pyspark.errors import PySparkValueError
from pyspark.sql.types import DataType, StructField, StructType


def _infer(rdd, names, samplingRatio):
    from pyspark.sql.types import _has_nulltype, _infer_schema, _merge_type

    try:
        first = rdd.first()
    except ValueError:
        raise PySparkValueError(errorClass="CANNOT_INFER_EMPTY_SCHEMA", messageParameters={})
    if hasattr(first, "__len__") and len(first) == 0:
        raise PySparkValueError(errorClass="CANNOT_INFER_EMPTY_SCHEMA", messageParameters={})
    if samplingRatio is None:
        schema = _infer_schema(first, names=names)
        if _has_nulltype(schema):
            for row in rdd.take(100)[1:]:
                schema = _merge_type(schema, _infer_schema(row, names=names))
                if not _has_nulltype(schema):
                    break
            else:
                raise PySparkValueError(
                    errorClass="CANNOT_DETERMINE_TYPE", messageParameters={})
        return schema
    if samplingRatio < 0.99:
        rdd = rdd.sample(False, float(samplingRatio))
    return rdd.map(lambda row: _infer_schema(row, names=names)).reduce(_merge_type)


def rdd_to_dataframe(session, rdd, schema=None, samplingRatio=None):
    """The DataFrame of ``rdd``'s records (see the module docs)."""
    names = None
    if isinstance(schema, (list, tuple)):
        names = list(schema)
        schema = None
    if isinstance(schema, str):
        schema = session.createDataFrame([], schema).schema
    if schema is None:
        schema = _infer(rdd, names, samplingRatio)
        if names:
            for f, name in zip(schema.fields, names):
                f.name = name
            schema = StructType(list(schema.fields))
    elif isinstance(schema, DataType) and not isinstance(schema, StructType):
        schema = StructType([StructField("value", schema, True)])
        rdd = rdd.map(lambda x: (x,))
    elif not isinstance(schema, StructType):
        raise PySparkValueError(
            errorClass="UNSUPPORTED_DATA_TYPE",
            messageParameters={"data_type": type(schema).__name__})
    return rdd._stage_df("rows", out_schema=schema)
