//! Spark's data types over Arrow: the mapping (`integer` = Int32, `long` = Int64,
//! `timestamp` = Timestamp(µs, session zone), `date` = Date32, `decimal(p,s)` =
//! Decimal128...), Spark's type names (`simpleString`, `typeName`), DDL schema strings
//! (`"id INT, name STRING"`), and `printSchema()` text.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, IntervalUnit, Schema, TimeUnit};

use crate::error::{EmberError, Result};

/// Spark's `StructType`: an Arrow schema.
pub type StructType = Schema;
/// Spark's `StructField`: an Arrow field.
pub type StructField = Field;

/// Spark's `simpleString` of a column's type: as [`simple_string`], with an ANSI
/// interval's range from the field's metadata (`interval hour`; see
/// [`crate::interval`]).
pub fn field_simple_string(f: &Field) -> String {
    match crate::interval::Qualifier::of_field(f) {
        Some(q) => q.type_name(),
        None => simple_string(f.data_type()),
    }
}

/// Spark's `simpleString` of a type (`int`, `bigint`, `array<string>`,
/// `struct<a:int>`, `decimal(10,2)`), as in `schema.json` and `DESCRIBE`.
pub fn simple_string(dt: &DataType) -> String {
    match dt {
        DataType::Null => "void".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::UInt8 | DataType::UInt16 => "int".into(),
        DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp".into(),
        DataType::Timestamp(_, None) => "timestamp_ntz".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f) => {
            format!("array<{}>", field_simple_string(f))
        }
        DataType::Struct(fs) => format!(
            "struct<{}>",
            fs.iter()
                .map(|f| format!("{}:{}", f.name(), field_simple_string(f)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!(
                    "map<{},{}>",
                    field_simple_string(&kv[0]),
                    field_simple_string(&kv[1])
                )
            }
            _ => "map".into(),
        },
        DataType::Interval(IntervalUnit::YearMonth) | DataType::Duration(_) => {
            crate::interval::Qualifier::of_type(dt)
                .map(|q| q.type_name())
                .unwrap_or_else(|| "interval".into())
        }
        DataType::Interval(_) => "interval".into(),
        DataType::Dictionary(_, v) => simple_string(v),
        other => other.to_string().to_lowercase(),
    }
}

/// Spark's `typeName` as printed by `printSchema()` (`integer`, `long`, `string`,
/// `array`, `struct`, `decimal(10,2)`).
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Int32 | DataType::UInt8 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "long".into(),
        DataType::Int16 => "short".into(),
        DataType::Int8 => "byte".into(),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::ListView(_) => "array".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::Map(_, _) => "map".into(),
        DataType::Null => "void".into(),
        DataType::Dictionary(_, v) => type_name(v),
        other => simple_string(other),
    }
}

/// `printSchema()` text, byte-identical to Spark's `StructType.treeString`.
pub fn tree_string(schema: &Schema) -> String {
    let mut out = String::from("root\n");
    for f in schema.fields() {
        field_tree(&mut out, f.name(), f.data_type(), f.is_nullable(), " |");
    }
    out
}

fn field_tree(out: &mut String, name: &str, dt: &DataType, nullable: bool, prefix: &str) {
    out.push_str(&format!(
        "{prefix}-- {name}: {} (nullable = {nullable})\n",
        type_name(dt)
    ));
    nested_tree(out, dt, &format!("{prefix}    |"));
}

fn nested_tree(out: &mut String, dt: &DataType, prefix: &str) {
    match dt {
        DataType::Struct(fs) => {
            for f in fs {
                field_tree(out, f.name(), f.data_type(), f.is_nullable(), prefix);
            }
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            out.push_str(&format!(
                "{prefix}-- element: {} (containsNull = {})\n",
                type_name(f.data_type()),
                f.is_nullable()
            ));
            nested_tree(out, f.data_type(), &format!("{prefix}    |"));
        }
        DataType::Map(f, _) => {
            if let DataType::Struct(kv) = f.data_type() {
                if kv.len() == 2 {
                    out.push_str(&format!(
                        "{prefix}-- key: {}\n",
                        type_name(kv[0].data_type())
                    ));
                    nested_tree(out, kv[0].data_type(), &format!("{prefix}    |"));
                    out.push_str(&format!(
                        "{prefix}-- value: {} (valueContainsNull = {})\n",
                        type_name(kv[1].data_type()),
                        kv[1].is_nullable()
                    ));
                    nested_tree(out, kv[1].data_type(), &format!("{prefix}    |"));
                }
            }
        }
        _ => {}
    }
}

