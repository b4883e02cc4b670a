//! What the gallery, the viewer and the toolbar ask of the library: viewing, starring,
//! trash with undo, save/export through file dialogs, import, clipboard. Every piece of
//! I/O runs on the background pool; results come back as [`AppEvent`]s.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rust_i18n::t;

use super::{Notice, PictorApp};
use crate::api::request::{GenerationParams, GenerationRequest, Size};
use crate::error::Error;
use crate::imaging::{self, DecodeLimits};
use crate::library::ImageRecord;
use crate::settings::ExportFormat;
use crate::transfer;
use crate::ui::background::AppEvent;
use crate::ui::confirm::{ConfirmAnswer, Confirmation, confirm_ui};
use crate::ui::gallery::GalleryAction;
use crate::ui::gallery_nav::FocusStep;
use crate::ui::gallery_toolbar::ToolbarAction;
use crate::ui::viewer::{Viewer, ViewerAction, viewer_ui};

impl PictorApp {
    /// Runs the gallery's query again (in the background).
    pub(super) fn refresh_gallery(&mut self) {
        self.gallery.refresh(&self.library, &self.background);
    }

    /// Downloads images whose earlier download failed, while their links live.
    pub(super) fn retry_pending_downloads(&mut self) {
        let generator = match self.client() {
            Ok(client) => crate::generate::Generator {
                client,
                key: None,
                library: Arc::clone(&self.library),
            },
            Err(err) => {
                tracing::info!("pending downloads not retried: {}", err.message);
                return;
            }
        };
        let runtime = self.background.runtime().clone();
        let locale = self.locale();
        self.background.spawn(move || {
            let cancel = tokio_util::sync::CancellationToken::new();
            let outcome = runtime.block_on(generator.retry_pending(&cancel));
            AppEvent::Done(outcome.map(|(stored, _failed)| {
                if stored.is_empty() {
                    String::new()
                } else {
                    t!("gallery.pending_saved", locale = locale, count = stored.len()).into_owned()
                }
            }))
        });
    }

    pub(super) fn refresh_models(&mut self) {
        let library = Arc::clone(&self.library);
        self.background.spawn(move || AppEvent::Models(library.models()));
    }

    pub(super) fn viewer_panel_ui(&mut self, ui: &mut egui::Ui) {
        let locale = self.locale();
        let Some(viewer) = &mut self.viewer else { return };
        let Some(index) = self.gallery.records.iter().position(|r| r.id == viewer.id) else {
            self.viewer = None;
            return;
        };
        let Some(record) = self.gallery.records.get(index).cloned() else {
            return;
        };
        let total = self.gallery.records.len();
        let actions = viewer_ui(ui, viewer, &record, (index, total), locale);
        for action in actions {
            self.handle_viewer_action(action, index, &record);
        }
    }

    pub(super) fn open_viewer(&mut self, index: usize) {
        let Some(record) = self.gallery.records.get(index).cloned() else {
            return;
        };
        if self.viewer.as_ref().is_some_and(|v| v.id == record.id) {
            return;
        }
        self.viewer = Some(Viewer::new(record.id.clone()));
        let library = Arc::clone(&self.library);
        self.background.spawn(move || AppEvent::FullImage {
            id: record.id.clone(),
            image: decode_full(&library, &record),
        });
    }

    pub(super) fn open_viewer_by_id(&mut self, id: &str) {
        if let Some(index) = self.gallery.records.iter().position(|r| r.id == id) {
            self.open_viewer(index);
        }
    }

