//! Protobuf text format, the little of it tbseg's files need: the
//! `checkpoint` state file (`checkpoint::state`) and the Projector's
//! `projector_config.pbtxt` (`summary::projector_config`).
//!
//! The [`Parser`] accepts what TensorFlow and TensorBoard read these files
//! with (Python's `text_format`) accepts: `name: value`, `name { ... }`,
//! `name: { ... }` and `name < ... >`, repeated values as `[a, b]` lists,
//! `#` comments, optional `,` or `;` separators, adjacent string literals
//! concatenated, and string escapes as Python's `CUnescape` reads them (an
//! unknown escape such as `\q` stays as written). Each caller walks its
//! message's fields and decides what an unknown field means.
//!
//! [`quote`] and [`format_double`] write values the same parsers read back.

use std::fmt;

/// Why text did not parse: the 1-based line and what was wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextError {
    /// The line of the problem.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

type Result<T> = std::result::Result<T, TextError>;

fn error<T>(line: usize, reason: impl Into<String>) -> Result<T> {
    Err(TextError {
        line,
        reason: reason.into(),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A field name or an enum value (`inf` and `nan` too).
    Ident(String),
    /// A word starting with a digit or a sign.
    Number(String),
    /// A string literal, unescaped.
    Str(Vec<u8>),
    /// `:`, `{`, `}`, `<`, `>`, `,`, `;`, `[`, `]`.
    Punct(char),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(word) | Token::Number(word) => f.write_str(word),
            Token::Str(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Token::Punct(c) => write!(f, "'{c}'"),
        }
    }
}

/// Splits text into tokens, each with its 1-based line.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => {
                line += 1;
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '{' | '}' | '<' | '>' | ':' | ',' | ';' | '[' | ']' => {
                tokens.push((Token::Punct(c), line));
                chars.next();
            }
            '"' | '\'' => {
                chars.next();
                tokens.push((Token::Str(string_literal(&mut chars, c, line)?), line));
            }
            c if is_word_char(c) => {
                let mut word = String::new();
                while let Some(&c) = chars.peek().filter(|&&c| is_word_char(c)) {
                    word.push(c);
                    chars.next();
                }
                let token =
                    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
                        Token::Number(word)
                    } else {
                        Token::Ident(word)
                    };
                tokens.push((token, line));
            }
            other => return error(line, format!("unexpected character {other:?}")),
        }
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+')
}

