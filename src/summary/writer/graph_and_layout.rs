//! What describes a run rather than a step: the model graph for the
//! Graphs dashboard and the layout of the Custom Scalars dashboard.

use prost::Message;

use super::{now, SummaryWriter};
use crate::proto::tensorflow::{event, Event, GraphDef};
use crate::summary::custom_scalars::{custom_scalars, Layout};
use crate::summary::SummaryError;

impl SummaryWriter {
    /// Logs the model graph (`Event.graph_def`, step 0; see
    /// [`crate::summary::GraphBuilder`]).
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::{GraphBuilder, Node, SummaryWriter};
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-add-graph-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// let mut graph = GraphBuilder::new();
    /// let input = graph.add_node(Node::new("input", "Placeholder"));
    /// graph.add_node(Node::new("relu", "Relu").input(input));
    /// writer.add_graph(&graph.into_graph_def())?;
    /// writer.close()?;
    /// let graph = Logdir::scan(&dir)?.runs["."].graph()?.expect("a graph");
    /// assert_eq!(graph.nodes.len(), 2);
    /// assert_eq!(graph.nodes[1].inputs, ["input"]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_graph(&self, graph: &GraphDef) -> Result<(), SummaryError> {
        let event = Event {
            wall_time: now(),
            step: 0,
            what: Some(event::What::GraphDef(graph.encode_to_vec())),
            ..Default::default()
        };
        self.inner
            .push(|encoder, out| encoder.event_record(out, &event))
    }

    /// Logs the run's layout for the Custom Scalars dashboard, at step 0
    /// (see [`crate::summary::custom_scalars`]). Call it once per run; the
    /// dashboard shows the layout of the last call.
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::custom_scalars::{Category, Layout};
    /// use tbseg::summary::SummaryWriter;
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-custom-scalars-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// let layout = Layout::new().category(Category::new("training").multiline("losses", ["loss/.*"]));
    /// writer.add_custom_scalars(&layout)?;
    /// writer.close()?;
    /// let layout = Logdir::scan(&dir)?.runs["."].custom_scalars()?.expect("a layout");
    /// assert_eq!(layout.categories[0].title, "training");
    /// assert_eq!(layout.chart_count(), 1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_custom_scalars(&self, layout: &Layout) -> Result<(), SummaryError> {
        self.add_value(custom_scalars(layout), 0)
    }
}
