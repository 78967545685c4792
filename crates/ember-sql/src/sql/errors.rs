//! Translation of DataFusion errors into Spark's error classes and messages.

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

use crate::error::{EmberError, ErrorKind};

/// Levenshtein distance (Spark uses commons-text's `LevenshteinDistance`).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1)
                .min(cur[j] + 1)
                .min(prev[j] + usize::from(ca != *cb));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Spark's suggestion list for an unresolved name: candidates quoted with backticks,
/// ordered by edit distance to the unresolved name (ties by name), at most 5.
pub fn suggestions(unresolved: &str, candidates: &[String]) -> Vec<String> {
    let mut c: Vec<(usize, String)> = candidates
        .iter()
        .map(|n| {
            let q = format!("`{}`", n.replace('`', "``"));
            (levenshtein(&q, unresolved), q)
        })
        .collect();
    c.sort();
    c.dedup_by(|a, b| a.1 == b.1);
    c.into_iter().take(5).map(|(_, q)| q).collect()
}

/// `UNRESOLVED_COLUMN.WITH_SUGGESTION` for `name` among the columns of `schema`.
pub fn unresolved_in_schema(
    name: &str,
    schema: &datafusion::arrow::datatypes::Schema,
) -> EmberError {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    unresolved_column(name, &names)
}

/// `UNRESOLVED_COLUMN.WITH_SUGGESTION` for `name` among `candidates`.
pub fn unresolved_column(name: &str, candidates: &[String]) -> EmberError {
    let s = suggestions(name, candidates);
    if s.is_empty() {
        EmberError::analysis(
            "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
            format!(
                "A column, variable, or function parameter with name `{name}` cannot be resolved."
            ),
        )
    } else {
        EmberError::analysis(
            "UNRESOLVED_COLUMN.WITH_SUGGESTION",
            format!(
                "A column, variable, or function parameter with name `{name}` cannot be resolved. Did you mean one of the following? [{}].",
                s.join(", ")
            ),
        )
    }
}

fn spark_type_of_arrow_name(t: &str) -> String {
    match t {
        "Int8" => "TINYINT",
        "Int16" => "SMALLINT",
        "Int32" => "INT",
        "Int64" => "BIGINT",
        "Float32" => "FLOAT",
        "Float64" => "DOUBLE",
        "Boolean" => "BOOLEAN",
        "Date32" => "DATE",
        "Utf8" | "Utf8View" | "LargeUtf8" => "STRING",
        t if t.starts_with("Timestamp") => "TIMESTAMP",
        t if t.starts_with("Decimal") => "DECIMAL",
        other => other,
    }
    .to_string()
}

/// Translates any DataFusion error.
pub fn translate(e: DataFusionError) -> EmberError {
    // Unwrap contexts and shared wrappers.
    let e = match e {
        DataFusionError::Context(_, inner) => return translate(*inner),
        DataFusionError::Diagnostic(_, inner) => return translate(*inner),
        DataFusionError::Collection(mut errs) if !errs.is_empty() => {
            return translate(errs.remove(0))
        }
        DataFusionError::Shared(inner) => {
            return translate(DataFusionError::Internal(inner.to_string())).with_source_text(&inner)
        }
        other => other,
    };
    match e {
        DataFusionError::External(b) => {
            if let Some(ee) = b.downcast_ref::<EmberError>() {
                return ee.clone();
            }
            if let Some(se) = b.downcast_ref::<ember_datasource::DataSourceError>() {
                return crate::error::source_error(se);
            }
            if let Some(df) = b.downcast_ref::<DataFusionError>() {
                return translate(DataFusionError::Internal(df.to_string())).with_source_text(df);
            }
            from_text(&b.to_string())
        }
        DataFusionError::SchemaError(se, _) => match *se {
            SchemaError::FieldNotFound {
                field,
                valid_fields,
            } => {
                let mut names: Vec<String> = valid_fields.iter().map(|c| c.name.clone()).collect();
                names.sort();
                names.dedup();
                unresolved_column(&field.name, &names)
            }
            SchemaError::AmbiguousReference { field } => EmberError::analysis(
                "AMBIGUOUS_REFERENCE",
                format!("Reference `{}` is ambiguous.", field.name),
            ),
            SchemaError::DuplicateQualifiedField { qualifier, name } => EmberError::analysis(
                "COLUMN_ALREADY_EXISTS",
                format!("The column `{qualifier}.{name}` already exists."),
            ),
            SchemaError::DuplicateUnqualifiedField { name } => EmberError::analysis(
                "COLUMN_ALREADY_EXISTS",
                format!("The column `{name}` already exists."),
            ),
        },
        DataFusionError::SQL(pe, _) => parse_error(&pe.to_string()),
        DataFusionError::ArrowError(ae, _) => from_text(&ae.to_string()),
        DataFusionError::Plan(m) => from_text(&m),
        DataFusionError::Execution(m) => from_text(&m),
        DataFusionError::NotImplemented(m) => EmberError::unsupported(m),
        DataFusionError::IoError(io) => {
            EmberError::new(ErrorKind::Io, "FAILED_READ_FILE", io.to_string(), None)
        }
        DataFusionError::ResourcesExhausted(m) => EmberError::new(
            ErrorKind::Runtime,
            "UNABLE_TO_ACQUIRE_MEMORY",
            format!("{m} (raise spark.driver.memory or lower the data volume)"),
            Some("53200"),
        ),
        other => from_text(&other.to_string()),
    }
}