/// The bytes of a string literal whose opening `quote` was consumed.
fn string_literal(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
    line: usize,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let unterminated = || TextError {
        line,
        reason: "unterminated string".into(),
    };
    loop {
        let c = chars.next().ok_or_else(unterminated)?;
        match c {
            '\n' => return Err(unterminated()),
            c if c == quote => return Ok(bytes),
            '\\' => {
                let escape = chars.next().ok_or_else(unterminated)?;
                match escape {
                    'n' => bytes.push(b'\n'),
                    'r' => bytes.push(b'\r'),
                    't' => bytes.push(b'\t'),
                    'a' => bytes.push(0x07),
                    'b' => bytes.push(0x08),
                    'f' => bytes.push(0x0c),
                    'v' => bytes.push(0x0b),
                    '"' | '\'' | '\\' => bytes.push(escape as u8),
                    '0'..='7' => {
                        let mut value = escape.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(digit) => {
                                    value = value * 8 + digit;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        match u8::try_from(value) {
                            Ok(byte) => bytes.push(byte),
                            Err(_) => {
                                return error(line, format!("octal escape \\{value:o} is over 255"))
                            }
                        }
                    }
                    'x' => {
                        let mut value = 0u32;
                        let mut digits = 0;
                        while digits < 2 {
                            match chars.peek().and_then(|c| c.to_digit(16)) {
                                Some(digit) => {
                                    value = value * 16 + digit;
                                    chars.next();
                                    digits += 1;
                                }
                                None => break,
                            }
                        }
                        if digits == 0 {
                            return error(line, "\\x without hex digits");
                        }
                        bytes.push(value as u8);
                    }
                    // Python's `CUnescape` keeps an escape it does not
                    // know (`\q`, `\?`) as written.
                    other => {
                        bytes.push(b'\\');
                        push_char(&mut bytes, other);
                    }
                }
            }
            c => push_char(&mut bytes, c),
        }
    }
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Walks the fields of a text-format message.
///
/// A caller loops: [`Parser::field_name`], then the value accessor its
/// field needs ([`Parser::string`], [`Parser::u32s`], [`Parser::message`],
/// ..., or [`Parser::skip_value`] for a field it ignores), then
/// [`Parser::separator`], until [`Parser::done`] (or, inside a nested
/// message, [`Parser::message_end`]).
pub(crate) struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser {
    /// A parser over `text`; errs on what cannot be a token (an
    /// unterminated string, a stray character).
    pub fn new(text: &str) -> Result<Self> {
        Ok(Parser {
            tokens: tokenize(text)?,
            at: 0,
        })
    }

    /// Whether every token was consumed.
    pub fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(token, _)| token)
    }

    /// The line of the next token (of the last one at the end).
    pub fn line(&self) -> usize {
        self.tokens
            .get(self.at)
            .or(self.tokens.last())
            .map_or(1, |&(_, line)| line)
    }

    fn next(&mut self, expected: &str) -> Result<Token> {
        match self.tokens.get(self.at) {
            Some((token, _)) => {
                self.at += 1;
                Ok(token.clone())
            }
            None => error(
                self.line(),
                format!("unexpected end of file, expected {expected}"),
            ),
        }
    }

    fn eat(&mut self, punct: char) -> bool {
        if self.peek() == Some(&Token::Punct(punct)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The next field's name and its line.
    pub fn field_name(&mut self) -> Result<(String, usize)> {
        let line = self.line();
        match self.next("a field name")? {
            Token::Ident(name) => Ok((name, line)),
            other => error(line, format!("expected a field name, found {other}")),
        }
    }

    /// Consumes the optional `,` or `;` after a field.
    pub fn separator(&mut self) {
        let _ = self.eat(',') || self.eat(';');
    }

    /// Whether the nested message being read ends here (consuming its `}`
    /// or `>`).
    pub fn message_end(&mut self) -> bool {
        self.eat('}') || self.eat('>')
    }

    fn colon(&mut self, field: &str) -> Result<()> {
        if self.eat(':') {
            Ok(())
        } else {
            error(
                self.line(),
                format!("expected ':' after the field name {field}"),
            )
        }
    }

    /// The value of string field `field`: `: "..."`, adjacent literals
    /// joined.
    pub fn string(&mut self, field: &str) -> Result<String> {
        self.colon(field)?;
        let line = self.line();
        let mut bytes = match self.next("a string")? {
            Token::Str(bytes) => bytes,
            other => return error(line, wrong_kind(field, "a string", &other)),
        };
        while let Some(Token::Str(more)) = self.peek() {
            bytes.extend_from_slice(more);
            self.at += 1;
        }
        String::from_utf8(bytes).map_err(|_| TextError {
            line,
            reason: format!("the string of field {field} is not UTF-8"),
        })
    }

    /// The value of double field `field`: a number, `inf`, `-inf` or `nan`
    /// (any case, an `f` suffix allowed).
    pub fn double(&mut self, field: &str) -> Result<f64> {
        self.colon(field)?;
        let line = self.line();
        match self.next("a number")? {
            Token::Number(text) | Token::Ident(text) => {
                parse_double(&text).ok_or_else(|| TextError {
                    line,
                    reason: format!("field {field}: {text:?} is not a number"),
                })
            }
            other => error(line, wrong_kind(field, "a number", &other)),
        }
    }

    /// The values of repeated `uint32` field `field`, appended to `into`:
    /// one value, or a `[a, b, ...]` list.
    pub fn u32s(&mut self, field: &str, into: &mut Vec<u32>) -> Result<()> {
        self.colon(field)?;
        if self.eat('[') {
            if self.eat(']') {
                return Ok(());
            }
            loop {
                into.push(self.u32(field)?);
                if self.eat(']') {
                    return Ok(());
                }
                if !self.eat(',') {
                    return error(self.line(), "expected ',' or ']' in a list");
                }
            }
        }
        into.push(self.u32(field)?);
        Ok(())
    }

    fn u32(&mut self, field: &str) -> Result<u32> {
        let line = self.line();
        match self.next("a number")? {
            Token::Number(text) => {
                let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => text.parse().ok(),
                };
                parsed.ok_or_else(|| TextError {
                    line,
                    reason: format!("{text:?} is not a 32-bit unsigned integer"),
                })
            }
            other => error(line, wrong_kind(field, "a number", &other)),
        }
    }

    /// The value of message field `field`, read by `body` (which stops at
    /// [`Parser::message_end`]); the `:` before the `{` or `<` is optional.
    pub fn message<T>(
        &mut self,
        field: &str,
        body: impl FnOnce(&mut Parser) -> Result<T>,
    ) -> Result<T> {
        let line = self.line();
        self.eat(':');
        if !(self.eat('{') || self.eat('<')) {
            return error(line, format!("expected '{{' to open the message {field}"));
        }
        body(self)
    }

    /// Skips the value of a field the caller does not know: a scalar, a
    /// list, or a nested message (nested to any depth).
    pub fn skip_value(&mut self, field: &str) -> Result<()> {
        let line = self.line();
        let colon = self.eat(':');
        match self.next("a value")? {
            Token::Punct('{' | '<') => self.skip_message(),
            Token::Punct('[') if colon => {
                while !self.eat(']') {
                    self.next("']'")?;
                }
                Ok(())
            }
            Token::Str(_) if colon => {
                while let Some(Token::Str(_)) = self.peek() {
                    self.at += 1;
                }
                Ok(())
            }
            Token::Number(_) | Token::Ident(_) if colon => Ok(()),
            other => error(line, format!("field {field} has no value (got {other})")),
        }
    }

    /// Skips to the `}` or `>` closing a nested message already opened.
    fn skip_message(&mut self) -> Result<()> {
        let mut depth = 1;
        while depth > 0 {
            match self.next("the end of a nested message")? {
                Token::Punct('{' | '<') => depth += 1,
                Token::Punct('}' | '>') => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }
}

fn wrong_kind(field: &str, expected: &str, found: &Token) -> String {
    format!("field {field} has the wrong kind of value: expected {expected}, found {found}")
}

/// `value` as a text-format string literal, escaped as protobuf's
/// `CEscape` does: the usual backslash escapes, and every byte outside
/// printable ASCII as three octal digits, so the file stays ASCII and
/// every parser reads back the same UTF-8 bytes.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for &byte in value.as_bytes() {
        match byte {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\{byte:03o}")),
        }
    }
    out.push('"');
    out
}

/// A double as text: Rust's shortest round-trip form, which Python's
/// `text_format` parser accepts; `nan`, `inf` and `-inf` otherwise.
pub(crate) fn format_double(value: f64) -> String {
    if value.is_finite() {
        format!("{value:?}")
    } else if value.is_nan() {
        "nan".into()
    } else if value > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

fn parse_double(text: &str) -> Option<f64> {
    // The words first: stripping an `f` suffix would eat the one of `inf`.
    match text.to_ascii_lowercase().as_str() {
        "inf" | "infinity" | "inff" | "infinityf" => Some(f64::INFINITY),
        "-inf" | "-infinity" | "-inff" | "-infinityf" => Some(f64::NEG_INFINITY),
        "nan" | "nanf" => Some(f64::NAN),
        _ => text.strip_suffix(['f', 'F']).unwrap_or(text).parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `field: "<literal>"` parsed as a string.
    fn string_of(literal: &str) -> Result<String> {
        let mut parser = Parser::new(&format!("f: {literal}"))?;
        parser.field_name()?;
        parser.string("f")
    }

    #[test]
    fn escapes_read_as_python_reads_them() {
        // Each expectation is what Python's text_format.Parse gives (protobuf 7.36).
        assert_eq!(string_of(r#""\x41\101\n""#).unwrap(), "AA\n");
        assert_eq!(string_of(r#""a\qb""#).unwrap(), r"a\qb");
        assert_eq!(string_of(r#""a\?b""#).unwrap(), r"a\?b");
        assert_eq!(string_of(r#"'it''s' "\303\251""#).unwrap(), "its\u{e9}");
        let err = string_of(r#""a\477b""#).unwrap_err();
        assert_eq!(err.reason, "octal escape \\477 is over 255");
        assert_eq!(
            string_of(r#""\x""#).unwrap_err().reason,
            "\\x without hex digits"
        );
        assert_eq!(
            string_of(r#""\377""#).unwrap_err().reason,
            "the string of field f is not UTF-8"
        );
    }

    #[test]
    fn quote_round_trips_every_string() {
        for value in ["", "plain", "tab\there \"q\" 'x' \\ é ✓\n", "\u{0}\u{7f}"] {
            let quoted = quote(value);
            assert!(quoted.is_ascii(), "{quoted}");
            assert_eq!(string_of(&quoted).unwrap(), value);
        }
    }

    #[test]
    fn doubles_round_trip() {
        for value in [0.0, -1.5, 1.7e9, 1e-300, f64::INFINITY, f64::NEG_INFINITY] {
            let mut parser = Parser::new(&format!("d: {}", format_double(value))).unwrap();
            parser.field_name().unwrap();
            assert_eq!(parser.double("d").unwrap(), value);
        }
        let mut parser = Parser::new("d: NaN d: 2.5f d: x").unwrap();
        for check in [f64::is_nan as fn(f64) -> bool, |v| v == 2.5] {
            parser.field_name().unwrap();
            assert!(check(parser.double("d").unwrap()));
        }
        parser.field_name().unwrap();
        assert_eq!(
            parser.double("d").unwrap_err().reason,
            "field d: \"x\" is not a number"
        );
    }

    #[test]
    fn skip_value_skips_scalars_lists_and_nested_messages() {
        let text = "a: 1 b: \"x\" 'y' c: [1, 2] d { e: \"}\" f < g: 1 > } h: { } last: \"kept\"";
        let mut parser = Parser::new(text).unwrap();
        loop {
            let (name, _) = parser.field_name().unwrap();
            if name == "last" {
                assert_eq!(parser.string("last").unwrap(), "kept");
                break;
            }
            parser.skip_value(&name).unwrap();
            parser.separator();
        }
        assert!(parser.done());
        let mut parser = Parser::new("a b").unwrap();
        parser.field_name().unwrap();
        assert_eq!(
            parser.skip_value("a").unwrap_err().reason,
            "field a has no value (got b)"
        );
        let mut parser = Parser::new("a { b: 1").unwrap();
        parser.field_name().unwrap();
        assert!(parser
            .skip_value("a")
            .unwrap_err()
            .reason
            .starts_with("unexpected end of file"));
    }

    #[test]
    fn errors_name_the_line() {
        let err = Parser::new("a: 1\n\n b: \"open").err().unwrap();
        assert_eq!(err.to_string(), "line 3: unterminated string");
        let err = Parser::new("a: 1\n @").err().unwrap();
        assert_eq!(err.to_string(), "line 2: unexpected character '@'");
        let mut parser = Parser::new("\nname 12").unwrap();
        parser.field_name().unwrap();
        assert_eq!(
            parser.string("name").unwrap_err().to_string(),
            "line 2: expected ':' after the field name name"
        );
    }
}
