//! Reading the library: filters, full-text search, id lookup.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::Library;
use super::record::{ImageRecord, RECORD_COLUMNS, record_from_row};
use crate::error::{Error, Result};
use crate::metadata::SourceTool;

/// Which images to list. The default lists all live images, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Words that must all occur (case-insensitively, anywhere, also inside words) in the
    /// prompt, negative prompt or revised prompt. Empty = no text filter.
    pub search: String,
    /// Only favourites.
    pub favorites_only: bool,
    /// Only this exact model (empty = any).
    pub model: Option<String>,
    /// Only images created at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only images created before this time (ms since the epoch).
    pub until_ms: Option<i64>,
    /// `true` = only trashed images, `false` = only live ones.
    pub trash: bool,
    /// Only this image's family: it, the images it was made from (and theirs), and the
    /// images made from it (and theirs).
    pub family_of: Option<String>,
    /// Only images with at least this many stars.
    pub min_rating: Option<u8>,
    /// Only images imported with this tool's metadata.
    pub source_tool: Option<SourceTool>,
    /// Only images on this board (row id).
    pub board: Option<i64>,
    /// Only the images of this run (variations, a prompt matrix).
    pub batch: Option<String>,
    /// The order of the list.
    pub order: Order,
    /// At most this many images.
    pub limit: Option<usize>,
    /// Skip this many images first (for paging).
    pub offset: usize,
}

/// The order of a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Order {
    /// Newest in the library first.
    #[default]
    Newest,
    /// By the imported file's own modification time, newest first (images without one,
    /// such as generated ones, by when they were made).
    FileDate,
    /// Most stars first, then newest.
    Rating,
}

impl Order {
    /// The `ORDER BY … LIMIT ? OFFSET ?` of this order.
    fn sql(self) -> &'static str {
        match self {
            Self::Newest => LISTING_ORDER,
            Self::FileDate => "ORDER BY COALESCE(file_modified_ms, created_ms) DESC, id DESC LIMIT ? OFFSET ?",
            Self::Rating => "ORDER BY rating DESC, created_ms DESC, id DESC LIMIT ? OFFSET ?",
        }
    }
}

/// Shortest term the trigram index can match; shorter ones are searched with `LIKE`.
const TRIGRAM: usize = 3;

/// Newest first, then paging (`LIMIT ? OFFSET ?`).
const LISTING_ORDER: &str = "ORDER BY created_ms DESC, id DESC LIMIT ? OFFSET ?";

/// A `WHERE` clause and the values of its `?` placeholders, in order.
#[derive(Debug, Default)]
struct Filter {
    conditions: Vec<String>,
    values: Vec<Value>,
}

impl Filter {
    fn add(&mut self, condition: &str, values: impl IntoIterator<Item = Value>) {
        self.conditions.push(condition.to_owned());
        self.values.extend(values);
    }

    fn for_query(query: &Query) -> Self {
        let mut filter = Self::default();
        filter.add(
            if query.trash {
                "deleted_ms IS NOT NULL"
            } else {
                "deleted_ms IS NULL"
            },
            [],
        );
        if query.favorites_only {
            filter.add("favorite = 1", []);
        }
        if let Some(model) = query.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            filter.add("model = ?", [Value::Text(model.to_owned())]);
        }
        if let Some(since) = query.since_ms {
            filter.add("created_ms >= ?", [Value::Integer(since)]);
        }
        if let Some(until) = query.until_ms {
            filter.add("created_ms < ?", [Value::Integer(until)]);
        }
        if let Some(stars) = query.min_rating.filter(|stars| *stars > 0) {
            filter.add("rating >= ?", [Value::Integer(i64::from(stars))]);
        }
        if let Some(tool) = query.source_tool {
            filter.add("source_tool = ?", [Value::Text(tool.name().to_owned())]);
        }
        if let Some(board) = query.board {
            filter.add(
                "id IN (SELECT image FROM board_images WHERE board = ?)",
                [Value::Integer(board)],
            );
        }
        if let Some(batch) = &query.batch {
            filter.add("batch = ?", [Value::Text(batch.clone())]);
        }
        if let Some(id) = &query.family_of {
            filter.add(
                "id IN (WITH RECURSIVE \
                   up(id) AS (SELECT ? UNION SELECT lineage.parent FROM lineage JOIN up ON lineage.child = up.id), \
                   down(id) AS (SELECT ? UNION SELECT lineage.child FROM lineage JOIN down ON lineage.parent = down.id) \
                 SELECT id FROM up UNION SELECT id FROM down)",
                [Value::Text(id.clone()), Value::Text(id.clone())],
            );
        }
        filter.add_search(&query.search);
        filter
    }

    /// Terms (split at whitespace, and at NUL, which SQLite would read as the end of
    /// the text) of three or more characters go to the trigram index as quoted phrases (so
    /// no user text is read as FTS syntax); shorter ones become escaped `LIKE` patterns.
    fn add_search(&mut self, search: &str) {
        let (long, short): (Vec<&str>, Vec<&str>) = search
            .split(|c: char| c.is_whitespace() || c == '\0')
            .filter(|term| !term.is_empty())
            .partition(|term| term.chars().count() >= TRIGRAM);
        if !long.is_empty() {
            let expression = long
                .iter()
                .map(|term| fts_phrase(term))
                .collect::<Vec<_>>()
                .join(" AND ");
            self.add(
                "seq IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)",
                [Value::Text(expression)],
            );
        }
        for term in short {
            let pattern = Value::Text(like_pattern(term));
            self.add(
                "(prompt LIKE ? ESCAPE '\\' OR negative_prompt LIKE ? ESCAPE '\\' \
                 OR revised_prompt LIKE ? ESCAPE '\\')",
                [pattern.clone(), pattern.clone(), pattern],
            );
        }
    }

    fn where_clause(&self) -> String {
        self.conditions.join(" AND ")
    }
}