    pub(super) fn handle_viewer_action(&mut self, action: ViewerAction, index: usize, record: &ImageRecord) {
        match action {
            ViewerAction::Open => self.open_viewer(index),
            ViewerAction::Close => self.viewer = None,
            ViewerAction::Previous => self.open_viewer(index.saturating_sub(1)),
            ViewerAction::Next => self.open_viewer((index + 1).min(self.gallery.records.len().saturating_sub(1))),
            ViewerAction::ToggleFavorite => self.set_favorite(vec![record.id.clone()], !record.favorite),
            ViewerAction::UseSettings => {
                self.form.use_params(&params_of(record));
                self.viewer = None;
            }
            ViewerAction::GenerateAgain => match GenerationRequest::try_from(&params_of(record)) {
                Ok(request) => match self.generator() {
                    Ok(generator) => self.submit(&generator, request),
                    Err(err) => {
                        let message = err.user_message(self.locale());
                        self.notify(message);
                    }
                },
                Err(err) => {
                    let message = err.user_message(self.locale());
                    self.notify(message);
                }
            },
            ViewerAction::SaveAs => self.save_as(record.clone()),
            ViewerAction::CopyImage => {
                let library = Arc::clone(&self.library);
                let record = record.clone();
                self.background
                    .spawn(move || AppEvent::Clipboard(decode_full(&library, &record)));
            }
            ViewerAction::ShowInFolder => {
                let file = self.library.image_path(record);
                self.background
                    .spawn(move || AppEvent::Done(show_in_folder(&file).map(|()| String::new())));
            }
            ViewerAction::Delete => {
                let next = self
                    .gallery
                    .records
                    .get(index + 1)
                    .or_else(|| self.gallery.records.get(index.wrapping_sub(1)));
                let next_id = next.map(|r| r.id.clone());
                self.trash(vec![record.id.clone()]);
                self.viewer = None;
                if let Some(id) = next_id {
                    self.viewer = Some(Viewer::new(id.clone()));
                    if let Some(next) = self.gallery.records.iter().find(|r| r.id == id).cloned() {
                        let library = Arc::clone(&self.library);
                        self.background.spawn(move || AppEvent::FullImage {
                            id,
                            image: decode_full(&library, &next),
                        });
                    }
                }
            }
        }
    }

    pub(super) fn handle_gallery_action(&mut self, action: GalleryAction) {
        match action {
            GalleryAction::QueryChanged => self.refresh_gallery(),
            GalleryAction::Open(index) => self.open_viewer(index),
            GalleryAction::Image(id, action) => {
                let Some(index) = self.gallery.records.iter().position(|r| r.id == id) else {
                    return;
                };
                let record = self.gallery.records[index].clone();
                match action {
                    // From the grid, a deleted image opens nothing in its place.
                    ViewerAction::Delete => self.trash(vec![id]),
                    other => self.handle_viewer_action(other, index, &record),
                }
            }
            GalleryAction::Restore(id) => {
                self.counted_library_task("gallery.restored", move |library| library.restore(&[id]));
            }
        }
    }

