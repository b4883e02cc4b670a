//! One catalogue row: what goes in ([`NewImage`]), what comes out ([`ImageRecord`]),
//! and the mapping between them and SQL.

use std::path::PathBuf;

use rusqlite::{Connection, Row, params};

use crate::error::Result;
use crate::metadata::{ImageMeta, SourceTool};

/// An image ready to be stored: the bytes exactly as they will be on disk (already
/// carrying their embedded metadata), their pixel size and a JPEG thumbnail.
#[derive(Clone, Copy, Debug)]
pub struct NewImage<'a> {
    /// Parameters and provenance; `created_ms` decides the `images/YYYY/MM` folder.
    pub meta: &'a ImageMeta,
    /// The file's bytes.
    pub bytes: &'a [u8],
    /// `"png"`, `"jpg"` or `"webp"` (`"jpeg"` and upper case are accepted too).
    pub extension: &'a str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The thumbnail as JPEG bytes; empty = no thumbnail yet.
    pub thumbnail_jpeg: &'a [u8],
}

/// What the caller's check proved about an image being stored (see
/// [`crate::library::Library::insert_checked`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// The thumbnail as JPEG bytes; empty = none yet.
    pub thumbnail_jpeg: Vec<u8>,
    /// A hash of the decoded pixels; `None` when the check computed none.
    pub pixel_hash: Option<String>,
}

/// How an insert that refuses duplicates ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Insertion {
    /// Stored as a new image.
    Stored(ImageRecord),
    /// Not stored: this live image has the same pixels.
    AlreadyThere(ImageRecord),
}

/// One image of the library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRecord {
    /// ULID: unique and sortable by creation time.
    pub id: String,
    /// Parameters and provenance.
    pub meta: ImageMeta,
    /// The image file relative to the data directory: `images/YYYY/MM/<id>.<ext>`.
    pub file: PathBuf,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Marked as a favourite.
    pub favorite: bool,
    /// Stars given, 1–5; 0 = not rated.
    pub rating: u8,
    /// When it was moved to the trash (milliseconds since the epoch); `None` = live.
    pub deleted_ms: Option<i64>,
    /// The file was not on disk when the library was last opened.
    pub missing: bool,
}

#[cfg(test)]
impl ImageRecord {
    /// A live 1×1 record with `meta` and no file, for unit tests of what shows records.
    pub(crate) fn for_tests(id: &str, meta: ImageMeta) -> Self {
        Self {
            id: id.to_owned(),
            meta,
            file: PathBuf::new(),
            width: 1,
            height: 1,
            favorite: false,
            rating: 0,
            deleted_ms: None,
            missing: false,
        }
    }
}

/// The columns [`record_from_row`] reads, in order, for `SELECT {RECORD_COLUMNS} FROM images`.
pub const RECORD_COLUMNS: &str = "id, created_ms, model, prompt, negative_prompt, revised_prompt, size, seed, \
     prompt_extend, watermark, provider, request_id, params_json, file, width, height, favorite, \
     deleted_ms, missing, rating, batch";

/// Builds a record from a row selected with [`RECORD_COLUMNS`].
///
/// The metadata comes from `params_json` (which keeps every field, including ones newer
/// than the columns); if that is unreadable, from the columns.
pub fn record_from_row(row: &Row<'_>) -> rusqlite::Result<ImageRecord> {
    let params_json: String = row.get("params_json")?;
    let meta = match serde_json::from_str::<ImageMeta>(&params_json) {
        Ok(meta) => meta,
        Err(err) => {
            tracing::warn!(%err, "unreadable params_json in the library; using the columns");
            meta_from_columns(row)?
        }
    };
    let file: String = row.get("file")?;
    Ok(ImageRecord {
        id: row.get("id")?,
        meta,
        file: super::files::resolve_relative(std::path::Path::new(""), &file),
        width: row.get("width")?,
        height: row.get("height")?,
        favorite: row.get("favorite")?,
        rating: row.get("rating")?,
        deleted_ms: row.get("deleted_ms")?,
        missing: row.get("missing")?,
    })
}

