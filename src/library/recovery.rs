//! Repairs done when a library is opened: what a crash or a vanished file left behind.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

use super::MetadataReader;
use super::files::{self, IMAGE_EXTENSIONS};
use super::paths::LibraryPaths;
use super::record::{self, RowPlacement};
use crate::error::Result;
use crate::metadata::ImageMeta;

/// What recovery found and repaired when the library was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Half-written temp files (`.*.tmp`) deleted from the image and thumbnail folders.
    pub temp_files_removed: usize,
    /// Image files without a row (a crash between file and row) that got their row back.
    pub orphans_restored: usize,
    /// Image files without a row that the reader could not read (most often what a crash
    /// left of an image still being checked, never reported as stored). Moved aside to
    /// `data_dir/unreadable/`, never deleted: the file may still matter to someone.
    pub unreadable_moved: usize,
    /// Rows whose image file is not on disk (flagged `missing`).
    pub missing_files: usize,
}

/// The minimal metadata reader used by [`super::Library::open`]: the pixel size from a
/// PNG's `IHDR` header and an empty [`ImageMeta`]; `None` for anything that is not a PNG.
/// It does not read the embedded generation parameters (the imaging module does).
pub fn png_size_reader(bytes: &[u8]) -> Option<(ImageMeta, u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let header = bytes.get(..24)?;
    if header.get(..8)? != SIGNATURE || header.get(12..16)? != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(header.get(16..20)?.try_into().ok()?);
    let height = u32::from_be_bytes(header.get(20..24)?.try_into().ok()?);
    Some((ImageMeta::default(), width, height))
}

/// Runs every repair in one write transaction (so another process's insert in progress,
/// which holds the same lock, is never mistaken for debris).
pub(super) fn recover(
    conn: &mut Connection,
    paths: &LibraryPaths,
    reader: MetadataReader<'_>,
) -> Result<RecoveryReport> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The image folder is listed once; the listing answers "is there a row" and "is the
    // file there" for every file and row (one query, no stat per row).
    let image_files = files::files_below(&paths.images_dir());
    let temp_files_removed =
        remove_temp_files(image_files.iter().cloned()) + remove_temp_files(files::files_below(&paths.thumbs_dir));
    let (orphans_restored, unreadable_moved) = restore_orphans(&tx, paths, &image_files, reader)?;
    let listed: HashSet<&Path> = image_files.iter().map(PathBuf::as_path).collect();
    let missing_files = refresh_missing_from(&tx, &paths.data_dir, |file| listed.contains(file) || file.is_file())?;
    tx.commit()?;
    let report = RecoveryReport {
        temp_files_removed,
        orphans_restored,
        unreadable_moved,
        missing_files,
    };
    if report != RecoveryReport::default() {
        tracing::info!(?report, "library recovery");
    }
    Ok(report)
}

/// Deletes our temp files among `listed`; returns how many were deleted.
fn remove_temp_files(listed: impl IntoIterator<Item = PathBuf>) -> usize {
    listed
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(files::is_temp_name)
        })
        .filter(|path| match files::remove_file_if_present(path) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "could not delete leftover temp file");
                false
            }
        })
        .count()
}

/// Gives every image file named `<ULID>.<ext>` that has no row a row, rebuilt by `reader`;
/// moves the ones `reader` cannot read to `data_dir/unreadable/`. Returns how many were
/// restored and moved.
fn restore_orphans(
    conn: &Connection,
    paths: &LibraryPaths,
    image_files: &[PathBuf],
    reader: MetadataReader<'_>,
) -> Result<(usize, usize)> {
    let mut restored = 0;
    let mut moved = 0;
    let mut ids: HashSet<String> = {
        let mut statement = conn.prepare_cached("SELECT id FROM images")?;
        let ids = statement.query_map([], |row| row.get(0))?;
        ids.collect::<rusqlite::Result<_>>()?
    };
    for path in image_files {
        let Some((id, created_ms)) = library_file_id(path) else {
            continue;
        };
        if !ids.insert(id.clone()) {
            continue;
        }
        let Some(relative) = relative_to(&paths.data_dir, path) else {
            continue;
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "could not read orphaned image");
                continue;
            }
        };
        let Some((mut meta, width, height)) = reader(&bytes) else {
            match move_aside(path, &paths.unreadable_dir()) {
                Ok(to) => {
                    tracing::warn!(from = %path.display(), to = %to.display(), "moved an unreadable image without a library row aside");
                    moved += 1;
                }
                Err(err) => tracing::warn!(path = %path.display(), %err, "could not move an unreadable orphan aside"),
            }
            continue;
        };
        if meta.created_ms == 0 {
            meta.created_ms = created_ms;
        }
        record::insert_row(
            conn,
            &meta,
            &RowPlacement {
                id: &id,
                file: &relative,
                width,
                height,
                // Hashed later, only if an import of the same size needs it.
                pixel_hash: None,
            },
        )?;
        tracing::info!(path = %path.display(), "restored an image that had lost its library row");
        restored += 1;
    }
    Ok((restored, moved))
}

