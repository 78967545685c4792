//! Spark Connect `DataType` messages ↔ Arrow types, with ember's Spark type mapping
//! (`integer` = Int32, `long` = Int64, `timestamp` = Timestamp(µs, session zone),
//! `timestamp_ntz` = Timestamp(µs, none), `date` = Date32, `decimal(p,s)` = Decimal128,
//! `array` = List, `map` = Map, `struct` = Struct).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use spark_connect_proto::data_type::{self as dt, Kind};
use spark_connect_proto::DataType as PbType;

use crate::error::{ConnectError, Result};

fn pb(kind: Kind) -> PbType {
    PbType { kind: Some(kind) }
}

/// The Spark Connect type of an Arrow type (what `df.schema` shows in PySpark).
/// Arrow types Spark lacks map to their Spark equivalents (unsigned → wider signed,
/// views/large variants → string/binary/array).
pub fn to_proto(t: &DataType) -> PbType {
    match t {
        DataType::Null => pb(Kind::Null(dt::Null::default())),
        DataType::Boolean => pb(Kind::Boolean(dt::Boolean::default())),
        DataType::Int8 => pb(Kind::Byte(dt::Byte::default())),
        DataType::Int16 | DataType::UInt8 => pb(Kind::Short(dt::Short::default())),
        DataType::Int32 | DataType::UInt16 => pb(Kind::Integer(dt::Integer::default())),
        DataType::Int64 | DataType::UInt32 => pb(Kind::Long(dt::Long::default())),
        DataType::UInt64 => pb(Kind::Decimal(dt::Decimal {
            scale: Some(0),
            precision: Some(20),
            type_variation_reference: 0,
        })),
        DataType::Float16 | DataType::Float32 => pb(Kind::Float(dt::Float::default())),
        DataType::Float64 => pb(Kind::Double(dt::Double::default())),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => pb(Kind::Decimal(dt::Decimal {
            scale: Some(*s as i32),
            precision: Some(*p as i32),
            type_variation_reference: 0,
        })),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            pb(Kind::String(dt::String::default()))
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => pb(Kind::Binary(dt::Binary::default())),
        DataType::Date32 | DataType::Date64 => pb(Kind::Date(dt::Date::default())),
        DataType::Timestamp(_, Some(_)) => pb(Kind::Timestamp(dt::Timestamp::default())),
        DataType::Timestamp(_, None) => pb(Kind::TimestampNtz(dt::TimestampNtz::default())),
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => {
            pb(Kind::YearMonthInterval(dt::YearMonthInterval {
                start_field: Some(0),
                end_field: Some(1),
                type_variation_reference: 0,
            }))
        }
        DataType::Interval(_) => pb(Kind::CalendarInterval(dt::CalendarInterval::default())),
        DataType::Duration(_) => pb(Kind::DayTimeInterval(dt::DayTimeInterval {
            start_field: Some(0),
            end_field: Some(3),
            type_variation_reference: 0,
        })),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => pb(Kind::Array(Box::new(dt::Array {
            element_type: Some(Box::new(to_proto(f.data_type()))),
            contains_null: f.is_nullable(),
            type_variation_reference: 0,
        }))),
        DataType::Struct(fields) => pb(Kind::Struct(struct_of(fields))),
        DataType::Map(entries, _) => {
            let (k, v) = match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => (kv[0].clone(), kv[1].clone()),
                _ => (
                    Arc::new(Field::new("key", DataType::Utf8, false)),
                    Arc::new(Field::new("value", DataType::Utf8, true)),
                ),
            };
            pb(Kind::Map(Box::new(dt::Map {
                key_type: Some(Box::new(to_proto(k.data_type()))),
                value_type: Some(Box::new(to_proto(v.data_type()))),
                value_contains_null: v.is_nullable(),
                type_variation_reference: 0,
            })))
        }
        DataType::Dictionary(_, v) => to_proto(v),
        DataType::RunEndEncoded(_, v) => to_proto(v.data_type()),
        DataType::Time32(_) | DataType::Time64(_) => pb(Kind::Time(dt::Time::default())),
        _ => pb(Kind::String(dt::String::default())),
    }
}

/// The Spark Connect type of a column: as [`to_proto`], with an ANSI interval's
/// range from the field's metadata (`interval hour to second`; see
/// `ember_sql::interval`) and nested fields likewise.
pub fn field_to_proto(f: &Field) -> PbType {
    use ember_sql::interval::{Qualifier, Unit};
    if let Some(q) = Qualifier::of_field(f) {
        let code = |u: Unit| match u {
            Unit::Year | Unit::Day => 0,
            Unit::Month | Unit::Hour => 1,
            Unit::Minute => 2,
            Unit::Second => 3,
        };
        let (start, end) = (Some(code(q.start)), Some(code(q.end)));
        return if q.year_month() {
            pb(Kind::YearMonthInterval(dt::YearMonthInterval {
                start_field: start,
                end_field: end,
                type_variation_reference: 0,
            }))
        } else {
            pb(Kind::DayTimeInterval(dt::DayTimeInterval {
                start_field: start,
                end_field: end,
                type_variation_reference: 0,
            }))
        };
    }
    match f.data_type() {
        DataType::List(c)
        | DataType::LargeList(c)
        | DataType::ListView(c)
        | DataType::LargeListView(c)
        | DataType::FixedSizeList(c, _) => pb(Kind::Array(Box::new(dt::Array {
            element_type: Some(Box::new(field_to_proto(c))),
            contains_null: c.is_nullable(),
            type_variation_reference: 0,
        }))),
        DataType::Struct(fields) => pb(Kind::Struct(struct_of(fields))),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => pb(Kind::Map(Box::new(dt::Map {
                key_type: Some(Box::new(field_to_proto(&kv[0]))),
                value_type: Some(Box::new(field_to_proto(&kv[1]))),
                value_contains_null: kv[1].is_nullable(),
                type_variation_reference: 0,
            }))),
            _ => to_proto(f.data_type()),
        },
        t => to_proto(t),
    }
}

