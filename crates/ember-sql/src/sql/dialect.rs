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
