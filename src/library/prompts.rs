//! The prompt library: saved prompts, negative prompts and styles, with names, tags, a
//! star, and when each was last used (for "recent").

use rusqlite::{Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::Library;
use crate::error::{Error, Result};
use crate::metadata::ImageMeta;

/// What a saved entry is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// A prompt: inserting it replaces the compose panel's prompt.
    #[default]
    Prompt,
    /// A negative prompt: inserting it replaces the negative prompt.
    Negative,
    /// A style: its text is appended to the prompt and its negative to the negative prompt.
    Style,
}

impl PromptKind {
    /// The name stored in the database and in exported files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Prompt => "prompt",
            Self::Negative => "negative",
            Self::Style => "style",
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "negative" => Self::Negative,
            "style" => Self::Style,
            _ => Self::Prompt,
        }
    }
}

/// One entry of the prompt library (also the shape of an exported entry).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedPrompt {
    /// Row id; 0 for one not stored yet (never exported).
    #[serde(skip)]
    pub id: i64,
    /// Prompt, negative prompt or style.
    pub kind: PromptKind,
    /// Its name, unique within its kind.
    pub name: String,
    /// The prompt, the negative prompt, or the text a style appends to the prompt. May
    /// hold `{variables}`, filled in when it is inserted.
    pub text: String,
    /// A style's negative prompt (empty for the other kinds).
    pub negative: String,
    /// Tags to find it by.
    pub tags: Vec<String>,
    /// Starred entries come first.
    pub starred: bool,
    /// When it was saved (ms since the epoch).
    pub created_ms: i64,
    /// When it was last inserted (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_ms: Option<i64>,
}

impl SavedPrompt {
    /// `true` when every word of `search` occurs (case-insensitively) in its name, text,
    /// negative prompt or tags.
    pub fn matches(&self, search: &str) -> bool {
        let haystack = format!(
            "{}\n{}\n{}\n{}",
            self.name,
            self.text,
            self.negative,
            self.tags.join(" ")
        )
        .to_lowercase();
        search
            .split_whitespace()
            .all(|word| haystack.contains(&word.to_lowercase()))
    }

    /// Why it cannot be saved, if it cannot: no name, a name over [`MAX_NAME`]
    /// characters, or no text at all.
    pub fn check(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Error::invalid("give the saved prompt a name"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(Error::invalid(format!("a name is at most {MAX_NAME} characters")));
        }
        if self.text.trim().is_empty() && self.negative.trim().is_empty() {
            return Err(Error::invalid("there is no text to save"));
        }
        Ok(())
    }
}

/// The longest name of a saved prompt, in characters.
const MAX_NAME: usize = 120;

impl Library {
    /// Saves `prompt` under its kind and name; an entry with the same kind and name is
    /// replaced (keeping its star and when it was last used). Returns the row id.
    pub fn save_prompt(&self, prompt: &SavedPrompt) -> Result<i64> {
        prompt.check()?;
        self.write(|tx| upsert(tx, prompt))
    }

    /// Every saved entry: starred first, then the most recently used, then by name.
    pub fn prompts(&self) -> Result<Vec<SavedPrompt>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, kind, name, text, negative, tags, starred, created_ms, used_ms FROM prompts \
                 ORDER BY starred DESC, used_ms IS NULL, used_ms DESC, name COLLATE NOCASE",
            )?;
            let rows = statement.query_map([], prompt_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Stars or unstars a saved entry.
    pub fn set_prompt_starred(&self, id: i64, starred: bool) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE prompts SET starred = ?2 WHERE id = ?1", params![id, starred])?;
            Ok(())
        })
    }

    /// Notes that a saved entry was just inserted (it moves up in "recent").
    pub fn mark_prompt_used(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE prompts SET used_ms = ?2 WHERE id = ?1",
                params![id, ImageMeta::now_ms()],
            )?;
            Ok(())
        })
    }

    /// Deletes a saved entry.
    pub fn delete_prompt(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM prompts WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}

/// Tags trimmed, empty ones and repeats dropped, commas removed (they separate tags).
fn normalised_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.replace(',', " ").trim().to_owned();
        if !tag.is_empty() && !out.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            out.push(tag);
        }
    }
    out
}

/// Inserts `prompt` (already [`SavedPrompt::check`]ed), or replaces the text, negative
/// prompt and tags of the entry with its kind and name (its star is kept, or set when
/// `prompt` is starred). Returns the row id.
pub(super) fn upsert(tx: &Transaction<'_>, prompt: &SavedPrompt) -> Result<i64> {
    let name = prompt.name.trim();
    let tags = normalised_tags(&prompt.tags).join(",");
    let created = if prompt.created_ms > 0 {
        prompt.created_ms
    } else {
        ImageMeta::now_ms()
    };
    tx.prepare_cached(
        "INSERT INTO prompts (kind, name, text, negative, tags, starred, created_ms, used_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (kind, name) DO UPDATE SET text = excluded.text, negative = excluded.negative, \
         tags = excluded.tags, starred = max(starred, excluded.starred)",
    )?
    .execute(params![
        prompt.kind.name(),
        name,
        prompt.text.trim(),
        prompt.negative.trim(),
        tags,
        prompt.starred,
        created,
        prompt.used_ms
    ])?;
    Ok(tx.query_row(
        "SELECT id FROM prompts WHERE kind = ?1 AND name = ?2",
        params![prompt.kind.name(), name],
        |row| row.get(0),
    )?)
}

fn prompt_from_row(row: &Row<'_>) -> rusqlite::Result<SavedPrompt> {
    let kind: String = row.get(1)?;
    let tags: String = row.get(5)?;
    Ok(SavedPrompt {
        id: row.get(0)?,
        kind: PromptKind::from_name(&kind),
        name: row.get(2)?,
        text: row.get(3)?,
        negative: row.get(4)?,
        tags: tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        starred: row.get(6)?,
        created_ms: row.get(7)?,
        used_ms: row.get(8)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::library::LibraryPaths;

    fn style(name: &str) -> SavedPrompt {
        SavedPrompt {
            kind: PromptKind::Style,
            name: name.into(),
            text: "ink wash, soft light".into(),
            negative: "blurry".into(),
            tags: vec!["ink".into(), " ink ".into(), "a,b".into(), String::new()],
            ..SavedPrompt::default()
        }
    }

    #[test]
    fn saving_the_same_name_replaces_and_starred_then_recent_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        let ink = library.save_prompt(&style("Ink")).unwrap();
        let photo = library.save_prompt(&style("Photo")).unwrap();
        let zebra = library.save_prompt(&style("Zebra")).unwrap();
        let mut changed = style("Ink");
        changed.text = "ink wash, dusk".into();
        assert_eq!(library.save_prompt(&changed).unwrap(), ink);
        library.set_prompt_starred(zebra, true).unwrap();
        library.mark_prompt_used(photo).unwrap();
        let all = library.prompts().unwrap();
        let names: Vec<_> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Zebra", "Photo", "Ink"]);
        let ink = all.iter().find(|p| p.name == "Ink").unwrap();
        assert_eq!(ink.text, "ink wash, dusk");
        assert_eq!(ink.tags, ["ink", "a b"]);
        assert!(ink.matches("DUSK ink"));
        assert!(!ink.matches("photo"));
    }

    #[test]
    fn nameless_or_empty_entries_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        assert!(library.save_prompt(&style("  ")).is_err());
        let empty = SavedPrompt {
            name: "x".into(),
            ..SavedPrompt::default()
        };
        assert!(library.save_prompt(&empty).is_err());
    }
}
