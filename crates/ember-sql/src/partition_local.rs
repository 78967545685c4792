//! Spark's partition-local expressions: `spark_partition_id()`,
//! `monotonically_increasing_id()`, the seeded random functions `rand`, `randn`,
//! `uniform` and `randstr` (XORShift), `uuid` and `shuffle` (Mersenne Twister), and
//! `DataFrame.sample` without replacement, which filters on `rand(seed)`.
//!
//! Their values depend on the partition a row is in and on its position there: Spark
//! evaluates them with one state per partition (`Nondeterministic.initialize(
//! partitionIndex)`; the random ones seed a generator with `seed + partitionIndex`).
//! DataFusion's scalar functions see batches, not partitions, so ember plans them as
//! columns: [`rewrite`] (run by [`crate::sql::rules::analyze`]) replaces each call in a
//! projection, filter, sort, aggregation or window by a column that a [`PartitionLocal`] node
//! appends to the operator's input, and [`PartitionLocalExec`] computes those columns
//! per partition, in row order. Predicates and limits are not pushed below the node,
//! as Spark does not push them below nondeterministic expressions.
//!
//! Calls the rewrite does not reach (a join condition, say) fail when evaluated with
//! Spark's `INVALID_NON_DETERMINISTIC_EXPRESSIONS`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{plan_err, Column, DFSchema, DFSchemaRef, Result, ScalarValue};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    cast, ColumnarValue, Expr, Extension, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, UserDefinedLogicalNodeCore, Volatility,
};
use datafusion::physical_expr::{EquivalenceProperties, OrderingRequirements};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use crate::functions::random::XorShiftRandom;

/// One column a [`PartitionLocal`] node computes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub enum Generated {
    /// `spark_partition_id()`: the partition index (`int`).
    PartitionId,
    /// `monotonically_increasing_id()`: `(partitionIndex << 33) + row position` (`bigint`).
    MonotonicId,
    /// `rand(seed)`: `nextDouble()` of `XORShiftRandom(seed + partitionIndex)` (`double`).
    Rand(i64),
    /// `randn(seed)`: `nextGaussian()` of the same generator (`double`).
    Randn(i64),
    /// `randstr(length, seed)`: `length` characters of `0-9a-zA-Z` (`string`).
    RandStr(usize, i64),
    /// `uuid(seed)`: version-4 UUIDs from `MersenneTwister(seed + partitionIndex)`
    /// (Spark's `RandomUUIDGenerator`) (`string`).
    Uuid(i64),
    /// `shuffle(array, seed)`: the array (input column named here, of this list type)
    /// permuted by `MersenneTwister(seed + partitionIndex)` (Spark's
    /// `RandomIndicesGenerator`, inside-out Fisher-Yates); NULL for NULL.
    Shuffle(i64, String, DataType),
}

impl Generated {
    fn data_type(&self) -> DataType {
        match self {
            Generated::PartitionId => DataType::Int32,
            Generated::MonotonicId => DataType::Int64,
            Generated::Rand(_) | Generated::Randn(_) => DataType::Float64,
            Generated::RandStr(..) | Generated::Uuid(_) => DataType::Utf8,
            Generated::Shuffle(_, _, t) => t.clone(),
        }
    }

    /// Only `shuffle` gives NULL (for a NULL array).
    fn nullable(&self) -> bool {
        matches!(self, Generated::Shuffle(..))
    }
}

/// The partition-local functions, as callable markers that [`rewrite`] plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `spark_partition_id()`.
    PartitionId,
    /// `monotonically_increasing_id()`.
    MonotonicId,
    /// `rand([seed])` (also `random`).
    Rand,
    /// `randn([seed])`.
    Randn,
    /// `uniform(min, max[, seed])`.
    Uniform,
    /// `randstr(length[, seed])`.
    RandStr,
    /// `uuid([seed])`.
    Uuid,
    /// `shuffle(array[, seed])`.
    Shuffle,
}

