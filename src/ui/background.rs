//! Off-thread work for the UI: closures run on the runtime's blocking pool and their
//! results come back as [`AppEvent`]s that the app drains in `logic()`.
//!
//! Library actions (star, trash, save, export, import, …) are *tasks*: each gets a
//! [`TaskId`], reports its own progress, and ends with a typed [`TaskOutcome`], so two
//! tasks running at once never overwrite each other's progress or result.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::api::provider::Provider;
use crate::error::Error;
use crate::jobs::Waker;
use crate::library::{ImageRecord, PromptKind, SavedPrompt};
use crate::secrets::{KeySource, KeyStatus};

/// Identifies one background task for the lifetime of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

/// What kind of work a task does (for its progress line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// Favourites or ratings set or cleared.
    Star,
    /// Images moved to the trash.
    Trash,
    /// Images restored from the trash.
    Restore,
    /// The trash emptied.
    EmptyTrash,
    /// Rows whose file vanished removed.
    RemoveMissing,
    /// One image saved through "Save as…".
    Save,
    /// Several images exported to a folder.
    Export,
    /// Files imported.
    Import,
    /// The images below folders counted before an import.
    Count,
    /// Pending downloads retried.
    RetryDownloads,
    /// The file manager opened at an image.
    ShowInFolder,
    /// Boards made, renamed or deleted, or images put on or taken off them.
    Boards,
    /// The price list saved.
    Prices,
    /// The prompt library changed, or was imported or exported.
    Prompts,
}

impl TaskKind {
    /// The name used in translation keys (`task.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Star => "star",
            Self::Trash => "trash",
            Self::Restore => "restore",
            Self::EmptyTrash => "empty_trash",
            Self::RemoveMissing => "remove_missing",
            Self::Save => "save",
            Self::Export => "export",
            Self::Import => "import",
            Self::Count => "count",
            Self::RetryDownloads => "retry_downloads",
            Self::ShowInFolder => "show_in_folder",
            Self::Boards => "boards",
            Self::Prices => "prices",
            Self::Prompts => "prompts",
        }
    }

    /// Whether a progress line is worth showing: long work the user started and waits
    /// for, not a star or a trash that ends within a frame or two, nor the retry of
    /// pending downloads that runs at every start.
    pub fn shows_progress(self) -> bool {
        matches!(self, Self::Export | Self::Import | Self::EmptyTrash | Self::Count)
    }

    /// Whether the user can stop it halfway (what is done stays done).
    pub fn can_cancel(self) -> bool {
        matches!(self, Self::Import)
    }

    /// Whether this kind of task can change library rows (so even its failure may have
    /// left the shown rows out of step).
    pub fn changes_rows(self) -> bool {
        !matches!(
            self,
            Self::Save | Self::Export | Self::ShowInFolder | Self::Count | Self::Prices | Self::Prompts
        )
    }
}

/// What the window does with images once an import stored (or found) them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportThen {
    /// Nothing more: they are in the gallery.
    Nothing,
    /// They were dropped on the compose panel: they go into the reference strip.
    ToStrip,
    /// They were opened with Pictor (`pictor FILE…`): the first is shown in the viewer.
    ShowFirst,
}

/// How a library task ended.
#[derive(Debug)]
pub enum TaskOutcome {
    /// Favourites were set (`favorite`) or cleared on `count` images.
    Starred {
        /// Rows changed.
        count: usize,
        /// Set or cleared.
        favorite: bool,
    },
    /// `count` images were given `stars` (0: their rating cleared).
    Rated {
        /// Rows changed.
        count: usize,
        /// The rating given.
        stars: u8,
    },
    /// `ids` were moved to the trash (`count` of them were live).
    Trashed {
        /// The images asked for (what Undo restores).
        ids: Vec<String>,
        /// How many moved.
        count: usize,
    },
    /// Images came back from the trash.
    Restored {
        /// How many.
        count: usize,
    },
    /// The trash was emptied.
    TrashEmptied {
        /// Images deleted for good.
        count: usize,
    },
    /// Rows whose file is gone were removed.
    MissingRemoved {
        /// How many.
        count: usize,
    },
    /// One image was written by "Save as…".
    Saved {
        /// Where.
        path: PathBuf,
        /// No file dialog was available: it went to the export folder.
        without_dialog: bool,
    },
    /// Images were exported to a folder.
    Exported {
        /// The folder.
        dir: PathBuf,
        /// Files written.
        written: usize,
        /// Files that failed, and why the first one did.
        failed: Vec<Error>,
        /// No folder dialog was available: they went to the export folder.
        without_dialog: bool,
    },
    /// Files were imported.
    Imported {
        /// The images stored.
        stored: Vec<ImageRecord>,
        /// Files whose pixels were already in the library, with the image that has them.
        already: Vec<(PathBuf, ImageRecord)>,
        /// Each file that failed, with why.
        failed: Vec<(PathBuf, Error)>,
        /// Files not reached because the user cancelled.
        skipped_by_cancel: usize,
        /// What the window does with them next.
        then: ImportThen,
        /// The id of the first file's image, stored or found (in the order given).
        first: Option<String>,
    },
    /// The files below dropped or chosen folders were counted; the import waits for a yes.
    Counted {
        /// The folders (and files) as given.
        roots: Vec<PathBuf>,
        /// The image files found.
        files: Vec<PathBuf>,
        /// Folders that could not be read.
        unreadable: Vec<(PathBuf, Error)>,
    },
    /// Pending downloads were retried.
    DownloadsRetried {
        /// Images stored now.
        stored: usize,
    },
    /// The file manager was opened.
    ShownInFolder,
    /// A board changed.
    BoardChanged(BoardChange),
    /// The price list was saved.
    PricesSaved,
    /// The prompt library changed (no image rows did).
    Prompts(PromptChange),
    /// The user cancelled the file dialog; nothing happened.
    DialogCancelled,
    /// The task failed as a whole.
    Failed(Error),
}

