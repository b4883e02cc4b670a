//! Downloads that could not be fetched yet: the link is kept and retried until its
//! deadline (signed links live 24 hours).

use rusqlite::{Connection, params};

use super::Library;
use crate::error::{Error, Result};
use crate::metadata::ImageMeta;

/// A generated image whose download failed and will be retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingDownload {
    /// Row id; 0 for one not stored yet.
    pub id: i64,
    /// The signed link to the image.
    pub url: String,
    /// Parameters and provenance of the image, stored with it once downloaded.
    pub meta: ImageMeta,
    /// After this time (ms since the epoch) the link is dead and the entry is dropped.
    pub deadline_ms: i64,
    /// How many downloads have been tried.
    pub attempts: u32,
}

impl Library {
    /// Stores a pending download: a new one when `pending.id` is 0, else replaces the
    /// stored one with that id (to record another attempt). The URL must be absolute.
    pub fn add_pending(&self, pending: &PendingDownload) -> Result<()> {
        url::Url::parse(&pending.url)
            .map_err(|err| Error::invalid(format!("“{}” is not a download link: {err}", pending.url)))?;
        let meta_json = serde_json::to_string(&pending.meta)
            .map_err(|err| Error::storage("could not encode image metadata", err))?;
        let id = (pending.id != 0).then_some(pending.id);
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO pending_downloads (id, url, meta_json, deadline_ms, attempts) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                id,
                pending.url,
                meta_json,
                pending.deadline_ms,
                pending.attempts
            ])?;
            Ok(())
        })
    }

    /// The pending downloads whose deadline has not passed, earliest deadline first.
    /// Expired ones are deleted.
    pub fn pending(&self) -> Result<Vec<PendingDownload>> {
        let now = ImageMeta::now_ms();
        self.write(|tx| {
            tx.execute("DELETE FROM pending_downloads WHERE deadline_ms <= ?1", [now])?;
            live_pending(tx)
        })
    }

    /// Forgets a pending download (done, or given up). An unknown id is not an error.
    pub fn remove_pending(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM pending_downloads WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}

fn live_pending(conn: &Connection) -> Result<Vec<PendingDownload>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, url, meta_json, deadline_ms, attempts FROM pending_downloads ORDER BY deadline_ms, id",
    )?;
    let rows = statement.query_map([], |row| {
        let meta_json: String = row.get(2)?;
        Ok(PendingDownload {
            id: row.get(0)?,
            url: row.get(1)?,
            meta: serde_json::from_str(&meta_json).unwrap_or_else(|err| {
                tracing::warn!(%err, "unreadable metadata of a pending download");
                ImageMeta::default()
            }),
            deadline_ms: row.get(3)?,
            attempts: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
