//! The user's images: SQLite catalogue, image files and thumbnails.
//!
//! Layout (see [`LibraryPaths`]): `data_dir/library.sqlite3` holds one row per image,
//! `data_dir/images/YYYY/MM/<id>.<ext>` the files as received, `thumbs_dir/<id>.jpg`
//! regenerable thumbnails.
//!
//! # Safety against crashes and other processes
//!
//! - An image file is always complete on disk before its row is committed: it is written
//!   to a hidden temp file, flushed, renamed, and its folder flushed.
//! - Every write runs in a `BEGIN IMMEDIATE` transaction, and [`Library::insert`] holds
//!   that transaction from before the file is written until the row is committed. So a
//!   second process's recovery (which takes the same lock) never mistakes an insert in
//!   progress for crash debris.
//! - On open, recovery deletes leftover temp files, restores image files that lost their
//!   row in a crash, and flags rows whose file vanished ([`RecoveryReport`]).
//! - WAL with a 10 s busy timeout lets the window and command-line processes read and
//!   write at the same time without "database is locked" errors.

mod boards;
mod files;
mod paths;
mod pending;
mod prompt_exchange;
mod prompts;
mod query;
mod record;
mod recovery;
mod schema;
mod spend;
mod store;
mod tasks;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod scale_tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, ErrorKind, Result};
use crate::metadata::ImageMeta;
use crate::sync::lock;

pub use boards::{Board, MAX_BOARD_NAME, board_name};
pub use files::{Durability, write_atomically};
pub use paths::{DATA_DIR_ENV, LibraryPaths};
pub use pending::PendingDownload;
pub use prompt_exchange::{PROMPTS_FILE_VERSION, PromptFile, parse_prompts_json, prompts_json, read_prompts_file};
pub use prompts::{PromptKind, SavedPrompt};
pub use query::{Order, Query};
pub use record::{Checked, ImageRecord, Insertion, NewImage};
pub use recovery::{RecoveryReport, png_size_reader};
pub use spend::SpendEntry;
pub use store::MAX_RATING;
pub use tasks::PendingTask;

/// How long a write waits for another process's write to finish before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the metadata and pixel size embedded in an image file's bytes, for rebuilding a
/// lost row; `None` when the file is unreadable, and recovery deletes it.
pub type MetadataReader<'a> = &'a dyn Fn(&[u8]) -> Option<(ImageMeta, u32, u32)>;

/// A library: its paths and, once opened, its two database connections.
///
/// [`Library::open`] and [`Library::open_with`] return it open.
/// [`Library::open_in_background`] returns at once and opens it on its own thread; every
/// method that needs the database then waits for that open to finish (so call them off
/// the UI thread, as everything in the window does) and returns its error if it failed.
/// `Send + Sync`: share it through an `Arc`.
pub struct Library {
    paths: LibraryPaths,
    /// Set once, when the open finished (successfully or not).
    state: Arc<OnceLock<std::result::Result<Open, Error>>>,
}

/// The open half of a [`Library`].
struct Open {
    /// The connection all writes go through (one write transaction at a time per process).
    writer: Mutex<Connection>,
    /// A second connection for queries, so reads never wait behind an insert's file write.
    reader: Mutex<Connection>,
    recovery: RecoveryReport,
}

/// Reads image files for recovery on the library's own opening thread.
pub type StaticMetadataReader = &'static (dyn Fn(&[u8]) -> Option<(ImageMeta, u32, u32)> + Sync);

impl Library {
    /// Opens (creating when needed) the library at `paths` and runs recovery with
    /// [`png_size_reader`], which restores every orphaned file, with its PNG pixel size
    /// (0 × 0 for other files) but without its generation parameters. Use
    /// [`Library::open_with`] to pass a reader that understands the embedded metadata.
    pub fn open(paths: LibraryPaths) -> Result<Self> {
        Self::open_with(paths, &|bytes| Some(png_size_reader(bytes).unwrap_or_default()))
    }

    /// Opens (creating when needed) the library at `paths`: creates the folders, opens the
    /// database (WAL, busy timeout, foreign keys, `synchronous=NORMAL`), migrates the schema
    /// and runs recovery, using `reader` to rebuild the rows of orphaned image files.
    pub fn open_with(paths: LibraryPaths, reader: MetadataReader<'_>) -> Result<Self> {
        let open = Open::at(&paths, reader)?;
        Ok(Self {
            paths,
            state: Arc::new(OnceLock::from(Ok(open))),
        })
    }

