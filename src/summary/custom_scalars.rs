//! Layouts for TensorBoard's Custom Scalars dashboard: charts that combine
//! several scalar tags (multiline charts picked by tag regular
//! expressions, and margin charts that shade a band between a lower and an
//! upper tag around a value tag).
//!
//! ```
//! use tbseg::summary::custom_scalars::{Category, Layout, MarginSeries};
//! let layout = Layout::new().category(
//!     Category::new("training")
//!         .multiline("losses", ["loss/.*"])
//!         .margin("dice with its range", [MarginSeries::new("dice", "dice/min", "dice/max")]),
//! );
//! let value = tbseg::summary::custom_scalars::custom_scalars(&layout);
//! assert_eq!(value.tag, "custom_scalars__config__");
//! ```

use prost::Message;

use super::values::{shape, Value};
use crate::proto::tensorboard as pb;
use crate::proto::tensorflow::{
    summary, summary_metadata, DataClass, DataType, SummaryMetadata, TensorProto,
};

/// The Custom Scalars dashboard's plugin name.
pub const PLUGIN_NAME: &str = "custom_scalars";

/// The tag under which a run's layout is stored.
pub const CONFIG_TAG: &str = "custom_scalars__config__";

/// A dashboard layout: categories shown from top to bottom. Empty by
/// default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    categories: Vec<Category>,
}

/// A collapsible section of the dashboard holding charts. Open by default.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    title: String,
    charts: Vec<Chart>,
    closed: bool,
}

/// One chart of a [`Category`].
#[derive(Debug, Clone, PartialEq)]
enum Chart {
    Multiline {
        title: String,
        tags: Vec<String>,
    },
    Margin {
        title: String,
        series: Vec<MarginSeries>,
    },
}

/// One line of a margin chart: the exact tags (not regular expressions) of
/// the value and of its lower and upper bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginSeries {
    value: String,
    lower: String,
    upper: String,
}

impl MarginSeries {
    /// A series plotting tag `value` with a band from tag `lower` to tag
    /// `upper`.
    pub fn new(
        value: impl Into<String>,
        lower: impl Into<String>,
        upper: impl Into<String>,
    ) -> Self {
        MarginSeries {
            value: value.into(),
            lower: lower.into(),
            upper: upper.into(),
        }
    }
}

impl Layout {
    /// An empty layout.
    pub fn new() -> Self {
        Layout::default()
    }

    /// Appends a category. TensorBoard merges the layouts of all runs and
    /// merges categories of the same title.
    pub fn category(mut self, category: Category) -> Self {
        self.categories.push(category);
        self
    }

    /// The layout as TensorBoard's `Layout` message (version 0).
    pub fn to_proto(&self) -> pb::Layout {
        pb::Layout {
            version: 0,
            category: self.categories.iter().map(Category::to_proto).collect(),
        }
    }
}

impl Category {
    /// An open category with no charts.
    pub fn new(title: impl Into<String>) -> Self {
        Category {
            title: title.into(),
            charts: Vec::new(),
            closed: false,
        }
    }

    /// Shows the category collapsed when the dashboard opens.
    pub fn closed(mut self) -> Self {
        self.closed = true;
        self
    }

