//! The graph a network draws of itself for TensorBoard's Graphs dashboard.
//!
//! Every network's `forward` takes an optional [`Trace`]. Training passes
//! none; [`super::Model::graph`] passes one, and each operation then
//! records a node under the lab's TensorFlow name with the shape it
//! actually produced, so the graph cannot drift from the computation.

use tch::Tensor;

/// The name of the input placeholder every graph starts with.
pub(crate) const INPUT: &str = "x";

/// One node of the graph a model draws of itself (see
/// [`super::Model::graph`]).
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// TensorFlow node name, e.g. `Conv1/Conv2D`.
    pub name: String,
    /// TensorFlow op type, e.g. `Conv2D`, `VariableV2`, `Placeholder`.
    pub op: String,
    /// Names of the nodes feeding this one.
    pub inputs: Vec<String>,
    /// Shape of the output in TensorFlow's layout (NHWC activations, TF
    /// kernel layouts), taken from the tensor the layer actually produced.
    pub output_shape: Vec<i64>,
    /// Integer-list attributes (`strides`, `ksize`).
    pub int_list_attrs: Vec<(String, Vec<i64>)>,
    /// String attributes (`padding`, `data_format`).
    pub string_attrs: Vec<(String, String)>,
    /// Float attributes (`keep_prob`).
    pub float_attrs: Vec<(String, f32)>,
}

impl GraphNode {
    /// A node with no inputs or attributes whose output has the
    /// TensorFlow-layout shape `output_shape`.
    pub(crate) fn new(name: impl Into<String>, op: &str, output_shape: Vec<i64>) -> GraphNode {
        GraphNode {
            name: name.into(),
            op: op.to_string(),
            inputs: Vec::new(),
            output_shape,
            int_list_attrs: Vec::new(),
            string_attrs: Vec::new(),
            float_attrs: Vec::new(),
        }
    }

    /// A node producing the activation `output`, whose NCHW shape is shown
    /// as NHWC (TensorBoard shows the lab's layout).
    pub(crate) fn activation(name: impl Into<String>, op: &str, output: &Tensor) -> GraphNode {
        let shape = match output.size()[..] {
            [n, c, h, w] => vec![n, h, w, c],
            ref other => other.to_vec(),
        };
        GraphNode::new(name, op, shape)
    }

    /// Adds inputs after those already named.
    pub(crate) fn inputs(mut self, inputs: &[&str]) -> GraphNode {
        self.inputs.extend(inputs.iter().map(|s| s.to_string()));
        self
    }

    /// Adds an integer-list attribute.
    pub(crate) fn ints(mut self, key: &str, values: [i64; 4]) -> GraphNode {
        self.int_list_attrs.push((key.to_string(), values.to_vec()));
        self
    }

    /// Adds a string attribute.
    pub(crate) fn string(mut self, key: &str, value: &str) -> GraphNode {
        self.string_attrs.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a float attribute.
    pub(crate) fn float(mut self, key: &str, value: f32) -> GraphNode {
        self.float_attrs.push((key.to_string(), value));
        self
    }

    /// The attributes of TensorFlow's NHWC `SAME` windows: `strides`, then
    /// `padding` and `data_format` (what `Conv2D`, `MaxPool` and
    /// `Conv2DBackpropInput` carry in the lab's graph).
    pub(crate) fn same_window(self, stride: i64) -> GraphNode {
        self.ints("strides", [1, stride, stride, 1])
            .string("padding", "SAME")
            .string("data_format", "NHWC")
    }
}

/// The nodes recorded while a `forward` ran, in the order they ran.
#[derive(Default)]
pub(crate) struct Trace {
    nodes: Vec<GraphNode>,
}

impl Trace {
    /// Appends `node`.
    pub(crate) fn push(&mut self, node: GraphNode) {
        self.nodes.push(node);
    }

    /// The recorded nodes.
    pub(crate) fn into_nodes(self) -> Vec<GraphNode> {
        self.nodes
    }
}

/// Records a network in which every operation reads the one before it
/// (and its own variables): `simple` and `cnn`.
pub(crate) struct Chain<'t> {
    trace: Option<&'t mut Trace>,
    previous: String,
}

impl<'t> Chain<'t> {
    /// A chain starting at the input placeholder; records nothing when
    /// `trace` is `None`.
    pub(crate) fn new(trace: Option<&'t mut Trace>) -> Chain<'t> {
        Chain {
            trace,
            previous: INPUT.to_string(),
        }
    }

    /// Records the node `node` builds, with the previous node as its first
    /// input. `node` runs only when tracing, so training builds no names.
    pub(crate) fn record(&mut self, node: impl FnOnce() -> GraphNode) {
        if let Some(trace) = self.trace.as_deref_mut() {
            let mut node = node();
            let previous = std::mem::replace(&mut self.previous, node.name.clone());
            node.inputs.insert(0, previous);
            trace.push(node);
        }
    }
}
