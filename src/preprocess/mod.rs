//! The model boundary for image classifiers: RGBA pixels in, an NCHW input tensor out
//! (resize, colour order, inversion, scaling, per-channel normalisation), and class
//! probabilities with labels on the way back.
//!
//! How to preprocess is read from the model's ONNX `metadata_props`, so a model file
//! carries everything needed to classify a picture:
//!
//! | key | example | meaning |
//! |---|---|---|
//! | `se_runtime.input_size` | `28,28` | height, width the image is resized to |
//! | `se_runtime.resize` | `stretch`, `crop`, `crop:256` | to exactly that size (the default); or keeping the aspect ratio, to cover it (with `:S`, the shorter side to at least S pixels), then the centre cut out |
//! | `se_runtime.channels` | `gray`, `rgb`, `bgr` | channel order of the input tensor |
//! | `se_runtime.scale` | `1/255` | factor applied to 0..255 pixel values |
//! | `se_runtime.invert` | `true` | use `255 - pixel` (dark-on-light pictures for MNIST-style models) |
//! | `se_runtime.mean`, `se_runtime.std` | `0.5` or `0.485,0.456,0.406` | `(x - mean) / std`, one value or one per channel |
//! | `se_runtime.labels` | `["cat","dog"]` | class names, a JSON array |
//!
//! This module needs no image codecs (the browser feeds it canvas `ImageData`), only
//! resizing, so the library depends on `image` without its default features; natively
//! [`decode_image`] turns files into pixels, with limits that stop decompression bombs.

mod decode;
mod resize;

pub use decode::*;
pub use resize::{ImageRef, Resize};

use std::str::FromStr;

use image::GenericImageView;

use crate::error::{PreprocessError, Result};
use crate::tensor::HostTensor;
use resize::resize_over_white;

/// Prefix of every metadata key this module reads.
pub const METADATA_PREFIX: &str = "se_runtime.";

/// Channel order of the model input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channels {
    Gray,
    Rgb,
    Bgr,
}

impl Channels {
    pub fn count(self) -> usize {
        match self {
            Channels::Gray => 1,
            Channels::Rgb | Channels::Bgr => 3,
        }
    }
}

impl FromStr for Channels {
    type Err = PreprocessError;

    fn from_str(s: &str) -> Result<Self, PreprocessError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gray" | "grey" | "l" => Ok(Channels::Gray),
            "rgb" => Ok(Channels::Rgb),
            "bgr" => Ok(Channels::Bgr),
            other => Err(PreprocessError::UnknownChannels(other.into())),
        }
    }
}

impl std::fmt::Display for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Channels::Gray => "gray",
            Channels::Rgb => "rgb",
            Channels::Bgr => "bgr",
        })
    }
}

/// How images become the model's input tensor. `size` and `channels` may be unknown
/// until [`fit_input`](Self::fit_input) fills them from the model's input shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    /// Height, width.
    pub size: Option<[u32; 2]>,
    pub resize: Resize,
    pub channels: Option<Channels>,
    /// One value for all channels, or one per channel.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub scale: f32,
    pub invert: bool,
}

impl Default for Preprocess {
    fn default() -> Self {
        Self {
            size: None,
            resize: Resize::Stretch,
            channels: None,
            mean: vec![0.0],
            std: vec![1.0],
            scale: 1.0 / 255.0,
            invert: false,
        }
    }
}

impl Preprocess {
    /// The keys [`set`](Self::set) accepts, as they appear after [`METADATA_PREFIX`].
    pub const KEYS: [&'static str; 7] = [
        "input_size",
        "resize",
        "channels",
        "mean",
        "std",
        "scale",
        "invert",
    ];

    /// Defaults overridden by every `se_runtime.*` preprocessing key in `metadata` (a
    /// `&HashMap<String, String>`, `&BTreeMap` or any key-value pairs); other keys are
    /// ignored.
    pub fn from_metadata<'a>(
        metadata: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self, PreprocessError> {
        let mut p = Self::default();
        for (key, value) in metadata {
            if let Some(key) = key.strip_prefix(METADATA_PREFIX)
                && Self::KEYS.contains(&key)
            {
                p.set(key, value)?;
            }
        }
        Ok(p)
    }

