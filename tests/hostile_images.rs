//! Hostile image files (issue 8): decompression bombs, lying headers, truncated and
//! non-image files get an `ImageError` naming the problem before any pixel buffer is
//! allocated. The fuzz seeds and findings of `fuzz/fuzz_targets/preprocess_image.rs`
//! are replayed through the same entry points.

mod common;

use std::io::Write;
use std::path::Path;

use se_runtime::ImageError;
use se_runtime::preprocess::{
    self, Channels, ImageRef, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, Preprocess, decode_image,
};

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A well-formed 8-bit gray PNG declaring `width` x `height`, whose IDAT holds
/// `rows` zero rows compressed (1 KB on disk however large it claims to be).
fn png(width: u32, height: u32, rows: usize) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; width.min(4096) as usize + 1];
    for _ in 0..rows {
        z.write_all(&row).unwrap();
    }
    chunk(&mut png, b"IDAT", &z.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

fn too_large(bytes: &[u8], width: u32, height: u32) {
    let e = decode_image(bytes).unwrap_err();
    assert_eq!(
        e,
        ImageError::TooLarge {
            width,
            height,
            max_side: MAX_IMAGE_SIDE,
            max_pixels: MAX_IMAGE_PIXELS,
        }
    );
    let msg = se_runtime::Error::from(e).to_string();
    assert!(msg.contains(&format!("{width}x{height}")), "{msg}");
}

#[test]
fn small_files_claiming_huge_sizes_are_refused() {
    let bomb = png(100_000, 100_000, 16);
    assert!(bomb.len() < 1024, "{}", bomb.len());
    too_large(&bomb, 100_000, 100_000);
    // Under the side limit, over the pixel limit (400 MB of RGBA).
    too_large(&png(10_000, 10_000, 16), 10_000, 10_000);
    too_large(&png(MAX_IMAGE_SIDE + 1, 1, 1), MAX_IMAGE_SIDE + 1, 1);

    // A JPEG and a BMP whose headers are patched to claim 65535 x 65535 and 20000 x 6.
    let jpeg = std::fs::read("fuzz/seeds/preprocess_image/rgb.jpg").unwrap();
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("a baseline JPEG");
    let mut big = jpeg.clone();
    big[sof + 5..sof + 9].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    too_large(&big, 65535, 65535);
    let mut bmp = std::fs::read("fuzz/seeds/preprocess_image/rgb.bmp").unwrap();
    bmp[18..22].copy_from_slice(&20_000i32.to_le_bytes());
    too_large(&bmp, 20_000, 6);
}

#[test]
fn a_large_image_within_the_limits_decodes() {
    // 4000 x 2000 zero rows: 8 megapixels from a few KB, as a real photo may be.
    let image = decode_image(&png(4000, 2000, 2000)).unwrap();
    assert_eq!(image.dimensions(), (4000, 2000));
}

#[test]
fn broken_and_foreign_files() {
    assert_eq!(
        decode_image(b"this is not a picture"),
        Err(ImageError::NotAnImage)
    );
    assert_eq!(decode_image(b""), Err(ImageError::NotAnImage));
    let onnx = std::fs::read("tests/data/flat_input.onnx").unwrap();
    assert_eq!(decode_image(&onnx), Err(ImageError::NotAnImage));

    // Files cut in half are corrupt; cut by one byte (a checksum or end marker), they
    // may still decode. Never a panic.
    for seed in ["0_ankle_boot.png", "rgb.jpg", "rgb.bmp", "rgb.webp"] {
        let bytes = std::fs::read(Path::new("fuzz/seeds/preprocess_image").join(seed)).unwrap();
        decode_image(&bytes).unwrap();
        match decode_image(&bytes[..bytes.len() / 2]) {
            Err(ImageError::Corrupt(m)) => assert!(!m.is_empty()),
            r => panic!("{seed} cut in half: {:?}", r.map(|i| i.dimensions())),
        }
        let _ = decode_image(&bytes[..bytes.len() - 1]);
    }
    // A PNG whose pixel data stops after 16 of 64 rows.
    let e = decode_image(&png(64, 64, 16)).unwrap_err();
    assert!(matches!(e, ImageError::Corrupt(_)), "{e:?}");
    assert!(
        se_runtime::Error::from(e)
            .to_string()
            .starts_with("corrupt or unsupported image")
    );
}

/// What `fuzz/fuzz_targets/preprocess_image.rs` does with each input.
fn fuzz_preprocess_image(data: &[u8]) -> bool {
    let pick = data.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    let Ok(image) = preprocess::decode_image(data) else {
        return false;
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
    let t = p.to_tensor(&[ImageRef::from(&image)]).unwrap();
    assert!(t.data.iter().all(|v| v.is_finite()));
    true
}

#[test]
fn fuzz_seeds_decode_and_preprocess() {
    let seeds = common::repo_files("fuzz/seeds/preprocess_image");
    assert!(seeds.len() >= 8);
    for (path, bytes) in seeds {
        assert!(fuzz_preprocess_image(&bytes), "{path}");
    }
}

#[test]
fn fuzz_findings_stay_fixed() {
    for (path, bytes) in common::repo_files("fuzz/regressions/preprocess_image") {
        eprintln!("{path}");
        fuzz_preprocess_image(&bytes);
    }
}
