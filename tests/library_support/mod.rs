//! Helpers shared by the `library_*` integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use pictor::library::{ImageRecord, Library, LibraryPaths, NewImage};
use pictor::metadata::ImageMeta;

/// 2024-05-17T12:00:00Z.
pub const MAY_2024_MS: i64 = 1_715_947_200_000;

/// A temp dir with a library opened in it.
pub fn open_library() -> (tempfile::TempDir, Library) {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    (dir, library)
}

/// Metadata with `prompt`, `model` and `created_ms`, the rest default.
pub fn meta(prompt: &str, model: &str, created_ms: i64) -> ImageMeta {
    ImageMeta {
        prompt: prompt.into(),
        model: model.into(),
        size: "1328*1328".into(),
        provider: "demo".into(),
        created_ms,
        ..ImageMeta::default()
    }
}

/// The start of a PNG (signature + IHDR) of `width` × `height`, plus some filler bytes.
pub fn png_bytes(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[7; 64]);
    bytes
}

/// A fake JPEG thumbnail.
pub const THUMBNAIL: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9];

/// Inserts a 64×48 PNG with `meta`.
pub fn insert_meta(library: &Library, meta: &ImageMeta) -> ImageRecord {
    let bytes = png_bytes(64, 48);
    library
        .insert(NewImage {
            meta,
            bytes: &bytes,
            extension: "png",
            width: 64,
            height: 48,
            thumbnail_jpeg: THUMBNAIL,
        })
        .unwrap()
}

/// Inserts an image with `prompt` created in May 2024 (plus `offset_ms`).
pub fn insert_prompt(library: &Library, prompt: &str, offset_ms: i64) -> ImageRecord {
    insert_meta(library, &meta(prompt, "qwen-image-plus", MAY_2024_MS + offset_ms))
}

/// Every file below `root`, recursively.
pub fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The files below `root` whose name ends in `.tmp`.
pub fn temp_files(root: &Path) -> Vec<PathBuf> {
    all_files(root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}
