//! Off-thread work for the UI: closures run on the runtime's blocking pool and their
//! results come back as [`AppEvent`]s that the app drains in `logic()`.

use std::sync::mpsc::{Receiver, Sender, channel};

use crate::error::Error;
use crate::jobs::Waker;
use crate::library::ImageRecord;
use crate::secrets::{KeySource, KeyStatus};

/// A result of background work, for the UI.
pub enum AppEvent {
    /// The key status for the current provider was read.
    KeyStatus(Result<KeyStatus, Error>),
    /// A key was saved (to the keyring or the session) or forgotten.
    KeySaved(Result<KeySource, Error>),
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
    /// A library action finished; the text says what happened.
    Done(Result<String, Error>),
    /// Images were moved to the trash (for Undo).
    Trashed {
        /// The images.
        ids: Vec<String>,
        /// How many moved, or why not.
        result: Result<usize, Error>,
    },
    /// Files were imported.
    Imported {
        /// How many were stored.
        stored: usize,
        /// One line per file that failed.
        failures: Vec<String>,
    },
    /// Progress of a long action.
    Progress {
        /// Items done.
        done: usize,
        /// Items in all.
        total: usize,
    },
    /// Decoded pixels to put on the clipboard.
    Clipboard(Result<egui::ColorImage, Error>),
    /// The models known to the library (for the filter).
    Models(Result<Vec<String>, Error>),
}

/// Runs closures off the UI thread and collects their results.
pub struct Background {
    runtime: tokio::runtime::Handle,
    sender: Sender<AppEvent>,
    receiver: Receiver<AppEvent>,
    waker: Waker,
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
        }
    }

    /// Runs `work` on the blocking pool and delivers its event.
    pub fn spawn(&self, work: impl FnOnce() -> AppEvent + Send + 'static) {
        let sender = self.sender.clone();
        let waker = std::sync::Arc::clone(&self.waker);
        self.runtime.spawn_blocking(move || {
            if sender.send(work()).is_ok() {
                waker();
            }
        });
    }

    /// Like [`Self::spawn`], for work that reports progress events before its result.
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

    /// The events that arrived since the last call.
    pub fn drain(&self) -> Vec<AppEvent> {
        self.receiver.try_iter().collect()
    }

    /// The runtime, for async work.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }
}
