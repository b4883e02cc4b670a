//! Files in and out of the window: Save as…, Export selected…, Import… and dropped
//! files, through the native dialogs (or the export folder when none exists). Each runs
//! as a background task with its own progress and a typed outcome.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_i18n::t;

use super::PictorApp;
use crate::error::Error;
use crate::imaging::{self, DecodeLimits};
use crate::library::{ImageRecord, Insertion};
use crate::settings::ExportFormat;
use crate::transfer;
use crate::ui::background::{ImportThen, TaskKind, TaskOutcome, TaskProgress};

impl PictorApp {
    pub(super) fn export_dir(&self) -> PathBuf {
        self.settings.export_dir.clone().unwrap_or_else(default_export_dir)
    }

    /// "Save as…": the dialog and the write run on a worker; without a dialog backend the
    /// copy goes to the default export folder and the notice says so.
    pub(super) fn save_as(&mut self, record: ImageRecord) {
        let format = self.settings.export_format;
        let quality = self.settings.export_quality;
        let name = transfer::file_name(&self.settings.file_name_template, &record, format);
        let export_dir = self.export_dir();
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Save, move |_| {
            let (target, without_dialog) = if dialogs.available() {
                match dialogs.save_file(&name, Some(&export_dir)) {
                    Some(path) => (path, false),
                    None => return TaskOutcome::DialogCancelled,
                }
            } else {
                (transfer::unique_path(&export_dir.join(&name)), true)
            };
            let format = format_for_path(&target).unwrap_or(format);
            match transfer::save_as(&library, &record, format, quality, &target) {
                Ok(path) => TaskOutcome::Saved { path, without_dialog },
                Err(err) => TaskOutcome::Failed(err),
            }
        });
    }

    /// Exports the selection to a folder chosen in a dialog (or the export folder when
    /// no dialog backend exists), with progress; the outcome counts what failed.
    pub(super) fn export_selected(&mut self) {
        let records: Vec<ImageRecord> = self
            .gallery
            .records
            .iter()
            .filter(|r| self.gallery.selected.contains(&r.id))
            .cloned()
            .collect();
        if records.is_empty() {
            return;
        }
        self.export_with(move |_| Ok(records));
    }

    /// Exports the images `records` lists (read on the worker) to a folder chosen in a
    /// dialog, or the export folder when no dialog backend exists.
    pub(super) fn export_with(
        &mut self,
        records: impl FnOnce(&crate::library::Library) -> crate::Result<Vec<ImageRecord>> + Send + 'static,
    ) {
        let format = self.settings.export_format;
        let quality = self.settings.export_quality;
        let template = self.settings.file_name_template.clone();
        let export_dir = self.export_dir();
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Export, move |progress| {
            let (dir, without_dialog) = if dialogs.available() {
                match dialogs.pick_folder(Some(&export_dir)) {
                    Some(dir) => (dir, false),
                    None => return TaskOutcome::DialogCancelled,
                }
            } else {
                (export_dir, true)
            };
            let records = match records(&library) {
                Ok(records) => records,
                Err(err) => return TaskOutcome::Failed(err),
            };
            let report = |done, total| progress.report(done, total);
            match transfer::export_many(&library, &records, &dir, format, quality, &template, &report) {
                Ok(results) => {
                    let written = results.iter().filter(|result| result.is_ok()).count();
                    TaskOutcome::Exported {
                        dir,
                        written,
                        failed: results.into_iter().filter_map(Result::err).collect(),
                        without_dialog,
                    }
                }
                Err(err) => TaskOutcome::Failed(err),
            }
        });
    }

    pub(super) fn import_through_dialog(&mut self) {
        if !self.dialogs.available() {
            let message = t!("gallery.no_dialog_import", locale = self.locale()).into_owned();
            self.notify(message);
            return;
        }
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Import, move |progress| match dialogs.pick_images() {
            Some(paths) => import_all(&library, &paths, ImportThen::Nothing, progress),
            None => TaskOutcome::DialogCancelled,
        });
    }

    /// Imports files dropped on the window.
    pub(super) fn accept_dropped_files(&mut self, ctx: &egui::Context) {
        let paths: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if paths.is_empty() {
            return;
        }
        // Dropped on the compose panel: they become reference images too.
        let on_compose = ctx
            .input(|i| i.pointer.latest_pos())
            .zip(self.compose_rect)
            .is_some_and(|(pointer, panel)| panel.contains(pointer));
        let then = if on_compose {
            ImportThen::ToStrip
        } else {
            ImportThen::Nothing
        };
        if paths.iter().any(|path| path.is_dir()) {
            // A folder may hold thousands: count first, then ask.
            self.start_task(TaskKind::Count, move |_| count_images(paths));
        } else {
            self.import_files(paths, then);
        }
    }

    /// Asks for a folder, counts the images below it, then asks whether to import them.
    pub(super) fn import_folder_through_dialog(&mut self) {
        if !self.dialogs.available() {
            let message = t!("gallery.no_dialog_import", locale = self.locale()).into_owned();
            self.notify(message);
            return;
        }
        let dialogs = Arc::clone(&self.dialogs);
        self.start_task(TaskKind::Count, move |_| match dialogs.pick_folder(None) {
            Some(folder) => count_images(vec![folder]),
            None => TaskOutcome::DialogCancelled,
        });
    }

    /// Images pasted with Ctrl+V (the clipboard held an image, not text) are stored in
    /// the library and put in the reference strip, like an image dropped on the compose
    /// panel.
    pub(super) fn accept_pasted_images(&mut self, ctx: &egui::Context) {
        let pasted: Vec<Arc<egui::ColorImage>> = ctx.input(|i| {
            i.events
                .iter()
                .filter_map(|event| match event {
                    egui::Event::PasteImage(image) => Some(Arc::clone(image)),
                    _ => None,
                })
                .collect()
        });
        if pasted.is_empty() {
            return;
        }
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Import, move |progress| {
            let mut stored = Vec::new();
            let mut failed = Vec::new();
            for (index, image) in pasted.iter().enumerate() {
                match pixels_of(image).and_then(|pixels| crate::import::import_pasted(&library, pixels)) {
                    Ok(record) => stored.push(record),
                    Err(err) => failed.push((PathBuf::from(crate::import::PASTED_PROMPT), err)),
                }
                progress.report(index + 1, pasted.len());
            }
            TaskOutcome::Imported {
                stored,
                already: Vec::new(),
                failed,
                skipped_by_cancel: 0,
                then: ImportThen::ToStrip,
                first: None,
            }
        });
    }

    /// Imports `paths` in the background (also used by drag and drop).
    pub fn import_paths(&mut self, paths: Vec<PathBuf>) {
        self.import_files(paths, ImportThen::Nothing);
    }

    /// Imports `paths` (files; folders are counted and asked about first), then does
    /// `then` with what was stored or found.
    pub fn import_files(&mut self, paths: Vec<PathBuf>, then: ImportThen) {
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Import, move |progress| {
            import_all(&library, &paths, then, progress)
        });
    }

    /// Files opened with Pictor (`pictor FILE…`, the desktop's "Open with", or handed
    /// over by a later launch): each is imported, or found when its pixels are already
    /// in the library, and the first is shown in the viewer. A folder brings the images
    /// below it.
    pub fn open_files(&mut self, paths: Vec<PathBuf>) {
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Import, move |progress| {
            let (files, unreadable) = crate::import::files_to_import(&paths);
            let mut outcome = import_all(&library, &files, ImportThen::ShowFirst, progress);
            if let TaskOutcome::Imported { failed, .. } = &mut outcome {
                failed.extend(unreadable);
            }
            outcome
        });
    }
}