    /// Keyboard shortcuts of the grid: arrows, Home/End (Shift extends), Enter opens,
    /// Ctrl+A, Delete, F, Ctrl+Z.
    pub(super) fn gallery_keys(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let (select_all, delete, favorite, undo) = ui.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::A),
                i.consume_key(egui::Modifiers::NONE, egui::Key::Delete),
                i.consume_key(egui::Modifiers::NONE, egui::Key::F),
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z),
            )
        });
        if select_all {
            self.gallery.select_all();
        }
        if delete && !self.gallery.selected.is_empty() && !self.gallery.query.trash {
            self.trash(self.selection());
        }
        if favorite && !self.gallery.selected.is_empty() {
            let all_starred = self
                .gallery
                .records
                .iter()
                .filter(|r| self.gallery.selected.contains(&r.id))
                .all(|r| r.favorite);
            self.set_favorite(self.selection(), !all_starred);
        }
        if undo {
            self.undo_last_delete();
        }
        // In the order pressed, each repeat counted; Ctrl, Alt or Cmd make it another shortcut.
        let (moves, open) = ui.input_mut(|i| {
            let mut moves = Vec::new();
            let mut open = false;
            i.events.retain(|event| {
                let egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } = event
                else {
                    return true;
                };
                if modifiers.ctrl || modifiers.alt || modifiers.command || modifiers.mac_cmd {
                    return true;
                }
                if let Some(step) = FocusStep::of_key(*key) {
                    moves.push((step, modifiers.shift));
                    false
                } else if *key == egui::Key::Enter && !modifiers.shift {
                    open = true;
                    false
                } else {
                    true
                }
            });
            (moves, open)
        });
        for (step, extend) in moves {
            self.gallery.move_focus(step, extend);
        }
        if open && let Some(index) = self.gallery.focus {
            self.open_viewer(index);
        }
    }

    pub(super) fn handle_toolbar_action(&mut self, action: ToolbarAction) {
        match action {
            ToolbarAction::QueryChanged => {
                self.gallery.selected.clear();
                self.gallery.reset_focus();
                self.refresh_gallery();
            }
            ToolbarAction::Import => self.import_through_dialog(),
            ToolbarAction::ExportSelected => self.export_selected(),
            ToolbarAction::TrashSelected => self.trash(self.selection()),
            ToolbarAction::RestoreSelected => {
                let ids = self.selection();
                self.counted_library_task("gallery.restored", move |library| library.restore(&ids));
            }
            ToolbarAction::FavoriteSelected(favorite) => self.set_favorite(self.selection(), favorite),
            ToolbarAction::EmptyTrash => self.confirm_empty_trash = true,
            ToolbarAction::SelectAll => self.gallery.select_all(),
            ToolbarAction::SelectNone => self.gallery.selected.clear(),
        }
    }

    fn set_favorite(&mut self, ids: Vec<String>, favorite: bool) {
        for record in self.gallery.records.iter_mut().filter(|r| ids.contains(&r.id)) {
            record.favorite = favorite;
        }
        let library = Arc::clone(&self.library);
        self.background
            .spawn(move || AppEvent::Done(library.set_favorite(&ids, favorite).map(|_| String::new())));
    }

    /// Moves images to the trash; the notice offers Undo (also Ctrl+Z).
    pub(super) fn trash(&mut self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        self.gallery.remove(&ids);
        let library = Arc::clone(&self.library);
        self.background.spawn(move || {
            let result = library.trash(&ids);
            AppEvent::Trashed { ids, result }
        });
    }

    /// Restores the most recently trashed batch.
    pub(super) fn undo_last_delete(&mut self) {
        let Some(ids) = self.undo.pop() else { return };
        self.counted_library_task("gallery.restored", move |library| library.restore(&ids));
    }

    /// Runs a library change in the background; the notice says how many images it
    /// touched with the translation `message_key` (which takes `%{count}`).
    fn counted_library_task(
        &mut self,
        message_key: &'static str,
        change: impl FnOnce(&crate::library::Library) -> crate::Result<usize> + Send + 'static,
    ) {
        let library = Arc::clone(&self.library);
        let locale = self.locale();
        self.background.spawn(move || {
            AppEvent::Done(change(&library).map(|count| t!(message_key, locale = locale, count = count).into_owned()))
        });
    }

    /// Asks before emptying the trash: its files are deleted for good.
    pub(super) fn confirm_empty_trash_ui(&mut self, ctx: &egui::Context) {
        if !self.confirm_empty_trash {
            return;
        }
        let locale = self.locale();
        let title = t!("gallery.empty_trash_title", locale = locale);
        let text = t!("gallery.empty_trash_text", locale = locale);
        let confirm = t!("gallery.empty_trash_confirm", locale = locale);
        let question = Confirmation {
            id: "confirm-empty-trash",
            title: &title,
            text: &text,
            confirm: &confirm,
        };
        match confirm_ui(ctx, &question, locale) {
            None => {}
            Some(ConfirmAnswer::Cancel) => self.confirm_empty_trash = false,
            Some(ConfirmAnswer::Confirm) => {
                self.confirm_empty_trash = false;
                self.counted_library_task("gallery.emptied", |library| library.empty_trash());
            }
        }
    }

    pub(super) fn remove_missing(&mut self) {
        self.counted_library_task("gallery.removed_missing", |library| library.remove_missing());
    }

    fn export_dir(&self) -> PathBuf {
        self.settings.export_dir.clone().unwrap_or_else(default_export_dir)
    }

    /// "Save as…": the dialog and the write run on a worker; without a dialog backend the
    /// copy goes to the default export folder and the notice says so.
    fn save_as(&mut self, record: ImageRecord) {
        let format = self.settings.export_format;
        let quality = self.settings.export_quality;
        let name = transfer::file_name(&self.settings.file_name_template, &record, format);
        let export_dir = self.export_dir();
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        let locale = self.locale();
        self.background.spawn(move || {
            let (target, fallback) = if dialogs.available() {
                match dialogs.save_file(&name, Some(&export_dir)) {
                    Some(path) => (path, false),
                    None => return AppEvent::Done(Ok(String::new())),
                }
            } else {
                (transfer::unique_path(&export_dir.join(&name)), true)
            };
            let format = format_for_path(&target).unwrap_or(format);
            let result = std::fs::create_dir_all(target.parent().unwrap_or(Path::new(".")))
                .map_err(|err| Error::storage(format!("cannot create the folder for {}", target.display()), err))
                .and_then(|()| transfer::save_as(&library, &record, format, quality, &target));
            AppEvent::Done(result.map(|path| {
                let key = if fallback {
                    "gallery.saved_no_dialog"
                } else {
                    "gallery.saved"
                };
                t!(key, locale = locale, path = path.display()).into_owned()
            }))
        });
    }

    fn export_selected(&mut self) {
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
        let format = self.settings.export_format;
        let quality = self.settings.export_quality;
        let template = self.settings.file_name_template.clone();
        let export_dir = self.export_dir();
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        let locale = self.locale();
        self.progress = Some((0, records.len()));
        self.background.spawn_reporting(move |report| {
            let (dir, fallback) = if dialogs.available() {
                match dialogs.pick_folder(Some(&export_dir)) {
                    Some(dir) => (dir, false),
                    None => return AppEvent::Progress { done: 0, total: 0 },
                }
            } else {
                (export_dir, true)
            };
            let progress = |done, total| report(AppEvent::Progress { done, total });
            let results = match transfer::export_many(&library, &records, &dir, format, quality, &template, &progress) {
                Ok(results) => results,
                Err(err) => return AppEvent::Done(Err(err)),
            };
            let written = results.iter().filter(|result| result.is_ok()).count();
            let key = if fallback {
                "gallery.exported_no_dialog"
            } else {
                "gallery.exported"
            };
            match results.into_iter().find_map(Result::err) {
                Some(first) if written == 0 => AppEvent::Done(Err(first)),
                Some(first) => {
                    // Some were written: say how many and why the first of the others was not.
                    let text = t!(
                        "gallery.exported_some_failed",
                        locale = locale,
                        exported = t!(key, locale = locale, count = written, path = dir.display()),
                        failed = records.len().saturating_sub(written),
                        error = first.user_message(locale)
                    );
                    AppEvent::Done(Ok(text.into_owned()))
                }
                None => AppEvent::Done(Ok(
                    t!(key, locale = locale, count = written, path = dir.display()).into_owned()
                )),
            }
        });
    }

    fn import_through_dialog(&mut self) {
        if !self.dialogs.available() {
            let message = t!("gallery.no_dialog_import", locale = self.locale()).into_owned();
            self.notify(message);
            return;
        }
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        self.background
            .spawn_reporting(move |report| match dialogs.pick_images() {
                Some(paths) => import_all(&library, &paths, report),
                None => AppEvent::Progress { done: 0, total: 0 },
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
        if !paths.is_empty() {
            self.import_paths(paths);
        }
    }

    /// Imports `paths` in the background (also used by drag and drop).
    pub fn import_paths(&mut self, paths: Vec<PathBuf>) {
        let library = Arc::clone(&self.library);
        self.progress = Some((0, paths.len()));
        self.background
            .spawn_reporting(move |report| import_all(&library, &paths, report));
    }

    pub(super) fn import_failures_ui(&mut self, ctx: &egui::Context) {
        if self.import_failures.is_empty() {
            return;
        }
        let locale = self.locale();
        let mut open = true;
        egui::Window::new(t!("gallery.import_failures", locale = locale))
            .open(&mut open)
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| {
                    for line in &self.import_failures {
                        ui.label(line);
                    }
                });
            });
        if !open {
            self.import_failures.clear();
        }
    }

    pub(super) fn handle_library_event(&mut self, ctx: &egui::Context, event: AppEvent) {
        match event {
            AppEvent::FullImage { id, image } => {
                if let Some(viewer) = self.viewer.as_mut().filter(|v| v.id == id) {
                    match image {
                        Ok(image) => {
                            viewer.texture = Some(ctx.load_texture("viewer-full", image, egui::TextureOptions::LINEAR))
                        }
                        Err(err) => viewer.failed = Some(err.user_message(self.settings.language.locale())),
                    }
                }
            }
            AppEvent::Done(result) => {
                self.progress = None;
                match result {
                    Ok(text) if text.is_empty() => {}
                    Ok(text) => self.notify(text),
                    Err(err) => {
                        let message = err.user_message(self.locale());
                        self.notify(message);
                    }
                }
                self.refresh_gallery();
            }
            AppEvent::Trashed { ids, result } => match result {
                Ok(count) => {
                    let text = t!("gallery.trashed", locale = self.locale(), count = count).into_owned();
                    self.undo.push(ids);
                    self.notice = Some(Notice {
                        text,
                        since: Instant::now(),
                        offer_undo: true,
                        offer_remove_missing: false,
                    });
                }
                Err(err) => {
                    let message = err.user_message(self.locale());
                    self.notify(message);
                    self.refresh_gallery();
                }
            },
            AppEvent::Imported { stored, failures } => {
                self.progress = None;
                let text = t!(
                    "gallery.imported",
                    locale = self.locale(),
                    count = stored,
                    failed = failures.len()
                )
                .into_owned();
                self.notify(text);
                self.import_failures = failures;
                self.refresh_gallery();
                self.refresh_models();
            }
            AppEvent::Progress { done, total } => {
                self.progress = if total == 0 { None } else { Some((done, total)) };
            }
            AppEvent::Clipboard(result) => match result {
                Ok(image) => {
                    ctx.copy_image(image);
                    let text = t!("gallery.copied", locale = self.locale()).into_owned();
                    self.notify(text);
                }
                Err(err) => {
                    let message = err.user_message(self.locale());
                    self.notify(message);
                }
            },
            AppEvent::Models(Ok(models)) => self.models = models,
            AppEvent::Models(Err(err)) => tracing::warn!("models unavailable: {}", err.message),
            AppEvent::KeyStatus(_)
            | AppEvent::KeySaved(_)
            | AppEvent::Gallery { .. }
            | AppEvent::Thumbnail { .. }
            | AppEvent::ThumbnailsDropped(_) => {}
        }
    }
}