impl TaskOutcome {
    /// Whether the outcome of a task of `kind` changed library rows (so the gallery's
    /// query must run again). Starring is not counted: the gallery updates its rows in
    /// place at once.
    pub fn changed_rows(&self, kind: TaskKind) -> bool {
        match self {
            Self::Trashed { count, .. }
            | Self::Restored { count }
            | Self::TrashEmptied { count }
            | Self::MissingRemoved { count } => *count > 0,
            Self::Imported { stored, .. } => !stored.is_empty(),
            Self::DownloadsRetried { stored } => *stored > 0,
            // A failed star or trash left the shown rows out of step with the library.
            Self::Failed(_) => kind.changes_rows(),
            Self::Starred { .. }
            | Self::Rated { .. }
            | Self::Saved { .. }
            | Self::Exported { .. }
            | Self::ShownInFolder
            | Self::BoardChanged(_)
            | Self::PricesSaved
            | Self::Prompts(_)
            | Self::Counted { .. }
            | Self::DialogCancelled => false,
        }
    }
}

/// What a board task did (for its notice).
#[derive(Debug)]
pub enum BoardChange {
    /// `added` images were put on `board` (`already` were on it).
    Added {
        /// The board's name.
        board: String,
        /// Newly on it.
        added: usize,
        /// Already on it before.
        already: usize,
    },
    /// `count` images were taken off `board`.
    Removed {
        /// The board's name.
        board: String,
        /// How many.
        count: usize,
    },
    /// A board was renamed.
    Renamed {
        /// Its new name.
        name: String,
    },
    /// A board was deleted (its images stay).
    Deleted {
        /// Its name.
        name: String,
    },
}

/// What a prompt library task did (for its notice, and to read the library again).
#[derive(Debug)]
pub enum PromptChange {
    /// An entry was saved (`replaced`: one of that kind and name was there before).
    Saved {
        /// Prompt, negative prompt or style.
        kind: PromptKind,
        /// Its name.
        name: String,
        /// It replaced an entry of the same kind and name.
        replaced: bool,
    },
    /// The save window's entry could not be saved (the window stays open and says why).
    NotSaved(Error),
    /// An entry was starred or unstarred.
    Starred,
    /// An entry was inserted into the compose panel (it moves to "Recent").
    Used,
    /// An entry was deleted; it is kept here for Undo.
    Deleted(SavedPrompt),
    /// A deleted entry was saved again.
    Restored(SavedPrompt),
    /// The library was written to a JSON file.
    Exported {
        /// The file.
        path: PathBuf,
        /// Entries written.
        count: usize,
        /// No file dialog was available: it went to the export folder.
        without_dialog: bool,
    },
    /// A JSON file was read into the library.
    Imported {
        /// The file.
        path: PathBuf,
        /// Entries saved (new or replacing one of the same kind and name).
        saved: usize,
        /// Entries left out: their position in the file (from 1) and why.
        rejected: Vec<(usize, Error)>,
    },
}