/// The image files below `roots`, for the question before a folder import.
fn count_images(roots: Vec<PathBuf>) -> TaskOutcome {
    let (files, unreadable) = crate::import::files_to_import(&roots);
    TaskOutcome::Counted {
        roots,
        files,
        unreadable,
    }
}

/// Imports every path, reporting progress, until done or cancelled. Each file's fate is
/// kept: stored, already in the library, or failed (with why); the good ones land
/// whatever the bad ones do.
fn import_all(
    library: &crate::library::Library,
    paths: &[PathBuf],
    then: ImportThen,
    progress: &TaskProgress<'_>,
) -> TaskOutcome {
    let mut stored = Vec::new();
    let mut already = Vec::new();
    let mut failed = Vec::new();
    let mut first = None;
    let mut reached = 0;
    for path in paths {
        if progress.cancelled() {
            break;
        }
        match crate::import::import_file(library, path) {
            Ok(Insertion::Stored(record)) => {
                first.get_or_insert_with(|| record.id.clone());
                stored.push(record);
            }
            Ok(Insertion::AlreadyThere(existing)) => {
                first.get_or_insert_with(|| existing.id.clone());
                already.push((path.clone(), existing));
            }
            Err(err) => failed.push((path.clone(), err)),
        }
        reached += 1;
        progress.report(reached, paths.len());
    }
    TaskOutcome::Imported {
        stored,
        already,
        failed,
        skipped_by_cancel: paths.len() - reached,
        then,
        first,
    }
}

