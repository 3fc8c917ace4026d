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
    pub fn add_custom_scalars(&self, layout: &Layout) -> Result<(), SummaryError> {
        self.add_value(custom_scalars(layout), 0)
    }
}
