//! Graphs read back: the serialized `GraphDef` of a run's last graph
//! event, as its nodes.

use prost::Message;

use crate::proto::tensorflow::GraphDef;

use super::tensor::{self, TensorError};

/// A logged graph.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Graph {
    /// Its nodes, in the order logged.
    pub nodes: Vec<GraphNode>,
}

/// One node of a [`Graph`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GraphNode {
    /// The node's name; `/` separates the scopes the dashboard folds.
    pub name: String,
    /// The operation (`"Conv2D"`, ...).
    pub op: String,
    /// The names of its inputs (`^name` for control inputs).
    pub inputs: Vec<String>,
    /// The device it was placed on; may be empty.
    pub device: String,
}

/// Decodes a serialized `GraphDef`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Graph, TensorError> {
    let graph = GraphDef::decode(bytes)
        .or_else(|e| tensor::error(format!("the GraphDef does not decode: {e}")))?;
    Ok(Graph {
        nodes: graph
            .node
            .into_iter()
            .map(|n| GraphNode {
                name: n.name,
                op: n.op,
                inputs: n.input,
                device: n.device,
            })
            .collect(),
    })
}