/// The marker function of a [`Kind`]: typed like Spark's function, evaluated only
/// through [`rewrite`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PartitionLocalFn {
    kind: Kind,
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
}

impl PartitionLocalFn {
    /// The marker functions to register in a session.
    pub fn udfs() -> Vec<ScalarUDF> {
        let v = Volatility::Volatile;
        let any_args =
            |v| Signature::one_of(vec![TypeSignature::Nullary, TypeSignature::VariadicAny], v);
        let mk = |kind, name, aliases: &[&str], signature| {
            ScalarUDF::new_from_impl(PartitionLocalFn {
                kind,
                name,
                aliases: aliases.iter().map(|s| s.to_string()).collect(),
                signature,
            })
        };
        vec![
            mk(
                Kind::PartitionId,
                "spark_partition_id",
                &[],
                Signature::nullary(v),
            ),
            mk(
                Kind::MonotonicId,
                "monotonically_increasing_id",
                &[],
                Signature::nullary(v),
            ),
            mk(Kind::Rand, "rand", &["random"], any_args(v)),
            mk(Kind::Randn, "randn", &[], any_args(v)),
            mk(Kind::Uniform, "uniform", &[], any_args(v)),
            mk(Kind::RandStr, "randstr", &[], any_args(v)),
            mk(Kind::Uuid, "uuid", &[], any_args(v)),
            mk(Kind::Shuffle, "shuffle", &[], any_args(v)),
        ]
    }
}

impl ScalarUDFImpl for PartitionLocalFn {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::PartitionId => DataType::Int32,
            Kind::MonotonicId => DataType::Int64,
            Kind::Rand | Kind::Randn => DataType::Float64,
            Kind::RandStr | Kind::Uuid => DataType::Utf8,
            Kind::Uniform => uniform_type(args.first(), args.get(1))?,
            Kind::Shuffle => match args.first() {
                Some(t @ (DataType::List(_) | DataType::LargeList(_))) => t.clone(),
                other => {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"shuffle\": the first parameter requires the \"ARRAY\" type, not {other:?}."
                    )
                }
            },
        })
    }
    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Err(datafusion::error::DataFusionError::Plan(format!(
            "[INVALID_NON_DETERMINISTIC_EXPRESSIONS] The operator expects a deterministic expression, but the actual expression is \"{}()\". SQLSTATE: 42K0E",
            self.name
        )))
    }
}

/// Spark's `Uniform.dataType`: the wider integer type when both bounds are integers,
/// else `double` or `float`.
fn uniform_type(min: Option<&DataType>, max: Option<&DataType>) -> Result<DataType> {
    use DataType::*;
    let (Some(a), Some(b)) = (min, max) else {
        return plan_err!("[WRONG_NUM_ARGS] `uniform` requires 2 or 3 parameters.");
    };
    let int = |t: &DataType| matches!(t, Int8 | Int16 | Int32 | Int64);
    let valid = |t: &DataType| int(t) || matches!(t, Float32 | Float64);
    if !valid(a) || !valid(b) {
        return plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"uniform\": the bounds must be integer or floating-point, not {a} and {b}."
        );
    }
    Ok(if int(a) && int(b) {
        if *a == Int64 || *b == Int64 {
            Int64
        } else if *a == Int32 || *b == Int32 {
            Int32
        } else {
            Int16
        }
    } else if *a == Float64 || *b == Float64 || int(a) || int(b) {
        Float64
    } else {
        Float32
    })
}

fn marker(e: &Expr) -> Option<(Kind, &[Expr])> {
    match e {
        Expr::ScalarFunction(ScalarFunction { func, args }) => func
            .inner()
            .as_ref()
            .downcast_ref::<PartitionLocalFn>()
            .map(|f| (f.kind, args.as_slice())),
        _ => None,
    }
}

