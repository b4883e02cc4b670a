//! Crash-safe file writes and the layout of files inside a library.
//!
//! A file is written as a hidden `.<name>.<pid>-<n>.tmp` beside its final name, flushed
//! to disk, renamed over the final name and the directory flushed too: after a crash the
//! final name holds either nothing or the complete bytes, and only hidden temp files can
//! be left behind (recovery deletes them). [`write_atomically`] is the only file writer
//! in Pictor: library images, thumbnails and exports all go through it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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

/// A process-wide counter that makes every temp name unique, so a temp file left by a
/// crash (or being written by another thread) never blocks the next write of the same file.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh hidden temp file for writing `path`: `dir/.<name>.<pid>-<n>.tmp`.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{unique}{TEMP_SUFFIX}", std::process::id()))
}

/// Whether `name` is one of our temp files (`.<something>.tmp`).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// How far [`write_atomically`] takes a write before it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// On disk: the file, its folder, and the folders that lead to it (every one created
    /// for it, and the two above it) are flushed (`fsync`) before the call returns. For
    /// images and exports.
    Durable,
    /// Atomic but not flushed: readers never see a half-written file, but after a power
    /// loss the file may be missing, empty or truncated (readers decode it and rebuild
    /// it). For regenerable files (thumbnails); saves the fsyncs on every stored image.
    Replaceable,
}

/// The one way Pictor writes a file: a hidden temp file beside `path`, written (and for
/// [`Durability::Durable`] flushed), renamed over `path`, then the folder flushed, along
/// with any folder that had to be created (such as a new `YYYY/MM`) into its parent.
/// On failure no temp file is left and the error names the path.
pub fn write_atomically(path: &Path, bytes: &[u8], durability: Durability) -> Result<()> {
    let durable = durability == Durability::Durable;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_folders(dir, durable)
        .map_err(|err| Error::storage(format!("could not create folder {}", dir.display()), err))?;
    let temp = temp_path_for(path);
    let written = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            if durable { file.sync_all() } else { Ok(()) }
        });
    if let Err(err) = written {
        remove_if_present(&temp);
        return Err(Error::storage(format!("could not write {}", path.display()), err));
    }
    if let Err(err) = fs::rename(&temp, path) {
        remove_if_present(&temp);
        return Err(Error::storage(
            format!("could not rename {} to {}", temp.display(), path.display()),
            err,
        ));
    }
    if durable {
        sync_directory(dir).map_err(|err| Error::storage(format!("could not flush folder {}", dir.display()), err))?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents. With `durable`, flushes the entry of every
/// folder created here into its parent, and also `dir`'s parent and grandparent: another
/// writer (or a run that crashed) may have created `YYYY/MM` without flushing it yet, and
/// a file is only as durable as the folders that lead to it. Flushing a folder that has
/// nothing new costs next to nothing.
fn create_folders(dir: &Path, durable: bool) -> io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|folder| !folder.is_dir()).collect();
    if !missing.is_empty() {
        fs::create_dir_all(dir)?;
    }
    if durable {
        let mut parents: Vec<&Path> = missing.iter().filter_map(|folder| folder.parent()).collect();
        parents.extend(dir.ancestors().skip(1).take(2));
        parents.retain(|parent| !parent.as_os_str().is_empty());
        parents.sort();
        parents.dedup();
        for parent in parents {
            sync_directory(parent)?;
        }
    }
    Ok(())
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
    fn temp_names_are_hidden_unique_and_recognized() {
        let temp = temp_path_for(Path::new("/a/b/ID.png"));
        let name = temp.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(temp.parent(), Some(Path::new("/a/b")));
        assert!(name.starts_with(&format!(".ID.png.{}-", std::process::id())), "{name}");
        assert!(is_temp_name(&name));
        assert_ne!(temp_path_for(Path::new("/a/b/ID.png")), temp);
        assert!(is_temp_name(".ID.png.tmp"));
        assert!(!is_temp_name("ID.png"));
        assert!(!is_temp_name(".hidden"));
    }

    #[test]
    fn atomic_write_creates_folders_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x/y/file.bin");
        write_atomically(&target, b"hello", Durability::Durable).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"hello");
        let names: Vec<_> = files_below(dir.path());
        assert_eq!(names, vec![target]);
    }

    #[test]
    fn replaceable_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("thumbs/ID.jpg");
        write_atomically(&target, b"first", Durability::Replaceable).unwrap();
        write_atomically(&target, b"second", Durability::Replaceable).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert_eq!(files_below(dir.path()), vec![target]);
        fs::write(dir.path().join("blocker"), b"").unwrap();
        let err = write_atomically(&dir.path().join("blocker/ID.jpg"), b"x", Durability::Replaceable).unwrap_err();
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
        let err = write_atomically(&target, b"hello", Durability::Durable).unwrap_err();
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
        let err = write_atomically(&target, b"hello", Durability::Durable).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(err.message.contains("file.bin"), "{}", err.message);
        assert_eq!(files_below(dir.path()), vec![target.join("inside")]);
    }

    #[test]
    fn a_temp_file_left_by_a_crash_does_not_block_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ID.png");
        fs::write(dir.path().join(".ID.png.tmp"), b"half").unwrap();
        write_atomically(&target, b"whole", Durability::Durable).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"whole");
    }
}
