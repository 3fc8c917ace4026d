//! Every message and enum of a descriptor set by its full protobuf name
//! (`.tensorflow.Summary.Value`): where its Rust type lives, and which
//! std traits its Rust type can derive.

use std::collections::{BTreeSet, HashMap};

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};

use super::names;

/// Where a type lives: `modules` from `tbseg::proto` down, then `name`.
#[derive(Clone, Debug)]
pub struct RustPath {
    pub modules: Vec<String>,
    pub name: String,
}

impl RustPath {
    /// The path to write in module `from` (`super::super::HistogramProto`).
    pub fn relative_to(&self, from: &[String]) -> String {
        let common = from
            .iter()
            .zip(&self.modules)
            .take_while(|(a, b)| a == b)
            .count();
        let mut path = "super::".repeat(from.len() - common);
        for module in &self.modules[common..] {
            path.push_str(module);
            path.push_str("::");
        }
        path.push_str(&self.name);
        path
    }
}

pub struct Types<'a> {
    messages: HashMap<String, (&'a DescriptorProto, RustPath)>,
    enums: HashMap<String, RustPath>,
}

impl<'a> Types<'a> {
    pub fn new(set: &'a FileDescriptorSet) -> Self {
        let mut types = Types {
            messages: HashMap::new(),
            enums: HashMap::new(),
        };
        for file in &set.file {
            let package = file.package();
            let modules: Vec<String> = package.split('.').map(names::snake).collect();
            for message in &file.message_type {
                types.add_message(&format!(".{package}"), &modules, message);
            }
            for enumeration in &file.enum_type {
                let path = RustPath {
                    modules: modules.clone(),
                    name: names::upper_camel(enumeration.name()),
                };
                types
                    .enums
                    .insert(format!(".{package}.{}", enumeration.name()), path);
            }
        }
        types
    }

    fn add_message(&mut self, scope: &str, modules: &[String], message: &'a DescriptorProto) {
        let full_name = format!("{scope}.{}", message.name());
        let path = RustPath {
            modules: modules.to_vec(),
            name: names::upper_camel(message.name()),
        };
        let mut inner = modules.to_vec();
        inner.push(names::snake(message.name()));
        for nested in &message.nested_type {
            self.add_message(&full_name, &inner, nested);
        }
        for enumeration in &message.enum_type {
            let path = RustPath {
                modules: inner.clone(),
                name: names::upper_camel(enumeration.name()),
            };
            self.enums
                .insert(format!("{full_name}.{}", enumeration.name()), path);
        }
        self.messages.insert(full_name, (message, path));
    }

    pub fn message(&self, full_name: &str) -> &'a DescriptorProto {
        self.lookup(full_name).0
    }

    pub fn message_path(&self, full_name: &str) -> &RustPath {
        &self.lookup(full_name).1
    }

    pub fn enum_path(&self, full_name: &str) -> &RustPath {
        self.enums
            .get(full_name)
            .unwrap_or_else(|| panic!("unknown enum {full_name}"))
    }

    fn lookup(&self, full_name: &str) -> &(&'a DescriptorProto, RustPath) {
        self.messages
            .get(full_name)
            .unwrap_or_else(|| panic!("unknown message {full_name}"))
    }

    /// The key and value fields of a `map<K, V>` field's entry message,
    /// or `None` for any other field.
    pub fn map_entry(
        &self,
        field: &FieldDescriptorProto,
    ) -> Option<(&'a FieldDescriptorProto, &'a FieldDescriptorProto)> {
        if field.r#type() != Type::Message || field.label() != Label::Repeated {
            return None;
        }
        let entry = self.message(field.type_name());
        if !entry.options.as_ref().is_some_and(|o| o.map_entry()) {
            return None;
        }
        let key = entry.field.iter().find(|f| f.number() == 1);
        let value = entry.field.iter().find(|f| f.number() == 2);
        Some((key.expect("map key"), value.expect("map value")))
    }

    /// Whether message `to` is reachable from message `from` through
    /// message-typed fields: a field of type `from` inside message `to`
    /// makes the types recursive.
    pub fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(name) = stack.pop() {
            if name == to {
                return true;
            }
            if !seen.insert(name.clone()) {
                continue;
            }
            for field in &self.message(&name).field {
                if matches!(field.r#type(), Type::Message | Type::Group) {
                    stack.push(field.type_name().to_string());
                }
            }
        }
        false
    }

    /// `Copy` fits a message of scalars, enums and copyable messages only
    /// (prost-build's rule, kept so the types implement what they did).
    pub fn can_derive_copy(&self, message: &str) -> bool {
        self.message(message)
            .field
            .iter()
            .all(|field| self.field_can_derive_copy(message, field))
    }

    pub fn field_can_derive_copy(&self, message: &str, field: &FieldDescriptorProto) -> bool {
        match (field.label(), field.r#type()) {
            (Label::Repeated, _) => false,
            (_, Type::Message) => {
                !self.reaches(field.type_name(), message) && self.can_derive_copy(field.type_name())
            }
            (_, ty) => !matches!(ty, Type::String | Type::Bytes | Type::Group),
        }
    }

    /// `Eq` and `Hash` fit a message without floating-point fields,
    /// repeated messages or recursion (prost-build's rule).
    pub fn can_derive_eq(&self, message: &str) -> bool {
        self.message(message)
            .field
            .iter()
            .all(|field| self.field_can_derive_eq(message, field))
    }

    pub fn field_can_derive_eq(&self, message: &str, field: &FieldDescriptorProto) -> bool {
        match field.r#type() {
            Type::Message => {
                field.label() != Label::Repeated
                    && !self.reaches(field.type_name(), message)
                    && self.can_derive_eq(field.type_name())
            }
            ty => !matches!(ty, Type::Float | Type::Double | Type::Group),
        }
    }
}