    /// Sets one setting from its metadata spelling, e.g. `set("input_size", "28,28")`;
    /// command-line overrides go through here too, so both accept the same syntax.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), PreprocessError> {
        let Some(&key) = Self::KEYS.iter().find(|&&k| k == key) else {
            return Err(PreprocessError::UnknownSetting {
                key: key.into(),
                known: &Self::KEYS,
            });
        };
        let bad = |problem: String| PreprocessError::Setting { key, problem };
        match key {
            "input_size" => {
                let v = parse_list::<u32>(key, value)?;
                match v[..] {
                    [h, w] if h > 0 && w > 0 => self.size = Some([h, w]),
                    _ => return Err(bad(format!("'{value}' is not H,W"))),
                }
            }
            "resize" => self.resize = value.parse()?,
            "channels" => self.channels = Some(value.parse()?),
            "mean" => self.mean = parse_list(key, value)?,
            "std" => {
                let v: Vec<f32> = parse_list(key, value)?;
                if v.contains(&0.0) {
                    return Err(bad("a standard deviation of 0".into()));
                }
                self.std = v;
            }
            "scale" => {
                self.scale = parse_scale(value).ok_or_else(|| {
                    bad(format!(
                        "'{value}' is not a number or a fraction like 1/255"
                    ))
                })?
            }
            "invert" => {
                self.invert = match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(bad(format!("'{value}' is not true/false"))),
                }
            }
            _ => unreachable!("KEYS lists every key matched here"),
        }
        Ok(())
    }

    /// Checks the settings against the model input's channel count and spatial size
    /// (`None` where the model leaves them open), filling in what the metadata omitted.
    pub fn fit_input(
        &mut self,
        channels: Option<usize>,
        size: Option<[usize; 2]>,
    ) -> Result<(), PreprocessError> {
        match (self.channels, channels) {
            (None, Some(1)) => self.channels = Some(Channels::Gray),
            (None, Some(3)) => self.channels = Some(Channels::Rgb),
            (None, Some(c)) => return Err(PreprocessError::InputChannels(c)),
            (None, None) => self.channels = Some(Channels::Rgb),
            (Some(mine), Some(c)) if mine.count() != c => {
                return Err(PreprocessError::ChannelMismatch {
                    input: c,
                    order: mine.to_string(),
                    channels: mine.count(),
                });
            }
            (Some(_), _) => {}
        }
        match (self.size, size) {
            (None, Some([h, w])) => self.size = Some([h as u32, w as u32]),
            (None, None) => return Err(PreprocessError::SizeUnknown),
            (Some(mine @ [h, w]), Some(input)) if [h as usize, w as usize] != input => {
                return Err(PreprocessError::SizeMismatch { input, size: mine });
            }
            (Some(_), _) => {}
        }
        let c = self.channels.map_or(3, Channels::count);
        for (key, v) in [("mean", &self.mean), ("std", &self.std)] {
            if v.len() != 1 && v.len() != c {
                return Err(PreprocessError::ValuesPerChannel {
                    key,
                    values: v.len(),
                    channels: c,
                });
            }
        }
        Ok(())
    }

    /// The `[N, C, H, W]` input tensor for `images`. Transparent pixels are composited
    /// over white (how viewers show them on a page); gray is BT.601 luma; resizing is
    /// bilinear with antialiasing, as [`Resize`] says.
    pub fn to_tensor(&self, images: &[ImageRef<'_>]) -> Result<HostTensor> {
        let (Some([h, w]), Some(channels)) = (self.size, self.channels) else {
            return Err(PreprocessError::NotFitted.into());
        };
        let c = channels.count();
        let plane = h as usize * w as usize;
        let mut data = Vec::with_capacity(images.len() * c * plane);
        for image in images {
            let ((rw, rh), (x0, y0)) = self.resize.plan((image.width, image.height), (w, h));
            let resized = resize_over_white(image, rw, rh);
            let rgb = image::imageops::crop_imm(&resized, x0, y0, w, h);
            for ch in 0..c {
                let mean = self.mean[if self.mean.len() == 1 { 0 } else { ch }];
                let std = self.std[if self.std.len() == 1 { 0 } else { ch }];
                for (_, _, p) in rgb.pixels() {
                    let [r, g, b] = p.0.map(|v| v * 255.0);
                    let v = match (channels, ch) {
                        (Channels::Gray, _) => 0.299 * r + 0.587 * g + 0.114 * b,
                        (Channels::Rgb, 0) | (Channels::Bgr, 2) => r,
                        (Channels::Rgb, 1) | (Channels::Bgr, 1) => g,
                        _ => b,
                    };
                    let v = if self.invert { 255.0 - v } else { v };
                    data.push((v * self.scale - mean) / std);
                }
            }
        }
        HostTensor::new(&[images.len(), c, h as usize, w as usize], data)
    }
}

