//! Image files to pixels (native only: the browser decodes with its own codecs), with
//! limits that stop decompression bombs.

pub use crate::error::IMAGE_FORMATS;
/// The file extensions a folder search picks up, one per spelling of those formats.
pub const IMAGE_EXTENSIONS: [&str; 8] = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"];

/// The widest or tallest image [`decode_image`] accepts.
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// The most pixels [`decode_image`] accepts (a 40 megapixel photo): preprocessing holds
/// the decoded RGBA8 pixels (160 MB at this limit) and resizes from them.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// The most memory an image decoder may allocate.
pub const MAX_DECODE_BYTES: u64 = 512 << 20;

/// Decodes an image file (one of [`IMAGE_FORMATS`], recognised by content) into RGBA8,
/// turned upright by its EXIF orientation (phone photos store the sensor's rows and a
/// tag saying how to turn them). The declared size is checked on the header before any
/// pixel is allocated, so a small file claiming 100000x100000 pixels is an
/// [`ImageError::TooLarge`](crate::ImageError::TooLarge).
#[cfg(not(target_arch = "wasm32"))]
pub fn decode_image(bytes: &[u8]) -> Result<image::RgbaImage, crate::error::ImageError> {
    use crate::error::ImageError;
    use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    if reader.format().is_none() {
        return Err(ImageError::NotAnImage);
    }
    let corrupt = |e: image::ImageError| ImageError::Corrupt(e.to_string());
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    // The header alone, to name the size in the error; decoding checks it again.
    let (width, height) = decoder.dimensions();
    if width > MAX_IMAGE_SIDE
        || height > MAX_IMAGE_SIDE
        || u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS
    {
        return Err(ImageError::TooLarge {
            width,
            height,
            max_side: MAX_IMAGE_SIDE,
            max_pixels: MAX_IMAGE_PIXELS,
        });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    decoder.set_limits(limits).map_err(corrupt)?;
    // A malformed EXIF block is no reason to refuse the pixels: they are shown as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    if image.width() == 0 || image.height() == 0 {
        return Err(ImageError::Corrupt(format!(
            "the image is empty ({}x{} pixels)",
            image.width(),
            image.height()
        )));
    }
    image.apply_orientation(orientation);
    Ok(image.into_rgba8())
}
