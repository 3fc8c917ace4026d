//! Custom Scalars layouts read back: the `custom_scalars__config__`
//! summary, a DT_STRING scalar holding a serialized `tensorboard.Layout`.

use prost::Message;

use crate::proto::tensorboard::{chart, Layout as ProtoLayout};
use crate::proto::tensorflow::TensorProto;

use super::tensor::{self, TensorError};

/// A Custom Scalars dashboard layout: categories from top to bottom.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Layout {
    /// The categories.
    pub categories: Vec<LayoutCategory>,
}

/// A collapsible section of charts.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LayoutCategory {
    /// The section title.
    pub title: String,
    /// Whether it starts closed.
    pub closed: bool,
    /// Its charts.
    pub charts: Vec<LayoutChart>,
}

/// One chart of a [`LayoutCategory`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LayoutChart {
    /// One line per scalar tag matching any of the regular expressions.
    Multiline {
        /// The chart title.
        title: String,
        /// The tag regular expressions.
        tags: Vec<String>,
    },
    /// Lines with a shaded band between a lower and an upper tag.
    Margin {
        /// The chart title.
        title: String,
        /// `(value, lower, upper)` tags of each line.
        series: Vec<(String, String, String)>,
    },
}

impl Layout {
    /// How many charts the layout holds in all.
    pub fn chart_count(&self) -> usize {
        self.categories.iter().map(|c| c.charts.len()).sum()
    }
}

/// Reads the layout string tensor.
pub(crate) fn from_tensor(tensor: &TensorProto) -> Result<Layout, TensorError> {
    let [bytes] = tensor::strings(tensor)? else {
        return tensor::error("a layout tensor must hold exactly one string");
    };
    let proto = ProtoLayout::decode(bytes.as_slice())
        .or_else(|e| tensor::error(format!("the layout does not decode: {e}")))?;
    let categories = proto
        .category
        .into_iter()
        .map(|c| LayoutCategory {
            title: c.title,
            closed: c.closed,
            charts: c
                .chart
                .into_iter()
                .filter_map(|chart| {
                    let title = chart.title;
                    Some(match chart.content? {
                        chart::Content::Multiline(m) => {
                            LayoutChart::Multiline { title, tags: m.tag }
                        }
                        chart::Content::Margin(m) => LayoutChart::Margin {
                            title,
                            series: m
                                .series
                                .into_iter()
                                .map(|s| (s.value, s.lower, s.upper))
                                .collect(),
                        },
                    })
                })
                .collect(),
        })
        .collect();
    Ok(Layout { categories })
}
