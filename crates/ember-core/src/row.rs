//! `Row`: one record of a collected DataFrame, as Spark's `Row` (values by position
//! or by field name).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;

use crate::error::Result;

/// A row: values (`ScalarValue`, Spark's types as Arrow) and the schema they follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<ScalarValue>,
    schema: SchemaRef,
}

impl Row {
    /// Values by position.
    pub fn values(&self) -> &[ScalarValue] {
        &self.values
    }
    /// Value `i` (`row[i]`).
    pub fn get(&self, i: usize) -> Option<&ScalarValue> {
        self.values.get(i)
    }
    /// Value of field `name` (`row["name"]`).
    pub fn get_by_name(&self, name: &str) -> Option<&ScalarValue> {
        self.schema
            .index_of(name)
            .ok()
            .and_then(|i| self.values.get(i))
    }
    /// The schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// All rows of `batches`.
pub fn rows_of(batches: &[RecordBatch]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let values = b
                .columns()
                .iter()
                .map(|c| ScalarValue::try_from_array(c, r))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            out.push(Row {
                values,
                schema: b.schema(),
            });
        }
    }
    Ok(out)
}
