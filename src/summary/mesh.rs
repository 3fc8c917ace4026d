//! Mesh summaries for TensorBoard's Mesh dashboard (3-D point clouds and
//! triangle meshes), in the form TensorBoard's `mesh.summary_v2` writes:
//! one tensor per component under the tags `<tag>_VERTEX`, `<tag>_FACE`
//! and `<tag>_COLOR`, each with `MeshPluginData` naming the mesh, its
//! component, the bitmask of all its components and the JSON scene
//! configuration.

use prost::Message;

use super::values::{shape, Value};
use super::SummaryError;
use crate::proto::tensorboard::mesh::{mesh_plugin_data::ContentType, MeshPluginData};
use crate::proto::tensorflow::{
    summary, summary_metadata, DataClass, DataType, SummaryMetadata, TensorProto,
};

/// The Mesh dashboard's plugin name.
pub const PLUGIN_NAME: &str = "mesh";

/// One mesh: vertex positions, and optionally triangles and per-vertex
/// colours.
#[derive(Debug, Clone, Copy)]
pub struct Mesh<'a> {
    vertices: &'a [f32],
    faces: Option<&'a [u32]>,
    colors: Option<&'a [u8]>,
    config_json: &'a str,
}

impl<'a> Mesh<'a> {
    /// A point cloud of `vertices.len() / 3` points, `[x, y, z]` each.
    pub fn new(vertices: &'a [f32]) -> Self {
        Mesh {
            vertices,
            faces: None,
            colors: None,
            config_json: "{}",
        }
    }

    /// Triangles: three vertex indices each. None by default (a point
    /// cloud).
    pub fn faces(mut self, faces: &'a [u32]) -> Self {
        self.faces = Some(faces);
        self
    }

    /// One `[r, g, b]` per vertex. None by default (the dashboard's
    /// default colour).
    pub fn colors(mut self, colors: &'a [u8]) -> Self {
        self.colors = Some(colors);
        self
    }

    /// The scene configuration: a JSON object of three.js class names and
    /// their settings, for example
    /// `{"camera": {"cls": "PerspectiveCamera", "fov": 75}}`. Passed to
    /// the dashboard as it is (it must be valid JSON). `{}` by default.
    pub fn config_json(mut self, json: &'a str) -> Self {
        self.config_json = json;
        self
    }

    fn validate(&self) -> Result<usize, String> {
        if self.vertices.is_empty() || !self.vertices.len().is_multiple_of(3) {
            return Err(format!(
                "{} vertex coordinates, expected a positive multiple of 3",
                self.vertices.len()
            ));
        }
        let points = self.vertices.len() / 3;
        if i32::try_from(points).is_err() {
            return Err(format!("{points} vertices exceed the 32-bit shape field"));
        }
        if let Some(faces) = self.faces {
            if faces.len() % 3 != 0 {
                return Err(format!(
                    "{} face indices, expected a multiple of 3",
                    faces.len()
                ));
            }
            if let Some(bad) = faces.iter().find(|&&i| i as usize >= points) {
                return Err(format!(
                    "face index {bad} is out of range for {points} vertices"
                ));
            }
        }
        if let Some(colors) = self.colors {
            if colors.len() != self.vertices.len() {
                return Err(format!(
                    "{} colour values, expected 3 per vertex = {}",
                    colors.len(),
                    self.vertices.len()
                ));
            }
        }
        let json = self.config_json.trim();
        if !(json.starts_with('{') && json.ends_with('}')) {
            return Err(format!("config {json:?} is not a JSON object"));
        }
        Ok(points)
    }
}

