//! Preprocessing a large photo resizes from its 8-bit pixels (issue 17): the memory it
//! takes beyond the decoded image is the resampler's buffer, not a full-size float
//! copy. Its own test binary, so that the counting allocator sees only this test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use image::{ImageBuffer, Rgb, imageops};
use se_runtime::preprocess::{Channels, ImageRef, Preprocess};

/// The system allocator, counting the bytes held and their peak.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = HELD.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size);
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        HELD.fetch_sub(layout.size(), Ordering::SeqCst);
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A 12-megapixel photo's worth of pixels, half of them partly transparent.
fn photo(w: u32, h: u32) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [
                (x % 251) as u8,
                (y % 241) as u8,
                ((x + y) % 239) as u8,
                if x < w / 2 { 255 } else { 128 },
            ]
        })
        .collect()
}

fn preprocess() -> Preprocess {
    Preprocess {
        size: Some([224, 224]),
        channels: Some(Channels::Rgb),
        ..Default::default()
    }
}

#[test]
fn a_large_photo_is_resized_without_a_full_size_float_copy() {
    let (w, h) = (4000, 3000);
    let rgba = photo(w, h);
    let image = ImageRef::new(w, h, &rgba).unwrap();
    let p = preprocess();
    let before = HELD.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let tensor = p.to_tensor(&[image]).unwrap();
    let extra = PEAK.load(Ordering::SeqCst) - before;
    // A float RGB copy alone is 12 bytes a pixel (144 MB here); what remains is the
    // resampler's, a few buffers of the input width x the output height (42 MB measured).
    let float_copy = w as usize * h as usize * 12;
    assert!(
        extra < float_copy / 2,
        "preprocessing took {extra} bytes beyond the image; a float copy is {float_copy}"
    );
    assert_eq!(tensor.shape, vec![1, 3, 224, 224]);
}

#[test]
fn resizing_from_8_bit_pixels_gives_what_the_float_copy_gave() {
    // The old path, written out: composite over white into floats, then resize.
    let (w, h) = (301, 197);
    let rgba = photo(w, h);
    let copy = ImageBuffer::from_fn(w, h, |x, y| {
        let i = 4 * (y * w + x) as usize;
        let a = rgba[i + 3] as f32 / 255.0;
        let over = |c: u8| c as f32 / 255.0 * a + (1.0 - a);
        Rgb([over(rgba[i]), over(rgba[i + 1]), over(rgba[i + 2])])
    });
    let resized = imageops::resize(&copy, 224, 224, imageops::FilterType::Triangle);
    let tensor = preprocess()
        .to_tensor(&[ImageRef::new(w, h, &rgba).unwrap()])
        .unwrap();
    let plane = 224 * 224;
    for (i, p) in resized.pixels().enumerate() {
        for c in 0..3 {
            assert_eq!(
                tensor.data[c * plane + i],
                p.0[c] * 255.0 * (1.0 / 255.0),
                "pixel {i} channel {c}"
            );
        }
    }
}
