//! `projector_config.pbtxt`: the Projector's configuration, a
//! `ProjectorConfig` message in protobuf text format, read and written
//! without a protobuf text-format library.
//!
//! The parser accepts what TensorBoard's own parser (Python's
//! `text_format.Parse`) accepts for this message: fields as `name: value`
//! or `name { ... }` / `name: { ... }` / `name < ... >`, repeated numbers
//! as repeated fields or `[a, b]` lists, `#` comments, optional `,` or `;`
//! separators, and C-style string escapes. An unknown field is an error,
//! as it is for TensorBoard, so a config that tbseg cannot read is never
//! silently rewritten without the fields it did not understand.

use crate::proto::tensorboard::projector::{EmbeddingInfo, ProjectorConfig, SpriteMetadata};

/// The Projector's configuration file name, in a run's directory.
pub const FILE_NAME: &str = "projector_config.pbtxt";

/// Replaces the embedding with `info`'s tensor name, or appends `info` if
/// there is none, keeping every other embedding as it was.
pub fn upsert(config: &mut ProjectorConfig, info: EmbeddingInfo) {
    match config
        .embeddings
        .iter_mut()
        .find(|e| e.tensor_name == info.tensor_name)
    {
        Some(existing) => *existing = info,
        None => config.embeddings.push(info),
    }
}

/// Writes `config` in protobuf text format, fields in field-number order
/// and empty (default) fields left out, as Python's
/// `text_format.MessageToString` does (which writes non-ASCII text as it
/// is, where this writes octal escapes).
pub fn to_text(config: &ProjectorConfig) -> String {
    let mut out = String::new();
    string_field(
        &mut out,
        0,
        "model_checkpoint_path",
        &config.model_checkpoint_path,
    );
    for info in &config.embeddings {
        out.push_str("embeddings {\n");
        string_field(&mut out, 1, "tensor_name", &info.tensor_name);
        string_field(&mut out, 1, "metadata_path", &info.metadata_path);
        string_field(&mut out, 1, "bookmarks_path", &info.bookmarks_path);
        for dim in &info.tensor_shape {
            out.push_str(&format!("  tensor_shape: {dim}\n"));
        }
        if let Some(sprite) = &info.sprite {
            out.push_str("  sprite {\n");
            string_field(&mut out, 2, "image_path", &sprite.image_path);
            for dim in &sprite.single_image_dim {
                out.push_str(&format!("    single_image_dim: {dim}\n"));
            }
            out.push_str("  }\n");
        }
        string_field(&mut out, 1, "tensor_path", &info.tensor_path);
        out.push_str("}\n");
    }
    string_field(
        &mut out,
        0,
        "model_checkpoint_dir",
        &config.model_checkpoint_dir,
    );
    out
}

fn string_field(out: &mut String, depth: usize, name: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    out.push_str(&"  ".repeat(depth));
    out.push_str(name);
    out.push_str(": \"");
    for &byte in value.as_bytes() {
        match byte {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            // Non-ASCII and control bytes as octal escapes, which every
            // text-format parser reads back as the same UTF-8 bytes; the
            // file stays ASCII whatever the tags are.
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\{byte:03o}")),
        }
    }
    out.push_str("\"\n");
}

/// Parses a `ProjectorConfig` in protobuf text format. The error says
/// which line holds what was not understood.
pub fn parse(text: &str) -> Result<ProjectorConfig, String> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
    };
    let mut config = ProjectorConfig::default();
    while !parser.done() {
        let (name, line) = parser.field_name()?;
        match name.as_str() {
            "model_checkpoint_path" => config.model_checkpoint_path = parser.string_value()?,
            "model_checkpoint_dir" => config.model_checkpoint_dir = parser.string_value()?,
            "embeddings" => config.embeddings.push(parser.message(parse_embedding)?),
            other => {
                return Err(format!(
                    "line {line}: unknown field {other:?} in ProjectorConfig"
                ))
            }
        }
        parser.separator();
    }
    Ok(config)
}

fn parse_embedding(parser: &mut Parser) -> Result<EmbeddingInfo, String> {
    let mut info = EmbeddingInfo::default();
    while !parser.message_end() {
        let (name, line) = parser.field_name()?;
        match name.as_str() {
            "tensor_name" => info.tensor_name = parser.string_value()?,
            "metadata_path" => info.metadata_path = parser.string_value()?,
            "bookmarks_path" => info.bookmarks_path = parser.string_value()?,
            "tensor_path" => info.tensor_path = parser.string_value()?,
            "tensor_shape" => parser.u32_values(&mut info.tensor_shape)?,
            "sprite" => info.sprite = Some(parser.message(parse_sprite)?),
            other => {
                return Err(format!(
                    "line {line}: unknown field {other:?} in EmbeddingInfo"
                ))
            }
        }
        parser.separator();
    }
    Ok(info)
}

