//! Boards: named collections that hold any images. An image can be on several boards;
//! a board's rows go with it, and an image's rows go when the image is deleted for good.

use rusqlite::{OptionalExtension, params};

use super::Library;
use crate::error::{Error, Result};
use crate::metadata::ImageMeta;

/// The longest board name, in characters.
pub const MAX_BOARD_NAME: usize = 80;

/// One board and how many live images it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Board {
    /// Row id.
    pub id: i64,
    /// Its name, unique regardless of letter case.
    pub name: String,
    /// Live (not trashed) images on it.
    pub count: usize,
}

/// A board name trimmed and checked: not empty, at most [`MAX_BOARD_NAME`] characters,
/// no control characters.
pub fn board_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("give the board a name"));
    }
    if name.chars().count() > MAX_BOARD_NAME {
        return Err(Error::invalid(format!(
            "a board name is at most {MAX_BOARD_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("a board name cannot hold control characters"));
    }
    Ok(name.to_owned())
}

impl Library {
    /// Every board with its count of live images, by name.
    pub fn boards(&self) -> Result<Vec<Board>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT boards.id, boards.name, \
                   (SELECT count(*) FROM board_images JOIN images ON images.id = board_images.image \
                    WHERE board_images.board = boards.id AND images.deleted_ms IS NULL) \
                 FROM boards ORDER BY boards.name COLLATE NOCASE",
            )?;
            let rows = statement.query_map([], board_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The board called `name` (any letter case), if there is one.
    pub fn board_named(&self, name: &str) -> Result<Option<Board>> {
        let name = name.trim().to_owned();
        Ok(self
            .boards()?
            .into_iter()
            .find(|board| board.name.eq_ignore_ascii_case(&name)))
    }

    /// Creates a board called `name`, or returns the one that already has that name.
    pub fn create_board(&self, name: &str) -> Result<Board> {
        let name = board_name(name)?;
        let id = self.write(|tx| {
            tx.prepare_cached("INSERT INTO boards (name, created_ms) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")?
                .execute(params![name, ImageMeta::now_ms()])?;
            Ok(tx.query_row("SELECT id FROM boards WHERE name = ?1", [&name], |row| {
                row.get::<_, i64>(0)
            })?)
        })?;
        self.board(id)?
            .ok_or_else(|| Error::invalid(format!("the board “{name}” vanished while it was made")))
    }

    /// The board with row id `id`.
    pub fn board(&self, id: i64) -> Result<Option<Board>> {
        Ok(self.boards()?.into_iter().find(|board| board.id == id))
    }

    /// Renames a board; refused when another board already has the name.
    pub fn rename_board(&self, id: i64, name: &str) -> Result<()> {
        let name = board_name(name)?;
        self.write(|tx| {
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT id FROM boards WHERE name = ?1 AND id <> ?2",
                    params![name, id],
                    |row| row.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(Error::invalid(format!("there is already a board called “{name}”")));
            }
            tx.execute("UPDATE boards SET name = ?2 WHERE id = ?1", params![id, name])?;
            Ok(())
        })
    }

    /// Deletes a board (its images stay in the library).
    pub fn delete_board(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM boards WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Puts images on a board; returns how many were not on it before. Ids that name no
    /// image are skipped.
    pub fn add_to_board(&self, board: i64, ids: &[String]) -> Result<usize> {
        let now = ImageMeta::now_ms();
        self.write(|tx| {
            let mut statement = tx.prepare_cached(
                "INSERT INTO board_images (board, image, added_ms) \
                 SELECT ?1, id, ?3 FROM images WHERE id = ?2 ON CONFLICT DO NOTHING",
            )?;
            let mut added = 0;
            for id in ids {
                added += statement.execute(params![board, id, now])?;
            }
            Ok(added)
        })
    }

    /// Takes images off a board; returns how many were on it.
    pub fn remove_from_board(&self, board: i64, ids: &[String]) -> Result<usize> {
        self.write(|tx| {
            let mut statement = tx.prepare_cached("DELETE FROM board_images WHERE board = ?1 AND image = ?2")?;
            let mut removed = 0;
            for id in ids {
                removed += statement.execute(params![board, id])?;
            }
            Ok(removed)
        })
    }

    /// The names of the boards `id` is on, by name.
    pub fn boards_of(&self, id: &str) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT boards.name FROM board_images JOIN boards ON boards.id = board_images.board \
                 WHERE board_images.image = ?1 ORDER BY boards.name COLLATE NOCASE",
            )?;
            let rows = statement.query_map([id], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

fn board_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Board> {
    let count: i64 = row.get(2)?;
    Ok(Board {
        id: row.get(0)?,
        name: row.get(1)?,
        count: usize::try_from(count).unwrap_or(0),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::library::{LibraryPaths, Query};

    fn library_with(count: usize) -> (tempfile::TempDir, Library, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        let metas: Vec<_> = (0..count)
            .map(|i| ImageMeta {
                prompt: format!("picture {i}"),
                model: "qwen-image-plus".into(),
                created_ms: 1_700_000_000_000 + i64::try_from(i).unwrap(),
                ..ImageMeta::default()
            })
            .collect();
        let ids = library.insert_rows_for_test(&metas).unwrap();
        (dir, library, ids)
    }

    #[test]
    fn an_image_can_be_on_several_boards_and_listings_follow_the_board() {
        let (_dir, library, ids) = library_with(3);
        let keepers = library.create_board("Keepers").unwrap();
        let client = library.create_board("Client A").unwrap();
        assert_eq!(library.add_to_board(keepers.id, &ids[..2]).unwrap(), 2);
        assert_eq!(library.add_to_board(keepers.id, &ids[..2]).unwrap(), 0, "already there");
        assert_eq!(library.add_to_board(client.id, &ids[1..]).unwrap(), 2);
        assert_eq!(library.add_to_board(client.id, &["NOPE".to_owned()]).unwrap(), 0);
        let on_board = |board: i64| {
            let query = Query {
                board: Some(board),
                ..Query::default()
            };
            let mut ids: Vec<_> = library.query(&query).unwrap().into_iter().map(|r| r.id).collect();
            ids.sort();
            ids
        };
        let sorted = |ids: &[String]| {
            let mut ids = ids.to_vec();
            ids.sort();
            ids
        };
        assert_eq!(on_board(keepers.id), sorted(&ids[..2]));
        assert_eq!(on_board(client.id), sorted(&ids[1..]));
        assert_eq!(library.boards_of(&ids[1]).unwrap(), ["Client A", "Keepers"]);
        assert_eq!(library.remove_from_board(keepers.id, &ids[..1]).unwrap(), 1);
        assert_eq!(on_board(keepers.id), ids[1..2].to_vec());
    }

    #[test]
    fn names_are_unique_regardless_of_case_and_checked() {
        let (_dir, library, _) = library_with(0);
        let first = library.create_board("Keepers").unwrap();
        assert_eq!(library.create_board("  keepers ").unwrap().id, first.id);
        assert!(library.create_board("   ").is_err());
        assert!(library.create_board(&"x".repeat(MAX_BOARD_NAME + 1)).is_err());
        let other = library.create_board("Other").unwrap();
        assert!(library.rename_board(other.id, "KEEPERS").is_err());
        library.rename_board(other.id, "Print").unwrap();
        assert_eq!(library.board_named("print").unwrap().map(|b| b.id), Some(other.id));
    }

    #[test]
    fn counts_skip_the_trash_and_rows_go_with_the_board_and_the_image() {
        let (_dir, library, ids) = library_with(2);
        let board = library.create_board("Keepers").unwrap();
        library.add_to_board(board.id, &ids).unwrap();
        library.trash(&ids[..1]).unwrap();
        assert_eq!(library.board(board.id).unwrap().unwrap().count, 1);
        library.empty_trash().unwrap();
        assert_eq!(library.boards_of(&ids[0]).unwrap(), Vec::<String>::new());
        library.delete_board(board.id).unwrap();
        assert!(library.boards().unwrap().is_empty());
        assert_eq!(library.query(&Query::default()).unwrap().len(), 1, "images stay");
    }
}
