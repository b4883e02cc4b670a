//! The spend ledger: one row per answered request, with the images the service billed.
//! Prices are not stored here (see [`crate::pricing`]): the ledger counts, the price
//! book values.

use rusqlite::params;

use super::Library;
use crate::error::Result;

/// Images a service delivered (and billed) for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendEntry {
    /// When the answer arrived (ms since the epoch).
    pub at_ms: i64,
    /// The provider's name (as on the command line).
    pub provider: String,
    /// The model billed.
    pub model: String,
    /// How many images were billed (`usage.image_count`, or those delivered).
    pub images: u32,
    /// The request's id at the service (or its task id): the same key is counted once,
    /// however often its images are downloaded again or its task resumed. `None` when
    /// the service sent no id (then each answer counts).
    pub request_key: Option<String>,
}

impl Library {
    /// Adds an answered request to the ledger; `false` when its key was already counted.
    pub fn record_spend(&self, entry: &SpendEntry) -> Result<bool> {
        self.write(|tx| {
            let added = tx
                .prepare_cached(
                    "INSERT INTO spend (at_ms, provider, model, images, request_key) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (request_key) DO NOTHING",
                )?
                .execute(params![
                    entry.at_ms,
                    entry.provider,
                    entry.model,
                    entry.images,
                    entry.request_key
                ])?;
            Ok(added == 1)
        })
    }

    /// The ledger's rows from `since_ms` (inclusive) on, oldest first.
    pub fn spend_since(&self, since_ms: i64) -> Result<Vec<SpendEntry>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT at_ms, provider, model, images, request_key FROM spend WHERE at_ms >= ?1 ORDER BY at_ms",
            )?;
            let rows = statement.query_map([since_ms], |row| {
                Ok(SpendEntry {
                    at_ms: row.get(0)?,
                    provider: row.get(1)?,
                    model: row.get(2)?,
                    images: row.get(3)?,
                    request_key: row.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The generated images on a board (trashed ones too: they were paid for), counted
    /// per model; imported and pasted images cost nothing here and are left out.
    pub fn board_models(&self, board: i64) -> Result<Vec<(String, u32)>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT images.model, count(*) FROM board_images JOIN images ON images.id = board_images.image \
                 WHERE board_images.board = ?1 AND images.provider NOT IN ('import', 'paste') GROUP BY images.model ORDER BY images.model",
            )?;
            let rows = statement.query_map([board], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::library::LibraryPaths;

    fn entry(at_ms: i64, key: Option<&str>, images: u32) -> SpendEntry {
        SpendEntry {
            at_ms,
            provider: "demo".into(),
            model: "qwen-image-plus".into(),
            images,
            request_key: key.map(str::to_owned),
        }
    }

    #[test]
    fn a_request_is_counted_once_and_keyless_answers_each_count() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        assert!(library.record_spend(&entry(10, Some("req-1"), 3)).unwrap());
        assert!(!library.record_spend(&entry(20, Some("req-1"), 3)).unwrap(), "a retry");
        assert!(library.record_spend(&entry(30, None, 1)).unwrap());
        assert!(library.record_spend(&entry(40, None, 1)).unwrap());
        let rows = library.spend_since(0).unwrap();
        assert_eq!(rows.iter().map(|r| r.images).sum::<u32>(), 5);
        assert_eq!(library.spend_since(25).unwrap().len(), 2);
    }
}
