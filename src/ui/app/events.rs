//! Everything that comes back to the window: job events, background results, and the
//! typed outcome of each library task turned into a notice and, only when rows changed,
//! a new gallery query.

use std::time::Instant;

use rust_i18n::t;

use super::{Notice, PictorApp};
use crate::error::Error;
use crate::jobs::JobEvent;
use crate::secrets::{KeySource, KeyStatus};
use crate::ui::background::{AppEvent, ImportThen, TaskKind, TaskOutcome};
use crate::ui::key_dialog::KeyDialog;

impl PictorApp {
    pub(super) fn handle_job_event(&mut self, event: JobEvent) {
        let id = match &event {
            JobEvent::Queued(id) | JobEvent::Started(id) => *id,
            JobEvent::Cancelled { id, .. }
            | JobEvent::TaskWaiting { id, .. }
            | JobEvent::Retrying { id, .. }
            | JobEvent::Finished { id, .. }
            | JobEvent::Failed { id, .. } => *id,
            JobEvent::SomeImagesFailed { failed, .. } => {
                let text = t!("job.some_failed", locale = self.locale(), count = failed).into_owned();
                self.notify(text);
                return;
            }
            JobEvent::ReferenceAdjusted { position, what, .. } => {
                let text = t!(
                    "job.reference_adjusted",
                    locale = self.locale(),
                    n = position,
                    what = what
                )
                .into_owned();
                self.notify(text);
                return;
            }
        };
        if let JobEvent::Finished { images, .. } = &event {
            self.gallery.prepend(images);
            self.refresh_spend();
            if images.iter().any(|image| !self.models.contains(&image.meta.model)) {
                self.refresh_models();
            }
            // A new edit of the image open in the viewer joins its "Edits of this image".
            let open = self.viewer.as_ref().map(|viewer| viewer.id.clone());
            if let Some(open) = open
                && images.iter().any(|image| image.meta.parents.contains(&open))
            {
                self.reload_lineage(&open);
            }
        }
        if let Some(card) = self.cards.iter_mut().find(|c| c.id == id) {
            card.apply(&event);
        }
    }