/// A result of background work, for the UI.
pub enum AppEvent {
    /// The key status of `provider` was read.
    KeyStatus {
        /// Whose key (an answer for a provider no longer chosen is dropped).
        provider: Provider,
        /// Where the key comes from, or why it could not be read.
        status: Result<KeyStatus, Error>,
    },
    /// A key was saved (to the keyring or the session) or forgotten.
    KeySaved(Result<KeySource, Error>),
    /// The library finished opening (in the background): what its recovery found, or
    /// why it could not be opened.
    LibraryOpened(Result<crate::library::RecoveryReport, Error>),
    /// The diagnostics text was gathered, for the clipboard.
    Diagnostics(String),
    /// A gallery query finished; `generation` tells stale answers apart.
    Gallery {
        /// Which query this answers.
        generation: u64,
        /// The images, newest first.
        records: Result<Vec<ImageRecord>, Error>,
    },
    /// A thumbnail was decoded.
    Thumbnail {
        /// The image id.
        id: String,
        /// The pixels.
        image: Result<egui::ColorImage, Error>,
    },
    /// Thumbnail requests dropped because their cells left the screen before their turn.
    ThumbnailsDropped(Vec<String>),
    /// The full-size image for the viewer was decoded.
    FullImage {
        /// The image id.
        id: String,
        /// The pixels.
        image: Result<egui::ColorImage, Error>,
    },
    /// A task made progress.
    Progress {
        /// The task.
        task: TaskId,
        /// Items done.
        done: usize,
        /// Items in all.
        total: usize,
    },
    /// A task ended.
    TaskDone {
        /// The task.
        task: TaskId,
        /// How it ended.
        outcome: TaskOutcome,
    },
    /// The texts the viewer's image file carries (for its details).
    RawTexts {
        /// The image id.
        id: String,
        /// Keyword and text of each.
        texts: Result<Vec<(String, String)>, Error>,
    },
    /// The names of the boards the viewer's image is on.
    ImageBoards {
        /// The image id.
        id: String,
        /// Board names.
        names: Result<Vec<String>, Error>,
    },
    /// The lineage of the image open in the viewer.
    Lineage(Result<crate::ui::viewer::Lineage, Error>),
    /// Library records of reference images (for the compose panel's strip).
    ReferenceRecords {
        /// The ids looked up.
        asked: Vec<String>,
        /// The records found among them (a live image, not one trashed since).
        found: Result<Vec<ImageRecord>, Error>,
    },
    /// Decoded pixels to put on the clipboard.
    Clipboard(Result<egui::ColorImage, Error>),
    /// The models known to the library (for the filter).
    Models(Result<Vec<String>, Error>),
    /// The price book and the spend were read (for the cost meter).
    Spend(Result<crate::spending::SpendReport, Error>),
    /// The boards were read (for the sidebar).
    Boards(Result<Vec<crate::library::Board>, Error>),
    /// The prompt library was read (for the picker and the save window).
    Prompts(Result<Vec<SavedPrompt>, Error>),
    /// A folder chosen to be watched (`None`: the dialog was cancelled).
    FolderToWatch(Option<PathBuf>),
    /// Asynchronous tasks an earlier session left running at a service.
    PendingTasks(Result<Vec<crate::library::PendingTask>, Error>),
}

/// Reports a task's progress from its worker thread, and tells it when the user
/// cancelled it.
pub struct TaskProgress<'a> {
    task: TaskId,
    report: &'a dyn Fn(AppEvent),
    cancel: &'a AtomicBool,
}

impl TaskProgress<'_> {
    /// Whether the user asked the task to stop (it ends after the item in hand).
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// `done` of `total` items are finished.
    pub fn report(&self, done: usize, total: usize) {
        (self.report)(AppEvent::Progress {
            task: self.task,
            done,
            total,
        });
    }
}

/// Runs closures off the UI thread and collects their results.
pub struct Background {
    runtime: tokio::runtime::Handle,
    sender: Sender<AppEvent>,
    receiver: Receiver<AppEvent>,
    waker: Waker,
    next_task: AtomicU64,
}

impl Background {
    /// Work runs on `runtime`; `waker` repaints the UI when a result arrives.
    pub fn new(runtime: tokio::runtime::Handle, waker: Waker) -> Self {
        let (sender, receiver) = channel();
        Self {
            runtime,
            sender,
            receiver,
            waker,
            next_task: AtomicU64::new(1),
        }
    }

    /// Runs `work` on the blocking pool and delivers its event.
    pub fn spawn(&self, work: impl FnOnce() -> AppEvent + Send + 'static) {
        self.spawn_reporting(move |_| work());
    }

    /// Like [`Self::spawn`], for work that reports events before its result.
    pub fn spawn_reporting(&self, work: impl FnOnce(&dyn Fn(AppEvent)) -> AppEvent + Send + 'static) {
        let sender = self.sender.clone();
        let waker = std::sync::Arc::clone(&self.waker);
        self.runtime.spawn_blocking(move || {
            let report = |event: AppEvent| {
                if sender.send(event).is_ok() {
                    waker();
                }
            };
            report(work(&report));
        });
    }

    /// Starts a library task; its progress and its outcome arrive as
    /// [`AppEvent::Progress`] and [`AppEvent::TaskDone`] with the returned id.
    /// Setting the returned flag asks the task to stop ([`TaskProgress::cancelled`]).
    pub fn spawn_task(
        &self,
        work: impl FnOnce(&TaskProgress<'_>) -> TaskOutcome + Send + 'static,
    ) -> (TaskId, Arc<AtomicBool>) {
        let task = TaskId(self.next_task.fetch_add(1, Ordering::Relaxed));
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        self.spawn_reporting(move |report| {
            let progress = TaskProgress {
                task,
                report,
                cancel: &flag,
            };
            AppEvent::TaskDone {
                task,
                outcome: work(&progress),
            }
        });
        (task, cancel)
    }

    /// The events that arrived since the last call.
    pub fn drain(&self) -> Vec<AppEvent> {
        self.receiver.try_iter().collect()
    }

    /// The runtime, for async work.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }
}
