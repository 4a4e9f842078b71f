//! Bringing pixels to the model's input size: the resize mode, and resampling from the
//! 8-bit pixels composited over white on the fly.

use std::str::FromStr;

use image::{GenericImageView, ImageBuffer, Rgb, Rgba, RgbaImage, imageops};

use super::MAX_IMAGE_SIDE;
use crate::error::{Error, PreprocessError, Result};

/// How an image is brought to the model's input size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resize {
    /// To exactly H x W, whatever the aspect ratio.
    #[default]
    Stretch,
    /// Keeping the aspect ratio, scaled to cover H x W and, when `shorter` is given, to
    /// that many pixels on its shorter side at least (ImageNet's 256 for a 224 crop),
    /// then the centre H x W cut out.
    Crop { shorter: Option<u32> },
}

impl FromStr for Resize {
    type Err = PreprocessError;

    fn from_str(s: &str) -> Result<Self, PreprocessError> {
        let bad = |problem: String| PreprocessError::Setting {
            key: "resize",
            problem,
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "stretch" => Ok(Resize::Stretch),
            "crop" => Ok(Resize::Crop { shorter: None }),
            other => match other.strip_prefix("crop:").map(|n| n.trim().parse::<u32>()) {
                Some(Ok(n)) if (1..=MAX_IMAGE_SIDE).contains(&n) => {
                    Ok(Resize::Crop { shorter: Some(n) })
                }
                _ => Err(bad(format!(
                    "'{s}' is not stretch, crop or crop:S (S the shorter side in pixels)"
                ))),
            },
        }
    }
}

impl Resize {
    /// The size `(w, h)` an `iw` x `ih` image is resized to for an `ow` x `oh` input,
    /// and the top-left corner of the part cut out.
    pub(super) fn plan(
        self,
        (iw, ih): (u32, u32),
        (ow, oh): (u32, u32),
    ) -> ((u32, u32), (u32, u32)) {
        let Resize::Crop { shorter } = self else {
            return ((ow, oh), (0, 0));
        };
        let (fw, fh) = (iw as f64, ih as f64);
        let scale = (ow as f64 / fw)
            .max(oh as f64 / fh)
            .max(shorter.map_or(0.0, |s| s as f64 / fw.min(fh)));
        let w = ((fw * scale).round() as u32).max(ow);
        let h = ((fh * scale).round() as u32).max(oh);
        ((w, h), ((w - ow) / 2, (h - oh) / 2))
    }
}

/// Borrowed RGBA8 pixels, row-major, 4 bytes per pixel (a decoded image or a canvas
/// `ImageData`).
#[derive(Clone, Copy, Debug)]
pub struct ImageRef<'a> {
    pub(super) width: u32,
    pub(super) height: u32,
    rgba: &'a [u8],
}

impl<'a> ImageRef<'a> {
    pub fn new(width: u32, height: u32, rgba: &'a [u8]) -> Result<Self> {
        let expected = width as usize * height as usize * 4;
        if width == 0 || height == 0 || rgba.len() != expected {
            return Err(Error::invalid(
                "image",
                format!(
                    "{width}x{height} RGBA needs {expected} bytes (and a non-zero size), got {}",
                    rgba.len()
                ),
            ));
        }
        Ok(Self {
            width,
            height,
            rgba,
        })
    }
}

impl<'a> From<&'a RgbaImage> for ImageRef<'a> {
    fn from(image: &'a RgbaImage) -> Self {
        Self {
            width: image.width(),
            height: image.height(),
            rgba: image.as_raw(),
        }
    }
}

type Rgb32F = ImageBuffer<Rgb<f32>, Vec<f32>>;

/// An image's RGBA8 pixels seen as RGB floats composited over white, each computed
/// when the resampler reads it: no full-size float copy is made (at 12 bytes a pixel it
/// was 480 MB for a 40 megapixel photo; the resampler's own buffer is input width x
/// output height).
struct OverWhite<'a>(ImageBuffer<Rgba<u8>, &'a [u8]>);

