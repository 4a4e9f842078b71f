//! Finding and decoding the images a command was given.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use image::RgbaImage;

// File extensions picked up when a folder is given (explicit files are always tried).
use se_runtime::preprocess::IMAGE_EXTENSIONS as EXTENSIONS;

/// The files to process: explicit files as given, folders searched recursively for
/// images by extension, in sorted order. Missing paths are kept: they fail one by one
/// later, so the others still run.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            files[before..].sort();
            if files.len() == before {
                bail!(
                    "{}: no images ({}) in this folder",
                    path.display(),
                    EXTENSIONS.join(", ")
                );
            }
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))?;
    for entry in entries {
        let path = entry.with_context(|| format!("{}", dir.display()))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|e| {
            EXTENSIONS
                .iter()
                .any(|x| e.to_string_lossy().eq_ignore_ascii_case(x))
        }) {
            files.push(path);
        }
    }
    Ok(())
}

/// Decodes an image file into RGBA8, recognising the format by content (a text file
/// named `.png` is "not an image", a truncated PNG is "corrupt"), within the size
/// limits of [`se_runtime::preprocess::decode_image`].
pub fn load(path: &Path) -> Result<RgbaImage> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    se_runtime::preprocess::decode_image(&bytes).with_context(|| format!("{}", path.display()))
}
