//! Splits CSV text into records and fields with the quoting rules Spark gets from
//! univocity-parsers (as configured by Spark's `CSVOptions.asParserSettings`):
//!
//! - a field starting with `quote` is quoted; inside it `escape` + `quote` is a literal
//!   quote (and, when `escape == quote`, a doubled quote is one quote);
//! - a quote inside a quoted field that is not followed by the delimiter or the end of
//!   the record is an *unescaped quote*: Spark's `STOP_AT_DELIMITER` handling then
//!   keeps the raw text of the field (opening quote included) up to the next delimiter;
//! - an unquoted empty field is "null" (it becomes `nullValue`), a quoted empty field
//!   is `emptyValue`;
//! - without `multiLine` a record is one line (`\n` or `\r\n`); with it, quoted fields
//!   may hold line breaks.

/// One field of a record: a range into [`Record::buf`] and whether it was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    /// Start offset in the record buffer.
    pub start: u32,
    /// End offset (exclusive).
    pub end: u32,
    /// The field was enclosed in quotes.
    pub quoted: bool,
}

/// A tokenized record, reused across calls to avoid allocation.
#[derive(Debug, Default)]
pub struct Record {
    /// Unescaped field bytes, concatenated.
    pub buf: Vec<u8>,
    /// The fields, in order.
    pub fields: Vec<FieldSpan>,
}

impl Record {
    /// Text of field `i` as univocity hands it to Spark: an unquoted empty field is
    /// `null_value`, a quoted empty field is `empty_value`; invalid UTF-8 is replaced
    /// with U+FFFD.
    pub fn text<'a>(
        &'a self,
        i: usize,
        null_value: &'a str,
        empty_value: &'a str,
    ) -> std::borrow::Cow<'a, str> {
        let bytes = self.bytes(i);
        if bytes.is_empty() {
            std::borrow::Cow::Borrowed(if self.fields[i].quoted {
                empty_value
            } else {
                null_value
            })
        } else {
            String::from_utf8_lossy(bytes)
        }
    }

    /// Bytes of field `i`.
    pub fn bytes(&self, i: usize) -> &[u8] {
        let f = self.fields[i];
        &self.buf[f.start as usize..f.end as usize]
    }
    fn clear(&mut self) {
        self.buf.clear();
        self.fields.clear();
    }
}

/// Tokenizer settings (a subset of [`super::options::CsvOptions`]).
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// Field delimiter.
    pub sep: u8,
    /// Quote character, if quoting is enabled.
    pub quote: Option<u8>,
    /// Escape character for quotes inside quoted fields.
    pub escape: Option<u8>,
    /// Skip spaces and tabs before a field.
    pub ignore_leading_ws: bool,
    /// Drop spaces and tabs after a field.
    pub ignore_trailing_ws: bool,
    /// Quoted fields may contain line breaks.
    pub multi_line: bool,
}

/// Spark skips blank lines and, when `comment` is set, lines starting with it.
pub fn is_skipped_line(line: &[u8], comment: Option<u8>) -> bool {
    line.iter().all(|c| c.is_ascii_whitespace())
        || (comment.is_some() && line.first() == comment.as_ref())
}

#[inline]
fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