/// Spark's `timestamp` in Arrow for a session time zone.
pub fn timestamp_type(tz: &str) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(tz)))
}

/// Parses a Spark SQL type name (`INT`, `string`, `decimal(10,2)`, `array<int>`,
/// `struct<a:int,b:string>`, `map<string,int>`) into Arrow, with timestamps in `tz`.
///
/// Errors: [`EmberError::Parse`] (`UNSUPPORTED_DATATYPE`) naming the type.
pub fn parse_data_type(s: &str, tz: &str) -> Result<DataType> {
    let mut p = DdlParser {
        s: s.as_bytes(),
        pos: 0,
        tz,
    };
    let t = p.data_type()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(EmberError::parse(
            "PARSE_SYNTAX_ERROR",
            format!("Syntax error in data type '{s}' at position {}", p.pos),
        ));
    }
    Ok(t)
}

/// Parses a DDL schema string (`"id INT, name STRING NOT NULL, `when` DATE"`), as
/// `DataFrameReader.schema(String)` and `CREATE VIEW v (schema)` take it.
///
/// Errors: [`EmberError::Parse`] with the position of the problem.
pub fn parse_ddl_schema(s: &str, tz: &str) -> Result<Schema> {
    let mut p = DdlParser {
        s: s.as_bytes(),
        pos: 0,
        tz,
    };
    let mut fields = Vec::new();
    loop {
        p.ws();
        if p.pos >= p.s.len() {
            break;
        }
        let name = p.ident()?;
        p.ws();
        if p.peek() == Some(b':') {
            p.pos += 1;
        }
        let t = p.data_type()?;
        p.ws();
        let mut nullable = true;
        if p.keyword("NOT") {
            p.ws();
            if !p.keyword("NULL") {
                return Err(p.err("expected NULL after NOT"));
            }
            nullable = false;
        }
        p.ws();
        if p.keyword("COMMENT") {
            p.ws();
            p.string_lit()?;
        }
        fields.push(Field::new(name, t, nullable));
        p.ws();
        match p.peek() {
            Some(b',') => p.pos += 1,
            None => break,
            Some(_) => return Err(p.err("expected ',' between columns")),
        }
    }
    Ok(Schema::new(fields))
}

struct DdlParser<'a> {
    s: &'a [u8],
    pos: usize,
    tz: &'a str,
}

