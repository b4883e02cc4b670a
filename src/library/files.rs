//! Crash-safe file writes and the layout of files inside a library.
//!
//! A file is written as a hidden `.<name>.tmp` beside its final name, flushed to disk,
//! renamed over the final name and the directory flushed too: after a crash the final
//! name holds either nothing or the complete bytes, and only hidden temp files can be
//! left behind (recovery deletes them).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Suffix of the temporary files written before a rename.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The extensions an image file in the library may have.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "webp"];

/// The canonical extension for `extension` (`"PNG"` → `"png"`, `"jpeg"` → `"jpg"`),
/// or an invalid-request error for anything that is not PNG, JPEG or WebP.
pub fn normalize_extension(extension: &str) -> Result<&'static str> {
    let lower = extension.trim().trim_start_matches('.').to_ascii_lowercase();
    match lower.as_str() {
        "png" => Ok("png"),
        "jpg" | "jpeg" => Ok("jpg"),
        "webp" => Ok("webp"),
        _ => Err(Error::invalid(format!(
            "“{extension}” is not an image type the library stores (png, jpg or webp)"
        ))),
    }
}

/// `images/YYYY/MM/<id>.<ext>` with the UTC year and month of `created_ms`, written with
/// `/` as it is stored in the catalogue.
pub fn relative_image_path(created_ms: i64, id: &str, extension: &str) -> String {
    let nanos = i128::from(created_ms).saturating_mul(1_000_000);
    let date = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}/{:04}/{:02}/{id}.{extension}",
        super::paths::IMAGES_DIR,
        date.year(),
        u8::from(date.month())
    )
}

/// A catalogue path (`/`-separated, relative) as a path below `base`.
pub fn resolve_relative(base: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .filter(|part| !part.is_empty())
        .fold(base.to_path_buf(), |path, part| path.join(part))
}

/// The hidden temp file used while writing `path`: `dir/.<name>.tmp`.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{TEMP_SUFFIX}"))
}

/// Whether `name` is one of our temp files (`.<something>.tmp`).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of the directory),
/// creating parent directories. On failure no temp file is left and the error names the path.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|err| Error::storage(format!("could not create folder {}", dir.display()), err))?;
    let temp = temp_path_for(path);
    if let Err(err) = write_synced(&temp, bytes) {
        remove_if_present(&temp);
        return Err(Error::storage(format!("could not write {}", temp.display()), err));
    }
    if let Err(err) = fs::rename(&temp, path) {
        remove_if_present(&temp);
        return Err(Error::storage(
            format!("could not rename {} to {}", temp.display(), path.display()),
            err,
        ));
    }
    sync_directory(dir).map_err(|err| Error::storage(format!("could not flush folder {}", dir.display()), err))
}

/// Writes `bytes` to `path` through a temp file and a rename, without flushing to disk:
/// for regenerable files (thumbnails). Readers never see a half-written file; after a
/// power loss the file may be missing or empty, and is then rebuilt. Creates parent
/// directories; on failure no temp file is left and the error names the path.
pub fn write_replaceable(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|err| Error::storage(format!("could not create folder {}", dir.display()), err))?;
    let temp = temp_path_for(path);
    let written = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes));
    if let Err(err) = written {
        remove_if_present(&temp);
        return Err(Error::storage(format!("could not write {}", temp.display()), err));
    }
    fs::rename(&temp, path).map_err(|err| {
        remove_if_present(&temp);
        Error::storage(
            format!("could not rename {} to {}", temp.display(), path.display()),
            err,
        )
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::options().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes a directory's entries (a rename in it) to disk. A no-op where directories
/// cannot be opened as files (Windows).
pub fn sync_directory(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Removes a file, treating "already gone" as success.
pub fn remove_file_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

/// Best-effort removal during cleanup after another error; a failure is only logged.
pub fn remove_if_present(path: &Path) {
    if let Err(err) = remove_file_if_present(path) {
        tracing::warn!(path = %path.display(), %err, "could not remove file during cleanup");
    }
}

/// Every regular file below `root` (recursively, not following symbolic links).
/// A missing `root` has no files; unreadable subfolders are logged and skipped.
pub fn files_below(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                if err.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(dir = %dir.display(), %err, "could not list folder");
                }
                continue;
            }
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(kind) if kind.is_file() => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_uses_utc_year_and_month() {
        // 2024-02-29T23:59:59Z
        assert_eq!(
            relative_image_path(1_709_251_199_000, "ID", "png"),
            "images/2024/02/ID.png"
        );
        // 2024-03-01T00:00:00Z
        assert_eq!(
            relative_image_path(1_709_251_200_000, "ID", "jpg"),
            "images/2024/03/ID.jpg"
        );
        assert_eq!(relative_image_path(i64::MAX, "ID", "png"), "images/1970/01/ID.png");
    }

    #[test]
    fn extensions_are_normalized_or_rejected() {
        assert_eq!(normalize_extension("PNG").unwrap(), "png");
        assert_eq!(normalize_extension(".jpeg").unwrap(), "jpg");
        assert_eq!(normalize_extension("webp").unwrap(), "webp");
        let err = normalize_extension("../x").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidRequest);
    }

    #[test]
    fn temp_names_are_hidden_and_recognized() {
        let temp = temp_path_for(Path::new("/a/b/ID.png"));
        assert_eq!(temp, PathBuf::from("/a/b/.ID.png.tmp"));
        assert!(is_temp_name(".ID.png.tmp"));
        assert!(!is_temp_name("ID.png"));
        assert!(!is_temp_name(".hidden"));
    }

    #[test]
    fn atomic_write_creates_folders_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x/y/file.bin");
        write_atomically(&target, b"hello").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"hello");
        let names: Vec<_> = files_below(dir.path());
        assert_eq!(names, vec![target]);
    }

    #[test]
    fn replaceable_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("thumbs/ID.jpg");
        write_replaceable(&target, b"first").unwrap();
        write_replaceable(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert_eq!(files_below(dir.path()), vec![target]);
        fs::write(dir.path().join("blocker"), b"").unwrap();
        let err = write_replaceable(&dir.path().join("blocker/ID.jpg"), b"x").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(err.message.contains("blocker"), "{}", err.message);
        assert_eq!(files_below(dir.path()).len(), 2);
    }

    #[test]
    fn failed_write_names_the_path_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        // A file where a folder should be makes the write fail even for root.
        fs::write(dir.path().join("blocker"), b"").unwrap();
        let target = dir.path().join("blocker/file.bin");
        let err = write_atomically(&target, b"hello").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(err.message.contains("blocker"), "{}", err.message);
        assert_eq!(files_below(dir.path()).len(), 1);
    }

    #[test]
    fn failed_rename_removes_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty folder at the final name makes the rename fail.
        let target = dir.path().join("file.bin");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), b"").unwrap();
        let err = write_atomically(&target, b"hello").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(err.message.contains("file.bin"), "{}", err.message);
        assert!(!temp_path_for(&target).exists());
    }
}