impl Tokenizer {
    /// Tokenizes one record starting at the beginning of `input` into `rec`.
    ///
    /// Returns the number of bytes consumed (including the record's line terminator)
    /// and the number of line breaks consumed (for line numbering).
    pub fn next_record(&self, input: &[u8], rec: &mut Record) -> (usize, u64) {
        rec.clear();
        let n = input.len();
        let sep = self.sep;
        let mut pos = 0usize;
        let mut lines = 0u64;
        loop {
            if self.ignore_leading_ws {
                while pos < n && is_ws(input[pos]) && input[pos] != sep {
                    pos += 1;
                }
            }
            let field_start = pos;
            let start = rec.buf.len() as u32;
            if pos < n && Some(input[pos]) == self.quote {
                let q = input[pos];
                pos += 1;
                let mut pushed = false;
                while pos < n {
                    let c = input[pos];
                    if Some(c) == self.escape
                        && self.escape != self.quote
                        && pos + 1 < n
                        && input[pos + 1] == q
                    {
                        rec.buf.push(q);
                        pos += 2;
                        continue;
                    }
                    if c == q {
                        if self.escape == Some(q) && pos + 1 < n && input[pos + 1] == q {
                            rec.buf.push(q);
                            pos += 2;
                            continue;
                        }
                        let mut p = pos + 1;
                        if self.ignore_trailing_ws {
                            while p < n && is_ws(input[p]) && input[p] != sep {
                                p += 1;
                            }
                        }
                        let at_end = p >= n
                            || input[p] == sep
                            || input[p] == b'\n'
                            || (input[p] == b'\r' && (p + 1 >= n || input[p + 1] == b'\n'));
                        if at_end {
                            pos = p;
                            rec.fields.push(FieldSpan {
                                start,
                                end: rec.buf.len() as u32,
                                quoted: true,
                            });
                        } else {
                            // Unescaped quote: STOP_AT_DELIMITER keeps the raw text of the
                            // field, opening quote included, up to the next delimiter.
                            rec.buf.truncate(start as usize);
                            let mut e = pos;
                            while e < n && input[e] != sep && input[e] != b'\n' {
                                e += 1;
                            }
                            let mut end = e;
                            if end > field_start
                                && input[end - 1] == b'\r'
                                && (end >= n || input[end] == b'\n')
                            {
                                end -= 1;
                            }
                            lines += input[field_start..end]
                                .iter()
                                .filter(|&&b| b == b'\n')
                                .count() as u64;
                            rec.buf.extend_from_slice(&input[field_start..end]);
                            pos = e;
                            rec.fields.push(FieldSpan {
                                start,
                                end: rec.buf.len() as u32,
                                quoted: false,
                            });
                        }
                        pushed = true;
                        break;
                    }
                    if c == b'\n' {
                        if !self.multi_line {
                            break;
                        }
                        lines += 1;
                    }
                    rec.buf.push(c);
                    pos += 1;
                }
                if !pushed {
                    // Unclosed quote: the field holds what was read.
                    if !self.multi_line
                        && rec.buf.len() > start as usize
                        && rec.buf.last() == Some(&b'\r')
                    {
                        rec.buf.pop();
                    }
                    rec.fields.push(FieldSpan {
                        start,
                        end: rec.buf.len() as u32,
                        quoted: true,
                    });
                }
            } else {
                let s = pos;
                match memchr2(sep, b'\n', &input[pos..]) {
                    Some(off) => pos += off,
                    None => pos = n,
                }
                let mut e = pos;
                if e > s && input[e - 1] == b'\r' && (e >= n || input[e] == b'\n') {
                    e -= 1;
                }
                let mut b = s;
                if self.ignore_trailing_ws {
                    while e > b && is_ws(input[e - 1]) {
                        e -= 1;
                    }
                }
                if self.ignore_leading_ws {
                    while b < e && is_ws(input[b]) {
                        b += 1;
                    }
                }
                rec.buf.extend_from_slice(&input[b..e]);
                rec.fields.push(FieldSpan {
                    start,
                    end: rec.buf.len() as u32,
                    quoted: false,
                });
            }
            if pos < n && input[pos] == sep {
                pos += 1;
                continue;
            }
            if pos < n && input[pos] == b'\r' {
                pos += 1;
            }
            if pos < n && input[pos] == b'\n' {
                pos += 1;
                lines += 1;
            }
            return (pos, lines);
        }
    }
}

#[inline]
fn memchr2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == a || c == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer {
        Tokenizer {
            sep: b',',
            quote: Some(b'"'),
            escape: Some(b'\\'),
            ignore_leading_ws: false,
            ignore_trailing_ws: false,
            multi_line: false,
        }
    }

    fn fields(t: &Tokenizer, s: &str) -> Vec<(String, bool)> {
        let mut r = Record::default();
        let (used, _) = t.next_record(s.as_bytes(), &mut r);
        assert!(used <= s.len());
        (0..r.fields.len())
            .map(|i| {
                (
                    String::from_utf8_lossy(r.bytes(i)).into_owned(),
                    r.fields[i].quoted,
                )
            })
            .collect()
    }

    #[test]
    fn spark_quoting_rules() {
        let t = tok();
        let f = fields(&t, "2,\"bob, jr.\",20\n");
        assert_eq!(f[1], ("bob, jr.".into(), true));
        assert_eq!(f.len(), 3);
        // doubled quotes with escape '\\' are unescaped quotes: raw text kept (univocity STOP_AT_DELIMITER)
        let f = fields(&t, "3,\"carol \"\"cc\"\" smith\",,2024-03-01,\n");
        assert_eq!(f[1].0, "\"carol \"\"cc\"\" smith\"");
        assert_eq!(f.len(), 5);
        assert_eq!(f[2], ("".into(), false));
        assert_eq!(f[4], ("".into(), false));
        let f = fields(&t, "a,\"x\\\"y\",\"\"\r\n");
        assert_eq!(f[1], ("x\"y".into(), true));
        assert_eq!(f[2], ("".into(), true));
    }

    #[test]
    fn records_and_lines() {
        let t = tok();
        let mut r = Record::default();
        let input = b"a,b\r\nc,d\n";
        let (used, lines) = t.next_record(input, &mut r);
        assert_eq!((used, lines, r.fields.len()), (5, 1, 2));
        assert_eq!(r.bytes(1), b"b");
        let mut ml = tok();
        ml.multi_line = true;
        let input = b"1,\"two\nlines\",3\n4";
        let (used, lines) = ml.next_record(input, &mut r);
        assert_eq!(r.bytes(1), b"two\nlines");
        assert_eq!((used, lines), (16, 2));
        // without multiLine an unclosed quote ends with the line
        let f = fields(&t, "1,\"open\n2,3");
        assert_eq!(f, vec![("1".into(), false), ("open".into(), true)]);
    }

    #[test]
    fn whitespace_options() {
        let mut t = tok();
        t.ignore_leading_ws = true;
        t.ignore_trailing_ws = true;
        let f = fields(&t, "  a  , \"b\" ,c\n");
        assert_eq!(
            f,
            vec![("a".into(), false), ("b".into(), true), ("c".into(), false)]
        );
    }
}