impl DdlParser<'_> {
    fn err(&self, what: &str) -> EmberError {
        EmberError::parse(
            "PARSE_SYNTAX_ERROR",
            format!(
                "Syntax error at or near position {} of '{}': {what}",
                self.pos,
                String::from_utf8_lossy(self.s)
            ),
        )
    }
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.pos + kw.len();
        if end <= self.s.len()
            && self.s[self.pos..end].eq_ignore_ascii_case(kw.as_bytes())
            && self
                .s
                .get(end)
                .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
        {
            self.pos = end;
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Result<String> {
        self.ws();
        if self.peek() == Some(b'`') {
            let mut out = Vec::new();
            self.pos += 1;
            while self.pos < self.s.len() {
                if self.s[self.pos] == b'`' {
                    if self.s.get(self.pos + 1) == Some(&b'`') {
                        out.push(b'`');
                        self.pos += 2;
                        continue;
                    }
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                out.push(self.s[self.pos]);
                self.pos += 1;
            }
            return Err(self.err("unclosed backquote"));
        }
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("expected a name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }
    fn string_lit(&mut self) -> Result<String> {
        let q = self.peek().ok_or_else(|| self.err("expected a string"))?;
        if q != b'\'' && q != b'"' {
            return Err(self.err("expected a string"));
        }
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos] != q {
            self.pos += 1;
        }
        let v = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(v)
    }
    fn number(&mut self) -> Result<u32> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| self.err("expected a number"))
    }
    fn expect(&mut self, c: u8) -> Result<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }
    fn data_type(&mut self) -> Result<DataType> {
        self.ws();
        let name = self.ident()?.to_ascii_lowercase();
        Ok(match name.as_str() {
            "boolean" | "bool" => DataType::Boolean,
            "tinyint" | "byte" => DataType::Int8,
            "smallint" | "short" => DataType::Int16,
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "float" | "real" => DataType::Float32,
            "double" => DataType::Float64,
            "string" | "text" => DataType::Utf8,
            "varchar" | "char" => {
                self.expect(b'(')?;
                self.number()?;
                self.expect(b')')?;
                DataType::Utf8
            }
            "binary" => DataType::Binary,
            "date" => DataType::Date32,
            "timestamp" | "timestamp_ltz" => timestamp_type(self.tz),
            "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "decimal" | "dec" | "numeric" => {
                self.ws();
                if self.peek() == Some(b'(') {
                    self.pos += 1;
                    let p = self.number()?;
                    self.ws();
                    let s = if self.peek() == Some(b',') {
                        self.pos += 1;
                        self.number()?
                    } else {
                        0
                    };
                    self.expect(b')')?;
                    if p == 0 || p > 38 || s > p {
                        return Err(self.err(&format!("decimal({p},{s}) is out of range (precision 1..38, scale <= precision)")));
                    }
                    DataType::Decimal128(p as u8, s as i8)
                } else {
                    DataType::Decimal128(10, 0)
                }
            }
            "array" => {
                self.expect(b'<')?;
                let e = self.data_type()?;
                self.expect(b'>')?;
                DataType::List(Arc::new(Field::new("element", e, true)))
            }
            "map" => {
                self.expect(b'<')?;
                let k = self.data_type()?;
                self.expect(b',')?;
                let v = self.data_type()?;
                self.expect(b'>')?;
                DataType::Map(
                    Arc::new(Field::new(
                        "entries",
                        DataType::Struct(Fields::from(vec![
                            Field::new("key", k, false),
                            Field::new("value", v, true),
                        ])),
                        false,
                    )),
                    false,
                )
            }
            "struct" => {
                self.expect(b'<')?;
                let mut fields = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b'>') {
                        self.pos += 1;
                        break;
                    }
                    let n = self.ident()?;
                    self.ws();
                    if self.peek() == Some(b':') {
                        self.pos += 1;
                    }
                    let t = self.data_type()?;
                    fields.push(Field::new(n, t, true));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'>') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("expected ',' or '>' in struct")),
                    }
                }
                DataType::Struct(Fields::from(fields))
            }
            other => {
                return Err(EmberError::parse(
                    "UNSUPPORTED_DATATYPE",
                    format!("Unsupported data type \"{}\".", other.to_ascii_uppercase()),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_and_tree_string() {
        let s = parse_ddl_schema("id INT, name STRING, amount DOUBLE, `when` DATE, tags array<string>, a struct<city:string,zip:string> NOT NULL", "UTC").unwrap();
        assert_eq!(s.fields().len(), 6);
        assert_eq!(s.field(3).name(), "when");
        let t = tree_string(&s);
        assert!(
            t.starts_with("root\n |-- id: integer (nullable = true)\n"),
            "{t}"
        );
        assert!(t.contains(" |-- tags: array (nullable = true)\n |    |-- element: string (containsNull = true)\n"), "{t}");
        assert!(
            t.contains(
                " |-- a: struct (nullable = false)\n |    |-- city: string (nullable = true)\n"
            ),
            "{t}"
        );
        assert_eq!(
            simple_string(s.field(5).data_type()),
            "struct<city:string,zip:string>"
        );
        assert!(parse_ddl_schema("id INTT", "UTC").is_err());
        assert_eq!(
            parse_data_type("decimal(10, 2)", "UTC").unwrap(),
            DataType::Decimal128(10, 2)
        );
    }
}
