//! Changing the library: adding images, favourites, trash.

use std::path::Path;

use rusqlite::{Transaction, params};

use super::files::{self, Durability, remove_if_present};
use super::record::{self, Checked, ImageRecord, Insertion, NewImage, RECORD_COLUMNS, RowPlacement};
use super::{Library, lock, recovery};
use crate::error::{Error, Result};
use crate::metadata::ImageMeta;

/// The most stars an image can have.
pub const MAX_RATING: u8 = 5;

impl Library {
    /// Stores a new image whose thumbnail is already made (`image.thumbnail_jpeg`); see
    /// [`Library::insert_checked`].
    pub fn insert(&self, image: NewImage<'_>) -> Result<ImageRecord> {
        self.insert_checked(image, || {
            Ok(Checked {
                thumbnail_jpeg: image.thumbnail_jpeg.to_vec(),
                pixel_hash: None,
            })
        })
    }

    /// Stores a new image, all while holding the library's write lock: the file
    /// (atomically: temp file, fsync, rename, fsync of the folder), then `check`, then the
    /// thumbnail `check` returned, then the row.
    ///
    /// `check` is where the caller finishes proving the image sound (a full pixel decode
    /// that runs while the file is written) and returns its JPEG thumbnail (empty: none
    /// yet) and the hash of its pixels. The row appears only after `check` succeeded.
    /// When `check` or anything else fails, the file and thumbnail are removed before the
    /// lock is released, so neither a row nor a file is left behind and another process's
    /// recovery never sees the file as an orphan. A thumbnail that cannot be written is
    /// only logged (thumbnails are regenerable). Storage failures are
    /// [`crate::ErrorKind::Storage`] errors naming the path; `check`'s error is returned
    /// as it is.
    pub fn insert_checked(&self, image: NewImage<'_>, check: impl FnOnce() -> Result<Checked>) -> Result<ImageRecord> {
        match self.insert_with(image, false, check)? {
            Insertion::Stored(record) | Insertion::AlreadyThere(record) => Ok(record),
        }
    }

    /// Like [`Library::insert_checked`], unless a live image with the same pixels (the
    /// hash `check` returns) is already in the library: then nothing is kept and that
    /// image is returned as [`Insertion::AlreadyThere`]. The look-up happens under the
    /// write lock, so two imports of one file at once store it once.
    pub fn insert_unless_present(
        &self,
        image: NewImage<'_>,
        check: impl FnOnce() -> Result<Checked>,
    ) -> Result<Insertion> {
        self.insert_with(image, true, check)
    }

    fn insert_with(
        &self,
        image: NewImage<'_>,
        refuse_duplicates: bool,
        check: impl FnOnce() -> Result<Checked>,
    ) -> Result<Insertion> {
        let extension = files::normalize_extension(image.extension)?;
        if image.bytes.is_empty() {
            return Err(Error::image("the image to store is empty"));
        }
        let id = ulid::Ulid::new().to_string();
        let relative = files::relative_image_path(image.meta.created_ms, &id, extension);
        let absolute = files::resolve_relative(&self.paths.data_dir, &relative);
        let thumbnail = self.thumbnail_path(&id);
        let conn = lock(&self.opened()?.writer);
        conn.execute_batch("BEGIN IMMEDIATE")?;
        // Until COMMIT, any way out (an error, a duplicate, or a panic in `check`) removes
        // the files and then rolls back, in that order, while the lock is still held.
        let mut pending = PendingInsert {
            conn: &conn,
            files: [&absolute, &thumbnail],
            committed: false,
        };
        files::write_atomically(&absolute, image.bytes, Durability::Durable)?;
        let checked = check()?;
        if refuse_duplicates
            && let Some(hash) = &checked.pixel_hash
            && let Some(existing) = live_image_with_hash(&conn, hash)?
        {
            return Ok(Insertion::AlreadyThere(existing));
        }
        write_thumbnail(&thumbnail, &checked.thumbnail_jpeg);
        let placement = RowPlacement {
            id: &id,
            file: &relative,
            width: image.width,
            height: image.height,
            pixel_hash: checked.pixel_hash.as_deref(),
        };
        record::insert_row(&conn, image.meta, &placement).map_err(|err| {
            Error::storage(
                format!("could not add {} to the library", absolute.display()),
                err.message,
            )
        })?;
        conn.execute_batch("COMMIT")
            .map_err(|err| Error::storage(format!("could not add {} to the library", absolute.display()), err))?;
        pending.committed = true;
        drop(pending);
        drop(conn);
        Ok(Insertion::Stored(ImageRecord {
            id,
            meta: image.meta.clone(),
            file: files::resolve_relative(Path::new(""), &relative),
            width: image.width,
            height: image.height,
            favorite: false,
            rating: 0,
            deleted_ms: None,
            missing: false,
        }))
    }

