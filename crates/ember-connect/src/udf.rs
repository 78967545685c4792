//! Python UDFs (`F.udf`, `@udf`, `pandas_udf`, `spark.udf.register`): the client
//! sends the function cloudpickled with its return type; ember evaluates it in Python
//! worker processes — at most one per core, reused across batches and UDFs — fed
//! Arrow batches over pipes (`python/worker.py`). Evaluation runs on a blocking
//! section of the runtime, so a UDF never stalls other queries' tasks; a Python
//! exception or a crashed worker fails only the task, with the Python traceback.
//!
//! The Python: `spark.pyspark.python`, else `$PYSPARK_PYTHON`, else `python3` on
//! `PATH` (Spark's order); it needs `pyspark-client` (for its serializers) and pyarrow.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use spark_connect_proto::common_inline_user_defined_function::Function;
use spark_connect_proto::CommonInlineUserDefinedFunction;

use crate::error::{ConnectError, Result};
use crate::expr::Scope;
use crate::session::ConnectSession;
use crate::worker::{frame, pool, py_err, read_response, Worker};

/// Spark's `PythonEvalType` values ember evaluates as scalar functions: `@udf`,
/// `@udf(useArrow=True)`, scalar and iterator-of-Series `pandas_udf`, scalar and
/// iterator Arrow UDFs.
const SCALAR_EVAL_TYPES: [i32; 6] = [100, 101, 200, 204, 250, 251];
/// Grouped-aggregate `pandas_udf` (`Series -> scalar`) and its Arrow form: aggregates
/// (in `groupBy().agg`, over a window, or registered for SQL).
pub(crate) const AGG_EVAL_TYPES: [i32; 2] = [202, 252];

/// One Python UDF as a DataFusion scalar function.
#[derive(Debug)]
pub struct PythonUdf {
    name: String,
    /// The lower-case name when it differs (Spark resolves function names
    /// case-insensitively: `spark.udf.register("intX2", f)` is callable as `intx2`).
    aliases: Vec<String>,
    signature: Signature,
    return_type: DataType,
    eval_type: i32,
    command: Arc<Vec<u8>>,
    fn_id: u64,
    python: String,
    paths: Vec<String>,
    /// The keyword of each argument passed by name (`calc(b => x)`), `None` for a
    /// positional one; the worker calls `f(*positional, **keywords)`.
    arg_names: Vec<Option<String>>,
}

impl PartialEq for PythonUdf {
    fn eq(&self, o: &Self) -> bool {
        self.fn_id == o.fn_id && self.name == o.name && self.arg_names == o.arg_names
    }
}
impl Eq for PythonUdf {}
impl Hash for PythonUdf {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.fn_id.hash(h);
        self.name.hash(h);
    }
}

impl PythonUdf {
    /// The function's name as the user gave it.
    pub(crate) fn fn_name(&self) -> &str {
        &self.name
    }

    /// The declared return type.
    pub(crate) fn output_type(&self) -> &DataType {
        &self.return_type
    }

    /// Whether Spark may re-run the function for the same input (`deterministic`).
    pub(crate) fn volatility(&self) -> Volatility {
        self.signature.volatility
    }

    /// A hash of the pickled function (stable for one function).
    pub(crate) fn fn_id(&self) -> u64 {
        self.fn_id
    }

    /// Runs the function over `batch` (its columns are the arguments) in a pooled
    /// worker: one value per row for scalar kinds, one value for aggregate kinds.
    pub(crate) fn eval(
        &self,
        batch: &RecordBatch,
    ) -> std::result::Result<ArrayRef, DataFusionError> {
        let pool = pool(&self.python);
        let mut w = pool.checkout()?;
        match self.eval_on(&mut w, batch) {
            Ok(r) => {
                pool.checkin(w);
                Ok(r)
            }
            Err((e, reusable)) => {
                if reusable {
                    pool.checkin(w);
                } else {
                    let tail = w.stderr_tail();
                    let status = w.child.try_wait().ok().flatten();
                    drop(w);
                    pool.forget();
                    if let Some(s) = status {
                        return Err(py_err(format!(
                            "the Python worker of UDF `{}` exited ({s}):\n{tail}",
                            self.name
                        )));
                    }
                }
                Err(e)
            }
        }
    }