/// The RGBA pixels of a pasted image.
fn pixels_of(image: &egui::ColorImage) -> Result<image::RgbaImage, Error> {
    let [width, height] = image.size;
    let bytes: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|pixel| pixel.to_srgba_unmultiplied())
        .collect();
    let (width, height) = (u32::try_from(width), u32::try_from(height));
    match (width, height) {
        (Ok(width), Ok(height)) if width > 0 && height > 0 => image::RgbaImage::from_raw(width, height, bytes)
            .ok_or_else(|| Error::image("the pasted image's pixels do not match its size")),
        _ => Err(Error::image("the pasted image is empty")),
    }
}

/// The full-size pixels of a stored image, for the viewer and the clipboard.
pub(super) fn decode_full(library: &crate::library::Library, record: &ImageRecord) -> Result<egui::ColorImage, Error> {
    let path = library.image_path(record);
    let bytes = std::fs::read(&path).map_err(|err| Error::storage(format!("cannot read {}", path.display()), err))?;
    let rgba = imaging::decode(&bytes, &DecodeLimits::default())?.to_rgba8();
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    ))
}

/// The export format a chosen file name asks for.
fn format_for_path(path: &Path) -> Option<ExportFormat> {
    match path.extension()?.to_string_lossy().to_ascii_lowercase().as_str() {
        "png" => Some(ExportFormat::Png),
        "jpg" | "jpeg" => Some(ExportFormat::Jpeg),
        "webp" => Some(ExportFormat::WebP),
        _ => None,
    }
}

/// The Pictures folder (or the home folder), under `Pictor`.
fn default_export_dir() -> PathBuf {
    let base = directories::UserDirs::new()
        .and_then(|dirs| {
            dirs.picture_dir()
                .map(Path::to_path_buf)
                .or_else(|| Some(dirs.home_dir().to_path_buf()))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("Pictor")
}

/// Opens the system file manager at `file` (selected where the OS can). Runs on the
/// background pool: it starts a process and waits for the launcher to hand over.
pub(super) fn show_in_folder(file: &Path) -> crate::Result<()> {
    let folder = file.parent().unwrap_or(file).to_owned();
    let command = if cfg!(target_os = "macos") {
        let mut command = std::process::Command::new("open");
        command.arg("-R").arg(file);
        command
    } else if cfg!(target_os = "windows") {
        let mut command = std::process::Command::new("explorer");
        command.arg(format!("/select,{}", file.display()));
        command
    } else {
        let mut command = std::process::Command::new("xdg-open");
        command.arg(&folder);
        command
    };
    launch_file_manager(command, &folder)
}

/// Opens `folder` itself in the file manager (made first when missing, e.g. the log
/// folder before the first line).
pub(super) fn open_folder(folder: &Path) -> crate::Result<()> {
    std::fs::create_dir_all(folder)
        .map_err(|err| Error::storage(format!("cannot create {}", folder.display()), err))?;
    let launcher = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    let mut command = std::process::Command::new(launcher);
    command.arg(folder);
    launch_file_manager(command, folder)
}

/// Runs the file manager's launcher and waits for its verdict.
fn launch_file_manager(mut command: std::process::Command, folder: &Path) -> crate::Result<()> {
    let cannot_open = || Error::config(format!("cannot open the folder {}", folder.display()));
    let status = command
        .stdin(std::process::Stdio::null())
        .status()
        .map_err(|err| cannot_open().with_details(err.to_string()))?;
    // Explorer's exit code says nothing about success; the others' do.
    if status.success() || cfg!(target_os = "windows") {
        Ok(())
    } else {
        Err(cannot_open().with_details(format!("the file manager launcher exited with {status}")))
    }
}
