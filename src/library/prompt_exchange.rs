//! The prompt library as a JSON file, to carry it to another machine or share it:
//! `{"version": 1, "prompts": [SavedPrompt, …]}`. Reading takes such a file or a bare
//! array of entries; each entry is checked on its own, so one bad entry is reported and
//! the good ones are kept, and they are saved in one transaction (all or none).

use std::path::Path;

use serde_json::Value;

use super::prompts::upsert;
use super::{Durability, Library, SavedPrompt, write_atomically};
use crate::error::{Error, Result};

/// The version written in exported files; files of a later version are refused.
pub const PROMPTS_FILE_VERSION: u64 = 1;

/// The largest prompt file read, in bytes (a library of thousands of entries is a few MB).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// What a prompt file holds.
#[derive(Debug, Default)]
pub struct PromptFile {
    /// The entries that can be saved, in file order.
    pub entries: Vec<SavedPrompt>,
    /// The entries that cannot: their position in the file (from 1) and why.
    pub rejected: Vec<(usize, Error)>,
}

/// The JSON text of an exported prompt library.
pub fn prompts_json(prompts: &[SavedPrompt]) -> Result<Vec<u8>> {
    let file = serde_json::json!({
        "version": PROMPTS_FILE_VERSION,
        "prompts": prompts,
    });
    serde_json::to_vec_pretty(&file).map_err(|err| Error::invalid(format!("cannot write the prompts as JSON: {err}")))
}

/// Reads the entries of an exported prompt library (or a bare array of entries). A file
/// that is not such JSON at all is an error; an entry that is not a valid saved prompt
/// is listed in [`PromptFile::rejected`] and the others are kept.
pub fn parse_prompts_json(bytes: &[u8]) -> Result<PromptFile> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|err| Error::invalid(format!("the file is not JSON: {err}")))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            match object.get("version").map(Value::as_u64) {
                None | Some(Some(1..=PROMPTS_FILE_VERSION)) => {}
                Some(Some(version)) if version > PROMPTS_FILE_VERSION => {
                    return Err(Error::invalid(format!(
                        "the file is of version {version}, made by a newer Pictor; this one reads version {PROMPTS_FILE_VERSION}"
                    )));
                }
                Some(_) => return Err(Error::invalid("the file's \"version\" is not a version number")),
            }
            match object.remove("prompts") {
                Some(Value::Array(items)) => items,
                _ => return Err(Error::invalid("the file has no \"prompts\" list")),
            }
        }
        _ => {
            return Err(Error::invalid(
                "the file holds neither saved prompts nor a list of them",
            ));
        }
    };
    let mut file = PromptFile::default();
    for (index, item) in items.into_iter().enumerate() {
        let entry = serde_json::from_value::<SavedPrompt>(item)
            .map_err(|err| Error::invalid(err.to_string()))
            .and_then(|entry| entry.check().map(|()| entry));
        match entry {
            Ok(entry) => file.entries.push(entry),
            Err(err) => file.rejected.push((index + 1, err)),
        }
    }
    Ok(file)
}

/// Reads a prompt file from disk (see [`parse_prompts_json`]).
pub fn read_prompts_file(path: &Path) -> Result<PromptFile> {
    let what = || format!("cannot read {}", path.display());
    let size = std::fs::metadata(path)
        .map_err(|err| Error::storage(what(), err))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Error::invalid(format!(
            "{} is {} MB; a prompt file is at most {} MB",
            path.display(),
            size / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(|err| Error::storage(what(), err))?;
    parse_prompts_json(&bytes)
}

impl Library {
    /// Saves every entry (each [`SavedPrompt::check`]ed) in one transaction: all of them
    /// or, on an error, none. An entry with the kind and name of a saved one replaces it,
    /// as [`Library::save_prompt`] does. Returns how many were saved.
    pub fn save_prompts(&self, prompts: &[SavedPrompt]) -> Result<usize> {
        for prompt in prompts {
            prompt.check()?;
        }
        self.write(|tx| {
            for prompt in prompts {
                upsert(tx, prompt)?;
            }
            Ok(prompts.len())
        })
    }

    /// Writes every saved entry to `path` as JSON (atomically, flushed). Returns how many.
    pub fn export_prompts(&self, path: &Path) -> Result<usize> {
        let prompts = self.prompts()?;
        write_atomically(path, &prompts_json(&prompts)?, Durability::Durable)?;
        Ok(prompts.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::library::{LibraryPaths, PromptKind};

    fn entry(kind: PromptKind, name: &str, text: &str) -> SavedPrompt {
        SavedPrompt {
            kind,
            name: name.into(),
            text: text.into(),
            tags: vec!["ink".into()],
            created_ms: 1_700_000_000_000,
            ..SavedPrompt::default()
        }
    }

    #[test]
    fn an_export_read_back_into_an_empty_library_is_the_same_file() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = Library::open(LibraryPaths::in_dir(a.path())).unwrap();
        let mut style = entry(PromptKind::Style, "Ink", "ink wash");
        style.negative = "blurry".into();
        first.save_prompt(&style).unwrap();
        let fox = first
            .save_prompt(&entry(PromptKind::Prompt, "Fox", "a {subject} fox"))
            .unwrap();
        first.set_prompt_starred(fox, true).unwrap();
        let path = a.path().join("prompts.json");
        assert_eq!(first.export_prompts(&path).unwrap(), 2);

        let second = Library::open(LibraryPaths::in_dir(b.path())).unwrap();
        let file = read_prompts_file(&path).unwrap();
        assert!(file.rejected.is_empty());
        assert_eq!(second.save_prompts(&file.entries).unwrap(), 2);
        let again = b.path().join("again.json");
        second.export_prompts(&again).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&again).unwrap());
        let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["prompts"][0]["name"], "Fox", "starred first");
        assert!(json["prompts"][0].get("id").is_none());
    }

    #[test]
    fn bad_entries_are_reported_and_the_good_ones_kept() {
        let text = r#"[
            {"kind": "prompt", "name": "Good", "text": "a fox"},
            {"kind": "poem", "name": "Bad kind", "text": "x"},
            {"kind": "style", "name": "", "text": "nameless"},
            {"kind": "negative", "name": "Empty"},
            "not an entry",
            {"kind": "negative", "name": "Also good", "text": "blurry", "tags": ["q"]}
        ]"#;
        let file = parse_prompts_json(text.as_bytes()).unwrap();
        let names: Vec<_> = file.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Good", "Also good"]);
        let positions: Vec<_> = file.rejected.iter().map(|(n, _)| *n).collect();
        assert_eq!(positions, [2, 3, 4, 5]);
        assert!(file.rejected[0].1.message.contains("poem"), "{:?}", file.rejected[0]);
    }

    #[test]
    fn files_that_are_not_prompt_libraries_are_refused_whole() {
        for bad in [
            "not json",
            "{\"version\": 1}",
            "{\"version\": 2, \"prompts\": []}",
            "{\"version\": \"one\", \"prompts\": []}",
            "42",
        ] {
            assert!(parse_prompts_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let file = parse_prompts_json(br#"{"prompts": [{"name": "x", "text": "y"}]}"#).unwrap();
        assert_eq!(file.entries[0].kind, PromptKind::Prompt, "kind defaults to prompt");
    }

    #[test]
    fn a_batch_with_a_bad_entry_saves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        let batch = [
            entry(PromptKind::Prompt, "Good", "a fox"),
            entry(PromptKind::Prompt, " ", "nameless"),
        ];
        assert!(library.save_prompts(&batch).is_err());
        assert!(library.prompts().unwrap().is_empty());
    }
}
