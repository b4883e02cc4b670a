//! The prompt library in the window: the picker, the save window and the variables
//! form; every read and write of the library (and of JSON files) as a background task
//! whose [`PromptChange`] comes back here.

use std::sync::Arc;

use rust_i18n::t;

use super::PictorApp;
use crate::error::Error;
use crate::library::{Library, SavedPrompt, read_prompts_file};
use crate::ui::background::{AppEvent, PromptChange, TaskKind, TaskOutcome};
use crate::ui::prompt_forms::{
    FillAction, FillForm, SaveAction, SaveForm, fill_variables_ui, insert_into, kind_label, save_prompt_ui,
    variables_of,
};
use crate::ui::prompt_library::{Picker, PickerAction, prompt_picker_ui};

/// The name an export is offered under.
const EXPORT_NAME: &str = "pictor-prompts.json";

impl PictorApp {
    /// Opens the picker (Ctrl+P or "Library") and reads the library afresh.
    pub(super) fn open_prompt_picker(&mut self) {
        self.prompt_library.picker = Some(Picker::default());
        self.refresh_prompts();
    }

    /// Opens the save window on the compose panel's prompt.
    pub(super) fn open_save_prompt(&mut self) {
        self.prompt_library.save = Some(SaveForm::new(&self.form.params));
        self.refresh_prompts();
    }

    /// Reads the saved entries (in the background).
    fn refresh_prompts(&mut self) {
        let library = Arc::clone(&self.library);
        self.background.spawn(move || AppEvent::Prompts(library.prompts()));
    }

    /// The saved entries were read.
    pub(super) fn prompts_read(&mut self, entries: Result<Vec<SavedPrompt>, Error>) {
        match entries {
            Ok(entries) => {
                self.prompt_library.entries = entries;
                self.prompt_library.loaded = true;
            }
            Err(err) => self.prompt_failed(&err),
        }
    }

    /// Draws whichever prompt library window is open, and carries out what was done in it.
    pub(super) fn prompt_library_ui(&mut self, ctx: &egui::Context) {
        let locale = self.locale();
        let library = &mut self.prompt_library;
        if let Some(form) = &mut library.fill {
            match fill_variables_ui(ctx, form, locale) {
                Some(FillAction::Insert) => {
                    if let Some(form) = library.fill.take() {
                        self.insert_saved(&form.entry, &form.values);
                    }
                }
                Some(FillAction::Cancel) => library.fill = None,
                None => {}
            }
            return;
        }
        if let Some(picker) = &mut library.picker {
            let actions = prompt_picker_ui(ctx, picker, &library.entries, library.loaded, locale);
            for action in actions {
                self.handle_picker_action(action);
            }
            return;
        }
        if let Some(form) = &mut library.save {
            match save_prompt_ui(ctx, form, &library.entries, locale) {
                Some(SaveAction::Save(entry)) => {
                    form.saving = true;
                    form.error = None;
                    self.save_prompt(entry);
                }
                Some(SaveAction::Cancel) => library.save = None,
                None => {}
            }
        }
    }

    fn handle_picker_action(&mut self, action: PickerAction) {
        match action {
            PickerAction::Insert(entry) => {
                self.prompt_library.picker = None;
                let variables = variables_of(&entry);
                if variables.is_empty() {
                    self.insert_saved(&entry, &[]);
                } else {
                    self.prompt_library.fill = Some(FillForm::new(entry, variables));
                }
            }
            PickerAction::Star { id, starred } => self.prompt_task(move |library| {
                library.set_prompt_starred(id, starred)?;
                Ok(PromptChange::Starred)
            }),
            PickerAction::Delete(entry) => self.prompt_task(move |library| {
                library.delete_prompt(entry.id)?;
                Ok(PromptChange::Deleted(entry))
            }),
            PickerAction::Restore(entry) => {
                if let Some(picker) = &mut self.prompt_library.picker {
                    picker.deleted = None;
                    picker.status = None;
                }
                self.prompt_task(move |library| {
                    library.save_prompt(&entry)?;
                    Ok(PromptChange::Restored(entry))
                });
            }
            PickerAction::Import => self.import_prompts(),
            PickerAction::Export => self.export_prompts(),
            PickerAction::Close => self.prompt_library.picker = None,
        }
    }

    /// Puts `entry` into the compose form (its variables filled from `values`) and notes
    /// that it was used.
    fn insert_saved(&mut self, entry: &SavedPrompt, values: &[(String, String)]) {
        insert_into(&mut self.form.params, entry, values);
        let id = entry.id;
        self.prompt_task(move |library| {
            library.mark_prompt_used(id)?;
            Ok(PromptChange::Used)
        });
    }