    /// Live images of `width` × `height` whose pixels were never hashed (stored before
    /// hashes existed, or given back their row by recovery), for hashing before an import
    /// of that size looks for duplicates.
    pub fn unhashed_of_size(&self, width: u32, height: u32) -> Result<Vec<ImageRecord>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM images \
                 WHERE pixel_hash IS NULL AND width = ?1 AND height = ?2 AND deleted_ms IS NULL"
            ))?;
            let rows = statement.query_map(params![width, height], record::record_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records the pixel hash of image `id`.
    pub fn set_pixel_hash(&self, id: &str, hash: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE images SET pixel_hash = ?2 WHERE id = ?1", params![id, hash])?;
            Ok(())
        })
    }

    /// The thumbnail of `record`: the cached file read with `read`; when it is missing or
    /// `read` refuses it, rebuilt from the image file with `rebuild` (which returns the
    /// thumbnail and its encoded bytes) and the encoded bytes cached again through the one
    /// atomic writer. Thumbnails are regenerable, so a failure to cache is only logged.
    pub fn thumbnail_or_rebuild<T>(
        &self,
        record: &ImageRecord,
        read: impl FnOnce(&[u8]) -> Result<T>,
        rebuild: impl FnOnce(&[u8]) -> Result<(T, Vec<u8>)>,
    ) -> Result<T> {
        let cached = self.thumbnail_path(&record.id);
        if let Ok(bytes) = std::fs::read(&cached)
            && let Ok(thumbnail) = read(&bytes)
        {
            return Ok(thumbnail);
        }
        let source = self.image_path(record);
        let bytes =
            std::fs::read(&source).map_err(|err| Error::storage(format!("cannot read {}", source.display()), err))?;
        let (thumbnail, encoded) = rebuild(&bytes)?;
        write_thumbnail(&cached, &encoded);
        Ok(thumbnail)
    }

    /// Marks or unmarks images as favourites; returns how many rows exist among `ids`.
    pub fn set_favorite(&self, ids: &[String], favorite: bool) -> Result<usize> {
        self.update_each(ids, "UPDATE images SET favorite = ?2 WHERE id = ?1", favorite)
    }

    /// Gives images `rating` stars (1–5; 0 clears it); returns how many rows exist among `ids`.
    pub fn set_rating(&self, ids: &[String], rating: u8) -> Result<usize> {
        if rating > MAX_RATING {
            return Err(Error::invalid(format!(
                "a rating is 0 to {MAX_RATING} stars; {rating} was given"
            )));
        }
        self.update_each(ids, "UPDATE images SET rating = ?2 WHERE id = ?1", rating)
    }

    /// Moves live images to the trash (soft delete); returns how many were moved.
    pub fn trash(&self, ids: &[String]) -> Result<usize> {
        let now = ImageMeta::now_ms();
        self.update_each(
            ids,
            "UPDATE images SET deleted_ms = ?2 WHERE id = ?1 AND deleted_ms IS NULL",
            now,
        )
    }

    /// Brings trashed images back; returns how many were restored.
    pub fn restore(&self, ids: &[String]) -> Result<usize> {
        let live: Option<i64> = None;
        self.update_each(
            ids,
            "UPDATE images SET deleted_ms = ?2 WHERE id = ?1 AND deleted_ms IS NOT NULL",
            live,
        )
    }

    /// Deletes every image in the trash for good: the rows, then their files and
    /// thumbnails. Returns how many images were deleted.
    ///
    /// The files go before the transaction commits, so a crash can leave a trashed row
    /// without its file (flagged missing on the next open, removed by the next call) but
    /// never a file without a row (which recovery would bring back to life).
    pub fn empty_trash(&self) -> Result<usize> {
        self.write(|tx| {
            let doomed = rows_matching(tx, "deleted_ms IS NOT NULL")?;
            tx.execute("DELETE FROM images WHERE deleted_ms IS NOT NULL", [])?;
            for (id, file) in &doomed {
                let path = files::resolve_relative(&self.paths.data_dir, file);
                files::remove_file_if_present(&path)
                    .map_err(|err| Error::storage(format!("could not delete {}", path.display()), err))?;
                remove_if_present(&self.thumbnail_path(id));
            }
            Ok(doomed.len())
        })
    }

    /// Deletes the rows whose image file is gone (checked now, not at open) and their
    /// thumbnails. Returns how many rows were deleted.
    pub fn remove_missing(&self) -> Result<usize> {
        self.write(|tx| {
            recovery::refresh_missing(tx, &self.paths.data_dir)?;
            let doomed = rows_matching(tx, "missing = 1")?;
            tx.execute("DELETE FROM images WHERE missing = 1", [])?;
            for (id, _) in &doomed {
                remove_if_present(&self.thumbnail_path(id));
            }
            Ok(doomed.len())
        })
    }

    /// Runs `sql` (with `?1` = id, `?2` = `value`) for each id in one transaction and
    /// returns the number of rows changed.
    fn update_each(&self, ids: &[String], sql: &str, value: impl rusqlite::ToSql) -> Result<usize> {
        self.write(|tx| {
            let mut statement = tx.prepare_cached(sql)?;
            let mut changed = 0;
            for id in ids {
                changed += statement.execute(params![id, value])?;
            }
            Ok(changed)
        })
    }
}

