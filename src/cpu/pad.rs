//! CPU twin of `shaders/pad.wgsl`.

use crate::error::Result;
use crate::ops::pad::{PadMode, pad_shape};
use crate::tensor::HostTensor;

pub fn pad(x: &HostTensor, pads: &[usize], mode: PadMode) -> Result<HostTensor> {
    let shape = pad_shape(&x.shape, pads, mode)?;
    let mut y = HostTensor::zeros(&shape)?;
    'element: for (i, out) in y.data.iter_mut().enumerate() {
        let mut rest = i;
        let mut src = 0;
        let mut stride = 1;
        for d in (0..shape.len()).rev() {
            let n = shape[d];
            let size = x.shape[d] as i64;
            let mut c = (rest % n) as i64 - pads[d] as i64;
            rest /= n;
            if c < 0 || c >= size {
                match mode {
                    PadMode::Reflect => {
                        let period = 2 * (size - 1);
                        if period == 0 {
                            c = 0;
                        } else {
                            c = c.rem_euclid(period);
                            if c >= size {
                                c = period - c;
                            }
                        }
                    }
                    PadMode::Edge => c = c.clamp(0, size - 1),
                    PadMode::Constant(value) => {
                        *out = value;
                        continue 'element;
                    }
                }
            }
            src += c as usize * stride;
            stride *= size as usize;
        }
        *out = x.data[src];
    }
    Ok(y)
}
