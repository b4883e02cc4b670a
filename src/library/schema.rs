//! The catalogue schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! [`MIGRATIONS`]`[n]` takes a database from version `n` to `n + 1`. To change the
//! schema, append a step; never edit a released one.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, ErrorKind, Result};

/// Version 1: images with their metadata as columns, trigram full-text index kept in
/// sync by triggers, and the pending-download queue.
const V1_INITIAL: &str = r#"
CREATE TABLE images (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    created_ms      INTEGER NOT NULL,
    model           TEXT    NOT NULL,
    prompt          TEXT    NOT NULL,
    negative_prompt TEXT    NOT NULL,
    revised_prompt  TEXT,
    size            TEXT    NOT NULL,
    seed            INTEGER,
    prompt_extend   INTEGER NOT NULL,
    watermark       INTEGER NOT NULL,
    provider        TEXT    NOT NULL,
    request_id      TEXT,
    params_json     TEXT    NOT NULL,
    file            TEXT    NOT NULL UNIQUE,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    favorite        INTEGER NOT NULL DEFAULT 0,
    deleted_ms      INTEGER,
    missing         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX images_by_created ON images (created_ms DESC, id DESC);
CREATE INDEX images_by_deleted ON images (deleted_ms, created_ms DESC, id DESC);
CREATE INDEX images_by_favorite ON images (favorite, created_ms DESC, id DESC);
CREATE INDEX images_by_model ON images (model, created_ms DESC, id DESC);

CREATE VIRTUAL TABLE images_fts USING fts5 (
    prompt, negative_prompt, revised_prompt,
    content = 'images', content_rowid = 'seq',
    tokenize = 'trigram case_sensitive 0'
);
CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
    INSERT INTO images_fts (rowid, prompt, negative_prompt, revised_prompt)
    VALUES (new.seq, new.prompt, new.negative_prompt, new.revised_prompt);
END;
CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt, negative_prompt, revised_prompt)
    VALUES ('delete', old.seq, old.prompt, old.negative_prompt, old.revised_prompt);
END;
CREATE TRIGGER images_fts_update AFTER UPDATE OF prompt, negative_prompt, revised_prompt ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt, negative_prompt, revised_prompt)
    VALUES ('delete', old.seq, old.prompt, old.negative_prompt, old.revised_prompt);
    INSERT INTO images_fts (rowid, prompt, negative_prompt, revised_prompt)
    VALUES (new.seq, new.prompt, new.negative_prompt, new.revised_prompt);
END;

