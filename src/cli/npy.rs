//! NumPy `.npy` files in and out, as f32 host tensors.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use anyhow::{Context, Result, bail};
use npyz::WriterBuilder;
use se_runtime::HostTensor;

/// Reads a C-order array of any float or integer dtype, converted to f32.
pub fn read(path: &Path) -> Result<HostTensor> {
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .with_context(|| format!("{}: not a NumPy .npy file", path.display()))?;
    if npy.order() == npyz::Order::Fortran {
        bail!(
            "{}: Fortran-order array; save it with np.save(path, np.ascontiguousarray(x))",
            path.display()
        );
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let dtype = npy.dtype().descr();
    let data = match npy.try_data::<f32>() {
        Ok(r) => r.collect::<std::io::Result<Vec<f32>>>(),
        Err(npy) => match npy.try_data::<f64>() {
            Ok(r) => r.map(|v| v.map(|v| v as f32)).collect(),
            Err(npy) => match npy.try_data::<i64>() {
                Ok(r) => r.map(|v| v.map(|v| v as f32)).collect(),
                Err(npy) => match npy.try_data::<i32>() {
                    Ok(r) => r.map(|v| v.map(|v| v as f32)).collect(),
                    Err(npy) => match npy.try_data::<u8>() {
                        Ok(r) => r.map(|v| v.map(|v| v as f32)).collect(),
                        Err(_) => bail!(
                            "{}: dtype {dtype} is not supported; use float32",
                            path.display()
                        ),
                    },
                },
            },
        },
    }
    .with_context(|| format!("{}: truncated or corrupt data", path.display()))?;
    HostTensor::new(&shape, data).with_context(|| format!("{}", path.display()))
}

/// Writes `t` as a float32 array.
pub fn write(path: &Path, t: &HostTensor) -> Result<()> {
    let shape: Vec<u64> = t.shape.iter().map(|&d| d as u64).collect();
    let file = File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(file))
        .begin_nd()?;
    writer.extend(t.data.iter().copied())?;
    writer
        .finish()
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let t = HostTensor::new(&[2, 1, 3], vec![1.0, -2.5, 3.0, 4.0, 5.0, 6.5]).unwrap();
        write(&path, &t).unwrap();
        assert_eq!(read(&path).unwrap(), t);
    }

    #[test]
    fn other_dtypes_are_converted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        npyz::to_file_1d(&path, [1i64, -2, 3]).unwrap();
        assert_eq!(read(&path).unwrap().data, vec![1.0, -2.0, 3.0]);
        npyz::to_file_1d(&path, [0.5f64]).unwrap();
        assert_eq!(read(&path).unwrap().data, vec![0.5]);
    }

    #[test]
    fn garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        std::fs::write(&path, b"not numpy").unwrap();
        let e = format!("{:#}", read(&path).unwrap_err());
        assert!(e.contains("x.npy") && e.contains("not a NumPy"), "{e}");
    }
}