    fn save_prompt(&mut self, entry: SavedPrompt) {
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Prompts, move |_| {
            let saved = library.prompts().and_then(|entries| {
                let replaced = entries.iter().any(|p| p.kind == entry.kind && p.name == entry.name);
                library.save_prompt(&entry).map(|_| replaced)
            });
            TaskOutcome::Prompts(match saved {
                Ok(replaced) => PromptChange::Saved {
                    kind: entry.kind,
                    name: entry.name,
                    replaced,
                },
                Err(err) => PromptChange::NotSaved(err),
            })
        });
    }

    /// Writes every entry to a JSON file chosen in a dialog (or, with no dialog, to the
    /// export folder, and the message says so).
    fn export_prompts(&mut self) {
        let export_dir = self.export_dir();
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Prompts, move |_| {
            let (path, without_dialog) = if dialogs.available() {
                match dialogs.save_file(EXPORT_NAME, Some(&export_dir)) {
                    Some(path) => (path, false),
                    None => return TaskOutcome::DialogCancelled,
                }
            } else {
                (crate::transfer::unique_path(&export_dir.join(EXPORT_NAME)), true)
            };
            match library.export_prompts(&path) {
                Ok(count) => TaskOutcome::Prompts(PromptChange::Exported {
                    path,
                    count,
                    without_dialog,
                }),
                Err(err) => TaskOutcome::Failed(err),
            }
        });
    }

    /// Reads a JSON file chosen in a dialog: its good entries are saved (all in one
    /// transaction), its bad ones listed.
    fn import_prompts(&mut self) {
        if !self.dialogs.available() {
            let text = t!("prompts.no_dialog_import", locale = self.locale()).into_owned();
            self.prompt_notice(text);
            return;
        }
        let dialogs = Arc::clone(&self.dialogs);
        let library = Arc::clone(&self.library);
        self.start_task(TaskKind::Prompts, move |_| {
            let Some(path) = dialogs.pick_file(&["json"]) else {
                return TaskOutcome::DialogCancelled;
            };
            let imported =
                read_prompts_file(&path).and_then(|file| Ok((library.save_prompts(&file.entries)?, file.rejected)));
            match imported {
                Ok((saved, rejected)) => TaskOutcome::Prompts(PromptChange::Imported { path, saved, rejected }),
                Err(err) => TaskOutcome::Failed(err.with_details(path.display().to_string())),
            }
        });
    }

    /// A change of the prompt library as a task.
    fn prompt_task(&mut self, work: impl FnOnce(&Library) -> crate::Result<PromptChange> + Send + 'static) {
        self.library_task(TaskKind::Prompts, move |library| {
            work(library).map(TaskOutcome::Prompts)
        });
    }

    /// Says what a prompt library task did, and reads the library again.
    pub(super) fn prompt_changed(&mut self, change: PromptChange) {
        let locale = self.locale();
        self.refresh_prompts();
        match change {
            PromptChange::Starred | PromptChange::Used => {}
            PromptChange::Saved { kind, name, replaced } => {
                self.prompt_library.save = None;
                let key = if replaced { "prompts.replaced" } else { "prompts.saved" };
                let kind = kind_label(kind, locale);
                self.notify(t!(key, locale = locale, kind = kind, name = name.as_str()));
            }
            PromptChange::NotSaved(err) => match &mut self.prompt_library.save {
                Some(form) => {
                    form.saving = false;
                    form.error = Some(err.user_message(locale));
                }
                None => self.notify_error(&err),
            },
            PromptChange::Deleted(entry) => {
                // Gone from the list at once, not only when the library is read again.
                self.prompt_library.entries.retain(|e| e.id != entry.id);
                let text = t!("prompts.deleted", locale = locale, name = entry.name.as_str()).into_owned();
                match &mut self.prompt_library.picker {
                    Some(picker) => {
                        picker.status = Some(text);
                        picker.deleted = Some(entry);
                    }
                    None => self.notify(text),
                }
            }
            PromptChange::Restored(entry) => {
                self.prompt_notice(t!("prompts.restored", locale = locale, name = entry.name.as_str()).into_owned());
            }
            PromptChange::Exported {
                path,
                count,
                without_dialog,
            } => {
                let key = if without_dialog {
                    "prompts.exported_no_dialog"
                } else {
                    "prompts.exported"
                };
                self.prompt_notice(t!(key, locale = locale, count = count, path = path.display()).into_owned());
            }
            PromptChange::Imported { path, saved, rejected } => {
                let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
                let mut text =
                    t!("prompts.imported", locale = locale, count = saved, file = file.as_str()).into_owned();
                if !rejected.is_empty() {
                    text.push_str(" · ");
                    text.push_str(&t!("prompts.rejected", locale = locale, count = rejected.len()));
                }
                let lines: Vec<String> = rejected
                    .iter()
                    .map(|(position, err)| {
                        t!(
                            "prompts.rejected_entry",
                            locale = locale,
                            n = position,
                            reason = err.user_message(locale)
                        )
                        .into_owned()
                    })
                    .collect();
                if let Some(picker) = &mut self.prompt_library.picker {
                    picker.rejected = lines;
                }
                self.prompt_notice(text);
            }
        }
    }

    /// A prompt library task failed: the picker or the save window says why when open.
    pub(super) fn prompt_failed(&mut self, err: &Error) {
        let message = err.user_message(self.locale());
        if let Some(form) = &mut self.prompt_library.save {
            form.saving = false;
            form.error = Some(message);
        } else {
            self.prompt_notice(message);
        }
    }

    /// A message in the picker while it is open (a notice would be under its backdrop),
    /// else at the bottom of the window.
    fn prompt_notice(&mut self, text: String) {
        match &mut self.prompt_library.picker {
            Some(picker) => {
                picker.deleted = None;
                picker.status = Some(text);
            }
            None => self.notify(text),
        }
    }
}