/// True when an expression of `node` (not of its inputs) calls a marker; looks
/// without copying the expressions, as every analysis of every plan asks.
fn has_marker(node: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = node.apply_expressions(|e| {
        found = e.exists(|x| Ok(marker(x).is_some()))?;
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// A constant integer argument (a literal, possibly cast or negated).
fn const_int(e: &Expr) -> Option<Option<i64>> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::Null => Some(None),
            v => v.cast_to(&DataType::Int64).ok().map(|v| match v {
                ScalarValue::Int64(x) => x,
                _ => None,
            }),
        },
        Expr::Cast(c) => const_int(&c.expr),
        Expr::TryCast(c) => const_int(&c.expr),
        Expr::Alias(a) => const_int(&a.expr),
        Expr::Negative(x) => const_int(x).map(|v| v.map(|v| v.wrapping_neg())),
        _ => None,
    }
}

fn seed_arg(name: &str, e: Option<&Expr>) -> Result<i64> {
    match e {
        // Spark picks a seed at analysis time for an unseeded call.
        None => Ok(rand_seed()),
        Some(e) => match const_int(e) {
            // `rand(NULL)` is `rand(0)`.
            Some(v) => Ok(v.unwrap_or(0)),
            None => plan_err!(
                "[INVALID_PARAMETER_VALUE.SEED_EXPRESSION] The value of parameter(s) `seed` in `{name}` is invalid: The seed expression must be an integer or long constant."
            ),
        },
    }
}

