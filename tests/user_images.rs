//! Images as users have them (issue 17): phone photos whose EXIF orientation says how
//! to turn the stored rows upright, in every format that carries one; GIF and TIFF.

use std::collections::BTreeMap;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbaImage, imageops};
use se_runtime::classifier::{ImageClassifier, Overrides};
use se_runtime::preprocess::{ImageRef, decode_image};
use se_runtime::{CpuSession, Model};

/// A real sample, cut to 28 x 20 so that a turn by 90 degrees changes its shape.
fn upright() -> RgbaImage {
    let bytes = std::fs::read("samples/fashion/0_ankle_boot.png").unwrap();
    let full = decode_image(&bytes).unwrap();
    imageops::crop_imm(&full, 0, 4, 28, 20).to_image()
}

/// The stored rows of a photo whose EXIF orientation `tag` turns them into `up`: each
/// the inverse of what the tag asks a viewer to do (written out pixel by pixel, not
/// with the decoder's own `apply_orientation`).
fn stored_as(tag: u16, up: &RgbaImage) -> RgbaImage {
    let (w, h) = up.dimensions();
    let px = |x: u32, y: u32| *up.get_pixel(x, y);
    match tag {
        1 => up.clone(),
        2 => RgbaImage::from_fn(w, h, |x, y| px(w - 1 - x, y)),
        3 => RgbaImage::from_fn(w, h, |x, y| px(w - 1 - x, h - 1 - y)),
        4 => RgbaImage::from_fn(w, h, |x, y| px(x, h - 1 - y)),
        // Transpose: its own inverse.
        5 => RgbaImage::from_fn(h, w, |x, y| px(y, x)),
        // "Turn 90 degrees clockwise to view": stored turned 90 degrees anticlockwise.
        6 => RgbaImage::from_fn(h, w, |x, y| px(w - 1 - y, x)),
        // Transverse (the other diagonal): its own inverse.
        7 => RgbaImage::from_fn(h, w, |x, y| px(w - 1 - y, h - 1 - x)),
        // "Turn 90 degrees anticlockwise to view": stored turned clockwise.
        8 => RgbaImage::from_fn(h, w, |x, y| px(y, h - 1 - x)),
        _ => unreachable!(),
    }
}

/// An EXIF block (TIFF structure, big-endian) holding only the orientation tag.
fn exif(tag: u16) -> Vec<u8> {
    let mut e = b"MM\0\x2a\0\0\0\x08".to_vec();
    e.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
    e.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    e.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    e.extend_from_slice(&1u32.to_be_bytes()); // one value
    e.extend_from_slice(&tag.to_be_bytes());
    e.extend_from_slice(&[0, 0]);
    e.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    e
}

/// A baseline TIFF (uncompressed RGB, one strip, little-endian) with the Orientation tag
/// when `tag` is given: written out here because the image crate's encoder writes no
/// orientation.
fn tiff(image: &RgbaImage, tag: Option<u16>) -> Vec<u8> {
    let rgb = image::DynamicImage::ImageRgba8(image.clone()).into_rgb8();
    let (w, h) = image.dimensions();
    // (tag, type, value): type 3 is SHORT, 4 is LONG; BitsPerSample points at 8,8,8.
    let mut entries: Vec<(u16, u16, u32)> = vec![
        (256, 4, w),
        (257, 4, h),
        (258, 3, 0), // offset patched below
        (259, 3, 1), // no compression
        (262, 3, 2), // RGB
        (273, 4, 0), // strip offset, patched below
        (277, 3, 3),
        (278, 4, h),
        (279, 4, rgb.as_raw().len() as u32),
    ];
    if let Some(tag) = tag {
        entries.push((274, 3, u32::from(tag)));
        entries.sort_by_key(|e| e.0);
    }
    let ifd_len = 2 + 12 * entries.len() + 4;
    let bits_at = 8 + ifd_len as u32;
    let strip_at = bits_at + 6;
    let mut out = b"II\x2a\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (id, ty, value) in entries {
        let value = match id {
            258 => bits_at,
            273 => strip_at,
            _ => value,
        };
        out.extend_from_slice(&id.to_le_bytes());
        let ty = if id == 258 { 3 } else { ty };
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&(if id == 258 { 3u32 } else { 1 }).to_le_bytes());
        if ty == 3 && id != 258 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    for _ in 0..3 {
        out.extend_from_slice(&8u16.to_le_bytes());
    }
    out.extend_from_slice(rgb.as_raw());
    out
}

