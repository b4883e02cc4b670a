//! The window's side of watched folders: one watcher for the folders in the settings,
//! rebuilt when they change; the files it reports are imported like any other import.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::PictorApp;
use crate::jobs::Waker;
use crate::ui::background::AppEvent;
use crate::ui::settings_ui::WatchAction;
use crate::watch::{FolderWatcher, SETTLE_TIME};

/// The running watcher and what it reports.
pub(super) struct Watching {
    watcher: Option<FolderWatcher>,
    /// The folders the running watcher watches.
    folders: Vec<PathBuf>,
    /// Folders that could not be watched, with why (shown in Settings).
    pub(super) problems: Vec<(PathBuf, String)>,
    /// A folder being typed in Settings (used when no file dialog is available).
    pub(super) typed: String,
    sender: Sender<Vec<PathBuf>>,
    arrived: Receiver<Vec<PathBuf>>,
    waker: Waker,
}

impl Watching {
    /// Nothing watched yet; `waker` repaints the window when files arrive.
    pub(super) fn new(waker: Waker) -> Self {
        let (sender, arrived) = channel();
        Self {
            watcher: None,
            folders: Vec::new(),
            problems: Vec::new(),
            typed: String::new(),
            sender,
            arrived,
            waker,
        }
    }
}

impl PictorApp {
    /// Starts, restarts or stops the watcher so it watches the settings' folders.
    pub(super) fn follow_watched_folders(&mut self) {
        if self.watching.folders == self.settings.watched_folders {
            return;
        }
        let folders = self.settings.watched_folders.clone();
        self.watching.watcher = None;
        self.watching.problems.clear();
        self.watching.folders.clone_from(&folders);
        if folders.is_empty() {
            return;
        }
        let sender = self.watching.sender.clone();
        let waker = Arc::clone(&self.watching.waker);
        let started = FolderWatcher::start(&folders, SETTLE_TIME, move |files| {
            if sender.send(files).is_ok() {
                waker();
            }
        });
        let locale = self.locale();
        match started {
            Ok((watcher, refused)) => {
                self.watching.watcher = Some(watcher);
                self.watching.problems = refused
                    .into_iter()
                    .map(|(folder, err)| (folder, err.user_message(locale)))
                    .collect();
            }
            Err(err) => {
                let why = err.user_message(locale);
                self.watching.problems = folders.into_iter().map(|folder| (folder, why.clone())).collect();
            }
        }
    }

    /// Imports what the watched folders reported since the last frame.
    pub(super) fn import_arrivals(&mut self) {
        let mut files: Vec<PathBuf> = self.watching.arrived.try_iter().flatten().collect();
        if files.is_empty() {
            return;
        }
        files.sort();
        files.dedup();
        self.import_files(files, crate::ui::background::ImportThen::Nothing);
    }

    /// Adds a folder (chosen in the dialog, in the background) or stops watching one.
    pub(super) fn handle_watch_action(&mut self, action: WatchAction) {
        match action {
            WatchAction::Remove(folder) => self.settings.watched_folders.retain(|watched| *watched != folder),
            WatchAction::AddPath(folder) => self.watch_folder(folder),
            WatchAction::Add => {
                if !self.dialogs.available() {
                    let text = rust_i18n::t!("gallery.no_dialog_import", locale = self.locale()).into_owned();
                    self.notify(text);
                    return;
                }
                let dialogs = Arc::clone(&self.dialogs);
                self.background
                    .spawn(move || AppEvent::FolderToWatch(dialogs.pick_folder(None)));
            }
        }
    }

    /// Watches `folder` from now on (once).
    pub(super) fn watch_folder(&mut self, folder: PathBuf) {
        if !self.settings.watched_folders.contains(&folder) {
            self.settings.watched_folders.push(folder);
        }
    }
}