    fn eval_on(
        &self,
        w: &mut Worker,
        batch: &RecordBatch,
    ) -> std::result::Result<ArrayRef, (DataFusionError, bool)> {
        let io = |e: std::io::Error| {
            (
                py_err(format!("UDF `{}`: worker pipe: {e}", self.name)),
                false,
            )
        };
        let first = w.seen.insert(self.fn_id);
        let header = serde_json::json!({"fn": self.fn_id.to_string(), "eval_type": self.eval_type, "command": first, "path": self.paths});
        let mut ipc = Vec::new();
        {
            let mut sw = arrow::ipc::writer::StreamWriter::try_new(&mut ipc, &batch.schema())
                .map_err(|e| (e.into(), true))?;
            sw.write(batch).map_err(|e| (e.into(), true))?;
            sw.finish().map_err(|e| (e.into(), true))?;
        }
        frame(&mut w.stdin, header.to_string().as_bytes()).map_err(io)?;
        if first {
            frame(&mut w.stdin, &self.command).map_err(io)?;
        }
        frame(&mut w.stdin, &ipc).map_err(io)?;
        w.stdin.flush().map_err(io)?;
        let (kind, payload) = read_response(&mut w.stdout).map_err(io)?;
        if kind == b'E' {
            return Err((py_err(String::from_utf8_lossy(&payload).into_owned()), true));
        }
        let mut r = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(payload), None)
            .map_err(|e| (e.into(), true))?;
        let out = r
            .next()
            .ok_or_else(|| (py_err("the worker sent no result"), true))?
            .map_err(|e| (e.into(), true))?;
        let col = out.column(0).clone();
        if col.data_type() == &self.return_type {
            Ok(col)
        } else {
            arrow::compute::cast(&col, &self.return_type).map_err(|e| (e.into(), true))
        }
    }
}

