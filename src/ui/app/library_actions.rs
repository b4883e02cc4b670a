//! What the gallery, the viewer and the toolbar ask of the library: viewing, starring,
//! trash with undo, restore. Every piece of I/O runs as a background task whose typed
//! outcome comes back to `events.rs`.

use std::sync::Arc;

use super::{PictorApp, RunningTask};
use crate::api::request::{GenerationParams, GenerationRequest, Size};
use crate::library::{ImageRecord, Library, Query};
use crate::ui::background::{AppEvent, TaskKind, TaskOutcome, TaskProgress};
use crate::ui::gallery::GalleryAction;
use crate::ui::gallery_toolbar::DateFilter;
use crate::ui::gallery_toolbar::ToolbarAction;
use crate::ui::job_cards::{CardState, JobCard};
use crate::ui::viewer::{Viewer, ViewerAction};

use super::transfers::{decode_full, show_in_folder};
use rust_i18n::t;

/// The model an image is handed to for editing when the chosen one takes no references.
const EDIT_MODEL: &str = "qwen-image-edit-plus";

/// The parents (in order) and the edits of `record`.
fn load_lineage(library: &Library, record: &ImageRecord) -> crate::Result<crate::ui::viewer::Lineage> {
    let parents = record
        .meta
        .parents
        .iter()
        .filter_map(|id| library.get(id).transpose())
        .collect::<crate::Result<Vec<_>>>()?;
    let children = library
        .children(&record.id)?
        .iter()
        .filter_map(|id| library.get(id).transpose())
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(crate::ui::viewer::Lineage {
        id: record.id.clone(),
        parents,
        children,
    })
}

impl PictorApp {
    /// Runs the gallery's query again (in the background).
    pub(super) fn refresh_gallery(&mut self) {
        self.gallery.refresh(&self.library, &self.background);
    }

    /// Downloads images whose earlier download failed, while their links live.
    pub(super) fn retry_pending_downloads(&mut self) {
        let generator = match self.client() {
            Ok(client) => crate::generate::Generator::downloads_only(client, Arc::clone(&self.library)),
            Err(err) => {
                tracing::info!("pending downloads not retried: {}", err.message);
                return;
            }
        };
        let runtime = self.background.runtime().clone();
        self.start_task(TaskKind::RetryDownloads, move |_| {
            let cancel = tokio_util::sync::CancellationToken::new();
            match runtime.block_on(generator.retry_pending(&cancel)) {
                Ok((stored, _still_failing)) => TaskOutcome::DownloadsRetried { stored: stored.len() },
                Err(err) => TaskOutcome::Failed(err),
            }
        });
    }

    /// Reads the tasks an earlier session left running (in the background); they come
    /// back to [`Self::resume_tasks`].
    pub(super) fn look_for_pending_tasks(&mut self) {
        let library = Arc::clone(&self.library);
        self.background
            .spawn(move || AppEvent::PendingTasks(library.pending_tasks()));
    }

    /// Collects each stored task of the service in force as a job with its own card (it
    /// is polled, never created again). Tasks of another service wait, and a notice
    /// says where.
    pub(super) fn resume_tasks(&mut self, tasks: Vec<crate::library::PendingTask>) {
        let generator = match self.generator() {
            Ok(generator) => generator,
            Err(err) => {
                tracing::info!("stored tasks not resumed: {}", err.message);
                return;
            }
        };
        let locale = self.locale();
        let (mine, elsewhere): (Vec<_>, Vec<_>) = tasks.into_iter().partition(|task| generator.owns_task(task));
        let mut resumed = 0;
        for task in mine {
            if !self.resumed_tasks.insert(task.id) {
                continue;
            }
            let request = match crate::generate::task_request(&task) {
                Ok(request) => request,
                Err(err) => {
                    tracing::warn!("a stored task is not resumed: {}", err.message);
                    continue;
                }
            };
            let id = self.jobs.resume(generator.clone(), task);
            self.cards.push(JobCard {
                id,
                request,
                state: CardState::Queued,
            });
            resumed += 1;
        }
        if resumed > 0 {
            self.notify(t!("tasks.resuming", locale = locale, count = resumed));
        } else if !elsewhere.is_empty() {
            let mut providers: Vec<&str> = elsewhere.iter().map(|task| task.provider.as_str()).collect();
            providers.dedup();
            let text = t!(
                "tasks.elsewhere",
                locale = locale,
                count = elsewhere.len(),
                provider = providers.join(", ")
            );
            self.notify(text);
        }
    }

