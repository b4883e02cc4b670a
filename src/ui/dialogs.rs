//! Native file dialogs behind a small trait, so tests can answer them.
//!
//! Methods block until the user answers: call them on a worker thread, never in `ui()`.
//! The window keeps drawing meanwhile.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::sync::lock;

/// Asks the user for paths.
pub trait FileDialogs: Send + Sync {
    /// Whether a dialog can be shown at all (on Linux: an XDG portal or zenity).
    fn available(&self) -> bool;
    /// Where to save a file; `None` when cancelled.
    fn save_file(&self, suggested_name: &str, directory: Option<&Path>) -> Option<PathBuf>;
    /// A folder; `None` when cancelled.
    fn pick_folder(&self, directory: Option<&Path>) -> Option<PathBuf>;
    /// Image files to import; `None` when cancelled.
    fn pick_images(&self) -> Option<Vec<PathBuf>>;
    /// One file whose name ends in one of `extensions` (without the dot), to read;
    /// `None` when cancelled.
    fn pick_file(&self, extensions: &[&str]) -> Option<PathBuf>;
}

/// rfd's asynchronous dialogs (portal, zenity, or the platform's own).
#[derive(Debug)]
pub struct NativeDialogs {
    available: bool,
}

impl NativeDialogs {
    /// Detects once whether a dialog backend exists.
    pub fn detect() -> Self {
        Self {
            available: backend_available(),
        }
    }
}

#[cfg(target_os = "linux")]
fn backend_available() -> bool {
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
    };
    let portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        && ["/usr/libexec/xdg-desktop-portal", "/usr/lib/xdg-desktop-portal"]
            .iter()
            .any(|p| Path::new(p).exists());
    portal || on_path("zenity")
}

#[cfg(not(target_os = "linux"))]
fn backend_available() -> bool {
    true
}

impl FileDialogs for NativeDialogs {
    fn available(&self) -> bool {
        self.available
    }

    fn save_file(&self, suggested_name: &str, directory: Option<&Path>) -> Option<PathBuf> {
        let mut dialog = rfd::AsyncFileDialog::new().set_file_name(suggested_name);
        if let Some(directory) = directory {
            dialog = dialog.set_directory(directory);
        }
        pollster::block_on(dialog.save_file()).map(|handle| handle.path().to_owned())
    }

    fn pick_folder(&self, directory: Option<&Path>) -> Option<PathBuf> {
        let mut dialog = rfd::AsyncFileDialog::new();
        if let Some(directory) = directory {
            dialog = dialog.set_directory(directory);
        }
        pollster::block_on(dialog.pick_folder()).map(|handle| handle.path().to_owned())
    }

    fn pick_images(&self) -> Option<Vec<PathBuf>> {
        let dialog = rfd::AsyncFileDialog::new().add_filter("Images", &["png", "jpg", "jpeg", "webp"]);
        pollster::block_on(dialog.pick_files()).map(|handles| handles.iter().map(|h| h.path().to_owned()).collect())
    }

    fn pick_file(&self, extensions: &[&str]) -> Option<PathBuf> {
        let dialog = rfd::AsyncFileDialog::new().add_filter(extensions.join(", "), extensions);
        pollster::block_on(dialog.pick_file()).map(|handle| handle.path().to_owned())
    }
}

/// Dialogs that answer from a script: for tests.
#[derive(Debug, Default)]
pub struct ScriptedDialogs {
    /// Whether to pretend a backend exists.
    pub unavailable: bool,
    /// Answers to `save_file`, in order.
    pub save_answers: Mutex<VecDeque<Option<PathBuf>>>,
    /// Answers to `pick_folder`, in order.
    pub folder_answers: Mutex<VecDeque<Option<PathBuf>>>,
    /// Answers to `pick_images`, in order.
    pub image_answers: Mutex<VecDeque<Option<Vec<PathBuf>>>>,
    /// Answers to `pick_file`, in order.
    pub file_answers: Mutex<VecDeque<Option<PathBuf>>>,
    /// When set, `pick_folder` waits for a message (or the sender to go) before it
    /// answers, like a user taking their time: the task that opened it stays running.
    pub folder_gate: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl FileDialogs for ScriptedDialogs {
    fn available(&self) -> bool {
        !self.unavailable
    }

    fn save_file(&self, _suggested_name: &str, _directory: Option<&Path>) -> Option<PathBuf> {
        lock(&self.save_answers).pop_front().flatten()
    }

    fn pick_folder(&self, _directory: Option<&Path>) -> Option<PathBuf> {
        let gate = lock(&self.folder_gate).take();
        if let Some(gate) = gate {
            // Either a message or a dropped sender opens the gate.
            let _ = gate.recv();
        }
        lock(&self.folder_answers).pop_front().flatten()
    }

    fn pick_images(&self) -> Option<Vec<PathBuf>> {
        lock(&self.image_answers).pop_front().flatten()
    }

    fn pick_file(&self, _extensions: &[&str]) -> Option<PathBuf> {
        lock(&self.file_answers).pop_front().flatten()
    }
}