impl ScalarUDFImpl for PythonUdf {
    fn name(&self) -> &str {
        &self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(self.return_type.clone())
    }
    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = args
            .args
            .into_iter()
            .map(|a| a.into_array(n))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let fields: Vec<Field> = arrays
            .iter()
            .enumerate()
            .map(|(i, a)| {
                // A keyword argument travels as column `kw:<name>`.
                let name = match self.arg_names.get(i) {
                    Some(Some(k)) => format!("kw:{k}"),
                    _ => format!("_{i}"),
                };
                Field::new(name, crate::types::wire_type(a.data_type()), true)
            })
            .collect();
        let arrays = arrays
            .iter()
            .zip(&fields)
            .map(|(a, f)| arrow::compute::cast(a, f.data_type()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        let multi = tokio::runtime::Handle::try_current()
            .map(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
            .unwrap_or(false);
        let out = if multi {
            tokio::task::block_in_place(|| self.eval(&batch))
        } else {
            self.eval(&batch)
        }?;
        Ok(ColumnarValue::Array(out))
    }
}

/// The workers' Python: `spark.pyspark.python`, else `$PYSPARK_PYTHON`, else
/// `python3` (Spark's order for executors).
pub(crate) fn python_of(cs: &ConnectSession) -> String {
    cs.spark
        .conf_get("spark.pyspark.python")
        .or_else(|| {
            std::env::var("PYSPARK_PYTHON")
                .ok()
                .filter(|p| !p.trim().is_empty())
        })
        .unwrap_or_else(|| "python3".into())
}

/// Module search path of the workers: the session's `addArtifacts(pyfile=True)`
/// directory and the entries of `spark.submit.pyFiles` (a `.py` file's directory,
/// a zip or egg itself).
pub(crate) fn python_paths(cs: &ConnectSession) -> Vec<String> {
    let mut out = vec![cs.artifact_dir.join("pyfiles").display().to_string()];
    if let Some(files) = cs.spark.conf_get("spark.submit.pyFiles") {
        for f in files.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let p = std::path::Path::new(f);
            let entry = if p.extension().is_some_and(|e| e == "py") {
                p.parent().unwrap_or(p).display().to_string()
            } else {
                f.to_string()
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// The DataFusion function of a Python UDF message.
///
/// Errors: `UNSUPPORTED_FEATURE` for Scala/Java UDFs and Python eval types other than
/// batched, Arrow-batched and scalar pandas UDFs.
pub fn scalar_udf(cs: &ConnectSession, u: &CommonInlineUserDefinedFunction) -> Result<ScalarUDF> {
    Ok(ScalarUDF::new_from_impl(python_udf(
        cs,
        u,
        &SCALAR_EVAL_TYPES,
    )?))
}

/// The eval type of a Python UDF (None for Scala/Java ones).
pub(crate) fn eval_type(u: &CommonInlineUserDefinedFunction) -> Option<i32> {
    match &u.function {
        Some(Function::PythonUdf(p)) => Some(p.eval_type),
        _ => None,
    }
}

/// The Python function of `u` when its eval type is one of `allowed`.
///
/// Errors: `UNSUPPORTED_FEATURE` for Scala/Java UDFs and other eval types.
pub(crate) fn python_udf(
    cs: &ConnectSession,
    u: &CommonInlineUserDefinedFunction,
    allowed: &[i32],
) -> Result<PythonUdf> {
    let py = match &u.function {
        Some(Function::PythonUdf(p)) => p,
        Some(_) => {
            return Err(ConnectError::unsupported(format!(
                "the non-Python UDF `{}`",
                u.function_name
            )))
        }
        None => {
            return Err(ConnectError::invalid(format!(
                "UDF `{}` without a function",
                u.function_name
            )))
        }
    };
    if !allowed.contains(&py.eval_type) {
        return Err(ConnectError::unsupported(format!(
            "Python UDFs of eval type {} (`{}`) here; ember runs @udf, useArrow UDFs, scalar, iterator and grouped-aggregate pandas_udf and Arrow UDFs",
            py.eval_type, u.function_name
        )));
    }
    let tz = cs.spark.time_zone().name().to_string();
    let return_type = crate::types::from_proto(
        py.output_type
            .as_ref()
            .ok_or_else(|| ConnectError::invalid("Python UDF without a return type"))?,
        &tz,
    )?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    py.command.hash(&mut h);
    let volatility = if u.deterministic {
        Volatility::Immutable
    } else {
        Volatility::Volatile
    };
    let lower = u.function_name.to_lowercase();
    Ok(PythonUdf {
        name: u.function_name.clone(),
        aliases: if lower == u.function_name {
            Vec::new()
        } else {
            vec![lower]
        },
        signature: Signature::one_of(
            vec![
                datafusion::logical_expr::TypeSignature::VariadicAny,
                datafusion::logical_expr::TypeSignature::Nullary,
            ],
            volatility,
        ),
        return_type,
        eval_type: py.eval_type,
        command: Arc::new(py.command.to_vec()),
        fn_id: h.finish(),
        python: python_of(cs),
        paths: python_paths(cs),
        arg_names: Vec::new(),
    })
}

/// A Python UDF call in an expression (`my_udf(col("x"))`).
pub fn python_udf_expr(
    scope: &Scope<'_>,
    cs: &ConnectSession,
    u: &CommonInlineUserDefinedFunction,
) -> Result<Expr> {
    use spark_connect_proto::expression::ExprType;
    let mut args = Vec::new();
    let mut names = Vec::new();
    let mut shown = Vec::new();
    for a in &u.arguments {
        match &a.expr_type {
            Some(ExprType::NamedArgumentExpression(n)) => {
                let value = n
                    .value
                    .as_deref()
                    .ok_or_else(|| ConnectError::invalid("named argument without a value"))?;
                let v = scope.expr(value)?;
                shown.push(format!("{} => {}", n.key, scope.sql_of(&v)));
                names.push(Some(n.key.clone()));
                args.push(v);
            }
            _ => {
                let v = scope.expr(a)?;
                shown.push(scope.sql_of(&v));
                names.push(None);
                args.push(v);
            }
        }
    }
    if eval_type(u).is_some_and(|t| AGG_EVAL_TYPES.contains(&t)) {
        return Ok(crate::python_agg::udaf(python_udf(cs, u, &AGG_EVAL_TYPES)?).call(args));
    }
    if names.iter().any(|n| n.is_some()) {
        // Spark names the call `f(b => (id * 10), a => id)`.
        let mut f = python_udf(cs, u, &SCALAR_EVAL_TYPES)?;
        f.arg_names = names;
        let call = ScalarUDF::new_from_impl(f).call(args);
        return Ok(call.alias(format!("{}({})", u.function_name, shown.join(", "))));
    }
    Ok(scalar_udf(cs, u)?.call(args))
}

/// `spark.udf.register(name, f)`: the UDF becomes callable from SQL in the session.
pub fn register(cs: &ConnectSession, u: &CommonInlineUserDefinedFunction) -> Result<()> {
    if eval_type(u).is_some_and(|t| AGG_EVAL_TYPES.contains(&t)) {
        let f = crate::python_agg::udaf(python_udf(cs, u, &AGG_EVAL_TYPES)?);
        cs.spark.context().register_udaf(f);
        return Ok(());
    }
    let f = scalar_udf(cs, u)?;
    cs.spark.context().register_udf(f);
    Ok(())
}
