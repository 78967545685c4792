//! Spark SQL's text: the dialect ember parses with ([`dialect`]), Spark's column names
//! ([`naming`]), the analyzer rules that give Spark's semantics ([`rules`]), generators
//! (`LATERAL VIEW`, [`generators`]), `GROUPING SETS` ([`grouping`]), `struct.*`
//! ([`struct_star`]) and Spark's error classes ([`errors`]). Statements are executed by
//! `ember_core::sql` on a session.

pub mod dialect;
pub mod errors;
pub mod generators;
pub mod grouping;
pub mod interval_rules;
pub mod naming;
pub mod rules;
pub mod struct_star;

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

/// Spark SQL string literals process backslash escapes (`'\\d'` is `\d`, `'\n'` a
/// line feed, `'\''` a quote) and accept double quotes; the SQL parser ember uses
/// keeps backslashes literally. This rewrites every string literal to a plain
/// single-quoted one holding Spark's value. Identifiers, comments and the rest of
/// the text are unchanged.
pub fn unescape_string_literals(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '-' if next == Some('-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    out.push_str("*/");
                    i += 2;
                }
            }
            '`' => {
                out.push(c);
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    out.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    out.push('`');
                    i += 1;
                }
            }
            // Spark's raw literals `r'...'` / `R"..."`: no escapes, up to the next quote.
            '\'' | '"'
                if (out.ends_with('r') || out.ends_with('R'))
                    && !out[..out.len() - 1]
                        .chars()
                        .next_back()
                        .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '`') =>
            {
                out.pop();
                let q = c;
                let mut value = String::new();
                i += 1;
                while i < chars.len() && chars[i] != q {
                    value.push(chars[i]);
                    i += 1;
                }
                i += 1;
                out.push('\'');
                out.push_str(&value.replace('\'', "''"));
                out.push('\'');
            }
            '\'' | '"' => {
                let q = c;
                let mut value = String::new();
                i += 1;
                while i < chars.len() {
                    let d = chars[i];
                    if d == '\\' && i + 1 < chars.len() {
                        let e = chars[i + 1];
                        i += 2;
                        match e {
                            'n' => value.push('\n'),
                            't' => value.push('\t'),
                            'r' => value.push('\r'),
                            'b' => value.push('\u{8}'),
                            '0' => value.push('\0'),
                            'Z' => value.push('\u{1A}'),
                            '%' | '_' => {
                                value.push('\\');
                                value.push(e);
                            }
                            'u' if i + 4 <= chars.len() => {
                                let hex: String = chars[i..i + 4].iter().collect();
                                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                    Some(ch) => {
                                        value.push(ch);
                                        i += 4;
                                    }
                                    None => value.push('u'),
                                }
                            }
                            other => value.push(other),
                        }
                        continue;
                    }
                    if d == q {
                        if chars.get(i + 1) == Some(&q) {
                            value.push(q);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    value.push(d);
                    i += 1;
                }
                out.push('\'');
                out.push_str(&value.replace('\'', "''"));
                out.push('\'');
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn spark_string_escapes() {
        let sql = r#"SELECT '(\\d+)', 'it\'s', "dq", `a\b` -- '\n'"#;
        assert_eq!(
            unescape_string_literals(sql),
            r#"SELECT '(\d+)', 'it''s', 'dq', `a\b` -- '\n'"#
        );
        assert_eq!(
            unescape_string_literals(r#"SELECT 'a\tb', 'x''y'"#),
            "SELECT 'a\tb', 'x''y'"
        );
        // Raw literals keep their backslashes; `r` ending a word is not a prefix.
        assert_eq!(
            unescape_string_literals(r#"SELECT r'(\d+)', R"\a", chr'x'"#),
            r#"SELECT '(\d+)', '\a', chr'x'"#
        );
    }

    #[test]
    fn splitting() {
        let s = split_statements("SELECT ';' AS a; -- c;\nSELECT `x;y` FROM t /* ; */;\n\n");
        assert_eq!(s, vec!["SELECT ';' AS a", "SELECT `x;y` FROM t"]);
    }
}