/// `term` as an FTS5 string: in double quotes, inner quotes doubled.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// `%term%` with `\`, `%` and `_` escaped for `LIKE … ESCAPE '\'`.
fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Library {
    /// The images matching `query`, in its order.
    pub fn query(&self, query: &Query) -> Result<Vec<ImageRecord>> {
        let filter = Filter::for_query(query);
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM images WHERE {} {}",
            filter.where_clause(),
            query.order.sql()
        );
        let limit = query.limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let values = filter
            .values
            .into_iter()
            .chain([Value::Integer(limit), Value::Integer(offset)]);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params_from_iter(values), record_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many images match `query` (ignoring its limit and offset).
    pub fn count(&self, query: &Query) -> Result<usize> {
        let filter = Filter::for_query(query);
        let sql = format!("SELECT count(*) FROM images WHERE {}", filter.where_clause());
        self.read(|conn| {
            let count: i64 = conn
                .prepare_cached(&sql)?
                .query_row(params_from_iter(filter.values), |row| row.get(0))?;
            Ok(usize::try_from(count).unwrap_or(0))
        })
    }

    /// The image with exactly this id, live or trashed.
    pub fn get(&self, id: &str) -> Result<Option<ImageRecord>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM images WHERE id = ?1");
        self.read(|conn| Ok(conn.prepare_cached(&sql)?.query_row([id], record_from_row).optional()?))
    }

    /// The ids of the images made from `id` (it was one of their references), newest
    /// first, live ones only.
    pub fn children(&self, id: &str) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT DISTINCT images.id FROM lineage JOIN images ON images.id = lineage.child \
                 WHERE lineage.parent = ?1 AND images.deleted_ms IS NULL ORDER BY images.created_ms DESC",
            )?;
            let rows = statement.query_map([id], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The full id of the one image (live or trashed) whose id starts with `prefix`
    /// (case-insensitive). No match or several matches is an invalid-request error.
    pub fn resolve_id(&self, prefix: &str) -> Result<String> {
        let prefix = prefix.trim().to_ascii_uppercase();
        if prefix.is_empty() {
            return Err(Error::invalid("give an image id (or its first characters)"));
        }
        let not_found = || Error::invalid(format!("no image in the library has an id starting with “{prefix}”"));
        if !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(not_found());
        }
        let matches = self.read(|conn| ids_with_prefix(conn, &prefix))?;
        match matches.as_slice() {
            [] => Err(not_found()),
            [only] => Ok(only.clone()),
            [first, second, ..] => Err(Error::invalid(format!(
                "“{prefix}” matches several images ({first}, {second}, …); give more characters of the id"
            ))),
        }
    }

    /// The distinct non-empty model names in the library (live or trashed), sorted.
    pub fn models(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut statement =
                conn.prepare_cached("SELECT DISTINCT model FROM images WHERE model <> '' ORDER BY model")?;
            let rows = statement.query_map([], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// Up to two ids starting with `prefix` (ids are upper-case Crockford base32, all below `~`).
fn ids_with_prefix(conn: &Connection, prefix: &str) -> Result<Vec<String>> {
    let mut statement =
        conn.prepare_cached("SELECT id FROM images WHERE id >= ?1 AND id < ?1 || '~' ORDER BY id LIMIT 2")?;
    let rows = statement.query_map(params![prefix], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_quoted_and_inner_quotes_doubled() {
        assert_eq!(fts_phrase("moun"), "\"moun\"");
        assert_eq!(fts_phrase("a\"b*"), "\"a\"\"b*\"");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("山水"), "%山水%");
        assert_eq!(like_pattern("5%"), "%5\\%%");
        assert_eq!(like_pattern("a_\\"), "%a\\_\\\\%");
    }

    #[test]
    fn search_splits_terms_by_length() {
        let mut filter = Filter::default();
        filter.add_search("  山水  mountain  ab ");
        assert_eq!(filter.conditions.len(), 3);
        assert_eq!(filter.values.first(), Some(&Value::Text("\"mountain\"".into())));
        assert_eq!(filter.values.len(), 1 + 3 + 3);
    }

    /// The plan SQLite picks for `query`'s listing, one step per line.
    fn listing_plan(query: &Query) -> String {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let filter = Filter::for_query(query);
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT {RECORD_COLUMNS} FROM images WHERE {} {LISTING_ORDER}",
            filter.where_clause()
        );
        let values = filter.values.into_iter().chain([Value::Integer(-1), Value::Integer(0)]);
        let mut statement = conn.prepare(&sql).unwrap();
        let steps = statement
            .query_map(params_from_iter(values), |row| row.get::<_, String>(3))
            .unwrap();
        steps.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn gallery_listings_use_an_index_without_sorting() {
        for query in [
            Query::default(),
            Query {
                trash: true,
                ..Query::default()
            },
            Query {
                favorites_only: true,
                ..Query::default()
            },
            Query {
                model: Some("qwen-image".into()),
                ..Query::default()
            },
        ] {
            let plan = listing_plan(&query);
            assert!(plan.contains("USING INDEX"), "{query:?}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{query:?}: {plan}");
        }
    }

    #[test]
    fn empty_search_adds_no_condition() {
        let mut filter = Filter::default();
        filter.add_search("   ");
        assert!(filter.conditions.is_empty());
    }
}
