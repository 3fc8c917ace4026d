//! Meshes read back from the Mesh plugin's tensors: one tag per component
//! (`<name>_VERTEX`, `<name>_FACE`, `<name>_COLOR`), each a `[batch, n,
//! 3]` tensor with `MeshPluginData` naming the mesh and the component.

use prost::Message;

use crate::proto::tensorboard::mesh::{mesh_plugin_data::ContentType, MeshPluginData};
use crate::proto::tensorflow::TensorProto;

use super::tensor::{self, TensorError};

/// One component of a mesh, as one tag holds it: per sample of the
/// batch, one `[x, y, z]`, `[a, b, c]` or `[r, g, b]` per row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MeshComponent {
    /// Vertex positions.
    Vertices(Vec<Vec<[f32; 3]>>),
    /// Triangles, as three vertex indices each.
    Faces(Vec<Vec<[u32; 3]>>),
    /// One colour per vertex.
    Colors(Vec<Vec<[u8; 3]>>),
}

/// One component of a mesh with the mesh it belongs to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MeshPart {
    /// The mesh's name (the tag it was logged under, without the
    /// component suffix).
    pub name: String,
    /// The scene configuration (JSON) logged with the mesh.
    pub config_json: String,
    /// The component's data.
    pub component: MeshComponent,
}

/// A whole mesh: its components of one step and one batch sample.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Mesh {
    /// Vertex positions, `[x, y, z]` each.
    pub vertices: Vec<[f32; 3]>,
    /// Triangles, if logged.
    pub faces: Option<Vec<[u32; 3]>>,
    /// Per-vertex colours, if logged.
    pub colors: Option<Vec<[u8; 3]>>,
    /// The scene configuration (JSON).
    pub config_json: String,
}

/// Reads one component tensor, its kind named by the plugin data.
pub(crate) fn from_tensor(tensor: &TensorProto, plugin: &[u8]) -> Result<MeshPart, TensorError> {
    let data = MeshPluginData::decode(plugin)
        .or_else(|e| tensor::error(format!("the mesh plugin data does not decode: {e}")))?;
    let shape = tensor::shape(tensor)?;
    let &[batch, rows, 3] = shape.as_slice() else {
        return tensor::error(format!(
            "a mesh tensor of shape {shape:?}, expected [batch, n, 3]"
        ));
    };
    if rows == 0 && batch > MAX_EMPTY_SAMPLES {
        return tensor::error(format!(
            "a mesh tensor of {batch} empty samples, more than {MAX_EMPTY_SAMPLES}"
        ));
    }
    let numbers = tensor::numbers(tensor)?;
    let samples =
        |convert: &dyn Fn(f64) -> Option<u32>| -> Result<Vec<Vec<[u32; 3]>>, TensorError> {
            numbers
                .chunks_exact(3)
                .map(|t| {
                    let c =
                        |x| convert(x).ok_or_else(|| TensorError(format!("{x} is out of range")));
                    Ok([c(t[0])?, c(t[1])?, c(t[2])?])
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|rows3| split(rows3, batch, rows))
        };
    let integer =
        |max: f64| move |x: f64| (x.fract() == 0.0 && (0.0..=max).contains(&x)).then_some(x as u32);
    let component = match ContentType::try_from(data.content_type) {
        Ok(ContentType::Vertex) => {
            let points = numbers
                .chunks_exact(3)
                .map(|t| [t[0] as f32, t[1] as f32, t[2] as f32])
                .collect();
            MeshComponent::Vertices(split(points, batch, rows))
        }
        Ok(ContentType::Face) => MeshComponent::Faces(samples(&integer(f64::from(u32::MAX)))?),
        Ok(ContentType::Color) => MeshComponent::Colors(
            samples(&integer(255.0))?
                .into_iter()
                .map(|s| s.into_iter().map(|c| c.map(|x| x as u8)).collect())
                .collect(),
        ),
        _ => {
            return tensor::error(format!(
                "mesh content type {} is not a vertex, face or colour tensor",
                data.content_type
            ))
        }
    };
    Ok(MeshPart {
        name: data.name,
        config_json: data.json_config,
        component,
    })
}

/// `rows` items per batch sample.
fn split<T: Clone>(items: Vec<T>, batch: usize, rows: usize) -> Vec<Vec<T>> {
    if rows == 0 {
        // Empty samples; `from_tensor` has bounded the batch size.
        return vec![Vec::new(); batch];
    }
    items.chunks(rows).map(<[T]>::to_vec).collect()
}

/// The most samples a mesh tensor without rows may claim: its batch size
/// alone, unbacked by any data, could otherwise be any number.
const MAX_EMPTY_SAMPLES: usize = 1 << 16;
