//! `projector_config.pbtxt`: the Projector's configuration, a
//! `ProjectorConfig` message in protobuf text format, read and written
//! without a protobuf text-format library.
//!
//! The parser (the crate's one text-format parser, shared with the
//! checkpoint state file) accepts what TensorBoard's own parser (Python's
//! `text_format.Parse`) accepts for this message: fields as `name: value`
//! or `name { ... }` / `name: { ... }` / `name < ... >`, repeated numbers
//! as repeated fields or `[a, b]` lists, `#` comments, optional `,` or `;`
//! separators, and C-style string escapes. An unknown field is an error,
//! as it is for TensorBoard, so a config that tbseg cannot read is never
//! silently rewritten without the fields it did not understand.

use crate::proto::tensorboard::projector::{EmbeddingInfo, ProjectorConfig, SpriteMetadata};
use crate::proto::text_format::{quote, Parser, TextError};

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
    out.push_str(": ");
    // Non-ASCII and control bytes as octal escapes: the file stays ASCII
    // whatever the tags are.
    out.push_str(&quote(value));
    out.push('\n');
}

/// Parses a `ProjectorConfig` in protobuf text format. The error says
/// which line holds what was not understood.
pub fn parse(text: &str) -> Result<ProjectorConfig, String> {
    parse_config(text).map_err(|e| e.to_string())
}

fn parse_config(text: &str) -> Result<ProjectorConfig, TextError> {
    let mut parser = Parser::new(text)?;
    let mut config = ProjectorConfig::default();
    while !parser.done() {
        let (name, line) = parser.field_name()?;
        match name.as_str() {
            "model_checkpoint_path" => config.model_checkpoint_path = parser.string(&name)?,
            "model_checkpoint_dir" => config.model_checkpoint_dir = parser.string(&name)?,
            "embeddings" => config
                .embeddings
                .push(parser.message(&name, parse_embedding)?),
            _ => return Err(unknown_field(line, &name, "ProjectorConfig")),
        }
        parser.separator();
    }
    Ok(config)
}

fn parse_embedding(parser: &mut Parser) -> Result<EmbeddingInfo, TextError> {
    let mut info = EmbeddingInfo::default();
    while !parser.message_end() {
        let (name, line) = parser.field_name()?;
        match name.as_str() {
            "tensor_name" => info.tensor_name = parser.string(&name)?,
            "metadata_path" => info.metadata_path = parser.string(&name)?,
            "bookmarks_path" => info.bookmarks_path = parser.string(&name)?,
            "tensor_path" => info.tensor_path = parser.string(&name)?,
            "tensor_shape" => parser.u32s(&name, &mut info.tensor_shape)?,
            "sprite" => info.sprite = Some(parser.message(&name, parse_sprite)?),
            _ => return Err(unknown_field(line, &name, "EmbeddingInfo")),
        }
        parser.separator();
    }
    Ok(info)
}

fn parse_sprite(parser: &mut Parser) -> Result<SpriteMetadata, TextError> {
    let mut sprite = SpriteMetadata::default();
    while !parser.message_end() {
        let (name, line) = parser.field_name()?;
        match name.as_str() {
            "image_path" => sprite.image_path = parser.string(&name)?,
            "single_image_dim" => parser.u32s(&name, &mut sprite.single_image_dim)?,
            _ => return Err(unknown_field(line, &name, "SpriteMetadata")),
        }
        parser.separator();
    }
    Ok(sprite)
}

/// An unknown field is an error, as it is for TensorBoard: a config tbseg
/// cannot read is never rewritten without the fields it did not know.
fn unknown_field(line: usize, name: &str, message: &str) -> TextError {
    TextError {
        line,
        reason: format!("unknown field {name:?} in {message}"),
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
