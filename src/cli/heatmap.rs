//! The excitation heatmap: one row per SE block, its channels across the full width
//! (so blocks of 16 and of 960 channels are comparable at a glance; a block wider than
//! the plot shows the mean of the channels under each pixel), viridis colours,
//! labelled rows and axis, and a colour bar.
//!
//! Drawn straight into an `image` buffer with `ab_glyph` for text: a handful of
//! rectangles and labels does not need a plotting library's dependency tree.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

/// DejaVu Sans (Bitstream Vera license, see assets/fonts/LICENSE).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

const PLOT_WIDTH: u32 = 720;
const MARGIN: u32 = 16;
const TEXT: f32 = 14.0;
const SMALL: f32 = 12.0;
const INK: Rgb<u8> = Rgb([34, 34, 34]);
const MUTED: Rgb<u8> = Rgb([110, 110, 110]);
const PAPER: Rgb<u8> = Rgb([255, 255, 255]);

/// One row: an SE block's name and its excitation per channel (for one image).
pub struct Row<'a> {
    pub name: &'a str,
    pub values: &'a [f32],
}

/// The value range coloured: [0, 1] when every value lies in it (sigmoid-like gates:
/// colours then mean the same across images and models), else the data's range.
pub fn value_range(rows: &[Row<'_>]) -> (f32, f32) {
    let all = rows.iter().flat_map(|r| r.values.iter().copied());
    let (lo, hi) = all.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || (lo >= 0.0 && hi <= 1.0) {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

/// Renders the heatmap of `rows` with `title` above it.
pub fn render(title: &str, rows: &[Row<'_>]) -> RgbImage {
    let font = FontRef::try_from_slice(FONT).expect("the embedded font parses");
    let (lo, hi) = value_range(rows);

    let labels: Vec<String> = rows
        .iter()
        .map(|r| format!("{}  ({} ch)", r.name, r.values.len()))
        .collect();
    let label_width = labels
        .iter()
        .map(|l| text_width(&font, SMALL, l))
        .fold(0.0, f32::max)
        .min(320.0)
        .ceil() as u32;
    let row_h = (480 / rows.len().max(1) as u32).clamp(10, 48);
    let left = MARGIN + label_width + 10;
    let top = MARGIN + 2 * TEXT as u32 + 14;
    let plot_h = row_h * rows.len() as u32;
    let bar_x = left + PLOT_WIDTH + 24;
    let bar_h = plot_h.max(60);
    let width = bar_x + 16 + 60;
    let height = top + bar_h + 56;

    let mut img = RgbImage::from_pixel(width, height, PAPER);
    draw_text(
        &mut img,
        &font,
        TEXT,
        MARGIN as f32,
        MARGIN as f32,
        title,
        INK,
    );
    draw_text(
        &mut img,
        &font,
        SMALL,
        MARGIN as f32,
        MARGIN as f32 + TEXT + 6.0,
        "rows: SE blocks in network order; colour: excitation (gate) per channel",
        MUTED,
    );

    for (i, (row, label)) in rows.iter().zip(&labels).enumerate() {
        let y0 = top + i as u32 * row_h;
        // A 1-pixel gap keeps neighbouring rows apart once rows get thin.
        let h = if row_h > 6 { row_h - 1 } else { row_h };
        let (c, w) = (row.values.len(), PLOT_WIDTH as usize);
        for px in 0..w {
            // The channels under this pixel column: one when the block is narrower than
            // the plot, their mean when it is wider.
            let first = px * c / w;
            let end = ((px + 1) * c / w).max(first + 1).min(c);
            let Some(span) = row.values.get(first..end) else {
                continue;
            };
            let v = span.iter().sum::<f32>() / span.len() as f32;
            fill(
                &mut img,
                left + px as u32,
                y0,
                1,
                h,
                viridis((v - lo) / (hi - lo)),
            );
        }
        let label = ellipsize(&font, SMALL, label, label_width as f32);
        let w = text_width(&font, SMALL, &label);
        let ty = y0 as f32 + (h as f32 - SMALL) / 2.0 - 1.0;
        draw_text(
            &mut img,
            &font,
            SMALL,
            (left - 8) as f32 - w,
            ty,
            &label,
            INK,
        );
    }

    // x axis: channel position within each block, as a fraction of its channel count.
    let axis_y = top + plot_h + 4;
    for q in 0..=4 {
        let x = left + q * (PLOT_WIDTH - 1) / 4;
        fill(&mut img, x, axis_y, 1, 5, INK);
        let t = ["0", "C/4", "C/2", "3C/4", "C"][q as usize];
        let w = text_width(&font, SMALL, t);
        let tx = (x as f32 - w / 2.0).clamp(left as f32, (left + PLOT_WIDTH) as f32 - w);
        draw_text(&mut img, &font, SMALL, tx, (axis_y + 7) as f32, t, INK);
    }
    let axis = "channel index (C = the block's channel count, shown per row)";
    let w = text_width(&font, SMALL, axis);
    let ax = left as f32 + (PLOT_WIDTH as f32 - w) / 2.0;
    draw_text(
        &mut img,
        &font,
        SMALL,
        ax,
        (axis_y + 26) as f32,
        axis,
        MUTED,
    );

    // Colour bar, high values on top.
    let name = "gate";
    let nx = bar_x as f32 + 8.0 - text_width(&font, SMALL, name) / 2.0;
    draw_text(
        &mut img,
        &font,
        SMALL,
        nx,
        top as f32 - SMALL - 8.0,
        name,
        MUTED,
    );
    for y in 0..bar_h {
        let t = 1.0 - y as f32 / (bar_h - 1) as f32;
        fill(&mut img, bar_x, top + y, 16, 1, viridis(t));
    }
    for (t, v) in [(1.0, hi), (0.5, (lo + hi) / 2.0), (0.0, lo)] {
        let y = top + ((1.0 - t) * (bar_h - 1) as f32) as u32;
        fill(&mut img, bar_x + 16, y, 4, 1, INK);
        let ty = (y as f32 - SMALL / 2.0).clamp(top as f32 - 2.0, (top + bar_h) as f32 - SMALL);
        draw_text(
            &mut img,
            &font,
            SMALL,
            (bar_x + 23) as f32,
            ty,
            &format!("{v:.2}"),
            INK,
        );
    }
    img
}

fn viridis(t: f32) -> Rgb<u8> {
    let c = colorous::VIRIDIS.eval_continuous(t.clamp(0.0, 1.0) as f64);
    Rgb([c.r, c.g, c.b])
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, color);
        }
    }
}

/// Width in pixels of `text` set at `size`.
fn text_width(font: &FontRef<'_>, size: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    width
}

/// `text` shortened with a leading ellipsis to fit `max` pixels (block names differ
/// at their end: `layer4.2.se` vs `layer4.1.se`).
fn ellipsize(font: &FontRef<'_>, size: f32, text: &str, max: f32) -> String {
    if text_width(font, size, text) <= max {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    (1..chars.len())
        .map(|skip| format!("…{}", chars[skip..].iter().collect::<String>()))
        .find(|s| text_width(font, size, s) <= max)
        .unwrap_or_default()
}

/// Draws `text` with its top-left corner at (x, y), alpha-blended over the image.
fn draw_text(
    img: &mut RgbImage,
    font: &FontRef<'_>,
    size: f32,
    x: f32,
    y: f32,
    text: &str,
    color: Rgb<u8>,
) {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut caret = x;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(size, point(caret, y + scaled.ascent()));
        caret += scaled.h_advance(id);
        prev = Some(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + gx as i64;
            let py = bounds.min.y as i64 + gy as i64;
            if px < 0 || py < 0 || px >= img.width() as i64 || py >= img.height() as i64 {
                return;
            }
            let dst = img.get_pixel_mut(px as u32, py as u32);
            for k in 0..3 {
                let blended = dst.0[k] as f32 * (1.0 - coverage) + color.0[k] as f32 * coverage;
                dst.0[k] = blended.round() as u8;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_span_the_full_width_and_use_the_colour_map() {
        let a = [0.0, 1.0];
        let b: Vec<f32> = (0..1000).map(|i| i as f32 / 999.0).collect();
        let rows = [
            Row {
                name: "a",
                values: &a,
            },
            Row {
                name: "b",
                values: &b,
            },
        ];
        let img = render("test", &rows);
        // Find the plot's left edge from the first row: the first viridis-dark pixel.
        let dark = viridis(0.0);
        let bright = viridis(1.0);
        let y = (0..img.height())
            .find(|&y| (0..img.width()).any(|x| *img.get_pixel(x, y) == dark))
            .unwrap();
        let left = (0..img.width())
            .find(|&x| *img.get_pixel(x, y) == dark)
            .unwrap();
        // Row a: first half dark, second half bright, over the whole plot width.
        assert_eq!(*img.get_pixel(left + PLOT_WIDTH / 2 - 1, y), dark);
        assert_eq!(*img.get_pixel(left + PLOT_WIDTH / 2, y), bright);
        assert_eq!(*img.get_pixel(left + PLOT_WIDTH - 1, y), bright);
        assert_ne!(*img.get_pixel(left + PLOT_WIDTH, y), bright);
    }

    #[test]
    fn range_is_fixed_for_gates_and_follows_other_data() {
        let gates = [0.1, 0.9];
        let wide = [-2.0, 3.0];
        let flat = [5.0, 5.0];
        let row = |v| {
            [Row {
                name: "x",
                values: v,
            }]
        };
        assert_eq!(value_range(&row(&gates)), (0.0, 1.0));
        assert_eq!(value_range(&row(&wide)), (-2.0, 3.0));
        assert_eq!(value_range(&row(&flat)), (4.5, 5.5));
    }

    #[test]
    fn long_names_are_shortened_from_the_left() {
        let font = FontRef::try_from_slice(FONT).unwrap();
        let s = ellipsize(&font, SMALL, "a.very.long.block.name.layer4.2.se", 80.0);
        assert!(s.starts_with('…') && s.ends_with("4.2.se"), "{s}");
        assert!(text_width(&font, SMALL, &s) <= 80.0);
    }
}
