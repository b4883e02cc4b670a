//! The window's panels and overlays: top bar, settings window, viewer panel, task
//! progress, notices, import failures, and the question before emptying the trash.

use std::sync::Arc;
use std::time::Duration;

use rust_i18n::t;

use super::PictorApp;
use crate::api::provider::Provider;
use crate::secrets::KeyStatus;
use crate::ui::background::{AppEvent, TaskKind, TaskOutcome};
use crate::ui::confirm::{ConfirmAnswer, Confirmation, confirm_ui};
use crate::ui::settings_ui::{HelpAction, help_ui, settings_ui, watched_folders_ui};
use crate::ui::viewer::viewer_ui;

impl PictorApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        let locale = self.locale();
        ui.horizontal(|ui| {
            ui.heading("Pictor");
            ui.separator();
            let provider = self.provider();
            ui.label(crate::ui::provider_label(provider, locale));
            if provider == Provider::Demo {
                ui.label(egui::RichText::new(t!("top.demo_badge", locale = locale)).color(ui.visuals().warn_fg_color));
            }
            ui.separator();
            let key_text = match &self.key {
                _ if !provider.needs_key() => t!("top.key_not_needed", locale = locale).into_owned(),
                None => t!("top.key_checking", locale = locale).into_owned(),
                Some(KeyStatus { key: Some(key), source }) => {
                    let place = t!(format!("key_source.{}", source.as_str()), locale = locale);
                    t!("top.key_from", locale = locale, place = place, key = key.masked()).into_owned()
                }
                Some(KeyStatus { key: None, .. }) => t!("top.key_none", locale = locale).into_owned(),
            };
            if ui
                .link(key_text)
                .on_hover_text(t!("top.key_hint", locale = locale))
                .clicked()
            {
                self.open_key_dialog();
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(t!("top.settings", locale = locale)).clicked() {
                    self.settings_open = !self.settings_open;
                }
                let running = self.cards.iter().filter(|c| c.is_active()).count();
                if running > 0 {
                    ui.label(t!("top.running", locale = locale, count = running));
                }
                self.spend_chip_ui(ui);
            });
        });
    }

    pub(super) fn settings_window_ui(&mut self, ctx: &egui::Context) {
        if !self.settings_open {
            return;
        }
        let locale = self.locale();
        let mut open = true;
        let mut changed = false;
        let mut watch_action = None;
        let mut open_prices = false;
        let mut help_action = None;
        let provider_before = self.settings.provider;
        egui::Window::new(t!("settings.title", locale = locale))
            .open(&mut open)
            .pivot(egui::Align2::RIGHT_TOP)
            .default_pos(ctx.content_rect().right_top() + egui::vec2(-12.0, 40.0))
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                changed = settings_ui(ui, &mut self.settings, &self.overrides, locale);
                let typed = (!self.dialogs.available()).then_some(&mut self.watching.typed);
                watch_action = watched_folders_ui(ui, &self.settings, &self.watching.problems, typed, locale);
                ui.separator();
                ui.horizontal(|ui| {
                    let label = ui.label(t!("settings.variations", locale = locale));
                    changed |= ui
                        .add(egui::DragValue::new(&mut self.settings.variations).range(1..=12))
                        .labelled_by(label.id)
                        .changed();
                });
                if ui.button(t!("settings.prices", locale = locale)).clicked() {
                    open_prices = true;
                }
                help_action = help_ui(ui, self.log_dir.as_deref(), &mut self.diagnostics_prompts, locale);
            });
        if let Some(action) = help_action {
            self.handle_help_action(action);
        }
        if open_prices {
            self.open_prices();
        }
        self.settings_open = open;
        if let Some(action) = watch_action {
            self.handle_watch_action(action);
        }
        if changed {
            self.jobs.set_concurrency(self.settings.concurrency);
            let chosen = self.settings.provider;
            if chosen != provider_before {
                self.settings.provider = provider_before;
                self.choose_provider(chosen);
            }
        }
    }

    pub(super) fn notice_ui(&mut self, ctx: &egui::Context) {
        let locale = self.locale();
        let Some(notice) = &self.notice else { return };
        let lifetime = if notice.offer_undo || notice.offer_remove_missing {
            20
        } else {
            8
        };
        if notice.since.elapsed() > Duration::from_secs(lifetime) {
            self.notice = None;
            return;
        }
        let (text, offer_undo, offer_remove) = (notice.text.clone(), notice.offer_undo, notice.offer_remove_missing);
        let mut undo = false;
        let mut remove_missing = false;
        let mut close = false;
        egui::Area::new(egui::Id::unique("notice"))
            .anchor(egui::Align2::CENTER_BOTTOM, egui::vec2(0.0, -16.0))
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(text);
                        if offer_undo && ui.button(t!("gallery.undo", locale = locale)).clicked() {
                            undo = true;
                        }
                        if offer_remove && ui.button(t!("gallery.remove_missing", locale = locale)).clicked() {
                            remove_missing = true;
                        }
                        if ui
                            .small_button("×")
                            .on_hover_text(t!("job.dismiss", locale = locale))
                            .clicked()
                        {
                            close = true;
                        }
                    });
                });
            });
        if undo {
            self.undo_last_delete();
        }
        if remove_missing {
            self.remove_missing();
        }
        if close || undo || remove_missing {
            self.notice = None;
        }
        ctx.request_repaint_after(Duration::from_secs(1));
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
        let (library, thumbnails, background) = (&self.library, &mut self.thumbnails, &self.background);
        let mut thumbnail = |record: &crate::library::ImageRecord| thumbnails.of_record(library, record, background);
        let actions = viewer_ui(
            ui,
            viewer,
            &record,
            (index, total),
            self.lineage.as_ref(),
            &mut thumbnail,
            locale,
        );
        for action in actions {
            self.handle_viewer_action(action, index, &record);
        }
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
            destructive: true,
        };
        match confirm_ui(ctx, &question, locale) {
            None => {}
            Some(ConfirmAnswer::Cancel) => self.confirm_empty_trash = false,
            Some(ConfirmAnswer::Confirm) => {
                self.confirm_empty_trash = false;
                self.library_task(TaskKind::EmptyTrash, |library| {
                    library.empty_trash().map(|count| TaskOutcome::TrashEmptied { count })
                });
            }
        }
    }

    /// Asks before importing the images counted below dropped or chosen folders.
    pub(super) fn confirm_folder_import_ui(&mut self, ctx: &egui::Context) {
        let Some(pending) = &self.folder_import else {
            return;
        };
        let locale = self.locale();
        let folders: Vec<String> = pending.roots.iter().map(|root| root.display().to_string()).collect();
        let title = t!("import.folder_title", locale = locale);
        let mut text = t!(
            "import.folder_text",
            locale = locale,
            count = pending.files.len(),
            folders = folders.join(", ")
        )
        .into_owned();
        if !pending.unreadable.is_empty() {
            text.push('\n');
            text.push_str(&t!(
                "import.unreadable_folders",
                locale = locale,
                count = pending.unreadable.len()
            ));
        }
        let confirm = t!("import.folder_confirm", locale = locale, count = pending.files.len());
        let question = Confirmation {
            id: "confirm-folder-import",
            title: &title,
            text: &text,
            confirm: &confirm,
            destructive: false,
        };
        match confirm_ui(ctx, &question, locale) {
            None => {}
            Some(ConfirmAnswer::Cancel) => self.folder_import = None,
            Some(ConfirmAnswer::Confirm) => {
                if let Some(pending) = self.folder_import.take() {
                    self.import_failures = pending
                        .unreadable
                        .iter()
                        .map(|(path, err)| format!("{}: {}", path.display(), err.user_message(locale)))
                        .collect();
                    self.import_files(pending.files, crate::ui::background::ImportThen::Nothing);
                }
            }
        }
    }

    /// One progress line per running task, with what it does; a task that can stop
    /// halfway has a Cancel button.
    pub(super) fn tasks_ui(&self, ui: &mut egui::Ui) {
        let locale = self.locale();
        for running in self.tasks.values().filter(|task| task.kind.shows_progress()) {
            let what = t!(format!("task.{}", running.kind.name()), locale = locale);
            let bar = if running.total == 0 {
                egui::ProgressBar::new(0.0).animate(false).text(what)
            } else {
                egui::ProgressBar::new(running.done as f32 / running.total as f32)
                    .text(format!("{what} {} / {}", running.done, running.total))
            };
            ui.horizontal(|ui| {
                let stopping = running.cancel.load(std::sync::atomic::Ordering::Relaxed);
                if running.kind.can_cancel() {
                    let button =
                        ui.add_enabled(!stopping, egui::Button::new(t!("task.cancel", locale = locale)).small());
                    if button.clicked() {
                        running.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                ui.add(bar);
            });
        }
    }

    /// Opens the log folder, or gathers the diagnostics for the clipboard (both off the
    /// UI thread).
    fn handle_help_action(&mut self, action: HelpAction) {
        match action {
            HelpAction::OpenLogFolder => {
                if let Some(dir) = self.log_dir.clone() {
                    self.start_task(TaskKind::ShowInFolder, move |_| {
                        match super::transfers::open_folder(&dir) {
                            Ok(()) => TaskOutcome::ShownInFolder,
                            Err(err) => TaskOutcome::Failed(err),
                        }
                    });
                }
            }
            HelpAction::CopyDiagnostics => {
                let library = Arc::clone(&self.library);
                let context = crate::diagnostics::DiagnosticsContext {
                    renderer: self.renderer.clone(),
                    include_prompts: self.diagnostics_prompts,
                };
                self.background
                    .spawn(move || AppEvent::Diagnostics(crate::diagnostics::diagnostics_text(&library, &context)));
            }
        }
    }
}