fn rand_seed() -> i64 {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    RandomState::new().hash_one(n) as i64
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Names of the columns the rewrite adds (never visible in results).
const GENERATED_PREFIX: &str = "__ember_partition_local_";

/// Plans the partition-local calls of `plan` (see the module docs). Idempotent: a
/// planned call leaves no marker behind.
pub fn rewrite(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up(|node| {
        let supported = matches!(
            node,
            LogicalPlan::Projection(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Aggregate(_)
                | LogicalPlan::Window(_)
        );
        if !supported || !has_marker(&node) {
            return Ok(Transformed::no(node));
        }
        rewrite_node(node).map(Transformed::yes)
    })
    .map(|t| t.data)
}

fn rewrite_node(node: LogicalPlan) -> Result<LogicalPlan> {
    let input = node.inputs()[0].clone();
    let names = NamePreserver::new(&node);
    let mut columns: Vec<(String, Generated)> = Vec::new();
    let mut column_of = |g: Generated| -> Expr {
        let name = match columns.iter().find(|(_, c)| *c == g) {
            Some((n, _)) => n.clone(),
            None => {
                let n = format!(
                    "{GENERATED_PREFIX}{}",
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                columns.push((n.clone(), g));
                n
            }
        };
        Expr::Column(Column::from_name(name))
    };
    // Arguments of generated columns (shuffle's array), computed below the node.
    let mut arg_cols: Vec<(String, Expr)> = Vec::new();
    let mut exprs = Vec::new();
    for e in node.expressions() {
        let saved = names.save(&e);
        let out = e.transform_up(|x| {
            let Some((kind, args)) = marker(&x) else {
                return Ok(Transformed::no(x));
            };
            let new = match kind {
                Kind::PartitionId => column_of(Generated::PartitionId),
                Kind::MonotonicId => column_of(Generated::MonotonicId),
                Kind::Rand => column_of(Generated::Rand(seed_arg("rand", args.first())?)),
                Kind::Randn => column_of(Generated::Randn(seed_arg("randn", args.first())?)),
                Kind::Uuid => column_of(Generated::Uuid(seed_arg("uuid", args.first())?)),
                Kind::Shuffle => {
                    let Some(arg) = args.first() else {
                        return plan_err!("[WRONG_NUM_ARGS] `shuffle` requires 1 or 2 parameters.");
                    };
                    let refs_generated = arg
                        .column_refs()
                        .iter()
                        .any(|c| c.name.starts_with(GENERATED_PREFIX));
                    if refs_generated {
                        return plan_err!(
                            "[UNSUPPORTED_FEATURE] shuffle of an array built from rand(), uuid() or other partition-local functions."
                        );
                    }
                    let t = datafusion::logical_expr::ExprSchemable::get_type(arg, input.schema())?;
                    let name = format!(
                        "{GENERATED_PREFIX}arg_{}",
                        COUNTER.fetch_add(1, Ordering::Relaxed)
                    );
                    arg_cols.push((name.clone(), arg.clone()));
                    column_of(Generated::Shuffle(seed_arg("shuffle", args.get(1))?, name, t))
                }
                Kind::RandStr => {
                    let len = args.first().and_then(const_int).flatten();
                    let Some(len) = len.filter(|l| *l >= 0) else {
                        return plan_err!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"randstr\": the first parameter requires a constant value of INT or SMALLINT that is not negative."
                        );
                    };
                    column_of(Generated::RandStr(
                        len as usize,
                        seed_arg("randstr", args.get(1))?,
                    ))
                }
                Kind::Uniform => {
                    let (Some(min), Some(max)) = (args.first(), args.get(1)) else {
                        return plan_err!("[WRONG_NUM_ARGS] `uniform` requires 2 or 3 parameters.");
                    };
                    let schema = input.schema();
                    let t = uniform_type(
                        Some(&datafusion::logical_expr::ExprSchemable::get_type(min, schema)?),
                        Some(&datafusion::logical_expr::ExprSchemable::get_type(max, schema)?),
                    )?;
                    let r = column_of(Generated::Rand(seed_arg("uniform", args.get(2))?));
                    // Spark's replacement: CAST(min + (max - min) * rand(seed) AS type).
                    let lo = cast(min.clone(), DataType::Float64);
                    let hi = cast(max.clone(), DataType::Float64);
                    cast(lo.clone() + (hi - lo) * r, t)
                }
            };
            Ok(Transformed::yes(new))
        })?;
        exprs.push(saved.restore(out.data));
    }
    let original: Vec<Expr> = node
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let input = if arg_cols.is_empty() {
        input
    } else {
        let mut cols: Vec<Expr> = input
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        cols.extend(arg_cols.into_iter().map(|(n, e)| e.alias(n)));
        LogicalPlanBuilder::from(input).project(cols)?.build()?
    };
    let local = PartitionLocal::try_new(input, columns)?;
    let new_input = LogicalPlan::Extension(Extension {
        node: Arc::new(local),
    });
    let new_node = node.with_new_exprs(exprs, vec![new_input])?;
    // A filter, sort or window passes its input's columns through: drop the added ones.
    if new_node.schema().fields().len() != node.schema().fields().len() {
        return LogicalPlanBuilder::from(new_node)
            .project(original)?
            .build();
    }
    Ok(new_node)
}

/// Logical node: its input's columns followed by the [`Generated`] columns, computed
/// per partition in row order. Output partitioning is the input's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartitionLocal {
    input: LogicalPlan,
    columns: Vec<(String, Generated)>,
    schema: DFSchemaRef,
}

impl PartitionLocal {
    fn try_new(input: LogicalPlan, columns: Vec<(String, Generated)>) -> Result<Self> {
        let mut fields: Vec<(Option<datafusion::common::TableReference>, Arc<Field>)> = input
            .schema()
            .iter()
            .map(|(q, f)| (q.cloned(), f.clone()))
            .collect();
        for (n, g) in &columns {
            fields.push((None, Arc::new(Field::new(n, g.data_type(), g.nullable()))));
        }
        let schema = DFSchema::new_with_metadata(fields, input.schema().metadata().clone())?;
        Ok(PartitionLocal {
            input,
            columns,
            schema: Arc::new(schema),
        })
    }
}

impl PartialOrd for PartitionLocal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.columns.partial_cmp(&other.columns)
    }
}