/// The summary values of one mesh under `tag`: `<tag>_VERTEX` (DT_FLOAT
/// `[1, n, 3]`), then `<tag>_FACE` (DT_INT32 `[1, f, 3]`) and
/// `<tag>_COLOR` (DT_UINT8 `[1, n, 3]`) if given. Write them in one event
/// (one [`crate::summary::values::Summary`]) so the dashboard finds every
/// component at the same step.
///
/// No vertices, a count that is not a multiple of 3, a face index out of
/// range, a colour count other than the vertex coordinate count, or a
/// configuration that is not a JSON object are an
/// [`SummaryError::InvalidArgument`].
pub fn mesh(tag: &str, mesh: &Mesh<'_>) -> Result<Vec<Value>, SummaryError> {
    mesh.validate()
        .map_err(|reason| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what: "mesh",
            reason,
        })?;
    let mut parts = vec![(
        ContentType::Vertex,
        DataType::DtFloat,
        mesh.vertices
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<u8>>(),
        mesh.vertices.len() / 3,
    )];
    if let Some(faces) = mesh.faces {
        // Indices are below the vertex count, which fits an i32.
        let bytes = faces
            .iter()
            .flat_map(|&i| (i as i32).to_le_bytes())
            .collect();
        parts.push((ContentType::Face, DataType::DtInt32, bytes, faces.len() / 3));
    }
    if let Some(colors) = mesh.colors {
        parts.push((
            ContentType::Color,
            DataType::DtUint8,
            colors.to_vec(),
            colors.len() / 3,
        ));
    }
    let components = parts
        .iter()
        .fold(0u32, |mask, (content, ..)| mask | 1 << *content as u32);
    Ok(parts
        .into_iter()
        .map(|(content, dtype, bytes, rows)| {
            let dims = [1, rows as i64, 3];
            let plugin = MeshPluginData {
                version: 0,
                name: tag.to_owned(),
                content_type: content as i32,
                json_config: mesh.config_json.to_owned(),
                shape: vec![1, rows as i32, 3],
                components,
            };
            Value {
                tag: format!("{tag}_{}", content.as_str_name()),
                metadata: Some(SummaryMetadata {
                    plugin_data: Some(summary_metadata::PluginData {
                        plugin_name: PLUGIN_NAME.to_owned(),
                        content: plugin.encode_to_vec(),
                    }),
                    data_class: DataClass::Tensor as i32,
                    ..Default::default()
                }),
                value: Some(summary::value::Value::Tensor(TensorProto {
                    dtype: dtype as i32,
                    tensor_shape: Some(shape(&dims)),
                    tensor_content: bytes,
                    ..Default::default()
                })),
                ..Default::default()
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(value: &Value) -> MeshPluginData {
        let data = value
            .metadata
            .as_ref()
            .unwrap()
            .plugin_data
            .as_ref()
            .unwrap();
        assert_eq!(data.plugin_name, "mesh");
        MeshPluginData::decode(data.content.as_slice()).unwrap()
    }

    fn tensor(value: &Value) -> &TensorProto {
        match &value.value {
            Some(summary::value::Value::Tensor(t)) => t,
            other => panic!("not a tensor: {other:?}"),
        }
    }

    #[test]
    fn tetrahedron_has_three_components() {
        let vertices = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let faces = [0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3];
        let colors = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
        let values = mesh(
            "tetra",
            &Mesh::new(&vertices)
                .faces(&faces)
                .colors(&colors)
                .config_json(r#"{"camera": {"cls": "PerspectiveCamera"}}"#),
        )
        .unwrap();
        let tags: Vec<&str> = values.iter().map(|v| v.tag.as_str()).collect();
        assert_eq!(tags, ["tetra_VERTEX", "tetra_FACE", "tetra_COLOR"]);
        for (value, (content, dtype, rows)) in values.iter().zip([
            (ContentType::Vertex, DataType::DtFloat, 4),
            (ContentType::Face, DataType::DtInt32, 4),
            (ContentType::Color, DataType::DtUint8, 4),
        ]) {
            let data = plugin(value);
            assert_eq!(data.version, 0);
            assert_eq!(data.name, "tetra");
            assert_eq!(data.content_type, content as i32);
            assert_eq!(data.components, 0b1110, "VERTEX | FACE | COLOR");
            assert_eq!(data.shape, [1, rows, 3]);
            assert_eq!(
                data.json_config,
                r#"{"camera": {"cls": "PerspectiveCamera"}}"#
            );
            let t = tensor(value);
            assert_eq!(t.dtype, dtype as i32);
            let dims: Vec<i64> = t
                .tensor_shape
                .as_ref()
                .unwrap()
                .dim
                .iter()
                .map(|d| d.size)
                .collect();
            assert_eq!(dims, [1, rows as i64, 3]);
        }
        assert_eq!(
            &tensor(&values[0]).tensor_content[12..16],
            &1.0f32.to_le_bytes()
        );
        assert_eq!(
            &tensor(&values[1]).tensor_content[44..48],
            &3i32.to_le_bytes()
        );
        assert_eq!(tensor(&values[2]).tensor_content, colors);
    }

    #[test]
    fn point_cloud_has_only_vertices() {
        let values = mesh("cloud", &Mesh::new(&[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(values.len(), 1);
        assert_eq!(plugin(&values[0]).components, 0b10);
        assert_eq!(plugin(&values[0]).json_config, "{}");
    }

    #[test]
    fn bad_meshes_are_rejected_with_the_reason() {
        let reason = |m: Mesh| mesh("m", &m).unwrap_err().to_string();
        assert!(reason(Mesh::new(&[0.0; 4])).contains("4 vertex coordinates"));
        assert!(reason(Mesh::new(&[])).contains("0 vertex coordinates"));
        assert!(reason(Mesh::new(&[0.0; 6]).faces(&[0, 1, 2]))
            .contains("face index 2 is out of range for 2 vertices"));
        assert!(reason(Mesh::new(&[0.0; 6]).faces(&[0, 1])).contains("2 face indices"));
        assert!(reason(Mesh::new(&[0.0; 6]).colors(&[0; 3])).contains("3 colour values"));
        assert!(reason(Mesh::new(&[0.0; 3]).config_json("[1]")).contains("not a JSON object"));
    }
}
