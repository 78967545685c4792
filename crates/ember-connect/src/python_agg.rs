//! Grouped-aggregate Python UDFs as DataFusion aggregates: `pandas_udf` of
//! `Series -> scalar` (Spark's `SQL_GROUPED_AGG_PANDAS_UDF`, eval type 202) and its
//! Arrow form (`SQL_GROUPED_AGG_ARROW_UDF`, 252).
//!
//! As Spark, the function sees every row of its group (NULLs included, as pandas
//! NaN/None) once, in one call, and returns one value of the declared type. Used in
//! `groupBy().agg(...)`, `agg(...)` over the whole DataFrame, over a window
//! (`f(col).over(w)`: one call per frame) and from SQL after `spark.udf.register`.
//! The accumulator keeps the group's argument columns; a partial aggregate ships them
//! as one list per argument to the final one, which calls the worker.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, TypeSignature,
};

use crate::udf::PythonUdf;

/// One grouped-aggregate Python UDF.
#[derive(Debug)]
struct PythonAgg {
    udf: Arc<PythonUdf>,
    aliases: Vec<String>,
    signature: Signature,
}

impl PartialEq for PythonAgg {
    fn eq(&self, o: &Self) -> bool {
        self.udf.fn_id() == o.udf.fn_id() && self.udf.fn_name() == o.udf.fn_name()
    }
}
impl Eq for PythonAgg {}
impl Hash for PythonAgg {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.udf.fn_id().hash(h);
        self.udf.fn_name().hash(h);
    }
}

/// The aggregate of a grouped-aggregate Python UDF (callable by its name and, when
/// that differs, its lower-case name, as Spark resolves functions case-insensitively).
pub(crate) fn udaf(udf: PythonUdf) -> AggregateUDF {
    let lower = udf.fn_name().to_lowercase();
    let aliases = if lower == udf.fn_name() {
        Vec::new()
    } else {
        vec![lower]
    };
    let signature = Signature::one_of(
        vec![TypeSignature::VariadicAny, TypeSignature::Nullary],
        udf.volatility(),
    );
    AggregateUDF::new_from_impl(PythonAgg {
        udf: Arc::new(udf),
        aliases,
        signature,
    })
}

impl AggregateUDFImpl for PythonAgg {
    fn name(&self) -> &str {
        self.udf.fn_name()
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.udf.output_type().clone())
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let types = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect::<Vec<_>>();
        Ok(Box::new(GroupRows {
            udf: self.udf.clone(),
            parts: vec![Vec::new(); types.len()],
            types,
            rows: 0,
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let mut fields: Vec<FieldRef> = args
            .input_fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Arc::new(Field::new_list(
                    format!("{}[arg{i}]", args.name),
                    Field::new_list_field(f.data_type().clone(), true),
                    true,
                ))
            })
            .collect();
        fields.push(Arc::new(Field::new(
            format!("{}[rows]", args.name),
            DataType::Int64,
            true,
        )));
        Ok(fields)
    }
}

/// The rows of one group (or window frame) so far.
#[derive(Debug)]
struct GroupRows {
    udf: Arc<PythonUdf>,
    types: Vec<DataType>,
    /// Per argument, the slices of its column seen so far.
    parts: Vec<Vec<ArrayRef>>,
    /// Rows seen (the count when the function takes no argument).
    rows: i64,
}

impl GroupRows {
    fn column(&self, i: usize) -> Result<ArrayRef> {
        let refs: Vec<&dyn Array> = self.parts[i].iter().map(|a| a.as_ref()).collect();
        if refs.is_empty() {
            return Ok(arrow::array::new_empty_array(&self.types[i]));
        }
        Ok(arrow::compute::concat(&refs)?)
    }
}

impl Accumulator for GroupRows {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for (i, v) in values.iter().enumerate() {
            self.parts[i].push(v.clone());
        }
        self.rows += values.first().map(|v| v.len()).unwrap_or(0) as i64;
        Ok(())
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        // A sliding window frame drops its oldest rows: they are at the front.
        let n = values.first().map(|v| v.len()).unwrap_or(0);
        for i in 0..self.parts.len() {
            let col = self.column(i)?;
            self.parts[i] = vec![col.slice(n, col.len() - n)];
        }
        self.rows -= n as i64;
        Ok(())
    }
    fn supports_retract_batch(&self) -> bool {
        true
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let k = self.parts.len();
        for (i, s) in states.iter().take(k).enumerate() {
            let lists = s.as_list::<i32>();
            for r in 0..lists.len() {
                if lists.is_valid(r) {
                    self.parts[i].push(lists.value(r));
                }
            }
        }
        if let Some(rows) = states.get(k) {
            let rows = rows.as_primitive::<arrow::datatypes::Int64Type>();
            self.rows += rows.iter().flatten().sum::<i64>();
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut out = Vec::with_capacity(self.parts.len() + 1);
        for i in 0..self.parts.len() {
            let col = self.column(i)?;
            self.parts[i] = vec![col.clone()];
            out.push(SingleRowListArrayBuilder::new(col).build_list_scalar());
        }
        out.push(ScalarValue::Int64(Some(self.rows)));
        Ok(out)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut fields = Vec::new();
        let mut cols = Vec::new();
        for i in 0..self.parts.len() {
            fields.push(Field::new(format!("_{i}"), self.types[i].clone(), true));
            cols.push(self.column(i)?);
        }
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(self.rows.max(0) as usize)),
        )?;
        let out = self.udf.eval(&batch)?;
        if out.len() != 1 {
            return Err(crate::worker::py_err(format!(
                "the aggregate UDF `{}` returned {} values for one group",
                self.udf.fn_name(),
                out.len()
            )));
        }
        ScalarValue::try_from_array(&out, 0)
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .parts
                .iter()
                .flatten()
                .map(|a| a.get_array_memory_size())
                .sum::<usize>()
    }
}