CREATE TABLE pending_downloads (
    id          INTEGER PRIMARY KEY,
    url         TEXT    NOT NULL,
    meta_json   TEXT    NOT NULL,
    deadline_ms INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pending_by_deadline ON pending_downloads (deadline_ms);
"#;

/// Version 2: lineage, one row per (image, reference) in the prompt's order, so an
/// image's parents and its edits are both one indexed look-up away.
const V2_LINEAGE: &str = r#"
CREATE TABLE lineage (
    child    TEXT    NOT NULL,
    position INTEGER NOT NULL,
    parent   TEXT    NOT NULL,
    PRIMARY KEY (child, position)
);
CREATE INDEX lineage_by_parent ON lineage (parent);
CREATE TRIGGER lineage_on_delete AFTER DELETE ON images BEGIN
    DELETE FROM lineage WHERE child = old.id;
END;
"#;

/// Version 3: asynchronous tasks created at the service and not yet collected, so a
/// restart resumes them (their images are already paid for) until they expire.
const V3_PENDING_TASKS: &str = r#"
CREATE TABLE pending_tasks (
    id           INTEGER PRIMARY KEY,
    origin       TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    task_id      TEXT    NOT NULL,
    request_json TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    deadline_ms  INTEGER NOT NULL,
    UNIQUE (origin, task_id)
);
"#;

/// Version 4: imports from other tools. A hash of the decoded pixels finds an image
/// already in the library (never stored twice); the source tool and the file's own
/// modification time are columns so the gallery can filter and sort by them.
const V4_IMPORTS: &str = r#"
ALTER TABLE images ADD COLUMN pixel_hash TEXT;
ALTER TABLE images ADD COLUMN source_tool TEXT;
ALTER TABLE images ADD COLUMN file_modified_ms INTEGER;
CREATE INDEX images_by_pixel_hash ON images (pixel_hash);
CREATE INDEX images_by_size ON images (width, height) WHERE pixel_hash IS NULL;
CREATE INDEX images_by_source_tool ON images (source_tool, created_ms DESC, id DESC);
CREATE INDEX images_by_file_modified ON images (file_modified_ms DESC, id DESC);
"#;

/// Version 5: ratings, 1–5 stars (0 = not rated), for filtering and sorting the keepers.
const V5_RATINGS: &str = r#"
ALTER TABLE images ADD COLUMN rating INTEGER NOT NULL DEFAULT 0;
CREATE INDEX images_by_rating ON images (rating DESC, created_ms DESC, id DESC);
"#;

/// Version 6: the studio. Boards hold any images (an image can be on several; a board's
/// rows go with it and with a deleted image). `batch` groups the images of one
/// variations or prompt-matrix run. The prompt library keeps prompts, negative prompts
/// and styles. The spend ledger has one row per answered request with the images the
/// service billed, keyed by its request (or task) id so a retry never counts twice.
const V6_STUDIO: &str = r#"
CREATE TABLE boards (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_ms INTEGER NOT NULL
);
CREATE TABLE board_images (
    board    INTEGER NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    image    TEXT    NOT NULL,
    added_ms INTEGER NOT NULL,
    PRIMARY KEY (board, image)
);
CREATE INDEX board_images_by_image ON board_images (image);
CREATE TRIGGER board_images_on_delete AFTER DELETE ON images BEGIN
    DELETE FROM board_images WHERE image = old.id;
END;

ALTER TABLE images ADD COLUMN batch TEXT;
CREATE INDEX images_by_batch ON images (batch) WHERE batch IS NOT NULL;

CREATE TABLE prompts (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    negative   TEXT    NOT NULL DEFAULT '',
    tags       TEXT    NOT NULL DEFAULT '',
    starred    INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    used_ms    INTEGER,
    UNIQUE (kind, name)
);

CREATE TABLE spend (
    id          INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    provider    TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    images      INTEGER NOT NULL,
    request_key TEXT    UNIQUE
);
CREATE INDEX spend_by_time ON spend (at_ms);
"#;

/// The migration steps in order; the schema version is the number of steps applied.
const MIGRATIONS: &[&str] = &[
    V1_INITIAL,
    V2_LINEAGE,
    V3_PENDING_TASKS,
    V4_IMPORTS,
    V5_RATINGS,
    V6_STUDIO,
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the database up to [`current_version`] in one write transaction.
///
/// A database from a newer Pictor (higher version) is refused rather than touched.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let target = current_version();
    if found > target {
        return Err(Error::new(
            ErrorKind::Storage,
            format!(
                "the library was written by a newer Pictor (schema version {found}; this version knows up to {target})"
            ),
        ));
    }
    let already_applied = usize::try_from(found).unwrap_or(0);
    for step in MIGRATIONS.iter().skip(already_applied) {
        tx.execute_batch(step)?;
    }
    if found != target {
        tx.pragma_update(None, "user_version", target)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn user_version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn migrates_an_empty_database_to_the_current_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), current_version());
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('images', 'images_fts', 'pending_downloads', 'pending_tasks')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 4);
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), current_version());
    }

    #[test]
    fn refuses_a_database_from_a_newer_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", current_version() + 1).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Storage);
        assert!(err.message.contains("newer Pictor"), "{}", err.message);
    }

    #[test]
    fn a_version_1_library_gains_lineage_and_keeps_its_images() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1_INITIAL).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO images (id, created_ms, model, prompt, negative_prompt, size, prompt_extend, watermark, \
             provider, params_json, file, width, height) \
             VALUES ('01A', 1, 'qwen-image-plus', '山水', '', '1328*1328', 1, 0, 'demo', '{}', 'images/x.png', 1, 1)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), current_version());
        let images: i64 = conn
            .query_row("SELECT count(*) FROM images", [], |row| row.get(0))
            .unwrap();
        assert_eq!(images, 1);
        conn.execute(
            "INSERT INTO lineage (child, position, parent) VALUES ('01A', 0, '01P')",
            [],
        )
        .unwrap();
        // Deleting the image deletes its lineage rows.
        conn.execute("DELETE FROM images WHERE id = '01A'", []).unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM lineage", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