impl GenericImageView for OverWhite<'_> {
    type Pixel = Rgb<f32>;

    fn dimensions(&self) -> (u32, u32) {
        self.0.dimensions()
    }

    fn get_pixel(&self, x: u32, y: u32) -> Rgb<f32> {
        let [r, g, b, a] = self.0.get_pixel(x, y).0;
        let a = a as f32 / 255.0;
        // In 0..1: `imageops::resize` clamps f32 pixels to that range.
        let over = |c: u8| c as f32 / 255.0 * a + (1.0 - a);
        Rgb([over(r), over(g), over(b)])
    }
}

/// `image` composited over white (how viewers show transparent pixels on a page) and
/// resized to `w` x `h`.
pub(super) fn resize_over_white(image: &ImageRef<'_>, w: u32, h: u32) -> Rgb32F {
    let src = ImageBuffer::<Rgba<u8>, &[u8]>::from_raw(image.width, image.height, image.rgba)
        .expect("ImageRef::new checked the length");
    imageops::resize(&OverWhite(src), w, h, imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::{Channels, Preprocess};

    #[test]
    fn crop_keeps_the_aspect_ratio_and_cuts_out_the_centre() {
        let crop = |s: &str| s.parse::<Resize>().unwrap();
        // ImageNet's way: shorter side to 256, then the centre 224 x 224.
        assert_eq!(
            crop("crop:256").plan((300, 200), (224, 224)),
            ((384, 256), (80, 16))
        );
        // Without a shorter side: just covering the input.
        assert_eq!(
            crop("crop").plan((300, 200), (224, 224)),
            ((336, 224), (56, 0))
        );
        assert_eq!(
            crop("stretch").plan((300, 200), (224, 224)),
            ((224, 224), (0, 0))
        );
        for bad in ["crop:0", "crop:x", "squash", "crop:99999"] {
            assert!(bad.parse::<Resize>().is_err(), "{bad}");
        }
        // A 6 x 2 image, left third black, middle white, right third black: cropped to
        // 2 x 2 it is the white middle; stretched it is a mix.
        let px: Vec<u8> = (0..2)
            .flat_map(|_| {
                (0..6).flat_map(|x| {
                    if (2..4).contains(&x) {
                        [255; 4]
                    } else {
                        [0, 0, 0, 255]
                    }
                })
            })
            .collect();
        let img = ImageRef::new(6, 2, &px).unwrap();
        let mut p = Preprocess {
            size: Some([2, 2]),
            channels: Some(Channels::Gray),
            scale: 1.0,
            ..Default::default()
        };
        p.set("resize", "crop").unwrap();
        let t = p.to_tensor(&[img]).unwrap();
        assert!(
            t.data.iter().all(|&v| (v - 255.0).abs() < 1e-3),
            "{:?}",
            t.data
        );
        p.set("resize", "stretch").unwrap();
        let t = p.to_tensor(&[img]).unwrap();
        assert!(t.data.iter().all(|&v| v < 200.0), "{:?}", t.data);
    }

    #[test]
    fn resizing_keeps_a_flat_image_flat() {
        let px: Vec<u8> = [10, 20, 30, 255].repeat(5 * 7);
        let p = Preprocess {
            size: Some([3, 2]),
            channels: Some(Channels::Rgb),
            scale: 1.0,
            ..Default::default()
        };
        let t = p.to_tensor(&[ImageRef::new(5, 7, &px).unwrap()]).unwrap();
        assert_eq!(t.shape, vec![1, 3, 3, 2]);
        for (i, v) in t.data.iter().enumerate() {
            assert!((v - [10.0, 20.0, 30.0][i / 6]).abs() < 1e-3, "{:?}", t.data);
        }
    }

    #[test]
    fn image_ref_checks_length() {
        assert!(ImageRef::new(2, 2, &[0; 15]).is_err());
        assert!(ImageRef::new(0, 2, &[]).is_err());
    }
}