    pub(super) fn refresh_models(&mut self) {
        let library = Arc::clone(&self.library);
        self.background.spawn(move || AppEvent::Models(library.models()));
    }

    pub(super) fn open_viewer(&mut self, index: usize) {
        let Some(record) = self.gallery.records.get(index).cloned() else {
            return;
        };
        if self.viewer.as_ref().is_some_and(|v| v.id == record.id) {
            return;
        }
        self.compare = None;
        self.viewer = Some(Viewer::new(record.id.clone()));
        let library = Arc::clone(&self.library);
        // Only an imported file carries texts the viewer lists (a generated one holds
        // Pictor's own, shown field by field).
        if record.meta.source.is_some() {
            self.load_raw_texts(&record);
        }
        let id = record.id.clone();
        self.offer_boards_in_viewer();
        self.reload_viewer_boards();
        self.background.spawn(move || AppEvent::FullImage {
            id: record.id.clone(),
            image: decode_full(&library, &record),
        });
        self.reload_lineage(&id);
    }

    /// Reads the texts `record`'s file carries, for the viewer's details (in the background).
    fn load_raw_texts(&mut self, record: &ImageRecord) {
        let path = self.library.image_path(record);
        let id = record.id.clone();
        self.background.spawn(move || AppEvent::RawTexts {
            id,
            texts: std::fs::read(&path)
                .map_err(|err| crate::Error::storage(format!("cannot read {}", path.display()), err))
                .map(|bytes| {
                    // Pictor's own JSON is what the viewer shows above, field by field.
                    let mut texts = crate::imaging::raw_texts(&bytes);
                    texts.retain(|(key, _)| key != crate::imaging::PICTOR_TEXT_KEY);
                    texts
                }),
        });
    }

    /// Loads (again) the lineage of the image `id` shown in the gallery.
    pub(super) fn reload_lineage(&mut self, id: &str) {
        let Some(record) = self.gallery.records.iter().find(|r| r.id == id).cloned() else {
            return;
        };
        let library = Arc::clone(&self.library);
        self.background
            .spawn(move || AppEvent::Lineage(load_lineage(&library, &record)));
    }

    /// Puts `record` in the compose panel's reference strip. A model that takes no
    /// references gives way to the edit model, and the notice says so.
    pub(super) fn edit_image(&mut self, record: &ImageRecord) {
        let locale = self.locale();
        let model = self.form.params.model.clone();
        if crate::api::request::references_range(&model).max == 0 {
            self.form.params.model = EDIT_MODEL.to_owned();
            self.form.params.size_from_reference = true;
            self.notify(t!(
                "compose.switched_to_edit",
                locale = locale,
                from = model,
                to = EDIT_MODEL
            ));
        }
        let max = crate::api::request::references_range(&self.form.params.model).max;
        let references = &self.form.params.references;
        if references.contains(&record.id) {
            return;
        }
        if references.len() >= max as usize {
            let text = t!("compose.strip_full", locale = locale, count = max).into_owned();
            self.notify(text);
            return;
        }
        if references.is_empty() {
            // The first reference: its size is the service's default for an edit.
            self.form.params.size_from_reference = true;
        }
        self.form.params.references.push(record.id.clone());
        self.reference_records.insert(record.id.clone(), record.clone());
    }

    /// Shows the image `id` (a file opened with Pictor) in the viewer once the gallery
    /// lists it. Filters that would hide it (a search, a board, a date) are cleared:
    /// the user asked for this image.
    pub(super) fn show_when_listed(&mut self, id: String) {
        let listed = self.gallery.records.iter().any(|listed| listed.id == id);
        self.open_when_listed = Some(id);
        if listed {
            self.show_listed_or_forget();
            return;
        }
        let unfiltered = Query {
            order: self.gallery.query.order,
            ..Query::default()
        };
        if self.gallery.query != unfiltered {
            self.gallery.query = unfiltered;
            self.gallery.search_text.clear();
            self.date_filter = DateFilter::Any;
        }
        // Also unfiltered: the list may predate the image (another process stored it).
        self.refresh_gallery();
    }