    pub(super) fn handle_app_event(&mut self, ctx: &egui::Context, event: AppEvent) {
        match event {
            // An answer for a provider that is no longer chosen must never be used for
            // the one that is: its key would go to the wrong service.
            AppEvent::KeyStatus { provider, .. } if provider != self.provider() => {}
            AppEvent::KeyStatus { status: Ok(status), .. } => {
                let missing = status.key.is_none() && self.provider().needs_key();
                self.key = Some(status);
                // Tasks left running are collected with this provider's key, once it is known.
                if !missing {
                    self.look_for_pending_tasks();
                }
                if missing && self.key_dialog.is_none() {
                    self.key_dialog = Some(KeyDialog {
                        provider: self.provider(),
                        ..KeyDialog::default()
                    });
                }
            }
            AppEvent::KeyStatus { status: Err(err), .. } => {
                self.key = Some(KeyStatus {
                    key: None,
                    source: KeySource::None,
                });
                self.notify_error(&err);
            }
            AppEvent::KeySaved(result) => match result {
                Ok(_) => {
                    self.key_dialog = None;
                    self.refresh_key_status();
                }
                Err(err) => {
                    let message = err.user_message(self.locale());
                    match &mut self.key_dialog {
                        Some(dialog) => {
                            dialog.saving = false;
                            dialog.error = Some(message);
                        }
                        None => self.notify(message),
                    }
                }
            },
            AppEvent::LibraryOpened(opened) => match opened {
                Ok(report) if report.missing_files > 0 => {
                    let text = t!(
                        "gallery.missing_notice",
                        locale = self.locale(),
                        count = report.missing_files
                    )
                    .into_owned();
                    self.notice = Some(Notice {
                        text,
                        since: Instant::now(),
                        offer_undo: false,
                        offer_remove_missing: true,
                    });
                }
                Ok(_) => {}
                // The gallery shows it, with the library's folder.
                Err(err) => tracing::error!(kind = %err.kind, "the library could not be opened: {}", err.message),
            },
            AppEvent::Gallery { generation, records } => match records {
                Ok(records) => {
                    if self.gallery.receive(generation, records) {
                        self.show_listed_or_forget();
                    }
                }
                Err(err) => {
                    self.gallery.loading = false;
                    self.notify_error(&err);
                }
            },
            AppEvent::Thumbnail { id, image } => self.thumbnails.insert(ctx, id, image),
            AppEvent::ThumbnailsDropped(ids) => self.thumbnails.dropped(&ids),
            AppEvent::ImageBoards { id, names } => match names {
                Ok(names) => {
                    if let Some(viewer) = self.viewer.as_mut().filter(|v| v.id == id) {
                        viewer.boards.on = names;
                    }
                }
                Err(err) => tracing::warn!("the image's boards are unreadable: {}", err.message),
            },
            AppEvent::RawTexts { id, texts } => match texts {
                Ok(texts) => {
                    if let Some(viewer) = self.viewer.as_mut().filter(|v| v.id == id) {
                        viewer.raw_texts = Some(texts);
                    }
                }
                Err(err) => tracing::info!("the file's texts are unreadable: {}", err.message),
            },
            AppEvent::FullImage { id, image } => {
                let locale = self.settings.language.locale();
                if let Some(pane) = self.compare.as_mut().and_then(|compare| compare.pane_mut(&id)) {
                    match image {
                        Ok(image) => {
                            let name = format!("compare-{id}");
                            pane.texture = Some(ctx.load_texture(name, image, egui::TextureOptions::LINEAR));
                        }
                        Err(err) => pane.failed = Some(err.user_message(locale)),
                    }
                } else if let Some(viewer) = self.viewer.as_mut().filter(|v| v.id == id) {
                    match image {
                        Ok(image) => {
                            viewer.texture = Some(ctx.load_texture("viewer-full", image, egui::TextureOptions::LINEAR))
                        }
                        Err(err) => viewer.failed = Some(err.user_message(self.settings.language.locale())),
                    }
                }
            }
            AppEvent::Progress { task, done, total } => {
                if let Some(running) = self.tasks.get_mut(&task) {
                    running.done = done;
                    running.total = total;
                }
            }
            AppEvent::TaskDone { task, outcome } => {
                if let Some(running) = self.tasks.remove(&task) {
                    self.handle_task_outcome(running.kind, outcome);
                }
            }
            AppEvent::Clipboard(result) => match result {
                Ok(image) => {
                    ctx.copy_image(image);
                    let text = t!("gallery.copied", locale = self.locale()).into_owned();
                    self.notify(text);
                }
                Err(err) => self.notify_error(&err),
            },
            AppEvent::Diagnostics(text) => {
                ctx.copy_text(text);
                let text = t!("settings.diagnostics_copied", locale = self.locale()).into_owned();
                self.notify(text);
            }
            AppEvent::Lineage(Ok(lineage)) => self.lineage = Some(lineage),
            AppEvent::Lineage(Err(err)) => tracing::warn!("lineage unavailable: {}", err.message),
            AppEvent::ReferenceRecords { asked, found } => {
                match found {
                    Ok(records) => {
                        for id in &asked {
                            self.references_loading.remove(id);
                        }
                        // A reference looked up and gone (deleted or in the trash) leaves
                        // the strip, and the notice says so; others are untouched.
                        let gone: Vec<&String> = asked
                            .iter()
                            .filter(|id| !records.iter().any(|r| &r.id == *id))
                            .collect();
                        if !gone.is_empty() {
                            self.form.params.references.retain(|id| !gone.contains(&id));
                            let text =
                                t!("compose.references_gone", locale = self.locale(), count = gone.len()).into_owned();
                            self.notify(text);
                        }
                        self.reference_records
                            .extend(records.into_iter().map(|record| (record.id.clone(), record)));
                    }
                    // Left marked as loading: not asked again (every frame) this session.
                    Err(err) => self.notify_error(&err),
                }
            }
            AppEvent::FolderToWatch(Some(folder)) => self.watch_folder(folder),
            AppEvent::FolderToWatch(None) => {}
            AppEvent::PendingTasks(Ok(tasks)) => self.resume_tasks(tasks),
            AppEvent::PendingTasks(Err(err)) => tracing::warn!("stored tasks unreadable: {}", err.message),
            AppEvent::Models(Ok(models)) => self.models = models,
            AppEvent::Models(Err(err)) => tracing::warn!("models unavailable: {}", err.message),
            AppEvent::Boards(Ok(boards)) => {
                self.boards = boards;
                self.offer_boards_in_viewer();
            }
            AppEvent::Spend(spend) => self.receive_spend(spend),
            AppEvent::Boards(Err(err)) => tracing::warn!("boards unavailable: {}", err.message),
            AppEvent::Prompts(entries) => self.prompts_read(entries),
        }
    }

