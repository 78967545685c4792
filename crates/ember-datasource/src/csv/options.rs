//! Spark's CSV reader options (`DataFrameReader.csv`, `OPTIONS (...)` of
//! `CREATE TEMPORARY VIEW ... USING csv`), with Spark's names and defaults.

use std::collections::HashMap;

use chrono_tz::Tz;

use crate::error::{DataSourceError, Result};

/// How malformed records are handled: Spark's option `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    /// Keep the row: unparsable fields become null and the raw text goes to the
    /// corrupt-record column when the schema has one (Spark's default).
    #[default]
    Permissive,
    /// Drop malformed rows (ember counts them in the [`crate::report`]).
    DropMalformed,
    /// Fail the query on the first malformed row, naming file and line.
    FailFast,
}

/// Parsed CSV options. Field names follow Spark's option names.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// `header` (default false): the first line of each file holds column names.
    pub header: bool,
    /// `inferSchema` (default false): infer column types by reading all the data.
    pub infer_schema: bool,
    /// `sep` / `delimiter` (default `,`).
    pub sep: u8,
    /// `quote` (default `"`); `None` when set to the empty string / `\u0000`.
    pub quote: Option<u8>,
    /// `escape` (default `\`).
    pub escape: Option<u8>,
    /// `comment` (default unset): lines starting with this byte are skipped.
    pub comment: Option<u8>,
    /// `nullValue` (default empty string).
    pub null_value: String,
    /// `emptyValue` (default empty string): value of a quoted empty field.
    pub empty_value: String,
    /// `nanValue` (default `NaN`).
    pub nan_value: String,
    /// `positiveInf` (default `Inf`).
    pub positive_inf: String,
    /// `negativeInf` (default `-Inf`).
    pub negative_inf: String,
    /// `dateFormat` (Java pattern), unset by default (lenient ISO-8601).
    pub date_format: Option<String>,
    /// `timestampFormat` (Java pattern), unset by default (lenient ISO-8601).
    pub timestamp_format: Option<String>,
    /// `mode`: PERMISSIVE (default), DROPMALFORMED or FAILFAST.
    pub mode: ParseMode,
    /// `columnNameOfCorruptRecord` (default `_corrupt_record`, as
    /// `spark.sql.columnNameOfCorruptRecord`).
    pub corrupt_column: String,
    /// `multiLine` (default false): quoted fields may span lines.
    pub multi_line: bool,
    /// `ignoreLeadingWhiteSpace` (default false when reading).
    pub ignore_leading_ws: bool,
    /// `ignoreTrailingWhiteSpace` (default false when reading).
    pub ignore_trailing_ws: bool,
    /// `preferDate` (default true): infer `date` for `yyyy-MM-dd` values.
    pub prefer_date: bool,
    /// `samplingRatio` is accepted and ignored: ember always infers from all rows.
    pub time_zone: Tz,
    /// `encoding`/`charset`: only UTF-8 is supported; invalid bytes become U+FFFD.
    pub encoding: String,
}