fn meta_from_columns(row: &Row<'_>) -> rusqlite::Result<ImageMeta> {
    Ok(ImageMeta {
        prompt: row.get("prompt")?,
        negative_prompt: row.get("negative_prompt")?,
        revised_prompt: row.get("revised_prompt")?,
        model: row.get("model")?,
        size: row.get("size")?,
        seed: row.get("seed")?,
        prompt_extend: row.get("prompt_extend")?,
        watermark: row.get("watermark")?,
        provider: row.get("provider")?,
        request_id: row.get("request_id")?,
        created_ms: row.get("created_ms")?,
        parents: Vec::new(),
        source: None,
        batch: row.get("batch")?,
    })
}

/// What a new row holds besides its metadata.
pub struct RowPlacement<'a> {
    /// The ULID.
    pub id: &'a str,
    /// `/`-separated path relative to the data directory.
    pub file: &'a str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// A hash of the decoded pixels (finds the same image again); `None` when unknown.
    pub pixel_hash: Option<&'a str>,
}

/// Inserts one live, non-favourite row (the full-text index follows by trigger).
pub fn insert_row(conn: &Connection, meta: &ImageMeta, placement: &RowPlacement<'_>) -> Result<()> {
    let params_json =
        serde_json::to_string(meta).map_err(|err| crate::Error::storage("could not encode image metadata", err))?;
    let source = meta.source.as_ref();
    conn.prepare_cached(
        "INSERT INTO images (id, created_ms, model, prompt, negative_prompt, revised_prompt, size, seed, \
         prompt_extend, watermark, provider, request_id, params_json, file, width, height, pixel_hash, \
         source_tool, file_modified_ms, batch) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?
    .execute(params![
        placement.id,
        meta.created_ms,
        meta.model,
        meta.prompt,
        meta.negative_prompt,
        meta.revised_prompt,
        meta.size,
        meta.seed,
        meta.prompt_extend,
        meta.watermark,
        meta.provider,
        meta.request_id,
        params_json,
        placement.file,
        placement.width,
        placement.height,
        placement.pixel_hash,
        source.and_then(|source| source.tool).map(SourceTool::name),
        source.and_then(|source| source.modified_ms),
        meta.batch,
    ])?;
    let mut lineage = conn.prepare_cached("INSERT INTO lineage (child, position, parent) VALUES (?1, ?2, ?3)")?;
    for (position, parent) in (0i64..).zip(&meta.parents) {
        lineage.execute(params![placement.id, position, parent])?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample_meta() -> ImageMeta {
        ImageMeta {
            prompt: "一幅传统的中国山水画".into(),
            negative_prompt: "blurry".into(),
            revised_prompt: Some("revised".into()),
            model: "qwen-image-plus".into(),
            size: "1328*1328".into(),
            seed: Some(42),
            prompt_extend: true,
            watermark: false,
            provider: "demo".into(),
            request_id: Some("req-1".into()),
            created_ms: 1_700_000_000_000,
            parents: Vec::new(),
            source: None,
            batch: Some("run-1".into()),
        }
    }

    fn database() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        conn
    }

    fn read_back(conn: &Connection) -> ImageRecord {
        conn.query_row(&format!("SELECT {RECORD_COLUMNS} FROM images"), [], record_from_row)
            .unwrap()
    }

    #[test]
    fn a_row_round_trips() {
        let conn = database();
        let meta = sample_meta();
        let placement = RowPlacement {
            id: "01ID",
            file: "images/2023/11/01ID.png",
            width: 3,
            height: 4,
            pixel_hash: None,
        };
        insert_row(&conn, &meta, &placement).unwrap();
        let record = read_back(&conn);
        assert_eq!(record.id, "01ID");
        assert_eq!(record.meta, meta);
        assert_eq!(
            record.file,
            PathBuf::from("images").join("2023").join("11").join("01ID.png")
        );
        assert_eq!((record.width, record.height), (3, 4));
        assert!(!record.favorite && !record.missing);
        assert_eq!(record.deleted_ms, None);
    }

    #[test]
    fn unreadable_params_json_falls_back_to_the_columns() {
        let conn = database();
        let meta = sample_meta();
        let placement = RowPlacement {
            id: "01ID",
            file: "images/x.png",
            width: 1,
            height: 1,
            pixel_hash: None,
        };
        insert_row(&conn, &meta, &placement).unwrap();
        conn.execute("UPDATE images SET params_json = 'not json'", []).unwrap();
        assert_eq!(read_back(&conn).meta, meta);
    }
}