/// Moves `file` into `folder` (created when needed), keeping its name; returns where.
fn move_aside(file: &Path, folder: &Path) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(folder)?;
    let to = folder.join(file.file_name().unwrap_or_default());
    std::fs::rename(file, &to)?;
    Ok(to)
}

/// The id and the ULID's timestamp of a file named like the library names images
/// (`<ULID>.<png|jpg|webp>`, canonical upper case); `None` for anything else.
fn library_file_id(path: &Path) -> Option<(String, i64)> {
    let extension = path.extension()?.to_str()?;
    if !IMAGE_EXTENSIONS.contains(&extension) {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let ulid = ulid::Ulid::from_string(stem).ok()?;
    let canonical = ulid.to_string();
    (canonical == stem).then(|| (canonical, i64::try_from(ulid.timestamp_ms()).unwrap_or(0)))
}

/// `path` relative to `base`, `/`-separated as the catalogue stores it.
fn relative_to(base: &Path, path: &Path) -> Option<String> {
    let parts = path
        .strip_prefix(base)
        .ok()?
        .components()
        .map(|part| part.as_os_str().to_str())
        .collect::<Option<Vec<_>>>()?;
    Some(parts.join("/"))
}

/// Sets each row's `missing` flag from whether its file exists now; returns how many
/// rows are missing their file.
pub(super) fn refresh_missing(conn: &Connection, data_dir: &Path) -> Result<usize> {
    refresh_missing_from(conn, data_dir, Path::is_file)
}

/// [`refresh_missing`] with `exists` telling whether a row's file is there.
fn refresh_missing_from(conn: &Connection, data_dir: &Path, exists: impl Fn(&Path) -> bool) -> Result<usize> {
    let rows: Vec<(i64, String, bool)> = {
        let mut statement = conn.prepare_cached("SELECT seq, file, missing FROM images")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut update = conn.prepare_cached("UPDATE images SET missing = ?2 WHERE seq = ?1")?;
    let mut missing = 0;
    for (seq, file, was_missing) in rows {
        let is_missing = !exists(&files::resolve_relative(data_dir, &file));
        if is_missing != was_missing {
            update.execute(rusqlite::params![seq, is_missing])?;
        }
        missing += usize::from(is_missing);
    }
    Ok(missing)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
        bytes
    }

    #[test]
    fn png_size_reader_reads_the_header() {
        let (meta, width, height) = png_size_reader(&png_header(1328, 928)).unwrap();
        assert_eq!((width, height), (1328, 928));
        assert_eq!(meta, ImageMeta::default());
    }

    #[test]
    fn png_size_reader_rejects_other_bytes() {
        assert!(png_size_reader(b"").is_none());
        assert!(png_size_reader(&[0xFF, 0xD8, 0xFF, 0xE0]).is_none());
        let mut truncated = png_header(1, 1);
        truncated.truncate(20);
        assert!(png_size_reader(&truncated).is_none());
    }

    #[test]
    fn only_canonical_ulid_names_are_library_files() {
        let id = ulid::Ulid::new();
        let name = format!("{id}.png");
        let (found, created) = library_file_id(Path::new(&name)).unwrap();
        assert_eq!(found, id.to_string());
        assert_eq!(created, i64::try_from(id.timestamp_ms()).unwrap());
        assert!(library_file_id(Path::new(&format!("{}.png", id.to_string().to_lowercase()))).is_none());
        assert!(library_file_id(Path::new(&format!("{id}.gif"))).is_none());
        assert!(library_file_id(Path::new("holiday.png")).is_none());
    }

    #[test]
    fn relative_paths_use_slashes() {
        let base = Path::new("/data");
        let path = base.join("images").join("2024").join("01").join("X.png");
        assert_eq!(relative_to(base, &path).as_deref(), Some("images/2024/01/X.png"));
        assert_eq!(relative_to(Path::new("/other"), &path), None);
    }
}
