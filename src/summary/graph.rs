//! Building a `GraphDef` for TensorBoard's Graphs dashboard by hand.
//!
//! TensorBoard draws one box per [`Node`], nests boxes by the `/`-separated
//! scopes of node names (`Conv1/weights` sits inside `Conv1`), draws an edge
//! for every input, and labels edges with the shapes in the producing node's
//! `_output_shapes` attribute. A trainer records one node per layer during
//! a forward pass:
//!
//! ```
//! use tbseg::summary::{GraphBuilder, Node};
//! let mut graph = GraphBuilder::new();
//! graph.add_node(Node::new("input", "Placeholder").output_shape(&[1, 1, 256, 256]));
//! {
//!     let mut conv1 = graph.scope("Conv1");
//!     conv1.add_node(Node::new("conv", "Conv2D").input("input").output_shape(&[1, 100, 128, 128]));
//!     conv1.add_node(Node::new("relu", "Relu").input("Conv1/conv").output_shape(&[1, 100, 128, 128]));
//! }
//! let def = graph.into_graph_def();
//! assert_eq!(def.node[2].name, "Conv1/relu");
//! ```

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use crate::proto::tensorflow::{
    attr_value, AttrValue, GraphDef, NodeDef, TensorShapeProto, VersionDef,
};

/// The `versions.producer` written into graphs (what torch writes).
pub const GRAPH_PRODUCER: i32 = 22;

/// The attribute TensorBoard reads edge shapes from.
const OUTPUT_SHAPES: &str = "_output_shapes";

/// One node (an op or a layer), built by value.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    name: String,
    op: String,
    inputs: Vec<String>,
    output_shapes: Vec<TensorShapeProto>,
    attrs: BTreeMap<String, AttrValue>,
    device: String,
}

impl Node {
    /// A node named `name` (use `/` for scopes, or add it inside
    /// [`GraphBuilder::scope`]) running `op` (shown on the node, e.g.
    /// `Conv2D`).
    pub fn new(name: impl Into<String>, op: impl Into<String>) -> Self {
        Node {
            name: name.into(),
            op: op.into(),
            inputs: Vec::new(),
            output_shapes: Vec::new(),
            attrs: BTreeMap::new(),
            device: String::new(),
        }
    }

    /// Adds an input edge from node `name` (its full name; `name:k` for
    /// output `k`, `^name` for a control edge).
    pub fn input(mut self, name: impl Into<String>) -> Self {
        self.inputs.push(name.into());
        self
    }

    /// Adds the shape of the node's next output; call once per output.
    /// A dimension of -1 is unknown.
    pub fn output_shape(mut self, dims: &[i64]) -> Self {
        self.output_shapes.push(super::values::shape(dims));
        self
    }

    /// Sets the device string (shown in the node's info card).
    pub fn device(mut self, device: impl Into<String>) -> Self {
        self.device = device.into();
        self
    }

    /// Sets an integer attribute (e.g. `stride`).
    pub fn attr_i64(self, key: impl Into<String>, value: i64) -> Self {
        self.attr(key, attr_value::Value::I(value))
    }

    /// Sets a float attribute (e.g. `dropout`).
    pub fn attr_f32(self, key: impl Into<String>, value: f32) -> Self {
        self.attr(key, attr_value::Value::F(value))
    }

    /// Sets a boolean attribute.
    pub fn attr_bool(self, key: impl Into<String>, value: bool) -> Self {
        self.attr(key, attr_value::Value::B(value))
    }

    /// Sets a string attribute (e.g. `padding: "SAME"`).
    pub fn attr_str(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attr(key, attr_value::Value::S(value.into().into_bytes()))
    }

    /// Sets an integer-list attribute (e.g. `kernel_size: [5, 5]`).
    pub fn attr_ints(self, key: impl Into<String>, values: &[i64]) -> Self {
        self.attr(
            key,
            attr_value::Value::List(attr_value::ListValue {
                i: values.to_vec(),
                ..Default::default()
            }),
        )
    }

    fn attr(mut self, key: impl Into<String>, value: attr_value::Value) -> Self {
        self.attrs
            .insert(key.into(), AttrValue { value: Some(value) });
        self
    }

    /// The node's name as given (without any scope the builder adds).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn into_node_def(self, scope: &str) -> NodeDef {
        let mut attr = self.attrs;
        if !self.output_shapes.is_empty() {
            attr.insert(
                OUTPUT_SHAPES.to_owned(),
                AttrValue {
                    value: Some(attr_value::Value::List(attr_value::ListValue {
                        shape: self.output_shapes,
                        ..Default::default()
                    })),
                },
            );
        }
        NodeDef {
            name: format!("{scope}{}", self.name),
            op: self.op,
            input: self.inputs,
            device: self.device,
            attr,
        }
    }
}

