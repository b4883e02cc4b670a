//! Where a library lives on disk.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable that moves the whole library (images, database and thumbnails).
pub const DATA_DIR_ENV: &str = "PICTOR_DATA_DIR";

/// Name of the catalogue database inside the data directory.
pub const DATABASE_FILE: &str = "library.sqlite3";

/// Name of the image directory inside the data directory.
pub const IMAGES_DIR: &str = "images";

/// Folder under the data directory where recovery moves image files it cannot read.
pub const UNREADABLE_DIR: &str = "unreadable";

/// Where a library lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryPaths {
    /// Holds the database and the `images/` tree.
    pub data_dir: PathBuf,
    /// Holds the regenerable thumbnails (`<id>.jpg`).
    pub thumbs_dir: PathBuf,
}

impl LibraryPaths {
    /// `PICTOR_DATA_DIR` when set and not empty (thumbnails then go to
    /// `$PICTOR_DATA_DIR/thumbs`), else the OS directories of
    /// `ProjectDirs::from("ai", "Pictor", "Pictor")`: its data dir, and `thumbs/` in its cache dir.
    ///
    /// Fails with [`crate::ErrorKind::Config`] when there is no home directory to derive them from.
    pub fn from_env() -> Result<Self> {
        match std::env::var_os(DATA_DIR_ENV) {
            Some(dir) if !dir.is_empty() => Ok(Self::in_dir(Path::new(&dir))),
            _ => Self::from_os_dirs(),
        }
    }

    /// A library entirely inside `dir`: data in `dir`, thumbnails in `dir/thumbs`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            data_dir: dir.to_path_buf(),
            thumbs_dir: dir.join("thumbs"),
        }
    }

    /// The catalogue database file.
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// The root of the image tree (`images/YYYY/MM/<id>.<ext>` lives below it).
    pub fn images_dir(&self) -> PathBuf {
        self.data_dir.join(IMAGES_DIR)
    }

    /// `data_dir/unreadable`: image files without a row that recovery could not read.
    pub fn unreadable_dir(&self) -> PathBuf {
        self.data_dir.join(UNREADABLE_DIR)
    }

    fn from_os_dirs() -> Result<Self> {
        let dirs = directories::ProjectDirs::from("ai", "Pictor", "Pictor").ok_or_else(|| {
            Error::config(format!(
                "no home directory to keep the library in; set {DATA_DIR_ENV} to a folder"
            ))
        })?;
        Ok(Self {
            data_dir: dirs.data_dir().to_path_buf(),
            thumbs_dir: dirs.cache_dir().join("thumbs"),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn in_dir_puts_thumbnails_below_the_data_dir() {
        let paths = LibraryPaths::in_dir(Path::new("/tmp/lib"));
        assert_eq!(paths.data_dir, PathBuf::from("/tmp/lib"));
        assert_eq!(paths.thumbs_dir, PathBuf::from("/tmp/lib/thumbs"));
        assert_eq!(paths.database_file(), PathBuf::from("/tmp/lib/library.sqlite3"));
        assert_eq!(paths.images_dir(), PathBuf::from("/tmp/lib/images"));
    }
}