/// The field-metadata key under which a column's Spark metadata (a JSON object, as
/// `StructField.metadata`) is kept.
pub const SPARK_METADATA: &str = "spark.metadata";

fn struct_of(fields: &Fields) -> dt::Struct {
    dt::Struct {
        fields: fields
            .iter()
            .map(|f| dt::StructField {
                name: f.name().clone(),
                data_type: Some(if ember_sql::functions::variant::is_variant(f) {
                    pb(Kind::Variant(dt::Variant::default()))
                } else {
                    field_to_proto(f)
                }),
                nullable: f.is_nullable(),
                metadata: f.metadata().get(SPARK_METADATA).cloned(),
            })
            .collect(),
        type_variation_reference: 0,
    }
}

/// A schema as the `StructType` message PySpark reads `df.schema` from.
pub fn schema_to_proto(s: &Schema) -> PbType {
    pb(Kind::Struct(struct_of(s.fields())))
}

/// The Arrow type of a Spark Connect type; timestamps carry the session zone `tz`.
///
/// Errors: [`ConnectError::Unsupported`] for types ember has no Arrow form for
/// (variant, geometry, UDTs without an SQL type).
pub fn from_proto(t: &PbType, tz: &str) -> Result<DataType> {
    let kind = t
        .kind
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("DataType without a kind"))?;
    Ok(match kind {
        Kind::Null(_) => DataType::Null,
        Kind::Boolean(_) => DataType::Boolean,
        Kind::Byte(_) => DataType::Int8,
        Kind::Short(_) => DataType::Int16,
        Kind::Integer(_) => DataType::Int32,
        Kind::Long(_) => DataType::Int64,
        Kind::Float(_) => DataType::Float32,
        Kind::Double(_) => DataType::Float64,
        Kind::Decimal(d) => {
            DataType::Decimal128(d.precision.unwrap_or(10) as u8, d.scale.unwrap_or(0) as i8)
        }
        Kind::String(_) | Kind::Char(_) | Kind::VarChar(_) => DataType::Utf8,
        Kind::Binary(_) => DataType::Binary,
        Kind::Date(_) => DataType::Date32,
        Kind::Timestamp(_) => ember_sql::types::timestamp_type(tz),
        Kind::TimestampNtz(_) => DataType::Timestamp(TimeUnit::Microsecond, None),
        Kind::CalendarInterval(_) => {
            DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano)
        }
        Kind::YearMonthInterval(_) => DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth),
        Kind::DayTimeInterval(_) => DataType::Duration(TimeUnit::Microsecond),
        Kind::Array(a) => {
            let e = a
                .element_type
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("array type without an element type"))?;
            DataType::List(Arc::new(Field::new(
                "element",
                from_proto(e, tz)?,
                a.contains_null,
            )))
        }
        Kind::Struct(s) => DataType::Struct(fields_from_proto(s, tz)?),
        Kind::Map(m) => {
            let k = m
                .key_type
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("map type without a key type"))?;
            let v = m
                .value_type
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("map type without a value type"))?;
            let entries = Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", from_proto(k, tz)?, false),
                    Field::new("value", from_proto(v, tz)?, m.value_contains_null),
                ])),
                false,
            );
            DataType::Map(Arc::new(entries), false)
        }
        Kind::Udt(u) => match &u.sql_type {
            Some(t) => from_proto(t, tz)?,
            None => {
                return Err(ConnectError::unsupported(format!(
                    "user-defined type {}",
                    u.r#type
                )))
            }
        },
        Kind::Unparsed(u) => ember_sql::types::parse_data_type(&u.data_type_string, tz)?,
        Kind::Time(_) => DataType::Time64(TimeUnit::Microsecond),
        Kind::TimestampNtzNanos(_) => DataType::Timestamp(TimeUnit::Nanosecond, None),
        Kind::TimestampLtzNanos(_) => {
            DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::from(tz)))
        }
        Kind::Variant(_) => return Err(ConnectError::unsupported("the VARIANT type")),
        Kind::Geometry(_) => return Err(ConnectError::unsupported("the GEOMETRY type")),
        Kind::Geography(_) => return Err(ConnectError::unsupported("the GEOGRAPHY type")),
    })
}