    /// Opens the image waiting for [`Self::show_when_listed`] if the gallery's current
    /// list holds it; a list asked for after it that still does not (the image is in
    /// the trash) ends the wait.
    pub(super) fn show_listed_or_forget(&mut self) {
        let Some(id) = self.open_when_listed.take() else {
            return;
        };
        if let Some(index) = self.gallery.records.iter().position(|listed| listed.id == id) {
            self.gallery.focus = Some(index);
            self.gallery.scroll_to = Some(index);
            self.open_viewer(index);
        } else {
            tracing::info!("an opened file's image is not in the gallery's list (in the trash?)");
        }
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
            ViewerAction::Rate(stars) => self.set_rating(vec![record.id.clone()], stars),
            ViewerAction::UseRevisedPrompt => {
                if let Some(revised) = record.meta.revised_prompt.clone() {
                    self.form.params.prompt = revised;
                    let text = t!("viewer.revised_used", locale = self.locale()).into_owned();
                    self.notify(text);
                }
            }
            ViewerAction::UseSettings => {
                self.form.use_params(&params_of(record, &self.form.params));
                self.viewer = None;
            }
            ViewerAction::GenerateAgain => match GenerationRequest::try_from(&params_of(record, &self.form.params)) {
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
            ViewerAction::Variations => self.variations(record),
            ViewerAction::AddToBoard(board) => self.handle_board_action(crate::ui::boards::BoardAction::Add {
                board,
                ids: vec![record.id.clone()],
            }),
            ViewerAction::SaveAs => self.save_as(record.clone()),
            ViewerAction::Edit => self.edit_image(record),
            ViewerAction::ShowFamily => {
                self.gallery.query.family_of = Some(record.id.clone());
                self.gallery.selected.clear();
                self.gallery.reset_focus();
                self.viewer = None;
                self.refresh_gallery();
            }
            ViewerAction::OpenId(id) => {
                if self.gallery.records.iter().any(|r| r.id == id) {
                    self.open_viewer_by_id(&id);
                } else {
                    let text = t!("viewer.not_in_view", locale = self.locale()).into_owned();
                    self.notify(text);
                }
            }
            ViewerAction::CopyImage => {
                let library = Arc::clone(&self.library);
                let record = record.clone();
                self.background
                    .spawn(move || AppEvent::Clipboard(decode_full(&library, &record)));
            }
            ViewerAction::ShowInFolder => {
                let file = self.library.image_path(record);
                self.start_task(TaskKind::ShowInFolder, move |_| match show_in_folder(&file) {
                    Ok(()) => TaskOutcome::ShownInFolder,
                    Err(err) => TaskOutcome::Failed(err),
                });
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
                    self.open_viewer_by_id(&id);
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
            GalleryAction::Images(ids, action) => self.act_on_images(ids, action),
            GalleryAction::Restore(ids) => {
                self.restore(ids);
            }
            GalleryAction::CompareSelection => self.compare_selection(),
            GalleryAction::ToggleSelected(ids) => {
                if ids.iter().all(|id| self.gallery.selected.contains(id)) {
                    for id in &ids {
                        self.gallery.selected.remove(id);
                    }
                } else {
                    self.gallery.selected.extend(ids);
                }
            }
        }
    }

    /// An action on every image of a folded batch: star (all, or none when all are
    /// starred), rate, trash; anything else acts on its first image.
    fn act_on_images(&mut self, ids: Vec<String>, action: ViewerAction) {
        match action {
            ViewerAction::ToggleFavorite => {
                let all_starred = self
                    .gallery
                    .records
                    .iter()
                    .filter(|r| ids.contains(&r.id))
                    .all(|r| r.favorite);
                self.set_favorite(ids, !all_starred);
            }
            ViewerAction::Rate(stars) => self.set_rating(ids, stars),
            ViewerAction::Delete => self.trash(ids),
            other => {
                if let Some(first) = ids.into_iter().next() {
                    self.handle_gallery_action(GalleryAction::Image(first, other));
                }
            }
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
            ToolbarAction::ImportFolder => self.import_folder_through_dialog(),
            ToolbarAction::ExportSelected => self.export_selected(),
            ToolbarAction::TrashSelected => self.trash(self.selection()),
            ToolbarAction::RestoreSelected => {
                self.restore(self.selection());
            }
            ToolbarAction::FavoriteSelected(favorite) => self.set_favorite(self.selection(), favorite),
            ToolbarAction::EmptyTrash => self.confirm_empty_trash = true,
            ToolbarAction::SelectAll => self.gallery.select_all(),
            ToolbarAction::SelectNone => self.gallery.selected.clear(),
            ToolbarAction::CompareSelected => self.compare_selection(),
        }
    }

    /// Stars or unstars images: at once in the gallery (an image unstarred in the
    /// favourites view leaves it), then in the library.
    pub(super) fn set_favorite(&mut self, ids: Vec<String>, favorite: bool) {
        for record in self.gallery.records.iter_mut().filter(|r| ids.contains(&r.id)) {
            record.favorite = favorite;
        }
        if !favorite && self.gallery.query.favorites_only {
            self.gallery.remove(&ids);
        }
        self.library_task(TaskKind::Star, move |library| {
            library
                .set_favorite(&ids, favorite)
                .map(|count| TaskOutcome::Starred { count, favorite })
        });
    }

    /// Moves images to the trash; the notice offers Undo (also Ctrl+Z).
    pub(super) fn trash(&mut self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        self.gallery.remove(&ids);
        self.library_task(TaskKind::Trash, move |library| {
            library.trash(&ids).map(|count| TaskOutcome::Trashed { ids, count })
        });
    }

    /// Brings images back from the trash.
    pub(super) fn restore(&mut self, ids: Vec<String>) {
        self.library_task(TaskKind::Restore, move |library| {
            library.restore(&ids).map(|count| TaskOutcome::Restored { count })
        });
    }

    /// Restores the most recently trashed batch.
    pub(super) fn undo_last_delete(&mut self) {
        let Some(ids) = self.undo.pop() else { return };
        self.restore(ids);
    }

    /// Rates images: at once in the gallery, then in the library (in the background).
    pub(super) fn set_rating(&mut self, ids: Vec<String>, stars: u8) {
        for record in self.gallery.records.iter_mut().filter(|r| ids.contains(&r.id)) {
            record.rating = stars;
        }
        self.library_task(TaskKind::Star, move |library| {
            library
                .set_rating(&ids, stars)
                .map(|count| TaskOutcome::Rated { count, stars })
        });
    }

    /// Starts background work as a task with its own progress entry.
    pub(super) fn start_task(
        &mut self,
        kind: TaskKind,
        work: impl FnOnce(&TaskProgress<'_>) -> TaskOutcome + Send + 'static,
    ) {
        let (task, cancel) = self.background.spawn_task(work);
        self.tasks.insert(
            task,
            RunningTask {
                kind,
                done: 0,
                total: 0,
                cancel,
            },
        );
    }

    /// A library change as a task; its error becomes [`TaskOutcome::Failed`].
    pub(super) fn library_task(
        &mut self,
        kind: TaskKind,
        change: impl FnOnce(&Library) -> crate::Result<TaskOutcome> + Send + 'static,
    ) {
        let library = Arc::clone(&self.library);
        self.start_task(kind, move |_| change(&library).unwrap_or_else(TaskOutcome::Failed));
    }

    pub(super) fn remove_missing(&mut self) {
        self.library_task(TaskKind::RemoveMissing, |library| {
            library
                .remove_missing()
                .map(|count| TaskOutcome::MissingRemoved { count })
        });
    }
}

/// The parameters an image was made with, for "Use these settings" and "Generate again".
///
/// An image imported from another tool was most often made with a checkpoint no service
/// here runs: its prompt, negative prompt and seed (when the services take it) are used
/// with the `current` model, size and switches. Only a model the catalogue knows is
/// taken over, with its recorded size.
pub fn params_of(record: &ImageRecord, current: &GenerationParams) -> GenerationParams {
    let meta = &record.meta;
    let from_another_tool = meta
        .source
        .as_ref()
        .is_some_and(|source| source.tool != Some(crate::metadata::SourceTool::Pictor));
    if from_another_tool {
        let (model, size) = match crate::api::request::spec_for(&meta.model) {
            Some(_) => (meta.model.clone(), Size::parse(&meta.size).unwrap_or(current.size)),
            None => (current.model.clone(), current.size),
        };
        return GenerationParams {
            model,
            size,
            prompt: meta.prompt.clone(),
            negative_prompt: meta.negative_prompt.clone(),
            seed: meta.seed,
            n: 1,
            references: Vec::new(),
            ..current.clone()
        };
    }
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
        n: 1,
        references: meta.parents.clone(),
        size_from_reference: meta.size.is_empty() && !meta.parents.is_empty(),
        // Made without a size (a model the catalogue does not know): again without one.
        leave_size_to_service: meta.size.is_empty()
            && meta.parents.is_empty()
            && crate::api::request::spec_for(&meta.model).is_none(),
    }
}