fn parse_sprite(parser: &mut Parser) -> Result<SpriteMetadata, String> {
    let mut sprite = SpriteMetadata::default();
    while !parser.message_end() {
        let (name, line) = parser.field_name()?;
        match name.as_str() {
            "image_path" => sprite.image_path = parser.string_value()?,
            "single_image_dim" => parser.u32_values(&mut sprite.single_image_dim)?,
            other => {
                return Err(format!(
                    "line {line}: unknown field {other:?} in SpriteMetadata"
                ))
            }
        }
        parser.separator();
    }
    Ok(sprite)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(String),
    Str(Vec<u8>),
    Punct(char),
}

/// Splits text into tokens, each with its 1-based line.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, String> {
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
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '+' => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+') {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let token =
                    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
                        Token::Number(word)
                    } else {
                        Token::Ident(word)
                    };
                tokens.push((token, line));
            }
            other => return Err(format!("line {line}: unexpected character {other:?}")),
        }
    }
    Ok(tokens)
}

/// The bytes of a string literal whose opening `quote` was consumed.
fn string_literal(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
    line: usize,
) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let unterminated = || format!("line {line}: unterminated string");
    loop {
        let c = chars.next().ok_or_else(unterminated)?;
        match c {
            '\n' => return Err(unterminated()),
            c if c == quote => return Ok(bytes),
            '\\' => {
                let e = chars.next().ok_or_else(unterminated)?;
                match e {
                    'n' => bytes.push(b'\n'),
                    'r' => bytes.push(b'\r'),
                    't' => bytes.push(b'\t'),
                    'a' => bytes.push(0x07),
                    'b' => bytes.push(0x08),
                    'f' => bytes.push(0x0c),
                    'v' => bytes.push(0x0b),
                    '"' | '\'' | '\\' | '?' => bytes.push(e as u8),
                    '0'..='7' => {
                        let mut value = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(d) => {
                                    value = value * 8 + d;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        let byte = u8::try_from(value).map_err(|_| {
                            format!("line {line}: octal escape \\{value:o} is over 255")
                        })?;
                        bytes.push(byte);
                    }
                    'x' => {
                        let mut value = 0u32;
                        let mut digits = 0;
                        while digits < 2 {
                            match chars.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    value = value * 16 + d;
                                    chars.next();
                                    digits += 1;
                                }
                                None => break,
                            }
                        }
                        if digits == 0 {
                            return Err(format!("line {line}: \\x without hex digits"));
                        }
                        bytes.push(value as u8);
                    }
                    other => return Err(format!("line {line}: unknown escape \\{other}")),
                }
            }
            c => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser {
    fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn line(&self) -> usize {
        self.tokens
            .get(self.at)
            .or(self.tokens.last())
            .map_or(1, |&(_, line)| line)
    }

    fn next(&mut self, expected: &str) -> Result<Token, String> {
        match self.tokens.get(self.at) {
            Some((token, _)) => {
                self.at += 1;
                Ok(token.clone())
            }
            None => Err(format!(
                "line {}: unexpected end of file, expected {expected}",
                self.line()
            )),
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

    fn field_name(&mut self) -> Result<(String, usize), String> {
        let line = self.line();
        match self.next("a field name")? {
            Token::Ident(name) => Ok((name, line)),
            other => Err(format!(
                "line {line}: expected a field name, found {other:?}"
            )),
        }
    }

    fn separator(&mut self) {
        let _ = self.eat(',') || self.eat(';');
    }

    /// Whether the message being parsed ends here (consuming its `}`/`>`).
    fn message_end(&mut self) -> bool {
        self.eat('}') || self.eat('>')
    }

    fn string_value(&mut self) -> Result<String, String> {
        let line = self.line();
        if !self.eat(':') {
            return Err(format!(
                "line {line}: expected ':' after a string field's name"
            ));
        }
        let mut bytes = match self.next("a string")? {
            Token::Str(bytes) => bytes,
            other => return Err(format!("line {line}: expected a string, found {other:?}")),
        };
        // Adjacent literals concatenate, as in C.
        while let Some(Token::Str(more)) = self.peek() {
            bytes.extend_from_slice(more);
            self.at += 1;
        }
        String::from_utf8(bytes).map_err(|_| format!("line {line}: string is not UTF-8"))
    }

    fn u32_values(&mut self, into: &mut Vec<u32>) -> Result<(), String> {
        let line = self.line();
        if !self.eat(':') {
            return Err(format!(
                "line {line}: expected ':' after a number field's name"
            ));
        }
        if self.eat('[') {
            if self.eat(']') {
                return Ok(());
            }
            loop {
                into.push(self.u32_value()?);
                if self.eat(']') {
                    return Ok(());
                }
                if !self.eat(',') {
                    return Err(format!(
                        "line {}: expected ',' or ']' in a list",
                        self.line()
                    ));
                }
            }
        }
        into.push(self.u32_value()?);
        Ok(())
    }

    fn u32_value(&mut self) -> Result<u32, String> {
        let line = self.line();
        match self.next("a number")? {
            Token::Number(text) => {
                let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => text.parse().ok(),
                };
                parsed.ok_or_else(|| {
                    format!("line {line}: {text:?} is not a 32-bit unsigned integer")
                })
            }
            other => Err(format!("line {line}: expected a number, found {other:?}")),
        }
    }

    fn message<T>(&mut self, body: fn(&mut Parser) -> Result<T, String>) -> Result<T, String> {
        let line = self.line();
        self.eat(':');
        if !(self.eat('{') || self.eat('<')) {
            return Err(format!("line {line}: expected '{{' to open a message"));
        }
        body(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str) -> EmbeddingInfo {
        EmbeddingInfo {
            tensor_name: name.into(),
            tensor_path: format!("00001/{name}/tensors.tsv"),
            tensor_shape: vec![10, 3],
            ..Default::default()
        }
    }

    #[test]
    fn writes_what_python_text_format_writes() {
        let mut config = ProjectorConfig::default();
        let mut first = info("a:00001");
        first.tensor_path = "00001/a/tensors.tsv".into();
        first.metadata_path = "00001/a/metadata.tsv".into();
        first.sprite = Some(SpriteMetadata {
            image_path: "00001/a/sprite.png".into(),
            single_image_dim: vec![28, 28],
        });
        config.embeddings.push(first);
        // Byte for byte what Python's text_format.MessageToString gives
        // for this message.
        assert_eq!(
            to_text(&config),
            "embeddings {\n  tensor_name: \"a:00001\"\n  metadata_path: \"00001/a/metadata.tsv\"\n  \
             tensor_shape: 10\n  tensor_shape: 3\n  sprite {\n    image_path: \"00001/a/sprite.png\"\n    \
             single_image_dim: 28\n    single_image_dim: 28\n  }\n  tensor_path: \"00001/a/tensors.tsv\"\n}\n"
        );
    }

    #[test]
    fn round_trips_escapes_and_unicode() {
        let mut config = ProjectorConfig {
            model_checkpoint_path: "ckpt/model.ckpt-5".into(),
            ..Default::default()
        };
        config.embeddings.push(info("tab\there \"q\" 'x' \\ é ✓\n"));
        let text = to_text(&config);
        assert!(text.is_ascii(), "{text}");
        assert_eq!(parse(&text).unwrap(), config);
    }

    #[test]
    fn parses_the_other_spellings_tensorboard_accepts() {
        let text = r#"
            # written by hand
            model_checkpoint_dir: 'ckpts'
            embeddings: {
              tensor_name: "w" "ord"  # adjacent strings concatenate
              tensor_shape: [4, 0x2];
              sprite < image_path: "s\x2epng" single_image_dim: 8, single_image_dim: 9 >
            }
            embeddings { tensor_name: "\303\251" }
        "#;
        let config = parse(text).unwrap();
        assert_eq!(config.model_checkpoint_dir, "ckpts");
        assert_eq!(config.embeddings.len(), 2);
        assert_eq!(config.embeddings[0].tensor_name, "word");
        assert_eq!(config.embeddings[0].tensor_shape, [4, 2]);
        let sprite = config.embeddings[0].sprite.as_ref().unwrap();
        assert_eq!(sprite.image_path, "s.png");
        assert_eq!(sprite.single_image_dim, [8, 9]);
        assert_eq!(config.embeddings[1].tensor_name, "é");
        assert_eq!(parse("").unwrap(), ProjectorConfig::default());
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("embeddings {\n  tensor_name: \"a\"\n  colour: 3\n}\n").unwrap_err();
        assert_eq!(err, "line 3: unknown field \"colour\" in EmbeddingInfo");
        assert!(parse("embeddings {\n tensor_name: \"a")
            .unwrap_err()
            .contains("line 2: unterminated string"));
        assert!(parse("embeddings {")
            .unwrap_err()
            .contains("unexpected end of file"));
        assert!(parse("embeddings { tensor_shape: -1 }")
            .unwrap_err()
            .contains("not a 32-bit unsigned"));
        assert!(parse("model_checkpoint_path \"x\"")
            .unwrap_err()
            .contains("expected ':'"));
    }

    #[test]
    fn upsert_replaces_by_tensor_name_and_keeps_the_rest() {
        let mut config = ProjectorConfig::default();
        upsert(&mut config, info("a"));
        upsert(&mut config, info("b"));
        let mut newer = info("a");
        newer.tensor_shape = vec![5, 5];
        upsert(&mut config, newer.clone());
        assert_eq!(config.embeddings, [newer, info("b")]);
    }
}
