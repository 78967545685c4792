//! Python user-defined table functions (`@udtf` classes): called from the DataFrame API
//! (`MyUdtf(lit(1), lit(3))`, Spark Connect's `CommonInlineUserDefinedTableFunction`
//! relation) and registered for SQL (`spark.udtf.register("name", MyUdtf)`, then
//! `SELECT * FROM name(1, 3)`).
//!
//! As Spark's `BatchEvalPythonUDTFExec`: the argument expressions are evaluated per
//! input row (one row for a call with constant arguments); in the Python worker a new
//! instance of the class serves each partition, `eval(*args)` is called for every row
//! and each row it yields (a tuple, list or `Row`) becomes an output row of the
//! declared return type, then `terminate()` (when defined) may yield more rows and
//! `cleanup()` runs. Eval types: 300 (`SQL_TABLE_UDF`), 301 (Arrow-optimized, the
//! same Python interface) and 302 (`@arrow_udtf`: `eval` gets pyarrow arrays of a
//! batch and yields pyarrow tables or batches).
//!
//! Not supported (a clear `UNSUPPORTED_FEATURE`): UDTFs without a declared return
//! type (`analyze`), `TABLE(t)` arguments with `PARTITION BY`, keyword arguments, and
//! SQL `LATERAL` calls whose arguments refer to another table's columns.

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use spark_connect_proto as pb;
use spark_connect_proto::common_inline_user_defined_table_function::Function;

use crate::error::{ConnectError, Result};
use crate::python_map::{MapKind, PythonFunction, PythonMap};
use crate::session::ConnectSession;

/// The eval types of Python UDTFs.
const UDTF_EVAL_TYPES: [i32; 3] = [300, 301, 302];

/// The Python function and output schema of a UDTF message.
fn function_of(
    cs: &ConnectSession,
    u: &pb::CommonInlineUserDefinedTableFunction,
) -> Result<(PythonFunction, Schema)> {
    let Some(Function::PythonUdtf(py)) = &u.function else {
        return Err(ConnectError::unsupported(
            "a table function that is not a Python UDTF",
        ));
    };
    if !UDTF_EVAL_TYPES.contains(&py.eval_type) {
        return Err(ConnectError::unsupported(format!(
            "a Python UDTF of eval type {}",
            py.eval_type
        )));
    }
    let rt = py.return_type.as_ref().ok_or_else(|| {
        ConnectError::unsupported(format!(
            "the Python UDTF `{}` without a returnType (its `analyze` method)",
            u.function_name
        ))
    })?;
    let tz = cs.spark.time_zone().name().to_string();
    // `returnType="num: int, sq: int"` arrives unparsed: a DDL schema.
    let parsed = match &rt.kind {
        Some(pb::data_type::Kind::Unparsed(u)) => {
            match ember_sql::types::parse_ddl_schema(&u.data_type_string, &tz) {
                Ok(s) => DataType::Struct(s.fields().clone()),
                Err(_) => crate::types::from_proto(rt, &tz)?,
            }
        }
        _ => crate::types::from_proto(rt, &tz)?,
    };
    let json_type = spark_json(&parsed).to_string();
    let DataType::Struct(fields) = parsed else {
        return Err(ConnectError::invalid(format!(
            "the return type of the Python UDTF `{}` must be a StructType",
            u.function_name
        )));
    };
    let f = PythonFunction::new(
        &u.function_name,
        py.eval_type,
        py.command.to_vec(),
        crate::udf::python_of(cs),
        crate::udf::python_paths(cs),
        tz,
    )
    .with_udtf_type(json_type);
    Ok((f, Schema::new(fields)))
}

/// A data type in Spark's JSON form (`StructType.fromJson` reads it in the worker).
fn spark_json(t: &DataType) -> serde_json::Value {
    use serde_json::json;
    let field = |f: &arrow::datatypes::Field| {
        json!({"name": f.name(), "type": spark_json(f.data_type()),
               "nullable": f.is_nullable(), "metadata": {}})
    };
    match t {
        DataType::Struct(fs) => json!({
            "type": "struct",
            "fields": fs.iter().map(|f| field(f)).collect::<Vec<_>>(),
        }),
        DataType::List(f) | DataType::LargeList(f) => json!({
            "type": "array", "elementType": spark_json(f.data_type()),
            "containsNull": f.is_nullable(),
        }),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => json!({
                "type": "map", "keyType": spark_json(kv[0].data_type()),
                "valueType": spark_json(kv[1].data_type()),
                "valueContainsNull": kv[1].is_nullable(),
            }),
            _ => json!("string"),
        },
        DataType::Boolean => json!("boolean"),
        DataType::Int8 => json!("byte"),
        DataType::Int16 => json!("short"),
        DataType::Int32 => json!("integer"),
        DataType::Int64 => json!("long"),
        DataType::Float32 => json!("float"),
        DataType::Float64 => json!("double"),
        DataType::Decimal128(p, s) => json!(format!("decimal({p},{s})")),
        DataType::Date32 => json!("date"),
        DataType::Timestamp(_, Some(_)) => json!("timestamp"),
        DataType::Timestamp(_, None) => json!("timestamp_ntz"),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => json!("binary"),
        DataType::Null => json!("void"),
        _ => json!("string"),
    }
}

