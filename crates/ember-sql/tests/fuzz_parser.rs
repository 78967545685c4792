//! Fuzzing of Spark SQL text handling (property tests, bounded: `PROPTEST_CASES`,
//! default 256 per property): statement splitting, string-literal unescaping, parsing
//! with ember's Spark dialect and the AST passes that name and rename (Spark's column
//! names, function forms) never panic and finish promptly, whatever the text.

use std::time::{Duration, Instant};

use datafusion::sql::parser::{DFParser, Statement};
use ember_sql::sql::dialect::SparkDialect;
use ember_sql::sql::{naming, split_statements, unescape_string_literals};
use proptest::prelude::*;

/// Spark SQL fragments: keywords, operators, literals of every kind (raw, typed,
/// escaped), lambdas, comments, brackets, and odd characters.
const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "LATERAL VIEW",
    "explode(",
    "AS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "TRIM(",
    "LEADING",
    "BOTH",
    "FROM",
    "OVERLAY(",
    "PLACING",
    "FOR",
    "ceil(",
    "floor(",
    "x",
    "t",
    "`a b`",
    "1",
    "-1",
    "2.5",
    "1e10",
    "10L",
    "1.5BD",
    "'s'",
    "'it''s'",
    "'\\n'",
    "'\\",
    "r'\\d+'",
    "R\"x\"",
    "X'AB'",
    "\"dq\"",
    "DATE '2020-01-01'",
    "TIMESTAMP_NTZ '2020-01-01 00:00:00.123456789'",
    "INTERVAL 1 DAY",
    "x -> x + 1",
    "(a, b) -> a",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<<",
    ">>",
    ">>>",
    "!",
    "~",
    "DIV",
    "||",
    "::",
    "=",
    "<=>",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "--c\n",
    "/* c */",
    "/*",
    "*/",
    "?",
    "$",
    "\u{e9}",
    "\u{1F600}",
    "\\",
    "'",
    "\"",
    "`",
    "count(*)",
    "sum(x)",
    "max_by(x, y)",
    "listagg(x)",
    "nth_value(x, 2, true)",
    "OVER (PARTITION BY x ORDER BY y ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
    "struct(1, 'a')",
    "named_struct('a', 1)",
    "map(1, 2)",
    "array(1, 2)",
    "TRANSFORM(",
];

fn sql_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.join(" ")),
        prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat()),
        any::<String>(),
    ]
}

/// Everything ember does to SQL text before DataFusion plans it.
fn front_end(text: &str) {
    for stmt in split_statements(text) {
        let unescaped = unescape_string_literals(&stmt);
        if let Ok(mut parsed) = DFParser::parse_sql_with_dialect(&unescaped, &SparkDialect) {
            for st in parsed.iter_mut() {
                if let Statement::Statement(st) = st {
                    naming::alias_select_items(st);
                    naming::rename_functions(st);
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn sql_text_never_panics_or_hangs(text in sql_text()) {
        let start = Instant::now();
        front_end(&text);
        prop_assert!(start.elapsed() < Duration::from_secs(5), "slow on {text:?}");
    }
}

#[test]
fn deeply_nested_text_is_handled() {
    // On a stack as large as the `ember` binary gives its command thread (256 MiB):
    // nesting beyond the parser's recursion limit is an error, and a 5,000-term sum
    // (a tree 5,000 levels deep) is named and rewritten, neither crashes.
    let run = || {
        let deep = format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000));
        front_end(&deep);
        let long = format!("SELECT {}", vec!["1"; 5_000].join(" + "));
        front_end(&long);
    };
    let t = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .expect("thread");
    assert!(t.join().is_ok());
}