    /// Tells the user how a library task ended, and re-runs the gallery's query only when
    /// the task changed rows.
    pub(super) fn handle_task_outcome(&mut self, kind: TaskKind, outcome: TaskOutcome) {
        let locale = self.locale();
        if outcome.changed_rows(kind) {
            self.refresh_gallery();
        }
        match outcome {
            TaskOutcome::Starred { .. }
            | TaskOutcome::Rated { .. }
            | TaskOutcome::ShownInFolder
            | TaskOutcome::DialogCancelled => {}
            TaskOutcome::Trashed { ids, count } => {
                let text = t!("gallery.trashed", locale = locale, count = count).into_owned();
                self.undo.push(ids);
                self.notice = Some(Notice {
                    text,
                    since: Instant::now(),
                    offer_undo: true,
                    offer_remove_missing: false,
                });
            }
            TaskOutcome::Restored { count } => self.notify(t!("gallery.restored", locale = locale, count = count)),
            TaskOutcome::TrashEmptied { count } => self.notify(t!("gallery.emptied", locale = locale, count = count)),
            TaskOutcome::MissingRemoved { count } => {
                self.notify(t!("gallery.removed_missing", locale = locale, count = count));
            }
            TaskOutcome::Saved { path, without_dialog } => {
                let key = if without_dialog {
                    "gallery.saved_no_dialog"
                } else {
                    "gallery.saved"
                };
                self.notify(t!(key, locale = locale, path = path.display()));
            }
            TaskOutcome::Exported {
                dir,
                written,
                failed,
                without_dialog,
            } => {
                let key = if without_dialog {
                    "gallery.exported_no_dialog"
                } else {
                    "gallery.exported"
                };
                let exported = t!(key, locale = locale, count = written, path = dir.display());
                match failed.first() {
                    None => self.notify(exported),
                    Some(first) if written == 0 => self.notify_error(first),
                    // Some were written: say how many and why the first of the others was not.
                    Some(first) => self.notify(t!(
                        "gallery.exported_some_failed",
                        locale = locale,
                        exported = exported,
                        failed = failed.len(),
                        error = first.user_message(locale)
                    )),
                }
            }
            TaskOutcome::Imported {
                stored,
                already,
                failed,
                skipped_by_cancel,
                then,
                first,
            } => {
                self.notify(import_summary(
                    stored.len(),
                    &already,
                    failed.len(),
                    skipped_by_cancel,
                    locale,
                ));
                self.import_failures.extend(
                    failed
                        .iter()
                        .map(|(path, err)| format!("{}: {}", path.display(), err.user_message(locale))),
                );
                if !stored.is_empty() {
                    self.refresh_models();
                }
                match then {
                    ImportThen::Nothing => {}
                    ImportThen::ToStrip => {
                        // An image already in the library is used as it is.
                        for record in stored.iter().chain(already.iter().map(|(_, existing)| existing)) {
                            self.edit_image(record);
                        }
                    }
                    ImportThen::ShowFirst => {
                        if let Some(first) = first {
                            self.show_when_listed(first);
                        }
                    }
                }
            }
            TaskOutcome::Counted {
                roots,
                files,
                unreadable,
            } => {
                if files.is_empty() {
                    let folders: Vec<String> = roots.iter().map(|root| root.display().to_string()).collect();
                    self.notify(t!("import.no_images", locale = locale, folders = folders.join(", ")));
                } else {
                    self.folder_import = Some(super::FolderImport {
                        roots,
                        files,
                        unreadable,
                    });
                }
            }
            TaskOutcome::DownloadsRetried { stored } => {
                if stored > 0 {
                    self.notify(t!("gallery.pending_saved", locale = locale, count = stored));
                    self.refresh_models();
                }
            }
            TaskOutcome::BoardChanged(change) => {
                self.board_changed(&change);
                self.refresh_spend();
            }
            TaskOutcome::PricesSaved => {
                self.cost_window.draft = None;
                self.price_book_error_shown = false;
                self.refresh_spend();
                self.notify(t!("cost.prices_saved", locale = locale));
            }
            TaskOutcome::Prompts(change) => self.prompt_changed(change),
            TaskOutcome::Failed(err) if kind == TaskKind::Prompts => self.prompt_failed(&err),
            TaskOutcome::Failed(err) => self.notify_error(&err),
        }
    }

    /// Shows `err`'s short message in the UI language.
    pub(super) fn notify_error(&mut self, err: &Error) {
        let message = err.user_message(self.locale());
        self.notify(message);
    }
}

/// What an import did, in one line: how many were stored, already in the library
/// (named, when it is one file), failed, and not reached after a cancel.
fn import_summary(
    stored: usize,
    already: &[(std::path::PathBuf, crate::library::ImageRecord)],
    failed: usize,
    skipped_by_cancel: usize,
    locale: &str,
) -> String {
    if stored == 0 && failed == 0 && skipped_by_cancel == 0 {
        if let [(path, existing)] = already {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            return t!("import.one_already", locale = locale, file = file, id = existing.id).into_owned();
        }
        if !already.is_empty() {
            return t!("import.all_already", locale = locale, count = already.len()).into_owned();
        }
    }
    let mut parts = vec![t!("import.stored", locale = locale, count = stored).into_owned()];
    if !already.is_empty() {
        parts.push(t!("import.already", locale = locale, count = already.len()).into_owned());
    }
    if failed > 0 {
        parts.push(t!("import.failed", locale = locale, count = failed).into_owned());
    }
    if skipped_by_cancel > 0 {
        parts.push(t!("import.cancelled", locale = locale, count = skipped_by_cancel).into_owned());
    }
    parts.join(" · ")
}