    /// Starts opening the library at `paths` (as [`Library::open_with`] does, recovery
    /// included) on a thread of its own and returns at once. Until the open is done,
    /// [`Library::is_opening`] is true and every database method waits for it.
    pub fn open_in_background(paths: LibraryPaths, reader: StaticMetadataReader) -> Self {
        let state = Arc::new(OnceLock::new());
        let library = Self {
            paths: paths.clone(),
            state: Arc::clone(&state),
        };
        let open = move || {
            // A panic while opening must not leave every waiter waiting for good.
            let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Open::at(&paths, reader)))
                .unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Storage,
                        "opening the library failed unexpectedly",
                    ))
                });
            let _ = state.set(opened);
        };
        if let Err(err) = std::thread::Builder::new()
            .name("pictor-library-open".into())
            .spawn(open)
        {
            let _ = library.state.set(Err(Error::storage(
                "cannot start the thread that opens the library",
                err,
            )));
        }
        library
    }

    /// Whether the library is still being opened (never blocks).
    pub fn is_opening(&self) -> bool {
        self.state.get().is_none()
    }

    /// Why the library could not be opened, once that is known (never blocks).
    pub fn open_error(&self) -> Option<&Error> {
        self.state.get().and_then(|state| state.as_ref().err())
    }

    /// Waits until the library is open; its error if it could not be opened.
    pub fn wait_until_open(&self) -> Result<()> {
        self.opened().map(|_| ())
    }

    /// What recovery found and repaired when this library was opened (waits for the
    /// open; fails if the library could not be opened).
    pub fn recovery_report(&self) -> Result<RecoveryReport> {
        Ok(self.opened()?.recovery)
    }

    /// The open connections, once the open is done.
    fn opened(&self) -> Result<&Open> {
        self.state.wait().as_ref().map_err(Clone::clone)
    }

    /// Where this library lives.
    pub fn paths(&self) -> &LibraryPaths {
        &self.paths
    }

    /// The absolute path of a record's image file.
    pub fn image_path(&self, record: &ImageRecord) -> PathBuf {
        self.paths.data_dir.join(&record.file)
    }

    /// The absolute path of an image's thumbnail: `thumbs_dir/<id>.jpg` (may not exist:
    /// thumbnails are regenerable and restored orphans have none).
    pub fn thumbnail_path(&self, id: &str) -> PathBuf {
        self.paths.thumbs_dir.join(format!("{id}.jpg"))
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction, committed when it succeeds and
    /// rolled back when it fails.
    fn write<T>(&self, work: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.opened()?.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs read-only `work` on the query connection.
    fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        work(&lock(&self.opened()?.reader))
    }
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("paths", &self.paths)
            .field("opening", &self.is_opening())
            .finish_non_exhaustive()
    }
}

impl Open {
    /// Creates the folders, opens both connections, migrates and recovers.
    fn at(paths: &LibraryPaths, reader: MetadataReader<'_>) -> Result<Self> {
        for dir in [&paths.data_dir, &paths.images_dir(), &paths.thumbs_dir] {
            std::fs::create_dir_all(dir)
                .map_err(|err| Error::storage(format!("could not create folder {}", dir.display()), err))?;
        }
        let database = paths.database_file();
        let mut writer = open_connection(&database)?;
        schema::migrate(&mut writer)?;
        let recovery = recovery::recover(&mut writer, paths, reader)?;
        let reader_connection = open_connection(&database)?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader_connection),
            recovery,
        })
    }
}

fn open_connection(path: &Path) -> Result<Connection> {
    let in_context =
        |err: rusqlite::Error| Error::storage(format!("could not open the library database {}", path.display()), err);
    let conn = Connection::open(path).map_err(in_context)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(in_context)?;
    let mode = retry_while_busy(|| conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0)))
        .map_err(in_context)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, path = %path.display(), "the library database could not switch to WAL");
    }
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(in_context)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(in_context)?;
    Ok(conn)
}

/// Runs `attempt` until it is not refused as busy, for up to [`BUSY_TIMEOUT`].
///
/// Switching the journal mode while another connection creates the database is refused
/// at once without SQLite's busy handler, so several processes opening a new library
/// together need this.
fn retry_while_busy<T>(mut attempt: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let started = std::time::Instant::now();
    loop {
        match attempt() {
            Err(err) if is_busy(&err) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn library_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Library>();
    }

    #[test]
    fn open_creates_the_folders_and_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(&dir.path().join("lib"))).unwrap();
        assert!(library.paths().database_file().is_file());
        assert!(library.paths().images_dir().is_dir());
        assert!(library.paths().thumbs_dir.is_dir());
        assert_eq!(library.recovery_report().unwrap(), RecoveryReport::default());
        assert_eq!(library.thumbnail_path("ABC"), dir.path().join("lib/thumbs/ABC.jpg"));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_storage_error() {
        let dir = tempfile::tempdir().unwrap();
        let paths = LibraryPaths::in_dir(dir.path());
        std::fs::write(paths.database_file(), b"this is not a database, just text long enough").unwrap();
        let err = Library::open(paths).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(err.message.contains("library.sqlite3"), "{}", err.message);
    }

    #[test]
    fn open_fails_with_a_storage_error_naming_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-folder");
        std::fs::write(&blocker, b"").unwrap();
        let err = Library::open(LibraryPaths::in_dir(&blocker)).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(err.message.contains("not-a-folder"), "{}", err.message);
    }

    /// Another process holds the database's write lock, so opening (recovery needs it)
    /// waits: the caller must not. It returns at once, says it is opening, and the open
    /// completes when the lock goes.
    #[test]
    fn open_in_background_returns_while_the_database_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let paths = LibraryPaths::in_dir(dir.path());
        drop(Library::open(paths.clone()).unwrap());
        let holder = Connection::open(paths.database_file()).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let started = std::time::Instant::now();
        let library = Library::open_in_background(paths, &|_: &[u8]| None);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        std::thread::sleep(Duration::from_millis(200));
        assert!(library.is_opening());
        assert!(library.open_error().is_none());
        holder.execute_batch("COMMIT").unwrap();
        library.wait_until_open().unwrap();
        assert!(!library.is_opening());
        assert_eq!(library.count(&Query::default()).unwrap(), 0);
    }

    #[test]
    fn a_library_that_cannot_open_in_the_background_says_why_to_every_caller() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-folder");
        std::fs::write(&blocker, b"").unwrap();
        let library = Library::open_in_background(LibraryPaths::in_dir(&blocker), &|_: &[u8]| None);
        let err = library.wait_until_open().unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Storage);
        assert!(!library.is_opening());
        assert_eq!(library.open_error(), Some(&err));
        assert_eq!(library.query(&Query::default()).unwrap_err(), err);
        assert_eq!(library.recovery_report().unwrap_err(), err);
    }
}
