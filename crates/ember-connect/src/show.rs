//! `df.show()` and `_repr_html_` text, computed on the server as Spark does
//! (`Dataset.showString` / `htmlString`): PySpark prints the string it gets back.

use ember_core::DataFrame;
use ember_sql::format::{value_string, FormatOptions};

use crate::error::Result;

/// Spark's cell text: `NULL` for nulls, cut to `truncate` characters (`...` marks the
/// cut when `truncate` ≥ 4).
fn cell(v: Option<String>, truncate: usize) -> String {
    let v = v.unwrap_or_else(|| "NULL".into());
    if truncate == 0 || v.chars().count() <= truncate {
        return v;
    }
    if truncate < 4 {
        v.chars().take(truncate).collect()
    } else {
        let mut s: String = v.chars().take(truncate - 3).collect();
        s.push_str("...");
        s
    }
}

/// Rows as cell strings (at most `n`), and whether more rows exist.
async fn cells(df: &DataFrame, n: usize, truncate: usize) -> Result<(Vec<Vec<String>>, bool)> {
    let batches = df.take(n + 1).await?;
    let o: FormatOptions = df.session().format_options();
    let mut rows = Vec::new();
    let mut more = false;
    for b in &batches {
        for i in 0..b.num_rows() {
            if rows.len() == n {
                more = true;
                break;
            }
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| cell(value_string(c.as_ref(), i, &o), truncate))
                    .collect(),
            );
        }
    }
    Ok((rows, more))
}

/// "only showing top N rows": Spark 4 ends the text table with it, no newline after
/// (`show()` then prints no blank line), while the HTML form ends it with a newline.
fn footer(n: usize) -> String {
    format!(
        "only showing top {n} {}",
        if n == 1 { "row" } else { "rows" }
    )
}

/// `Dataset.showString(numRows, truncate, vertical)`: the table ends with a newline,
/// a trailing "only showing top N rows" does not (as Spark 4).
pub async fn show_string(
    df: &DataFrame,
    num_rows: i32,
    truncate: i32,
    vertical: bool,
) -> Result<String> {
    let n = num_rows.max(0) as usize;
    let t = truncate.max(0) as usize;
    if !vertical {
        return Ok(df.show_string(n, t).await?);
    }
    let names = df.columns();
    let (rows, more) = cells(df, n, t).await?;
    let width = |s: &str| s.chars().count();
    let name_w = names.iter().map(|s| width(s)).max().unwrap_or(0);
    let data_w = rows
        .iter()
        .flat_map(|r| r.iter().map(|s| width(s)))
        .max()
        .unwrap_or(0);
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(width(s))));
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let head = format!("-RECORD {i}");
        out.push_str(&head);
        out.push_str(&"-".repeat((name_w + data_w + 5).saturating_sub(width(&head))));
        out.push('\n');
        for (j, c) in r.iter().enumerate() {
            out.push_str(&format!(
                " {} | {} \n",
                pad(&names[j], name_w),
                pad(c, data_w)
            ));
        }
    }
    if rows.is_empty() {
        out.push_str("(0 rows)\n");
    }
    if more {
        out.push_str(&footer(n));
    }
    Ok(out)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `Dataset.htmlString(numRows, truncate)` (Jupyter's `_repr_html_`).
pub async fn html_string(df: &DataFrame, num_rows: i32, truncate: i32) -> Result<String> {
    let n = num_rows.max(0) as usize;
    let (rows, more) = cells(df, n, truncate.max(0) as usize).await?;
    let mut out = String::from("<table border='1'>\n<tr>");
    for name in df.columns() {
        out.push_str(&format!("<th>{}</th>", escape_html(&name)));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            out.push_str(&format!("<td>{}</td>", escape_html(&c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if more {
        out.push_str(&footer(n));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_truncate_as_spark() {
        assert_eq!(cell(Some("abcdefghij".into()), 5), "ab...");
        assert_eq!(cell(Some("abcdefghij".into()), 3), "abc");
        assert_eq!(cell(None, 20), "NULL");
    }
}