impl UserDefinedLogicalNodeCore for PartitionLocal {
    fn name(&self) -> &str {
        "PartitionLocal"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }
    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }
    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PartitionLocal: ")?;
        for (i, (n, g)) in self.columns.iter().enumerate() {
            write!(f, "{}{n}={g:?}", if i > 0 { ", " } else { "" })?;
        }
        Ok(())
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        PartitionLocal::try_new(
            crate::plan::only_input(inputs, "PartitionLocal")?,
            self.columns.clone(),
        )
    }
}

impl PartitionLocal {
    /// The physical operator over the planned `input`.
    pub fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let required = datafusion::physical_plan::ExecutionPlanProperties::output_ordering(&input)
            .cloned()
            .map(OrderingRequirements::from);
        Arc::new(PartitionLocalExec::new(
            input,
            self.columns.clone(),
            required,
        ))
    }
}

/// Physical [`PartitionLocal`]: partition `i` of the output is partition `i` of the
/// input with the generated columns appended.
#[derive(Debug)]
pub struct PartitionLocalExec {
    input: Arc<dyn ExecutionPlan>,
    columns: Vec<(String, Generated)>,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
    /// The order the input had when planned (`orderBy(...)` below): required, so that
    /// no optimizer drops that sort (the values depend on row positions).
    required: Option<OrderingRequirements>,
}

impl PartitionLocalExec {
    fn new(
        input: Arc<dyn ExecutionPlan>,
        columns: Vec<(String, Generated)>,
        required: Option<OrderingRequirements>,
    ) -> Self {
        let mut fields: Vec<Arc<Field>> = input.schema().fields().iter().cloned().collect();
        for (n, g) in &columns {
            fields.push(Arc::new(Field::new(n, g.data_type(), g.nullable())));
        }
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            input.schema().metadata().clone(),
        ));
        // Input columns keep their positions, so the input's orderings still hold.
        let eq = EquivalenceProperties::new_with_orderings(
            schema.clone(),
            input
                .properties()
                .equivalence_properties()
                .oeq_class()
                .iter()
                .map(|o| o.iter().cloned().collect::<Vec<_>>()),
        );
        let p = input.properties();
        let props = Arc::new(PlanProperties::new(
            eq,
            p.output_partitioning().clone(),
            p.emission_type,
            p.boundedness,
        ));
        PartitionLocalExec {
            input,
            columns,
            required,
            schema,
            props,
        }
    }
}

impl DisplayAs for PartitionLocalExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PartitionLocalExec: ")?;
        for (i, (n, g)) in self.columns.iter().enumerate() {
            write!(f, "{}{n}={g:?}", if i > 0 { ", " } else { "" })?;
        }
        Ok(())
    }
}

/// Per-partition state of one generated column.
enum State {
    PartitionId(i32),
    MonotonicId(i64),
    Rand(XorShiftRandom),
    Randn(XorShiftRandom),
    RandStr(usize, XorShiftRandom),
    Uuid(rand_mt::Mt),
    Shuffle(rand_mt::Mt, usize),
}

impl State {
    fn new(g: &Generated, partition: usize, input: &Schema) -> Result<State> {
        let seeded = |seed: i64| XorShiftRandom::new(seed.wrapping_add(partition as i64));
        let mt = |seed: &i64| {
            crate::functions::random::mersenne_twister(seed.wrapping_add(partition as i64))
        };
        Ok(match g {
            Generated::PartitionId => State::PartitionId(partition as i32),
            Generated::MonotonicId => State::MonotonicId((partition as i64) << 33),
            Generated::Rand(s) => State::Rand(seeded(*s)),
            Generated::Randn(s) => State::Randn(seeded(*s)),
            Generated::RandStr(len, s) => State::RandStr(*len, seeded(*s)),
            Generated::Uuid(s) => State::Uuid(mt(s)),
            Generated::Shuffle(s, arg, _) => State::Shuffle(mt(s), input.index_of(arg)?),
        })
    }