    /// Appends a chart with one line per scalar tag that matches any of
    /// `tag_regexes` (Python regular expressions, matched from the start
    /// of the tag, as `re.match` does).
    pub fn multiline<I, S>(mut self, title: impl Into<String>, tag_regexes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.charts.push(Chart::Multiline {
            title: title.into(),
            tags: tag_regexes.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Appends a margin chart: each series is a line with a shaded band
    /// between its lower and upper tags.
    pub fn margin(
        mut self,
        title: impl Into<String>,
        series: impl IntoIterator<Item = MarginSeries>,
    ) -> Self {
        self.charts.push(Chart::Margin {
            title: title.into(),
            series: series.into_iter().collect(),
        });
        self
    }

    fn to_proto(&self) -> pb::Category {
        pb::Category {
            title: self.title.clone(),
            chart: self.charts.iter().map(Chart::to_proto).collect(),
            closed: self.closed,
        }
    }
}

impl Chart {
    fn to_proto(&self) -> pb::Chart {
        match self {
            Chart::Multiline { title, tags } => pb::Chart {
                title: title.clone(),
                content: Some(pb::chart::Content::Multiline(pb::MultilineChartContent {
                    tag: tags.clone(),
                })),
            },
            Chart::Margin { title, series } => pb::Chart {
                title: title.clone(),
                content: Some(pb::chart::Content::Margin(pb::MarginChartContent {
                    series: series
                        .iter()
                        .map(|s| pb::margin_chart_content::Series {
                            value: s.value.clone(),
                            lower: s.lower.clone(),
                            upper: s.upper.clone(),
                        })
                        .collect(),
                })),
            },
        }
    }
}

/// The summary value that carries `layout`: tag
/// `custom_scalars__config__`, a DT_STRING scalar holding the serialized
/// `Layout`, plugin `custom_scalars` with empty content, as TensorBoard's
/// `custom_scalar.summary.pb` writes it (with the tensor data class that
/// TensorBoard would otherwise infer).
pub fn custom_scalars(layout: &Layout) -> Value {
    Value {
        tag: CONFIG_TAG.to_owned(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(summary_metadata::PluginData {
                plugin_name: PLUGIN_NAME.to_owned(),
                content: Vec::new(),
            }),
            data_class: DataClass::Tensor as i32,
            ..Default::default()
        }),
        value: Some(summary::value::Value::Tensor(TensorProto {
            dtype: DataType::DtString as i32,
            tensor_shape: Some(shape(&[])),
            string_val: vec![layout.to_proto().encode_to_vec()],
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips_through_the_summary_value() {
        let layout = Layout::new()
            .category(
                Category::new("train")
                    .multiline("loss", ["loss/train", "loss/valid"])
                    .margin("dice", [MarginSeries::new("dice", "dice/lo", "dice/hi")]),
            )
            .category(Category::new("misc").closed().multiline("lr", ["lr.*"]));
        let value = custom_scalars(&layout);
        assert_eq!(value.tag, "custom_scalars__config__");
        let metadata = value.metadata.as_ref().unwrap();
        assert_eq!(
            metadata.plugin_data.as_ref().unwrap().plugin_name,
            "custom_scalars"
        );
        assert!(metadata.plugin_data.as_ref().unwrap().content.is_empty());
        let Some(summary::value::Value::Tensor(t)) = &value.value else {
            panic!("not a tensor")
        };
        assert_eq!(t.dtype, DataType::DtString as i32);
        assert!(t.tensor_shape.as_ref().unwrap().dim.is_empty());
        let decoded = pb::Layout::decode(t.string_val[0].as_slice()).unwrap();
        assert_eq!(decoded, layout.to_proto());
        assert_eq!(decoded.category.len(), 2);
        let train = &decoded.category[0];
        assert_eq!(train.title, "train");
        assert!(!train.closed);
        assert_eq!(
            train.chart[0].content,
            Some(pb::chart::Content::Multiline(pb::MultilineChartContent {
                tag: vec!["loss/train".into(), "loss/valid".into()]
            }))
        );
        let Some(pb::chart::Content::Margin(margin)) = &train.chart[1].content else {
            panic!("not a margin chart")
        };
        assert_eq!(
            (
                margin.series[0].value.as_str(),
                margin.series[0].lower.as_str(),
                margin.series[0].upper.as_str()
            ),
            ("dice", "dice/lo", "dice/hi")
        );
        assert!(decoded.category[1].closed);
    }

    #[test]
    fn field_numbers_match_tensorboard() {
        // Chart{title: "t", margin{series{value: "v"}}}: field 3 is the
        // margin content in TensorBoard 2.21's layout.proto.
        let chart = pb::Chart {
            title: "t".into(),
            content: Some(pb::chart::Content::Margin(pb::MarginChartContent {
                series: vec![pb::margin_chart_content::Series {
                    value: "v".into(),
                    ..Default::default()
                }],
            })),
        };
        assert_eq!(
            chart.encode_to_vec(),
            [0x0a, 1, b't', 0x1a, 5, 0x0a, 3, 0x0a, 1, b'v']
        );
    }
}