fn parse_list<T: FromStr>(key: &'static str, value: &str) -> Result<Vec<T>, PreprocessError> {
    let parsed: Option<Vec<T>> = value.split(',').map(|s| s.trim().parse().ok()).collect();
    match parsed {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(PreprocessError::Setting {
            key,
            problem: format!("'{value}' is not a comma-separated list of numbers"),
        }),
    }
}

/// `1/255` or a plain number; `None` for anything else, or a result that is not finite.
fn parse_scale(value: &str) -> Option<f32> {
    let v = match value.split_once('/') {
        Some((a, b)) => {
            let (a, b): (f32, f32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            if b == 0.0 {
                return None;
            }
            a / b
        }
        None => value.trim().parse().ok()?,
    };
    v.is_finite().then_some(v)
}

/// The class names in `se_runtime.labels`, if present.
pub fn labels_from_metadata<'a>(
    metadata: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Option<Vec<String>>, PreprocessError> {
    let key = format!("{METADATA_PREFIX}labels");
    metadata
        .into_iter()
        .find(|(k, _)| **k == key)
        .map(|(_, json)| parse_labels(json))
        .transpose()
}

/// A JSON array of strings.
pub fn parse_labels(json: &str) -> Result<Vec<String>, PreprocessError> {
    serde_json::from_str(json).map_err(|e| PreprocessError::Setting {
        key: "labels",
        problem: format!("not a JSON array of strings: {e}"),
    })
}

/// Class probabilities from a model's scores: kept as they are when they already form
/// a distribution (the model ends in a softmax), otherwise softmax of the logits.
pub fn probabilities(scores: &[f32]) -> Vec<f32> {
    let sum: f32 = scores.iter().sum();
    if scores.iter().all(|s| (0.0..=1.0).contains(s)) && (sum - 1.0).abs() < 1e-3 {
        return scores.to_vec();
    }
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

/// The `k` largest values as (index, value), largest first; ties keep index order.
pub fn top_k(values: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut order: Vec<(usize, f32)> = values.iter().copied().enumerate().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("{METADATA_PREFIX}{k}"), v.to_string()))
            .collect()
    }

    #[test]
    fn metadata_is_parsed() {
        let p = Preprocess::from_metadata(&meta(&[
            ("input_size", "28, 32"),
            ("channels", "bgr"),
            ("mean", "0.5,0.25,0.125"),
            ("std", "2"),
            ("scale", "1/255"),
            ("invert", "true"),
        ]))
        .unwrap();
        assert_eq!(p.size, Some([28, 32]));
        assert_eq!(p.channels, Some(Channels::Bgr));
        assert_eq!(p.mean, vec![0.5, 0.25, 0.125]);
        assert_eq!(p.std, vec![2.0]);
        assert!((p.scale - 1.0 / 255.0).abs() < 1e-9);
        assert!(p.invert);
    }

    #[test]
    fn bad_metadata_names_the_key() {
        for (k, v) in [
            ("input_size", "28"),
            ("input_size", "0,3"),
            ("channels", "cmyk"),
            ("mean", "a,b"),
            ("std", "0"),
            ("scale", "1/0"),
            ("invert", "maybe"),
        ] {
            let e = Preprocess::from_metadata(&meta(&[(k, v)])).unwrap_err();
            assert!(e.to_string().contains(k), "{k}={v}: {e}");
        }
        assert!(parse_labels("{\"a\": 1}").is_err());
        let m = meta(&[("labels", "[\"cat\", \"dog\"]"), ("other", "x")]);
        assert_eq!(labels_from_metadata(&m).unwrap().unwrap(), ["cat", "dog"]);
        assert_eq!(labels_from_metadata(&meta(&[])).unwrap(), None);
        assert!(labels_from_metadata(&meta(&[("labels", "[1]")])).is_err());
    }

    #[test]
    fn fit_input_fills_and_checks() {
        let mut p = Preprocess::default();
        p.fit_input(Some(1), Some([28, 28])).unwrap();
        assert_eq!((p.size, p.channels), (Some([28, 28]), Some(Channels::Gray)));
        assert!(p.clone().fit_input(Some(3), Some([28, 28])).is_err());
        assert!(p.clone().fit_input(Some(1), Some([32, 28])).is_err());
        assert!(Preprocess::default().fit_input(Some(4), None).is_err());
        assert!(Preprocess::default().fit_input(Some(3), None).is_err());
        let mut p = Preprocess {
            mean: vec![0.0, 0.0],
            ..Default::default()
        };
        assert!(p.fit_input(Some(3), Some([4, 4])).is_err());
    }

    #[test]
    fn tensor_values_follow_each_setting() {
        // 2x1 image: a red pixel and a half-transparent black one.
        let px = [255, 0, 0, 255, 0, 0, 0, 128];
        let img = ImageRef::new(2, 1, &px).unwrap();
        let half = 255.0 * (1.0 - 128.0 / 255.0); // black at alpha 128 over white
        let mut p = Preprocess {
            size: Some([1, 2]),
            resize: Resize::Stretch,
            channels: Some(Channels::Bgr),
            mean: vec![0.0, 0.5, 1.0],
            std: vec![2.0],
            scale: 1.0,
            invert: false,
        };
        let t = p.to_tensor(&[img, img]).unwrap();
        assert_eq!(t.shape, vec![2, 3, 1, 2]);
        let want = [
            0.0 / 2.0,
            half / 2.0, // B plane
            (0.0 - 0.5) / 2.0,
            (half - 0.5) / 2.0, // G
            (255.0 - 1.0) / 2.0,
            (half - 1.0) / 2.0, // R
        ];
        for (a, b) in t.data[..6].iter().zip(want) {
            assert!((a - b).abs() < 1e-3, "{:?}", t.data);
        }
        assert_eq!(t.data[..6], t.data[6..]);

        p.channels = Some(Channels::Gray);
        p.mean = vec![0.0];
        p.std = vec![1.0];
        p.invert = true;
        p.scale = 1.0 / 255.0;
        let t = p.to_tensor(&[img]).unwrap();
        let red_luma = 0.299 * 255.0;
        assert!((t.data[0] - (255.0 - red_luma) / 255.0).abs() < 1e-5);
        assert!((t.data[1] - (255.0 - half) / 255.0).abs() < 1e-5);
    }

    #[test]
    fn probabilities_and_top_k() {
        let p = probabilities(&[1.0, 3.0, 2.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(top_k(&p, 2).iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2]);
        let dist = [0.2, 0.8];
        assert_eq!(probabilities(&dist), dist);
        assert_eq!(top_k(&[0.5, 0.5, 0.1], 5).len(), 3);
        assert_eq!(top_k(&[0.5, 0.5], 1)[0].0, 0);
    }
}