/// The plan of a UDTF over `args`, evaluated on one row.
fn plan(
    cs: &ConnectSession,
    f: PythonFunction,
    schema: Schema,
    args: Vec<Expr>,
) -> Result<LogicalPlan> {
    let exprs: Vec<Expr> = args
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.alias(format!("__udtf_arg{i}")))
        .collect();
    let one_row = LogicalPlanBuilder::empty(true)
        .build()
        .map_err(ember_core::EmberError::from)?;
    let input = if exprs.is_empty() {
        one_row
    } else {
        LogicalPlanBuilder::from(one_row)
            .project(exprs)
            .and_then(|b| b.build())
            .map_err(ember_core::EmberError::from)?
    };
    let _ = cs;
    Ok(PythonMap::try_new(MapKind::Partitions, vec![input], schema, f)?.into_plan())
}

/// `MyUdtf(args...)`: the relation of a UDTF called from the DataFrame API.
///
/// Errors: see the module docs; an argument that does not resolve.
pub async fn inline(
    p: &mut crate::relation::Planner<'_>,
    u: &pb::CommonInlineUserDefinedTableFunction,
) -> Result<ember_core::DataFrame> {
    let (f, schema) = function_of(p.cs, u)?;
    let empty = ember_core::DataFrame::from_datafusion(
        &p.cs.spark,
        datafusion::prelude::DataFrame::new(
            p.cs.spark.context().state(),
            LogicalPlanBuilder::empty(true)
                .build()
                .map_err(ember_core::EmberError::from)?,
        ),
    );
    let sc = p.scope(&empty);
    let mut args = Vec::new();
    for a in &u.arguments {
        if matches!(
            a.expr_type,
            Some(pb::expression::ExprType::NamedArgumentExpression(_))
                | Some(pb::expression::ExprType::SubqueryExpression(_))
        ) {
            return Err(ConnectError::unsupported(
                "keyword or TABLE arguments of a Python UDTF",
            ));
        }
        args.push(sc.expr(a)?);
    }
    let plan = plan(p.cs, f, schema, args)?;
    let df = datafusion::prelude::DataFrame::new(p.cs.spark.context().state(), plan);
    Ok(ember_core::DataFrame::from_datafusion(&p.cs.spark, df))
}

/// `spark.udtf.register(name, cls)`: `name(args...)` in SQL's FROM clause.
///
/// Errors: see the module docs.
pub fn register(
    cs: &Arc<ConnectSession>,
    u: &pb::CommonInlineUserDefinedTableFunction,
) -> Result<()> {
    let (f, schema) = function_of(cs, u)?;
    let name = u.function_name.to_ascii_lowercase();
    cs.spark.context().register_udtf(
        &name,
        Arc::new(SqlUdtf {
            session: Arc::downgrade(cs),
            func: f,
            schema,
        }),
    );
    Ok(())
}

/// A registered Python UDTF as a DataFusion table function.
#[derive(Debug)]
struct SqlUdtf {
    session: std::sync::Weak<ConnectSession>,
    func: PythonFunction,
    schema: Schema,
}

impl TableFunctionImpl for SqlUdtf {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let cs = self.session.upgrade().ok_or_else(|| {
            datafusion::error::DataFusionError::Plan("the session of this UDTF is closed".into())
        })?;
        if args.exprs().iter().any(|e| !e.column_refs().is_empty()) {
            return Err(datafusion::error::DataFusionError::External(Box::new(
                ember_core::EmberError::unsupported(format!(
                    "a call of the Python UDTF `{}` whose arguments are columns of another \
                     table (LATERAL); pass constant arguments",
                    self.func.name
                )),
            )));
        }
        let plan = plan(
            &cs,
            self.func.clone(),
            self.schema.clone(),
            args.exprs().to_vec(),
        )
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        Ok(Arc::new(datafusion::catalog::view::ViewTable::new(
            plan, None,
        )))
    }
}
