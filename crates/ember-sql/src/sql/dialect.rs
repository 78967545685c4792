//! Spark SQL's dialect on sqlparser: Databricks' settings plus Spark's operators and
//! literals that sqlparser does not read, at the parser level (no text rewriting):
//!
//! - `a << b`, `a >> b` (bit shifts, between `+`/`-` and `&` in precedence, as Spark's
//!   grammar) and `a >>> b` (`shiftrightunsigned(a, b)`);
//! - `a DIV b` (`div(a, b)`, integral division, with `*` `/` `%` in precedence);
//! - `! x` (`NOT x`) and `~ x` (`bitwise_not(x)`);
//! - `X 'F0'` (a hexadecimal binary literal with a space after `X`);
//! - `TIMESTAMP_LTZ '...'` (a `TIMESTAMP` literal; `TIMESTAMP_NTZ '...'` sqlparser
//!   reads itself).

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, UnaryOperator, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::dialect::{DatabricksDialect, Dialect, Precedence};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Span, Token};

/// Spark SQL's dialect (see the module docs). sqlparser's Databricks-specific rules
/// apply to it too: it identifies itself as [`DatabricksDialect`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SparkDialect;

const SHIFT_PRECEDENCE: u8 = 26;

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The rest of an interval literal after `INTERVAL`: `[+|-] 'text' unit [TO unit]`,
/// `(value unit)+` or `'value unit ...'`, as the call `ember_interval('canonical
/// text', 'QUALIFIER')` (see [`crate::interval`]; the column is named after the
/// canonical literal, as Spark names it: `INTERVAL '01' HOUR`).
fn parse_interval(parser: &mut Parser) -> Result<Expr, ParserError> {
    use crate::interval::{from_units, split_units, Qualifier, Unit};
    let err = |m: String| ParserError::ParserError(m);
    let mut written = String::from("interval");
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut ansi: Option<(String, Qualifier)> = None;
    loop {
        let mut sign = "";
        // `INTERVAL 1 DAY -3 HOURS`: a later value may carry a sign too.
        let signed_next = !pairs.is_empty()
            && matches!(parser.peek_token_ref().token, Token::Minus | Token::Plus)
            && matches!(parser.peek_nth_token_ref(1).token, Token::Number(_, _))
            && matches!(&parser.peek_nth_token_ref(2).token, Token::Word(w) if Unit::parse(&w.value).is_some());
        if pairs.is_empty() || signed_next {
            match parser.peek_token_ref().token {
                Token::Minus => {
                    parser.next_token();
                    sign = "-";
                    written.push_str(" -");
                }
                Token::Plus => {
                    parser.next_token();
                }
                _ => {}
            }
        }
        let (value, quoted) = match parser.peek_token_ref().token.clone() {
            Token::SingleQuotedString(s) => (s, true),
            Token::Number(n, _) => (n, false),
            _ if pairs.is_empty() => {
                return Err(err(format!(
                    "Expected: an interval value, found: {}",
                    parser.peek_token_ref().token
                )))
            }
            _ => break,
        };
        parser.next_token();
        written.push_str(&if quoted {
            format!(" '{value}'")
        } else {
            format!(" {value}")
        });
        let unit = match &parser.peek_token_ref().token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.clone()),
            _ => None,
        };
        let unit = unit.filter(|u| {
            Unit::parse(u).is_some()
                || [
                    "WEEK",
                    "WEEKS",
                    "MILLISECOND",
                    "MILLISECONDS",
                    "MICROSECOND",
                    "MICROSECONDS",
                ]
                .contains(&u.to_ascii_uppercase().as_str())
        });
        let Some(unit) = unit else {
            // `INTERVAL '2 years 3 months'`: the units inside the string.
            if pairs.is_empty() && quoted {
                let parts = split_units(&value)
                    .ok_or_else(|| err(format!("[INVALID_INTERVAL_FORMAT.INVALID_VALUE] Error parsing '{value}' to interval.")))?;
                let parts: Vec<(String, String)> = parts
                    .into_iter()
                    .map(|(v, u)| (format!("{sign}{v}"), u))
                    .collect();
                let (q, v) = from_units(&parts, &format!("{written}"))
                    .map_err(|m| err(format!("[_LEGACY_ERROR_TEMP_0029] {m}")))?;
                ansi = Some((q.format_value(v), q));
                break;
            }
            return Err(err(format!(
                "Expected: an interval unit, found: {}",
                parser.peek_token_ref().token
            )));
        };
        parser.next_token();
        written.push_str(&format!(" {unit}"));
        // `'1-2' YEAR TO MONTH` (one string under an ANSI qualifier) and `'1.5' SECOND`.
        if pairs.is_empty() && quoted {
            if let Some(start) = Unit::parse(&unit) {
                let end = if is_word(&parser.peek_token_ref().token, "TO") {
                    parser.next_token();
                    let t = parser.next_token().token;
                    match &t {
                        Token::Word(w) => Unit::parse(&w.value),
                        _ => None,
                    }
                    .ok_or_else(|| err(format!("Expected: an interval unit, found: {t}")))?
                } else {
                    start
                };
                let q = Qualifier::new(start, end).ok_or_else(|| {
                    err(format!(
                        "[_LEGACY_ERROR_TEMP_0028] Intervals FROM {} TO {} are not supported.",
                        start.name().to_lowercase(),
                        end.name().to_lowercase()
                    ))
                })?;
                let v = q.parse_value(&format!("{sign}{value}")).map_err(|m| {
                    err(format!(
                        "[INVALID_INTERVAL_FORMAT.UNMATCHED_FORMAT_STRING] {m}"
                    ))
                })?;
                ansi = Some((q.format_value(v), q));
                break;
            }
        }
        pairs.push((format!("{sign}{value}"), unit));
        let next_signed = matches!(parser.peek_token_ref().token, Token::Minus | Token::Plus)
            && matches!(parser.peek_nth_token_ref(1).token, Token::Number(_, _))
            && matches!(&parser.peek_nth_token_ref(2).token, Token::Word(w) if Unit::parse(&w.value).is_some());
        if !next_signed
            && !matches!(
                parser.peek_token_ref().token,
                Token::SingleQuotedString(_) | Token::Number(_, _)
            )
        {
            break;
        }
    }
    let (text, q) = match ansi {
        Some(a) => a,
        None => {
            let (q, v) = from_units(&pairs, &written)
                .map_err(|m| err(format!("[_LEGACY_ERROR_TEMP_0029] {m}")))?;
            (q.format_value(v), q)
        }
    };
    let s = |v: String| {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(v),
            span: Span::empty(),
        })
    };
    Ok(call(
        crate::functions::intervals::LITERAL,
        vec![s(text), s(q.sql())],
    ))
}

fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
}

impl Dialect for SparkDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<DatabricksDialect>()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        DatabricksDialect.is_delimited_identifier_start(ch)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        DatabricksDialect.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        DatabricksDialect.is_identifier_part(ch)
    }
    fn supports_numeric_prefix(&self) -> bool {
        true
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
    fn supports_group_by_expr(&self) -> bool {
        true
    }
    fn supports_table_versioning(&self) -> bool {
        true
    }
    fn supports_lambda_functions(&self) -> bool {
        true
    }
    fn supports_select_wildcard_except(&self) -> bool {
        true
    }
    fn require_interval_qualifier(&self) -> bool {
        true
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_nested_comments(&self) -> bool {
        true
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        true
    }
    fn supports_values_as_table_factor(&self) -> bool {
        true
    }
    fn supports_optimize_table(&self) -> bool {
        true
    }
    fn supports_bang_not_operator(&self) -> bool {
        true
    }
    fn supports_cte_without_as(&self) -> bool {
        true
    }
    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let tok = parser.peek_token_ref().token.clone();
        match tok {
            Token::ExclamationMark => {
                parser.next_token();
                let prec = self.prec_value(Precedence::UnaryNot);
                Some(parser.parse_subexpr(prec).map(|e| Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(e),
                }))
            }
            Token::Tilde => {
                parser.next_token();
                let prec = self.prec_value(Precedence::MulDivModOp) + 1;
                Some(
                    parser
                        .parse_subexpr(prec)
                        .map(|e| call("bitwise_not", vec![e])),
                )
            }
            ref t
                if is_word(t, "X")
                    && matches!(
                        parser.peek_nth_token_ref(1).token,
                        Token::SingleQuotedString(_)
                    ) =>
            {
                parser.next_token();
                match parser.next_token().token {
                    // An odd number of digits is padded with a leading 0 (X'0' is one byte).
                    Token::SingleQuotedString(s) => Some(Ok(Expr::Value(ValueWithSpan {
                        value: Value::HexStringLiteral(if s.len() % 2 == 1 {
                            format!("0{}", s.to_ascii_uppercase())
                        } else {
                            s.to_ascii_uppercase()
                        }),
                        span: Span::empty(),
                    }))),
                    _ => None,
                }
            }
            // Spark's `TRIM(BOTH FROM s)` (also LEADING / TRAILING): spaces trimmed.
            ref t
                if is_word(t, "TRIM")
                    && parser.peek_nth_token_ref(1).token == Token::LParen
                    && ["BOTH", "LEADING", "TRAILING"]
                        .iter()
                        .any(|w| is_word(&parser.peek_nth_token_ref(2).token, w))
                    && is_word(&parser.peek_nth_token_ref(3).token, "FROM") =>
            {
                parser.next_token();
                parser.next_token();
                let side = parser.next_token().token;
                parser.next_token();
                let trim_where = Some(if is_word(&side, "LEADING") {
                    ast::TrimWhereField::Leading
                } else if is_word(&side, "TRAILING") {
                    ast::TrimWhereField::Trailing
                } else {
                    ast::TrimWhereField::Both
                });
                Some(parser.parse_expr().and_then(|e| {
                    parser.expect_token(&Token::RParen)?;
                    Ok(Expr::Trim {
                        expr: Box::new(e),
                        trim_where,
                        trim_what: None,
                        trim_characters: None,
                    })
                }))
            }
            // `EXTRACT(field FROM x)`: the field as written (Spark names the column
            // `extract(days FROM x)`), a call of `extract` (`date_part`).
            ref t
                if is_word(t, "EXTRACT")
                    && parser.peek_nth_token_ref(1).token == Token::LParen
                    && matches!(
                        parser.peek_nth_token_ref(2).token,
                        Token::Word(_) | Token::SingleQuotedString(_)
                    )
                    && is_word(&parser.peek_nth_token_ref(3).token, "FROM") =>
            {
                parser.next_token();
                parser.next_token();
                let field = match parser.next_token().token {
                    Token::Word(w) => w.value,
                    Token::SingleQuotedString(s) => s,
                    _ => String::new(),
                };
                parser.next_token();
                Some(parser.parse_expr().and_then(|e| {
                    parser.expect_token(&Token::RParen)?;
                    let f = Expr::Value(ValueWithSpan {
                        value: Value::SingleQuotedString(field),
                        span: Span::empty(),
                    });
                    Ok(call("extract", vec![f, e]))
                }))
            }
            // Spark's interval literals (ANSI and multi-unit), typed as Spark types them.
            ref t
                if is_word(t, "INTERVAL")
                    && matches!(
                        parser.peek_nth_token_ref(1).token,
                        Token::SingleQuotedString(_)
                            | Token::Number(_, _)
                            | Token::Minus
                            | Token::Plus
                    ) =>
            {
                parser.next_token();
                Some(parse_interval(parser))
            }
            ref t
                if is_word(t, "TIMESTAMP_LTZ")
                    && matches!(
                        parser.peek_nth_token_ref(1).token,
                        Token::SingleQuotedString(_)
                    ) =>
            {
                parser.next_token();
                match parser.next_token().token {
                    Token::SingleQuotedString(s) => Some(Ok(Expr::TypedString(ast::TypedString {
                        data_type: ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
                        value: ValueWithSpan {
                            value: Value::SingleQuotedString(s),
                            span: Span::empty(),
                        },
                        uses_odbc_syntax: false,
                    }))),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        let t = &parser.peek_token_ref().token;
        match t {
            Token::ShiftLeft | Token::ShiftRight => Some(Ok(SHIFT_PRECEDENCE)),
            t if is_word(t, "DIV") => Some(Ok(self.prec_value(Precedence::MulDivModOp))),
            _ => None,
        }
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        let t = parser.peek_token_ref().token.clone();
        let binary = |op: BinaryOperator, right: Expr| Expr::BinaryOp {
            left: Box::new(expr.clone()),
            op,
            right: Box::new(right),
        };
        match t {
            Token::ShiftLeft => {
                parser.next_token();
                Some(
                    parser
                        .parse_subexpr(precedence)
                        .map(|r| binary(BinaryOperator::PGBitwiseShiftLeft, r)),
                )
            }
            Token::ShiftRight => {
                parser.next_token();
                if matches!(parser.peek_token_no_skip().token, Token::Gt) {
                    parser.next_token();
                    return Some(
                        parser
                            .parse_subexpr(precedence)
                            .map(|r| call("shiftrightunsigned", vec![expr.clone(), r])),
                    );
                }
                Some(
                    parser
                        .parse_subexpr(precedence)
                        .map(|r| binary(BinaryOperator::PGBitwiseShiftRight, r)),
                )
            }
            ref t if is_word(t, "DIV") => {
                parser.next_token();
                Some(
                    parser
                        .parse_subexpr(precedence)
                        .map(|r| call("div", vec![expr.clone(), r])),
                )
            }
            _ => None,
        }
    }
}
