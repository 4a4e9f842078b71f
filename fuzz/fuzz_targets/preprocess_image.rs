//! Any bytes as an image file: decode with the size limits, then preprocess to a
//! model input. A checksum of the bytes picks the preprocessing (size, channels,
//! inversion), so resizing and channel handling get fuzzed along with the decoders
//! while the seeds stay plain image files.

#![no_main]

use libfuzzer_sys::fuzz_target;
use se_runtime::preprocess::{self, Channels, ImageRef, Preprocess};

fuzz_target!(|data: &[u8]| {
    let pick = data.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    let Ok(image) = preprocess::decode_image(data) else {
        return;
    };
    let side = 1 + u32::from(pick & 0x1f);
    let p = Preprocess {
        size: Some([side, side + u32::from(pick >> 7)]),
        channels: Some(
            [Channels::Gray, Channels::Rgb, Channels::Bgr][usize::from(pick >> 5 & 3) % 3],
        ),
        invert: pick & 0x40 != 0,
        ..Preprocess::default()
    };
    let t = p
        .to_tensor(&[ImageRef::from(&image)])
        .expect("a decoded image always preprocesses");
    assert!(t.data.iter().all(|v| v.is_finite()));
});
