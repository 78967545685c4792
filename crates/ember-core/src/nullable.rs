//! File sources report every column nullable, as Spark does: Spark reads a file
//! relation with `dataSchema.asNullable` (Parquet `required` fields, nested fields,
//! array elements, map values and partition columns included), so a column written
//! non-null by one job is `nullable = true` when the next job reads it back.
//! DataFusion keeps Parquet's `required` flags and declares partition columns
//! non-null; [`NullableTable`] wraps such a table so that its schema is Spark's,
//! and [`NullableExec`] relabels the batches of its scan (the data is unchanged).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result, Statistics};
use datafusion::config::ConfigOptions;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::filter_pushdown::{FilterDescription, FilterPushdownPhase};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::StreamExt;

/// `schema` with every field nullable, recursively (Spark's `StructType.asNullable`):
/// struct fields, list elements and map entries' values too.
pub fn as_nullable(schema: &Schema) -> Schema {
    Schema::new_with_metadata(
        schema
            .fields()
            .iter()
            .map(|f| nullable_field(f))
            .collect::<Vec<_>>(),
        schema.metadata().clone(),
    )
}

fn nullable_field(f: &FieldRef) -> FieldRef {
    Arc::new(
        Field::new(f.name(), nullable_type(f.data_type()), true)
            .with_metadata(f.metadata().clone()),
    )
}

fn nullable_type(t: &DataType) -> DataType {
    match t {
        DataType::Struct(fs) => {
            DataType::Struct(fs.iter().map(nullable_field).collect::<Vec<_>>().into())
        }
        DataType::List(f) => DataType::List(nullable_field(f)),
        DataType::LargeList(f) => DataType::LargeList(nullable_field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(nullable_field(f), *n),
        DataType::Map(entries, sorted) => {
            // The entries struct and its key stay non-null (a map key is never null).
            let inner = match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => {
                    DataType::Struct(vec![kv[0].clone(), nullable_field(&kv[1])].into())
                }
                other => other.clone(),
            };
            DataType::Map(
                Arc::new(Field::new(entries.name(), inner, entries.is_nullable())),
                *sorted,
            )
        }
        other => other.clone(),
    }
}

/// Wraps `table` so that it reports every column nullable; `table` itself when it
/// already does.
pub fn nullable_table(table: Arc<dyn TableProvider>) -> Arc<dyn TableProvider> {
    let schema = Arc::new(as_nullable(&table.schema()));
    if schema.as_ref() == table.schema().as_ref() {
        return table;
    }
    Arc::new(NullableTable {
        inner: table,
        schema,
    })
}

/// A table whose schema is its inner table's with every column nullable. Scans,
/// filters and statistics are the inner table's.
#[derive(Debug)]
pub struct NullableTable {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for NullableTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.scan(state, projection, filters, limit).await?;
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        Ok(NullableExec::wrap(plan, schema))
    }
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }
    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }
}

/// Passes its input's batches through under a schema that differs only in
/// nullability. Partitioning, orderings and filter pushdown are the input's.
#[derive(Debug)]
pub struct NullableExec {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
}

impl NullableExec {
    /// `input` relabelled with `schema`; `input` itself when the schemas are equal
    /// or do not align (different field count or types).
    pub fn wrap(input: Arc<dyn ExecutionPlan>, schema: SchemaRef) -> Arc<dyn ExecutionPlan> {
        if input.schema() == schema {
            return input;
        }
        let eq = match input
            .equivalence_properties()
            .clone()
            .with_new_schema(schema.clone())
        {
            Ok(eq) => eq,
            Err(_) => EquivalenceProperties::new(schema.clone()),
        };
        let p = input.properties();
        let props = Arc::new(PlanProperties::new(
            eq,
            input.output_partitioning().clone(),
            p.emission_type,
            p.boundedness,
        ));
        Arc::new(NullableExec {
            input,
            schema,
            props,
        })
    }
}

impl DisplayAs for NullableExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "NullableExec")
    }
}

impl ExecutionPlan for NullableExec {
    fn name(&self) -> &str {
        "NullableExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::planner::only_input(children, "NullableExec")?;
        Ok(NullableExec::wrap(input, self.schema.clone()))
    }
    fn gather_filters_for_pushdown(
        &self,
        _phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterDescription> {
        FilterDescription::from_children(parent_filters, &self.children())
    }
    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        self.input.partition_statistics(partition)
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.schema.clone();
        let relabel = schema.clone();
        let stream = self.input.execute(partition, context)?.map(move |b| {
            let b = b?;
            // Nested types carry their children's nullability: cast those columns.
            let columns = b
                .columns()
                .iter()
                .zip(relabel.fields())
                .map(|(c, f)| {
                    if c.data_type() == f.data_type() {
                        Ok(c.clone())
                    } else {
                        datafusion::arrow::compute::cast(c, f.data_type())
                    }
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(datafusion::arrow::record_batch::RecordBatch::try_new(
                relabel.clone(),
                columns,
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_nullable_reaches_nested_fields_but_not_map_keys() {
        let item = Arc::new(Field::new("item", DataType::Int32, false));
        let kv = DataType::Struct(
            vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Int64, false),
            ]
            .into(),
        );
        let s = Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("l", DataType::List(item), false),
            Field::new(
                "s",
                DataType::Struct(vec![Field::new("x", DataType::Boolean, false)].into()),
                false,
            ),
            Field::new(
                "m",
                DataType::Map(Arc::new(Field::new("entries", kv, false)), false),
                false,
            ),
        ]);
        let n = as_nullable(&s);
        assert!(n.fields().iter().all(|f| f.is_nullable()));
        let DataType::List(item) = n.field(1).data_type() else {
            panic!("list expected")
        };
        assert!(item.is_nullable());
        let DataType::Struct(fs) = n.field(2).data_type() else {
            panic!("struct expected")
        };
        assert!(fs[0].is_nullable());
        let DataType::Map(entries, _) = n.field(3).data_type() else {
            panic!("map expected")
        };
        let DataType::Struct(kv) = entries.data_type() else {
            panic!("entries expected")
        };
        assert!(!kv[0].is_nullable(), "map keys stay non-null");
        assert!(kv[1].is_nullable());
    }
}