    fn next(&mut self, batch: &RecordBatch) -> Result<ArrayRef> {
        let rows = batch.num_rows();
        Ok(match self {
            State::PartitionId(p) => Arc::new(Int32Array::from(vec![*p; rows])),
            State::MonotonicId(next) => {
                let start = *next;
                *next += rows as i64;
                Arc::new(Int64Array::from_iter_values(start..start + rows as i64))
            }
            State::Rand(r) => Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|_| r.next_double()),
            )),
            State::Randn(r) => Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|_| r.next_gaussian()),
            )),
            State::RandStr(len, r) => {
                let mut b = StringBuilder::with_capacity(rows, rows * *len);
                let mut s = String::with_capacity(*len);
                for _ in 0..rows {
                    s.clear();
                    r.next_string(*len, &mut s);
                    b.append_value(&s);
                }
                Arc::new(b.finish())
            }
            State::Uuid(mt) => {
                let mut b = StringBuilder::with_capacity(rows, rows * 36);
                for _ in 0..rows {
                    b.append_value(crate::functions::random::next_uuid(mt));
                }
                Arc::new(b.finish())
            }
            State::Shuffle(mt, col) => shuffle(mt, batch.column(*col))?,
        })
    }
}

/// Spark's `Shuffle.eval` over a list array: each non-null array is permuted by the
/// next indices of the row's generator.
fn shuffle(mt: &mut rand_mt::Mt, arr: &ArrayRef) -> Result<ArrayRef> {
    use datafusion::arrow::array::{
        Array, AsArray, GenericListArray, OffsetSizeTrait, UInt64Array,
    };
    use datafusion::arrow::buffer::OffsetBuffer;
    fn go<O: OffsetSizeTrait>(mt: &mut rand_mt::Mt, l: &GenericListArray<O>) -> Result<ArrayRef> {
        let mut take = Vec::new();
        let mut offsets = vec![O::usize_as(0)];
        for i in 0..l.len() {
            if l.is_valid(i) {
                let start = l.value_offsets()[i].as_usize();
                let n = l.value_length(i).as_usize();
                for k in crate::functions::random::next_indices(mt, n) {
                    take.push((start + k) as u64);
                }
            }
            offsets.push(O::usize_as(take.len()));
        }
        let values = datafusion::arrow::compute::take(l.values(), &UInt64Array::from(take), None)?;
        let field = match l.data_type() {
            DataType::List(f) | DataType::LargeList(f) => f.clone(),
            other => return plan_err!("shuffle of {other}"),
        };
        Ok(Arc::new(GenericListArray::<O>::try_new(
            field,
            OffsetBuffer::new(offsets.into()),
            values,
            l.nulls().cloned(),
        )?))
    }
    match arr.data_type() {
        DataType::List(_) => go(mt, arr.as_list::<i32>()),
        DataType::LargeList(_) => go(mt, arr.as_list::<i64>()),
        other => plan_err!("shuffle of {other}"),
    }
}

impl ExecutionPlan for PartitionLocalExec {
    fn name(&self) -> &str {
        "PartitionLocalExec"
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
    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![self.required.clone()]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // Repartitioning the input would change which rows a partition holds.
        vec![false]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::plan::only_input(children, "PartitionLocalExec")?;
        Ok(Arc::new(PartitionLocalExec::new(
            input,
            self.columns.clone(),
            self.required.clone(),
        )))
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let in_schema = self.input.schema();
        let mut states: Vec<State> = self
            .columns
            .iter()
            .map(|(_, g)| State::new(g, partition, &in_schema))
            .collect::<Result<_>>()?;
        let schema = self.schema.clone();
        let out_schema = schema.clone();
        let stream = input.map(move |batch| {
            let batch = batch?;
            let rows = batch.num_rows();
            let mut cols = batch.columns().to_vec();
            for s in states.iter_mut() {
                cols.push(s.next(&batch)?);
            }
            let opts =
                datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
            Ok(RecordBatch::try_new_with_options(
                out_schema.clone(),
                cols,
                &opts,
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
