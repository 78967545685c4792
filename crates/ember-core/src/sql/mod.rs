//! Spark SQL front end: statement splitting (Spark CLI's rules), ember's handling of
//! Spark-only statements (`CREATE TEMPORARY VIEW ... USING ... OPTIONS`, `CREATE
//! TABLE ... USING parquet ... AS SELECT`, `INSERT OVERWRITE DIRECTORY`, `SET`,
//! `SHOW TABLES`, `DESCRIBE`), and queries planned by DataFusion's SQL planner with
//! Spark's dialect settings and the [`rules`] that give Spark's semantics.

pub mod errors;
pub mod naming;
pub mod rules;
pub mod statements;

use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::session::SparkSession;

/// Splits a script into statements on `;` outside quotes, backticks and comments
/// (Spark's `splitSemiColon`). Empty statements are dropped.
pub fn split_statements(script: &str) -> Vec<String> {
    let b: Vec<char> = script.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut sq, mut dq, mut bt, mut line_c, mut block_c) = (false, false, false, false, 0usize);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if line_c {
            if c == '\n' {
                line_c = false;
                cur.push(c);
            }
            i += 1;
            continue;
        }
        if block_c > 0 {
            if c == '*' && next == Some('/') {
                block_c -= 1;
                i += 2;
                continue;
            }
            if c == '/' && next == Some('*') {
                block_c += 1;
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if !sq && !dq && !bt {
            if c == '-' && next == Some('-') {
                line_c = true;
                i += 2;
                continue;
            }
            if c == '/' && next == Some('*') {
                block_c += 1;
                i += 2;
                continue;
            }
            if c == ';' {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
                i += 1;
                continue;
            }
        }
        if c == '\\' && (sq || dq) {
            cur.push(c);
            if let Some(n) = next {
                cur.push(n);
            }
            i += 2;
            continue;
        }
        match c {
            '\'' if !dq && !bt => sq = !sq,
            '"' if !sq && !bt => dq = !dq,
            '`' if !sq && !dq => bt = !bt,
            _ => {}
        }
        cur.push(c);
        i += 1;
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Runs one statement (see [`statements`]).
pub async fn execute(session: &SparkSession, text: &str) -> Result<DataFrame> {
    statements::execute(session, text).await
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn splitting() {
        let s = split_statements("SELECT ';' AS a; -- c;\nSELECT `x;y` FROM t /* ; */;\n\n");
        assert_eq!(s, vec!["SELECT ';' AS a", "SELECT `x;y` FROM t"]);
    }
}
