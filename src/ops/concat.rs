//! Concatenation along one axis: its shape rule (GPU: `kernels::concat`; CPU twin
//! `cpu::concat`).

use crate::error::{Error, Result};

/// The shape of the concatenation of `shapes` along `axis`: all ranks equal, all
/// dimensions but `axis` equal.
pub fn concat_shape(shapes: &[&[usize]], axis: usize) -> Result<Vec<usize>> {
    let Some(first) = shapes.first() else {
        return Err(Error::invalid("concat", "no inputs"));
    };
    if axis >= first.len() {
        return Err(Error::invalid(
            "concat",
            format!(
                "axis {axis} is out of range for rank-{} inputs",
                first.len()
            ),
        ));
    }
    let mut out = first.to_vec();
    for (i, s) in shapes.iter().enumerate().skip(1) {
        let same_elsewhere =
            s.len() == first.len() && (0..s.len()).all(|d| d == axis || s[d] == first[d]);
        if !same_elsewhere {
            let mut expected = first.to_vec();
            expected[axis] = s.get(axis).copied().unwrap_or(0);
            return Err(Error::shape(format!("concat input {i}"), expected, s));
        }
        out[axis] = out[axis]
            .checked_add(s[axis])
            .ok_or_else(|| Error::invalid("concat", "the output size overflows"))?;
    }
    Ok(out)
}