/// Imports every path, reporting progress; failures are kept per file.
fn import_all(library: &crate::library::Library, paths: &[PathBuf], report: &dyn Fn(AppEvent)) -> AppEvent {
    let mut stored = 0;
    let mut failures = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        match transfer::import_file(library, path) {
            Ok(_) => stored += 1,
            Err(err) => failures.push(format!("{}: {}", path.display(), err.user_message("en"))),
        }
        report(AppEvent::Progress {
            done: index + 1,
            total: paths.len(),
        });
    }
    AppEvent::Imported { stored, failures }
}

/// The full-size pixels of a stored image, for the viewer and the clipboard.
fn decode_full(library: &crate::library::Library, record: &ImageRecord) -> Result<egui::ColorImage, Error> {
    let path = library.image_path(record);
    let bytes = std::fs::read(&path).map_err(|err| Error::storage(format!("cannot read {}", path.display()), err))?;
    let rgba = imaging::decode(&bytes, &DecodeLimits::default())?.to_rgba8();
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    ))
}

/// The parameters an image was made with, for "Use these settings" and "Generate again".
pub fn params_of(record: &ImageRecord) -> GenerationParams {
    let meta = &record.meta;
    let defaults = GenerationParams::default();
    GenerationParams {
        model: if meta.model.is_empty() {
            defaults.model.clone()
        } else {
            meta.model.clone()
        },
        prompt: meta.prompt.clone(),
        negative_prompt: meta.negative_prompt.clone(),
        size: Size::parse(&meta.size).unwrap_or(defaults.size),
        seed: meta.seed,
        prompt_extend: meta.prompt_extend,
        watermark: meta.watermark,
    }
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

/// Opens the folder holding `file` in the system's file manager (without waiting).
/// Opens the system file manager at `file` (selected where the OS can). Runs on the
/// background pool: it starts a process and waits for the launcher to hand over.
fn show_in_folder(file: &Path) -> crate::Result<()> {
    let folder = file.parent().unwrap_or(file).to_owned();
    let mut command = if cfg!(target_os = "macos") {
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