/// The oldest live image whose pixels hash to `hash`.
fn live_image_with_hash(conn: &rusqlite::Connection, hash: &str) -> Result<Option<ImageRecord>> {
    use rusqlite::OptionalExtension;
    let found = conn
        .prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM images WHERE pixel_hash = ?1 AND deleted_ms IS NULL ORDER BY seq LIMIT 1"
        ))?
        .query_row([hash], record::record_from_row)
        .optional()?;
    Ok(found)
}

/// `(id, file)` of the rows matching a fixed `condition`.
fn rows_matching(tx: &Transaction<'_>, condition: &str) -> Result<Vec<(String, String)>> {
    let mut statement = tx.prepare(&format!("SELECT id, file FROM images WHERE {condition}"))?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An insert between `BEGIN IMMEDIATE` and `COMMIT`. Dropped uncommitted (an error or a
/// panic), it removes the insert's files and then rolls the transaction back, so no other
/// process ever sees the files without the lock held, and the connection is left usable.
struct PendingInsert<'a> {
    conn: &'a rusqlite::Connection,
    files: [&'a Path; 2],
    committed: bool,
}

impl Drop for PendingInsert<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for file in self.files {
            remove_if_present(file);
        }
        if !self.conn.is_autocommit()
            && let Err(rollback) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(%rollback, "could not roll back a failed insert");
        }
    }
}

fn write_thumbnail(path: &Path, jpeg: &[u8]) {
    if jpeg.is_empty() {
        return;
    }
    // Thumbnails are regenerable: atomic (never half-visible) but not flushed, which
    // saves two fsyncs per stored image. A thumbnail lost to a power cut is rebuilt.
    if let Err(err) = files::write_atomically(path, jpeg, Durability::Replaceable) {
        tracing::warn!(path = %path.display(), error = %err.message, "could not write thumbnail; it can be regenerated");
    }
}

#[cfg(test)]
impl Library {
    /// Test-only fast path: inserts rows (no files) for `metas` in a single transaction.
    pub(crate) fn insert_rows_for_test(&self, metas: &[ImageMeta]) -> Result<Vec<String>> {
        self.write(|tx| {
            let mut ids = Vec::with_capacity(metas.len());
            for meta in metas {
                let id = ulid::Ulid::new().to_string();
                let file = files::relative_image_path(meta.created_ms, &id, "png");
                record::insert_row(
                    tx,
                    meta,
                    &RowPlacement {
                        id: &id,
                        file: &file,
                        width: 1,
                        height: 1,
                        pixel_hash: None,
                    },
                )?;
                ids.push(id);
            }
            Ok(ids)
        })
    }
}