/// Collects nodes into a `GraphDef`, optionally under nested name scopes.
#[derive(Debug, Clone, Default)]
pub struct GraphBuilder {
    nodes: Vec<NodeDef>,
    /// The current scope prefix, `""` or ending in `/`.
    scope: String,
}

impl GraphBuilder {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `node`, prefixing its name with the current scope, and returns
    /// its full name (what later nodes use as an input).
    pub fn add_node(&mut self, node: Node) -> String {
        let def = node.into_node_def(&self.scope);
        let name = def.name.clone();
        self.nodes.push(def);
        name
    }

    /// Enters the name scope `name` until the returned guard is dropped;
    /// nodes added through the guard get `<outer scopes>/<name>/` in front of
    /// their names. Input names are never rewritten: give full names.
    pub fn scope(&mut self, name: &str) -> Scope<'_> {
        let restore = self.scope.len();
        self.scope.push_str(name.trim_matches('/'));
        self.scope.push('/');
        Scope {
            builder: self,
            restore,
        }
    }

    /// The current scope prefix (`""` at the top, else ending in `/`).
    pub fn current_scope(&self) -> &str {
        &self.scope
    }

    /// Number of nodes added so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node was added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The finished graph, with `versions.producer` = [`GRAPH_PRODUCER`].
    pub fn into_graph_def(self) -> GraphDef {
        GraphDef {
            node: self.nodes,
            versions: Some(VersionDef {
                producer: GRAPH_PRODUCER,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// A name scope entered with [`GraphBuilder::scope`]; dereferences to the
/// builder and leaves the scope when dropped.
#[derive(Debug)]
pub struct Scope<'a> {
    builder: &'a mut GraphBuilder,
    restore: usize,
}

impl Deref for Scope<'_> {
    type Target = GraphBuilder;
    fn deref(&self) -> &GraphBuilder {
        self.builder
    }
}

impl DerefMut for Scope<'_> {
    fn deref_mut(&mut self) -> &mut GraphBuilder {
        self.builder
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        self.builder.scope.truncate(self.restore);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_scopes_prefix_names_and_unwind() {
        let mut g = GraphBuilder::new();
        let input = g.add_node(Node::new("x", "Placeholder"));
        {
            let mut outer = g.scope("Net");
            let mut inner = outer.scope("Conv1");
            let conv = inner.add_node(Node::new("conv", "Conv2D").input(&input));
            assert_eq!(conv, "Net/Conv1/conv");
            assert_eq!(inner.current_scope(), "Net/Conv1/");
        }
        assert_eq!(g.current_scope(), "");
        let out = g.add_node(Node::new("y", "Identity").input("Net/Conv1/conv"));
        assert_eq!(out, "y");
        let def = g.into_graph_def();
        assert_eq!(def.node.len(), 3);
        assert_eq!(def.node[1].input, ["x"]);
        assert_eq!(def.versions.unwrap().producer, 22);
    }

    #[test]
    fn attributes_and_output_shapes() {
        let mut g = GraphBuilder::new();
        g.add_node(
            Node::new("c", "Conv2D")
                .output_shape(&[1, 100, 128, 128])
                .output_shape(&[-1])
                .attr_ints("kernel_size", &[5, 5])
                .attr_str("padding", "SAME")
                .attr_i64("stride", 2)
                .attr_f32("scale", 0.5),
        );
        let node = &g.into_graph_def().node[0];
        let Some(attr_value::Value::List(list)) = &node.attr["_output_shapes"].value else {
            panic!("no shapes");
        };
        assert_eq!(list.shape.len(), 2);
        let dims: Vec<i64> = list.shape[0].dim.iter().map(|d| d.size).collect();
        assert_eq!(dims, [1, 100, 128, 128]);
        assert_eq!(list.shape[1].dim[0].size, -1);
        assert_eq!(
            node.attr["padding"].value,
            Some(attr_value::Value::S(b"SAME".to_vec()))
        );
        assert_eq!(node.attr["stride"].value, Some(attr_value::Value::I(2)));
        assert_eq!(node.attr["scale"].value, Some(attr_value::Value::F(0.5)));
        let Some(attr_value::Value::List(k)) = &node.attr["kernel_size"].value else {
            panic!("no kernel_size");
        };
        assert_eq!(k.i, [5, 5]);
    }
}