impl CsvOptions {
    /// Builds options from Spark-style key/values (keys case-insensitive).
    ///
    /// `session_tz` is the session time zone used for timestamps without a zone
    /// (overridable by the `timeZone` option). Errors with
    /// [`DataSourceError::InvalidOption`] on values Spark would reject.
    pub fn from_map(opts: &HashMap<String, String>, session_tz: Tz) -> Result<CsvOptions> {
        let get = |k: &str| -> Option<&String> {
            opts.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        };
        let bool_opt = |k: &str, default: bool| -> Result<bool> {
            match get(k) {
                None => Ok(default),
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(DataSourceError::InvalidOption(format!(
                        "{k} flag can be true or false, got '{v}'"
                    ))),
                },
            }
        };
        let char_opt = |k: &str, default: Option<u8>| -> Result<Option<u8>> {
            match get(k) {
                None => Ok(default),
                Some(v) if v.is_empty() || v == "\u{0}" => Ok(None),
                Some(v) => {
                    let v = unescape(v);
                    if v.len() == 1 && v.is_ascii() {
                        Ok(Some(v.as_bytes()[0]))
                    } else {
                        Err(DataSourceError::InvalidOption(format!(
                            "option '{k}' must be a single ASCII character, got '{v}'"
                        )))
                    }
                }
            }
        };
        let sep = match get("sep").or_else(|| get("delimiter")) {
            None => b',',
            Some(v) => {
                let v = unescape(v);
                if v.len() == 1 && v.is_ascii() {
                    v.as_bytes()[0]
                } else {
                    return Err(DataSourceError::InvalidOption(format!(
                        "[INVALID_DELIMITER_VALUE] delimiter must be a single ASCII character, got '{v}'"
                    )));
                }
            }
        };
        let mode = match get("mode").map(|s| s.to_ascii_uppercase()) {
            None => ParseMode::Permissive,
            Some(m) if m == "PERMISSIVE" => ParseMode::Permissive,
            Some(m) if m == "DROPMALFORMED" => ParseMode::DropMalformed,
            Some(m) if m == "FAILFAST" => ParseMode::FailFast,
            // Spark falls back to PERMISSIVE for unknown modes (with a warning).
            Some(_) => ParseMode::Permissive,
        };
        let time_zone = match get("timeZone") {
            Some(z) => z
                .parse::<Tz>()
                .map_err(|_| DataSourceError::InvalidOption(format!("invalid timeZone '{z}'")))?,
            None => session_tz,
        };
        let encoding = get("encoding")
            .or_else(|| get("charset"))
            .cloned()
            .unwrap_or_else(|| "UTF-8".into());
        let enc = encoding.to_ascii_uppercase().replace('_', "-");
        if enc != "UTF-8" && enc != "UTF8" && enc != "US-ASCII" {
            return Err(DataSourceError::InvalidOption(format!(
                "encoding '{encoding}' is not supported by ember (UTF-8 only)"
            )));
        }
        Ok(CsvOptions {
            header: bool_opt("header", false)?,
            infer_schema: bool_opt("inferSchema", false)?,
            sep,
            quote: char_opt("quote", Some(b'"'))?,
            escape: char_opt("escape", Some(b'\\'))?,
            comment: char_opt("comment", None)?,
            null_value: get("nullValue").cloned().unwrap_or_default(),
            empty_value: get("emptyValue").cloned().unwrap_or_default(),
            nan_value: get("nanValue").cloned().unwrap_or_else(|| "NaN".into()),
            positive_inf: get("positiveInf").cloned().unwrap_or_else(|| "Inf".into()),
            negative_inf: get("negativeInf").cloned().unwrap_or_else(|| "-Inf".into()),
            date_format: get("dateFormat").cloned(),
            timestamp_format: get("timestampFormat").cloned(),
            mode,
            corrupt_column: get("columnNameOfCorruptRecord")
                .cloned()
                .unwrap_or_else(|| "_corrupt_record".into()),
            multi_line: bool_opt("multiLine", false)?,
            ignore_leading_ws: bool_opt("ignoreLeadingWhiteSpace", false)?,
            ignore_trailing_ws: bool_opt("ignoreTrailingWhiteSpace", false)?,
            prefer_date: bool_opt("preferDate", true)?,
            time_zone,
            encoding,
        })
    }
}

/// `\t`, `\n`, `\\` and `\u0001` written in option values, as Spark accepts them.
fn unescape(v: &str) -> String {
    match v {
        "\\t" => "\t".into(),
        "\\n" => "\n".into(),
        "\\r" => "\r".into(),
        "\\\\" => "\\".into(),
        "\\\"" => "\"".into(),
        "\\'" => "'".into(),
        _ => {
            if let Some(hex) = v.strip_prefix("\\u") {
                if let Ok(code) = u32::from_str_radix(hex, 16) {
                    if let Some(c) = char::from_u32(code) {
                        return c.to_string();
                    }
                }
            }
            v.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let tz: Tz = "UTC".parse().unwrap();
        let o = CsvOptions::from_map(&HashMap::new(), tz).unwrap();
        assert_eq!(
            (o.sep, o.quote, o.escape, o.header),
            (b',', Some(b'"'), Some(b'\\'), false)
        );
        let m: HashMap<String, String> = [
            ("SEP", "\\t"),
            ("Mode", "dropMalformed"),
            ("nullValue", "NA"),
            ("quote", ""),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let o = CsvOptions::from_map(&m, tz).unwrap();
        assert_eq!(
            (o.sep, o.mode, o.null_value.as_str(), o.quote),
            (b'\t', ParseMode::DropMalformed, "NA", None)
        );
        let bad: HashMap<String, String> = [("header".to_string(), "yes".to_string())].into();
        assert!(CsvOptions::from_map(&bad, tz).is_err());
    }
}