/// `image` encoded as `format` (png, webp: lossless; jpeg: quality 95; tiff) with `tag`.
fn encode(format: &str, image: &RgbaImage, tag: Option<u16>) -> Vec<u8> {
    fn write(mut encoder: impl ImageEncoder, image: &RgbaImage, tag: Option<u16>) {
        if let Some(tag) = tag {
            encoder.set_exif_metadata(exif(tag)).unwrap();
        }
        let rgb = image::DynamicImage::ImageRgba8(image.clone()).into_rgb8();
        let (w, h) = image.dimensions();
        encoder
            .write_image(rgb.as_raw(), w, h, ExtendedColorType::Rgb8)
            .unwrap();
    }
    let mut out = Vec::new();
    match format {
        "png" => write(PngEncoder::new(&mut out), image, tag),
        "webp" => write(WebPEncoder::new_lossless(&mut out), image, tag),
        "jpeg" => write(JpegEncoder::new_with_quality(&mut out, 95), image, tag),
        "tiff" => out = tiff(image, tag),
        _ => unreachable!(),
    }
    out
}

/// Mean absolute difference per channel value, or `None` when the shapes differ.
fn difference(a: &RgbaImage, b: &RgbaImage) -> Option<f64> {
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    Some(sum as f64 / a.as_raw().len() as f64)
}

#[test]
fn every_exif_orientation_is_turned_upright() {
    let up = upright();
    for format in ["png", "webp", "jpeg", "tiff"] {
        // JPEG is lossy: its own upright encoding is the reference, within what its
        // blocks change when the same picture is stored turned.
        let reference = decode_image(&encode(format, &up, None)).unwrap();
        let tolerance = if format == "jpeg" { 2.0 } else { 0.0 };
        for tag in 1..=8 {
            let stored = stored_as(tag, &up);
            if tag != 1 {
                // The test has power: the stored rows, shown as they are, are far off.
                let off = decode_image(&encode(format, &stored, None)).unwrap();
                assert!(
                    difference(&off, &reference).is_none_or(|d| d > 4.0 * tolerance + 10.0),
                    "{format} {tag}: the stored copy already looks upright"
                );
            }
            let decoded = decode_image(&encode(format, &stored, Some(tag))).unwrap();
            let d = difference(&decoded, &reference);
            assert!(
                d.is_some_and(|d| d <= tolerance),
                "{format} orientation {tag}: {:?} vs {:?}, mean difference {d:?}",
                decoded.dimensions(),
                reference.dimensions()
            );
        }
    }
}

/// Class probabilities of the built-in Fashion-MNIST model for `image`, on the CPU.
fn classify(image: &RgbaImage) -> Vec<f32> {
    let model = Model::from_file("models/fashion_se_resnet.onnx").unwrap();
    let meta: BTreeMap<String, String> = model.info().metadata.clone();
    let c = ImageClassifier::new(model.info(), &meta, Overrides::default()).unwrap();
    let x = c.preprocess.to_tensor(&[ImageRef::from(image)]).unwrap();
    let session = CpuSession::new(&model, 1).unwrap();
    let r = pollster::block_on(session.run(&[(c.input.as_str(), x)])).unwrap();
    se_runtime::preprocess::probabilities(&r.outputs[0].1.data)
}

#[test]
fn a_phone_photo_on_its_side_classifies_as_upright() {
    // The whole sample (square), so the model sees the same framing.
    let bytes = std::fs::read("samples/fashion/0_ankle_boot.png").unwrap();
    let up = decode_image(&bytes).unwrap();
    let want = classify(&decode_image(&encode("jpeg", &up, None)).unwrap());
    let turned = decode_image(&encode("jpeg", &stored_as(6, &up), Some(6))).unwrap();
    let got = classify(&turned);
    let top = |p: &[f32]| se_runtime::preprocess::top_k(p, 1)[0].0;
    assert_eq!(top(&got), top(&want), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 0.05, "{got:?} vs {want:?}");
    }
    // Without the tag, the boot on its side is seen differently.
    let sideways = decode_image(&encode("jpeg", &stored_as(6, &up), None)).unwrap();
    let p = classify(&sideways);
    assert!(
        p.iter().zip(&want).any(|(a, b)| (a - b).abs() > 0.05),
        "{p:?} vs {want:?}"
    );
}

#[test]
fn tiff_and_the_first_frame_of_a_gif_decode_as_the_png_does() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame};
    let up = upright();
    let want = decode_image(&encode("png", &up, None)).unwrap();
    let tiff = decode_image(&encode("tiff", &up, None)).unwrap();
    assert_eq!(difference(&tiff, &want), Some(0.0), "tiff");
    // Two frames: only the first is classified.
    let other = RgbaImage::from_pixel(up.width(), up.height(), image::Rgba([255, 0, 0, 255]));
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for frame in [&up, &other] {
            let delay = Delay::from_numer_denom_ms(100, 1);
            encoder
                .encode_frame(Frame::from_parts(frame.clone(), 0, 0, delay))
                .unwrap();
        }
    }
    let decoded = decode_image(&gif).unwrap();
    // The sample is gray, so its colours fit a GIF palette: within rounding.
    let d = difference(&decoded, &want);
    assert!(d.is_some_and(|d| d <= 1.0), "gif: mean difference {d:?}");
}
