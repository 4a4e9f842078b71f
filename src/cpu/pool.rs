//! CPU twin of `shaders/pool.wgsl`.

use crate::error::Result;
use crate::ops::Pool2dParams;
use crate::tensor::HostTensor;

/// Output element `i`'s window origin: (first element of its input plane, top row,
/// left column), rows and columns possibly negative (in the padding).
fn window(i: usize, x: &[usize], y: &[usize], p: &Pool2dParams) -> (usize, i64, i64) {
    let (h, w, oh, ow) = (x[2], x[3], y[2], y[3]);
    let ox = i % ow;
    let oy = (i / ow) % oh;
    let plane = i / (ow * oh);
    (
        plane * h * w,
        (oy * p.stride[0]) as i64 - p.padding[0] as i64,
        (ox * p.stride[1]) as i64 - p.padding[1] as i64,
    )
}

pub fn max_pool2d(x: &HostTensor, p: &Pool2dParams) -> Result<HostTensor> {
    let shape = p.output_shape(&x.shape)?;
    let (h, w) = (x.shape[2] as i64, x.shape[3] as i64);
    let mut out = HostTensor::zeros(&shape)?;
    for (i, out) in out.data.iter_mut().enumerate() {
        let (base, y0, x0) = window(i, &x.shape, &shape, p);
        let mut m = 0.0f32;
        let mut seen = false;
        for ky in 0..p.kernel[0] {
            let iy = y0 + (ky * p.dilation[0]) as i64;
            if iy < 0 || iy >= h {
                continue;
            }
            for kx in 0..p.kernel[1] {
                let ix = x0 + (kx * p.dilation[1]) as i64;
                if ix < 0 || ix >= w {
                    continue;
                }
                let v = x.data[base + (iy * w + ix) as usize];
                if !seen || v > m {
                    m = v;
                    seen = true;
                }
            }
        }
        *out = m;
    }
    Ok(out)
}

pub fn avg_pool2d(x: &HostTensor, p: &Pool2dParams) -> Result<HostTensor> {
    let shape = p.output_shape(&x.shape)?;
    let (h, w) = (x.shape[2] as i64, x.shape[3] as i64);
    let (pad_bottom, pad_right) = (p.padding[2] as i64, p.padding[3] as i64);
    let mut out = HostTensor::zeros(&shape)?;
    for (i, out) in out.data.iter_mut().enumerate() {
        let (base, y0, x0) = window(i, &x.shape, &shape, p);
        let mut sum = 0.0f32;
        let mut count = 0u32;
        for ky in 0..p.kernel[0] {
            let iy = y0 + (ky * p.dilation[0]) as i64;
            let real_y = iy >= 0 && iy < h;
            let padded_y = iy < h + pad_bottom;
            for kx in 0..p.kernel[1] {
                let ix = x0 + (kx * p.dilation[1]) as i64;
                let real_x = ix >= 0 && ix < w;
                let padded_x = ix < w + pad_right;
                if real_y && real_x {
                    sum += x.data[base + (iy * w + ix) as usize];
                    count += 1;
                } else if p.count_include_pad && padded_y && padded_x {
                    count += 1;
                }
            }
        }
        *out = sum / count as f32;
    }
    Ok(out)
}
