//! Local data: `createDataFrame` (`LocalRelation`: Arrow IPC bytes plus an optional
//! schema), data the client uploaded as artifacts (`CachedLocalRelation`), and the
//! one-row string results of `show()` / `_repr_html_`.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use ember_core::{DataFrame, SparkSession};
use spark_connect_proto::LocalRelation;

use crate::error::{ConnectError, Result};
use crate::session::ConnectSession;

/// Reads an Arrow IPC stream.
pub fn read_ipc(data: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(data), None)?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

/// A DataFrame over in-memory batches.
pub fn from_batches(
    spark: &SparkSession,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<DataFrame> {
    let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
    let df = spark.context().read_table(Arc::new(table))?;
    Ok(DataFrame::from_datafusion(spark, df))
}

/// `createDataFrame(data, schema)`: the client's Arrow data, renamed and cast to the
/// schema when one is given (DDL or Spark's JSON form); a schema alone makes an
/// empty DataFrame.
///
/// Errors: [`ConnectError::Invalid`] when neither data nor schema is present or the
/// data's column count differs from the schema's.
pub fn local_relation(cs: &ConnectSession, l: &LocalRelation) -> Result<DataFrame> {
    let tz = cs.spark.time_zone().name().to_string();
    let declared: Option<Schema> = match &l.schema {
        Some(s) if !s.trim().is_empty() => Some(match crate::schema_json::parse(s, &tz) {
            Some(r) => r?,
            None => match ember_sql::types::parse_ddl_schema(s, &tz) {
                Ok(schema) => schema,
                Err(_) => Schema::new(vec![Field::new(
                    "value",
                    ember_sql::types::parse_data_type(s, &tz)?,
                    true,
                )]),
            },
        }),
        _ => None,
    };
    let (schema, batches) = match &l.data {
        Some(d) => read_ipc(d)?,
        None => match &declared {
            Some(s) => (Arc::new(s.clone()), vec![]),
            None => {
                return Err(ConnectError::invalid(
                    "LocalRelation without data or schema",
                ))
            }
        },
    };
    let (schema, batches) = match declared {
        Some(d) if l.data.is_some() => conform(&schema, batches, &d)?,
        _ => (schema, batches),
    };
    from_batches(&cs.spark, schema, batches)
}

/// Renames and casts batches to the declared schema.
fn conform(
    actual: &SchemaRef,
    batches: Vec<RecordBatch>,
    declared: &Schema,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    if actual.fields().len() != declared.fields().len() {
        return Err(ConnectError::invalid(format!(
            "the data has {} columns but the schema declares {}",
            actual.fields().len(),
            declared.fields().len()
        )));
    }
    let target = Arc::new(declared.clone());
    let out = batches
        .into_iter()
        .map(|b| {
            let cols: Vec<ArrayRef> = b
                .columns()
                .iter()
                .zip(target.fields())
                .map(|(c, f)| {
                    if c.data_type() == f.data_type() {
                        Ok(c.clone())
                    } else {
                        arrow::compute::cast(c, f.data_type())
                    }
                })
                .collect::<std::result::Result<_, _>>()?;
            // Nullability comes from the data when the schema says non-null but the
            // data has nulls (Spark fails later, at the first use; ember relaxes).
            let fields: Vec<Field> = target
                .fields()
                .iter()
                .zip(&cols)
                .map(|(f, c)| {
                    f.as_ref()
                        .clone()
                        .with_nullable(f.is_nullable() || c.null_count() > 0)
                })
                .collect();
            Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = out.first().map(|b| b.schema()).unwrap_or(target);
    let out = out
        .into_iter()
        .map(|b| b.with_schema(schema.clone()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((schema, out))
}

/// A relation the client uploaded as the artifact `cache/<hash>`.
///
/// Errors: [`ConnectError::Invalid`] when no such artifact was uploaded.
pub fn cached_local_relation(cs: &ConnectSession, hash: &str) -> Result<DataFrame> {
    let data = cs
        .artifacts
        .lock()
        .ok()
        .and_then(|a| a.get(&format!("cache/{hash}")).cloned())
        .ok_or_else(|| {
            ConnectError::invalid(format!("cached local relation {hash} was not uploaded"))
        })?;
    // The artifact is a serialized LocalRelation message.
    let rel: LocalRelation = prost::Message::decode(data.as_ref())
        .map_err(|e| ConnectError::invalid(format!("cached local relation {hash}: {e}")))?;
    local_relation(cs, &rel)
}

/// A one-row, one-column string DataFrame (`show_string`, `html_string`).
pub fn single_string(spark: &SparkSession, name: &str, text: String) -> Result<DataFrame> {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, false)]));
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from(vec![text]))],
    )?;
    from_batches(spark, schema, vec![b])
}