/// The fields of a `StructType` message.
pub fn fields_from_proto(s: &dt::Struct, tz: &str) -> Result<Fields> {
    s.fields
        .iter()
        .map(|f| {
            let t = f
                .data_type
                .as_ref()
                .ok_or_else(|| ConnectError::invalid(format!("field {} without a type", f.name)))?;
            Ok(Field::new(&f.name, from_proto(t, tz)?, f.nullable))
        })
        .collect::<Result<Vec<_>>>()
        .map(Fields::from)
}

/// An Arrow schema from a Spark Connect type: a struct's fields, or one column
/// `value` for other types (as Spark's `createDataFrame(data, "int")`).
pub fn schema_from_proto(t: &PbType, tz: &str) -> Result<Schema> {
    match &t.kind {
        Some(Kind::Struct(s)) => Ok(Schema::new(fields_from_proto(s, tz)?)),
        _ => Ok(Schema::new(vec![Field::new(
            "value",
            from_proto(t, tz)?,
            true,
        )])),
    }
}

/// The Arrow type results are sent to PySpark in: view and large variants become
/// their plain forms, which every pyarrow version reads.
pub fn wire_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => DataType::List(Arc::new(wire_field(f))),
        DataType::FixedSizeList(f, _) => DataType::List(Arc::new(wire_field(f))),
        DataType::Struct(fs) => DataType::Struct(fs.iter().map(|f| wire_field(f)).collect()),
        DataType::Map(e, sorted) => DataType::Map(Arc::new(wire_field(e)), *sorted),
        DataType::Dictionary(_, v) => wire_type(v),
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 => DataType::Float32,
        DataType::Date64 => DataType::Date32,
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        other => other.clone(),
    }
}

fn wire_field(f: &Field) -> Field {
    if ember_sql::functions::variant::is_variant(f) {
        return Field::new(f.name(), variant_wire_type(), f.is_nullable());
    }
    f.clone().with_data_type(wire_type(f.data_type()))
}

/// The Arrow form PySpark reads a VARIANT column in: `struct<value: binary,
/// metadata: binary>`, the metadata field tagged `variant=true`.
fn variant_wire_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("value", DataType::Binary, false),
        Field::new("metadata", DataType::Binary, false).with_metadata(
            [("variant".to_string(), "true".to_string())]
                .into_iter()
                .collect(),
        ),
    ]))
}

/// A VARIANT column (ember's canonical JSON text) in Spark's binary encoding.
fn encode_variants(
    c: &arrow::array::ArrayRef,
) -> std::result::Result<arrow::array::ArrayRef, arrow::error::ArrowError> {
    use arrow::array::{Array, AsArray, BinaryBuilder, StructArray};
    use ember_sql::functions::variant_json as vj;
    let text = arrow::compute::cast(c, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let (mut values, mut metas) = (BinaryBuilder::new(), BinaryBuilder::new());
    for i in 0..text.len() {
        let (v, m) = if text.is_null(i) {
            (vec![0u8], vec![1u8, 0, 0])
        } else {
            let j = vj::parse_canonical(text.value(i))
                .map_err(|e| arrow::error::ArrowError::ParseError(format!("variant: {e}")))?;
            vj::encode(&j)
        };
        values.append_value(v);
        metas.append_value(m);
    }
    let DataType::Struct(fields) = variant_wire_type() else {
        return Err(arrow::error::ArrowError::SchemaError(
            "variant wire type".into(),
        ));
    };
    Ok(Arc::new(StructArray::try_new(
        fields,
        vec![Arc::new(values.finish()), Arc::new(metas.finish())],
        text.nulls().cloned(),
    )?))
}

/// The wire schema of a result schema (see [`wire_type`]).
pub fn wire_schema(s: &Schema) -> Schema {
    Schema::new(s.fields().iter().map(|f| wire_field(f)).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_types() {
        let t = DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new(
                "b",
                DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
                false,
            ),
            Field::new("c", DataType::Decimal128(12, 2), true),
            Field::new("d", ember_sql::types::timestamp_type("UTC"), true),
        ]));
        assert_eq!(from_proto(&to_proto(&t), "UTC").unwrap(), t);
    }

    #[test]
    fn wire_types_are_plain() {
        assert_eq!(wire_type(&DataType::Utf8View), DataType::Utf8);
        assert_eq!(
            wire_type(&DataType::Timestamp(TimeUnit::Nanosecond, None)),
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
    }
}

/// `batch` with its columns cast, by position, to the types of `schema` (columns
/// already of the right type are kept as they are); row count preserved.
///
/// Errors: an arrow cast error when a column cannot be cast, or a column-count
/// mismatch.
pub(crate) fn cast_batch(
    batch: &arrow::record_batch::RecordBatch,
    schema: &arrow::datatypes::SchemaRef,
) -> std::result::Result<arrow::record_batch::RecordBatch, arrow::error::ArrowError> {
    let cols = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else if matches!(f.data_type(), DataType::Struct(fs) if fs.len() == 2 && fs[1].metadata().contains_key("variant"))
                && matches!(c.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            {
                encode_variants(c)
            } else {
                arrow::compute::cast(c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    arrow::record_batch::RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}
