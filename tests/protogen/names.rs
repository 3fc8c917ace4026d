//! Rust names for protobuf names, spelled as prost-build spells them (so
//! the checked-in code keeps the paths the old build-time code had):
//! `snake_case` modules and fields, `UpperCamelCase` types and variants,
//! enum variants without their enum's name in front, keywords escaped.

/// Splits a protobuf name into words: at every character that is not a
/// letter or digit, between a lower-case letter and an upper-case one
/// (`fooBar`), and before the last capital of a run followed by a
/// lower-case letter (`HParams` is `H`, `Params`). Digits stay with the
/// word they follow (`BFLOAT16`).
fn words(name: &str) -> Vec<&str> {
    #[derive(Clone, Copy, PartialEq)]
    enum Case {
        Start,
        Lower,
        Upper,
    }
    let mut words = Vec::new();
    for part in name.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<(usize, char)> = part.char_indices().collect();
        let mut start = 0;
        let mut case = Case::Start;
        for (i, &(at, c)) in chars.iter().enumerate() {
            let Some(&(next_at, next)) = chars.get(i + 1) else {
                words.push(&part[start..]);
                break;
            };
            let case_here = if c.is_lowercase() {
                Case::Lower
            } else if c.is_uppercase() {
                Case::Upper
            } else {
                case
            };
            if case_here == Case::Lower && next.is_uppercase() {
                words.push(&part[start..next_at]);
                start = next_at;
                case = Case::Start;
            } else if case == Case::Upper && c.is_uppercase() && next.is_lowercase() {
                words.push(&part[start..at]);
                start = at;
                case = Case::Start;
            } else {
                case = case_here;
            }
        }
    }
    words.retain(|word| !word.is_empty());
    words
}

/// `lower_snake_case`, for modules and fields.
pub fn snake(name: &str) -> String {
    let words: Vec<String> = words(name).iter().map(|w| w.to_lowercase()).collect();
    escape_keyword(words.join("_"))
}

/// `UpperCamelCase` without keyword escaping (the raw material of type
/// and variant names).
fn camel(name: &str) -> String {
    words(name)
        .iter()
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().expect("words are not empty");
            first
                .to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect::<String>()
        })
        .collect()
}

/// `UpperCamelCase`, for messages, enums and oneofs.
pub fn upper_camel(name: &str) -> String {
    escape_keyword(camel(name))
}

/// An enum value's variant name: `DATA_CLASS_SCALAR` of enum `DataClass`
/// is `Scalar`. The prefix is dropped only at a word boundary, and never
/// when nothing would be left (`NULL_VALUE` of `NullValue` stays).
pub fn enum_variant(enum_name: &str, value_name: &str) -> String {
    let prefix = camel(enum_name);
    let full = camel(value_name);
    let stripped = match full.strip_prefix(&prefix) {
        Some(rest) if rest.starts_with(char::is_uppercase) => rest.to_string(),
        _ => full,
    };
    escape_keyword(stripped)
}

/// Rust keywords become raw identifiers (`type` is `r#type`); the few
/// that cannot be raw get an underscore, and a leading digit gets one in
/// front.
fn escape_keyword(ident: String) -> String {
    const RAW: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "false", "fn", "for", "if", "impl",
        "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
        "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "dyn", "abstract",
        "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
        "virtual", "yield", "async", "await", "try", "gen",
    ];
    const SUFFIXED: &[&str] = &["_", "super", "self", "Self", "extern", "crate"];
    if RAW.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else if SUFFIXED.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if ident.starts_with(|c: char| c.is_numeric()) {
        format!("_{ident}")
    } else {
        ident
    }
}

#[test]
fn names_are_spelled_as_prost_build_spells_them() {
    assert_eq!(snake("HParamsPluginData"), "h_params_plugin_data");
    assert_eq!(snake("TensorShapeProto"), "tensor_shape_proto");
    assert_eq!(snake("type"), "r#type");
    assert_eq!(upper_camel("has_length"), "HasLength");
    assert_eq!(
        upper_camel("obsolete_old_style_histogram"),
        "ObsoleteOldStyleHistogram"
    );
    assert_eq!(enum_variant("DataType", "DT_BFLOAT16"), "DtBfloat16");
    assert_eq!(
        enum_variant("DataClass", "DATA_CLASS_BLOB_SEQUENCE"),
        "BlobSequence"
    );
    assert_eq!(
        enum_variant("DatasetType", "DATASET_UNKNOWN"),
        "DatasetUnknown"
    );
    assert_eq!(enum_variant("NullValue", "NULL_VALUE"), "NullValue");
    assert_eq!(enum_variant("Foo", "FOOBAR"), "Foobar");
}