trait WithSource {
    fn with_source_text(self, src: &dyn std::fmt::Display) -> EmberError;
}

impl WithSource for EmberError {
    fn with_source_text(self, src: &dyn std::fmt::Display) -> EmberError {
        let t = src.to_string();
        let again = from_text(&t);
        if again.error_class != "INTERNAL_ERROR" {
            again
        } else {
            self
        }
    }
}

/// Spark's `PARSE_SYNTAX_ERROR` from sqlparser's "Expected: X, found: Y at Line: L,
/// Column: C": `Syntax error at or near 'Y': expected X. (line L, pos C-1)` (Spark's
/// positions are 0-based columns).
pub fn parse_error(text: &str) -> EmberError {
    let msg = text.trim_start_matches("sql parser error: ");
    // The dialect's own errors carry Spark's class: `[CLASS] message`.
    if let Some((class, rest)) = msg.strip_prefix('[').and_then(|m| m.split_once("] ")) {
        if !class.is_empty()
            && class
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.')
        {
            return EmberError::parse(class, rest.to_string());
        }
    }
    let re = regex::Regex::new(r"^Expected: (.*), found: (.*?) at Line: (\d+), Column: (\d+)").ok();
    if let Some(c) = re.as_ref().and_then(|r| r.captures(msg)) {
        let found = &c[2];
        let col: usize = c[4].parse().unwrap_or(1);
        let near = if found == "EOF" {
            "end of input".to_string()
        } else {
            format!("'{found}'")
        };
        return EmberError::parse(
            "PARSE_SYNTAX_ERROR",
            format!(
                "Syntax error at or near {near}: expected {}. (line {}, pos {})",
                &c[1],
                &c[3],
                col.saturating_sub(1)
            ),
        );
    }
    if msg.contains("found: EOF") {
        let expected = msg
            .split("Expected: ")
            .nth(1)
            .and_then(|r| r.split(", found").next())
            .unwrap_or("more input");
        return EmberError::parse(
            "PARSE_SYNTAX_ERROR",
            format!("Syntax error at or near end of input: expected {expected}."),
        );
    }
    EmberError::parse("PARSE_SYNTAX_ERROR", format!("Syntax error: {msg}."))
}

