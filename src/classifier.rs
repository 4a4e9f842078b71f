//! An image classifier's set-up, shared by the command-line program and the browser
//! bindings: the model's single `[N, C, H, W]` image input, how images become it (the
//! model's `se_runtime.*` metadata, then the caller's overrides), and the class names.

use std::collections::BTreeMap;

use crate::error::ClassifierError;
use crate::model::ModelInfo;
use crate::preprocess::{self, Preprocess};

/// What a caller sets over the model's metadata.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Preprocessing settings in their metadata spelling (`("input_size", "28,28")`,
    /// keys of [`Preprocess::KEYS`]), applied over the metadata's, in order.
    pub settings: Vec<(String, String)>,
    /// Class names to use instead of the metadata's `se_runtime.labels` (which is then
    /// not read).
    pub labels: Option<Vec<String>>,
}

/// How images reach an image classifier, and what its outputs are called.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageClassifier {
    /// The name of the model's image input.
    pub input: String,
    /// Resize, channel order and normalisation, fitted to that input.
    pub preprocess: Preprocess,
    /// Class names, from the overrides or the metadata.
    pub labels: Option<Vec<String>>,
}

impl ImageClassifier {
    /// Sets up a model with one `[N, C, H, W]` input and at least one output: the
    /// preprocessing `metadata` describes (the model's, or the model's with the
    /// caller's entries merged in), with `overrides` applied, fitted to the input.
    pub fn new(
        info: &ModelInfo,
        metadata: &BTreeMap<String, String>,
        overrides: Overrides,
    ) -> Result<Self, ClassifierError> {
        let not_an_image_model = || ClassifierError::NotAnImageModel {
            inputs: info
                .inputs
                .iter()
                .map(|i| (i.name.clone(), i.shape.clone()))
                .collect(),
            outputs: info.outputs.len(),
        };
        let [input] = &info.inputs[..] else {
            return Err(not_an_image_model());
        };
        let &[_, c, h, w] = &input.shape[..] else {
            return Err(not_an_image_model());
        };
        if info.outputs.is_empty() {
            return Err(not_an_image_model());
        }

        let mut preprocess =
            Preprocess::from_metadata(metadata).map_err(ClassifierError::Metadata)?;
        for (key, value) in overrides.settings {
            if let Err(error) = preprocess.set(&key, &value) {
                return Err(ClassifierError::Override { key, value, error });
            }
        }
        preprocess
            .fit_input(Some(c), Some([h, w]))
            .map_err(ClassifierError::Input)?;
        let labels = match overrides.labels {
            Some(labels) => Some(labels),
            None => {
                preprocess::labels_from_metadata(metadata).map_err(ClassifierError::Metadata)?
            }
        };
        Ok(Self {
            input: input.name.clone(),
            preprocess,
            labels,
        })
    }

    /// The height and width images are resized to.
    pub fn size(&self) -> [u32; 2] {
        self.preprocess.size.expect("fit_input set the size")
    }

    /// The class name of output index `i`: its label, or `class <i>`.
    pub fn label(&self, i: usize) -> String {
        match self.labels.as_ref().and_then(|l| l.get(i)) {
            Some(l) => l.clone(),
            None => format!("class {i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PreprocessError;
    use crate::model::TensorInfo;

    fn info(inputs: &[&[usize]], outputs: usize) -> ModelInfo {
        let tensor = |(i, shape): (usize, &&[usize])| TensorInfo {
            name: format!("t{i}"),
            shape: shape.to_vec(),
        };
        ModelInfo {
            producer: String::new(),
            opset: 17,
            batch: None,
            inputs: inputs.iter().enumerate().map(tensor).collect(),
            outputs: [&[1usize, 10][..]]
                .iter()
                .cycle()
                .take(outputs)
                .enumerate()
                .map(tensor)
                .collect(),
            onnx_nodes: 0,
            layers: Vec::new(),
            parameters: 0,
            macs: 0,
            se_blocks: Vec::new(),
            fusions: Default::default(),
            metadata: BTreeMap::new(),
            activation_bytes: 0,
            unshared_activation_bytes: 0,
            weight_bytes: 0,
        }
    }

    fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("se_runtime.{k}"), v.to_string()))
            .collect()
    }

    fn setting(key: &str, value: &str) -> Overrides {
        Overrides {
            settings: vec![(key.into(), value.into())],
            labels: None,
        }
    }

    #[test]
    fn fits_the_image_input_and_reads_the_labels() {
        let m = meta(&[("labels", r#"["a","b"]"#), ("mean", "0.5")]);
        let c =
            ImageClassifier::new(&info(&[&[1, 1, 28, 28]], 1), &m, setting("std", "2")).unwrap();
        assert_eq!(c.input, "t0");
        assert_eq!(c.size(), [28, 28]);
        assert_eq!((c.preprocess.mean[0], c.preprocess.std[0]), (0.5, 2.0));
        assert_eq!((c.label(1), c.label(2)), ("b".into(), "class 2".into()));
        // Given labels win, and the metadata's are then not read.
        let bad = meta(&[("labels", "not json")]);
        let given = Overrides {
            settings: Vec::new(),
            labels: Some(vec!["x".into()]),
        };
        let c = ImageClassifier::new(&info(&[&[1, 3, 4, 4]], 1), &bad, given).unwrap();
        assert_eq!(c.labels, Some(vec!["x".into()]));
    }

    #[test]
    fn each_failure_names_its_step() {
        let none = BTreeMap::new();
        for (inputs, outputs) in [(&[&[1, 784][..]][..], 1), (&[&[1, 1, 2, 2], &[1]], 1)] {
            let e = ImageClassifier::new(&info(inputs, outputs), &none, Overrides::default());
            assert!(
                matches!(e, Err(ClassifierError::NotAnImageModel { .. })),
                "{e:?}"
            );
        }
        let image = info(&[&[1, 1, 28, 28]], 1);
        let e = ImageClassifier::new(&info(&[&[1, 1, 28, 28]], 0), &none, Overrides::default());
        assert!(matches!(
            e,
            Err(ClassifierError::NotAnImageModel { outputs: 0, .. })
        ));
        let e = ImageClassifier::new(&image, &meta(&[("scale", "x")]), Overrides::default());
        assert!(matches!(
            e,
            Err(ClassifierError::Metadata(PreprocessError::Setting {
                key: "scale",
                ..
            }))
        ));
        let e = ImageClassifier::new(&image, &none, setting("channels", "cmyk"));
        assert!(matches!(
            e,
            Err(ClassifierError::Override { ref key, error: PreprocessError::UnknownChannels(_), .. })
                if key == "channels"
        ));
        let e = ImageClassifier::new(&image, &none, setting("input_size", "30,30"));
        assert!(matches!(
            e,
            Err(ClassifierError::Input(PreprocessError::SizeMismatch { .. }))
        ));
        assert_eq!(
            e.unwrap_err().to_string(),
            "invalid argument for model input: expects 28x28 pixels but preprocessing makes 30x30"
        );
    }
}
