//! Watched folders: image files that appear (or are rewritten) in a folder another tool
//! writes to are reported once their writes have settled, to be imported with the same
//! rules as any import (never twice). Nothing is watched unless the user adds a folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, DebouncedEventKind, Debouncer, new_debouncer};

use crate::error::{Error, Result};

/// How long a file must go without writes before it is reported: a tool still writing
/// it would otherwise hand over half an image.
pub const SETTLE_TIME: Duration = Duration::from_secs(2);

/// Watches folders until dropped.
pub struct FolderWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl std::fmt::Debug for FolderWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWatcher").finish_non_exhaustive()
    }
}

impl FolderWatcher {
    /// Watches each of `folders` (recursively) and calls `on_new` with the image files
    /// (PNG, JPEG, WebP; hidden files skipped) that appeared or changed, once they have
    /// been quiet for `settle`. Returns the watcher and the folders that could not be
    /// watched, with why; the others are watched regardless.
    pub fn start(
        folders: &[PathBuf],
        settle: Duration,
        on_new: impl Fn(Vec<PathBuf>) + Send + 'static,
    ) -> Result<(Self, Vec<(PathBuf, Error)>)> {
        let mut debouncer = new_debouncer(settle, move |result: DebounceEventResult| match result {
            Ok(events) => {
                let mut files: Vec<PathBuf> = events
                    .into_iter()
                    .filter(|event| event.kind == DebouncedEventKind::Any)
                    .map(|event| event.path)
                    .filter(|path| is_settled_image(path))
                    .collect();
                files.sort();
                files.dedup();
                if !files.is_empty() {
                    on_new(files);
                }
            }
            Err(err) => tracing::warn!("a watched folder reported an error: {err}"),
        })
        .map_err(|err| Error::config(format!("cannot watch folders: {err}")))?;
        let mut refused = Vec::new();
        for folder in folders {
            if let Err(err) = debouncer.watcher().watch(folder, RecursiveMode::Recursive) {
                refused.push((
                    folder.clone(),
                    Error::config(format!("cannot watch {}: {err}", folder.display())),
                ));
            }
        }
        Ok((Self { _debouncer: debouncer }, refused))
    }
}

/// Whether `path` is an image file that exists now (a deleted or renamed-away file
/// also reports an event).
fn is_settled_image(path: &Path) -> bool {
    path.is_file() && crate::import::is_image_name(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn a_new_image_is_reported_once_it_settles_and_other_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("2024-11-30");
        std::fs::create_dir_all(&nested).unwrap();
        let (sender, received) = channel();
        let (_watcher, refused) = FolderWatcher::start(
            &[dir.path().to_path_buf(), dir.path().join("missing")],
            Duration::from_millis(300),
            move |files| sender.send(files).unwrap(),
        )
        .unwrap();
        assert_eq!(
            refused.len(),
            1,
            "a folder that does not exist is refused, the rest watched"
        );
        std::fs::write(nested.join("notes.txt"), b"not an image").unwrap();
        let image = nested.join("ComfyUI_00042_.png");
        std::fs::write(&image, b"\x89PNG\r\n\x1a\n").unwrap();
        let reported = received.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(reported, vec![image]);
        assert!(
            received.recv_timeout(Duration::from_millis(800)).is_err(),
            "reported once"
        );
    }
}