/// Recognises error texts from DataFusion/Arrow and ember's own `[CLASS] ...` texts.
pub fn from_text(text: &str) -> EmberError {
    // Texts produced by ember UDFs and sources carry their class.
    if let Some(i) = text.find("[") {
        let rest = &text[i..];
        let (class, msg) = crate::error::split_class(rest);
        if class != "INTERNAL_ERROR"
            && class
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c == '.')
            && !class.is_empty()
        {
            let kind = match class {
                c if c.starts_with("CAST_")
                    || c.starts_with("DIVIDE_BY_ZERO")
                    || c.starts_with("ARITHMETIC")
                    || c.starts_with("INVALID_ARRAY_INDEX")
                    || c.starts_with("NUMERIC_VALUE_OUT_OF_RANGE") =>
                {
                    ErrorKind::Runtime
                }
                c if c.starts_with("PATH_NOT_FOUND")
                    || c.starts_with("UNRESOLVED")
                    || c.starts_with("TABLE_OR_VIEW") =>
                {
                    ErrorKind::Analysis
                }
                c if c.starts_with("PARSE") => ErrorKind::Parse,
                c if c.starts_with("MALFORMED") || c.starts_with("FAILED_READ") => ErrorKind::Io,
                _ => ErrorKind::Analysis,
            };
            let (m, state) = match msg.rfind(" SQLSTATE: ") {
                Some(j) => (
                    msg[..j].to_string(),
                    Some(
                        msg[j + 11..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string(),
                    ),
                ),
                None => (msg.to_string(), None),
            };
            let mut e = EmberError::new(kind, class, m, state.as_deref());
            e.exception = match class {
                c if c.starts_with("CAST_INVALID_INPUT") => "NumberFormatException",
                c if c.starts_with("INVALID_ARRAY_INDEX") => "ArrayIndexOutOfBoundsException",
                c if c.starts_with("DIVIDE_BY_ZERO") || c.starts_with("ARITHMETIC") => {
                    "ArithmeticException"
                }
                _ => e.exception,
            };
            return e;
        }
    }
    // Arrow cast failures: "Cannot cast string 'alice' to value of Int32 type"
    if let Some(pos) = text.find("Cannot cast string '") {
        let rest = &text[pos + 20..];
        if let Some(end) = rest.find("' to value of ") {
            let value = &rest[..end];
            let ty = rest[end + 14..].split_whitespace().next().unwrap_or("");
            let mut e = EmberError::new(
                ErrorKind::Runtime,
                "CAST_INVALID_INPUT",
                format!(
                    "The value '{value}' of the type \"STRING\" cannot be cast to \"{}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead.",
                    spark_type_of_arrow_name(ty)
                ),
                Some("22018"),
            );
            e.exception = "NumberFormatException";
            return e;
        }
    }
    if text.contains("Divide by zero") {
        let mut e = EmberError::new(
            ErrorKind::Runtime,
            "DIVIDE_BY_ZERO",
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.",
            Some("22012"),
        );
        e.exception = "ArithmeticException";
        return e;
    }
    if text.contains("Overflow happened")
        || text.contains("Arithmetic overflow")
        || text.contains("overflow") && text.contains("Int")
    {
        let mut e = EmberError::new(
            ErrorKind::Runtime,
            "ARITHMETIC_OVERFLOW",
            format!("{text}. Use 'try_add' (or another try_ function) to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."),
            Some("22003"),
        );
        e.exception = "ArithmeticException";
        return e;
    }
    for (needle, class) in [
        ("table '", "TABLE_OR_VIEW_NOT_FOUND"),
        ("Table '", "TABLE_OR_VIEW_NOT_FOUND"),
    ] {
        if let Some(p) = text.find(needle) {
            if text.contains("not found") {
                let rest = &text[p + needle.len()..];
                let name = rest.split('\'').next().unwrap_or(rest);
                let name = name.rsplit('.').next().unwrap_or(name);
                return EmberError::analysis(
                    class,
                    format!("The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."),
                );
            }
        }
    }
    if let Some(p) = text.find("Invalid function '") {
        let rest = &text[p + 18..];
        let name = rest.split('\'').next().unwrap_or(rest);
        return EmberError::analysis(
            "UNRESOLVED_ROUTINE",
            format!("Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`]."),
        );
    }
    if text.contains("No field named") {
        // "Schema error: No field named carier. Valid fields are a, b."
        if let Some(p) = text.find("No field named ") {
            let rest = &text[p + 15..];
            let name = rest
                .split(['.', ' '])
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_string();
            let valid: Vec<String> = rest
                .split("Valid fields are ")
                .nth(1)
                .map(|v| {
                    v.trim_end_matches('.')
                        .split(", ")
                        .map(|s| {
                            s.rsplit('.')
                                .next()
                                .unwrap_or(s)
                                .trim_matches('"')
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default();
            return unresolved_column(&name, &valid);
        }
    }
    if text.contains("Resources exhausted") || text.contains("Not enough memory") {
        return EmberError::new(
            ErrorKind::Runtime,
            "UNABLE_TO_ACQUIRE_MEMORY",
            format!(
                "{} (raise spark.driver.memory)",
                text.lines()
                    .find(|l| l.contains("Resources exhausted"))
                    .unwrap_or(text)
                    .trim()
            ),
            Some("53200"),
        );
    }
    if text.contains("must appear in the GROUP BY clause")
        || text.contains("must be in GROUP BY or an aggregate function")
    {
        return EmberError::analysis(
            "MISSING_AGGREGATION",
            format!("The non-aggregating expression is based on columns which are not participating in the GROUP BY clause. Add the columns or the expression to the GROUP BY, aggregate the expression, or use `any_value` if you do not care which value is returned. ({text})"),
        );
    }
    if text.contains("Cannot coerce")
        || text.contains("No function matches")
        || text.contains("type_coercion")
        || text.contains("Cannot infer common")
    {
        return EmberError::analysis("DATATYPE_MISMATCH", text.to_string());
    }
    EmberError::internal(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_suggestion_order() {
        let cols: Vec<String> = "year,month,day,dep_time,sched_dep_time,dep_delay,arr_time,sched_arr_time,arr_delay,carrier,flight,tailnum,origin,dest,air_time,distance,hour,minute,time_hour"
            .split(',')
            .map(String::from)
            .collect();
        assert_eq!(
            suggestions("carier", &cols),
            vec!["`carrier`", "`air_time`", "`arr_time`", "`day`", "`dest`"]
        );
    }

    #[test]
    fn parse_errors_name_line_and_position() {
        let e = parse_error(
            "sql parser error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1",
        );
        assert_eq!(e.error_class, "PARSE_SYNTAX_ERROR");
        assert!(
            e.message.contains("'SELEC'") && e.message.contains("(line 1, pos 0)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn cast_error_text() {
        let e = from_text("Cast error: Cannot cast string 'alice' to value of Int32 type");
        assert_eq!(e.error_class, "CAST_INVALID_INPUT");
        assert!(e
            .message
            .contains("The value 'alice' of the type \"STRING\" cannot be cast to \"INT\""));
    }
}
