//! [`PictorApp`]: the eframe application. It owns plain state, draws it, sends slow work
//! to the job queue or the background pool, and drains their events in `logic()`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use rust_i18n::t;

use crate::api::client::ApiClient;
use crate::api::provider::Provider;
use crate::api::request::{GenerationRequest, char_count, prompt_limit};
use crate::connection::{Connection, Overrides};
use crate::error::Error;
use crate::generate::Generator;
use crate::jobs::{JobEvent, Jobs, Waker};
use crate::library::Library;
use crate::secrets::{KeySource, KeyStatus, Secrets};
use crate::settings::{Settings, ThemeChoice};
use crate::ui::background::{AppEvent, Background, TaskId, TaskKind};
use crate::ui::compare::Compare;
use crate::ui::compose::{ComposeAction, ComposeForm, compose_ui};
use crate::ui::dialogs::FileDialogs;
use crate::ui::gallery::{Gallery, gallery_ui};
use crate::ui::gallery_toolbar::{DateFilter, ToolbarState, gallery_toolbar_ui};
use crate::ui::job_cards::{CardAction, CardState, JobCard, job_cards_ui};
use crate::ui::key_dialog::{KeyDialog, KeyDialogAction, key_dialog_ui};
use crate::ui::thumbnails::{DEFAULT_CAPACITY, ThumbnailCache};
use crate::ui::viewer::Viewer;

mod boards;
mod comparing;
mod costs;
mod events;
mod keyboard;
mod library_actions;
mod panels;
mod prompts;
mod runs;
mod transfers;
mod watching;

const SETTINGS_KEY: &str = "pictor-settings";
const COMPOSE_KEY: &str = "pictor-compose";

/// What the app needs from outside; tests pass in-memory secrets and a temp library.
pub struct AppDeps {
    /// Where keys come from.
    pub secrets: Secrets,
    /// The image library.
    pub library: Arc<Library>,
    /// The tokio runtime all background work runs on.
    pub runtime: tokio::runtime::Handle,
    /// This run's overrides of provider, base URL and insecure http (never saved).
    pub overrides: Overrides,
    /// Base URL of the running demo server.
    pub demo_base_url: String,
    /// File dialogs (native, or scripted in tests).
    pub dialogs: Arc<dyn FileDialogs>,
    /// Files given at launch (`pictor FILE…`): imported or found, the first shown.
    pub open_files: Vec<PathBuf>,
    /// Files later launches hand over (see [`crate::instance`]), when this window is
    /// the library's first; whoever sends also wakes the window.
    pub handed_files: Option<Receiver<Vec<PathBuf>>>,
}

/// The Pictor window.
pub struct PictorApp {
    secrets: Secrets,
    library: Arc<Library>,
    background: Background,
    jobs: Jobs,
    job_events: Receiver<JobEvent>,
    cards: Vec<JobCard>,
    /// The saved preferences (what `save` writes); the connection in force is these
    /// plus `overrides`, see [`PictorApp::connection`].
    settings: Settings,
    overrides: Overrides,
    form: ComposeForm,
    /// The key status of `key_for` (`None` while it is read).
    key: Option<KeyStatus>,
    /// The provider `key` belongs to.
    key_for: Provider,
    key_dialog: Option<KeyDialog>,
    settings_open: bool,
    demo_base_url: String,
    client: Option<(Connection, ApiClient)>,
    thumbnails: ThumbnailCache,
    gallery: Gallery,
    notice: Option<Notice>,
    applied_theme: Option<ThemeChoice>,
    dialogs: Arc<dyn FileDialogs>,
    viewer: Option<Viewer>,
    /// The Compare view, when open (never together with the viewer).
    compare: Option<Compare>,
    undo: Vec<Vec<String>>,
    models: Vec<String>,
    date_filter: DateFilter,
    /// Library tasks still running, each with its own progress.
    tasks: BTreeMap<TaskId, RunningTask>,
    /// One line per file of the last import that failed.
    import_failures: Vec<String>,
    /// Reference ids whose records are being looked up.
    references_loading: std::collections::HashSet<String>,
    /// Stored tasks (row ids) already handed to a job in this session.
    resumed_tasks: std::collections::HashSet<i64>,
    /// The watched folders' watcher and what it reports.
    watching: watching::Watching,
    /// Where the compose panel was drawn last frame (files dropped on it become references).
    compose_rect: Option<egui::Rect>,
    /// The lineage of the image open in the viewer, once loaded.
    lineage: Option<crate::ui::viewer::Lineage>,
    /// Library records of the images in the reference strip (for their thumbnails).
    reference_records: std::collections::HashMap<String, crate::library::ImageRecord>,
    /// "Empty trash" was clicked and waits for the user's confirmation.
    confirm_empty_trash: bool,
    /// A folder import counted and waiting to be confirmed.
    folder_import: Option<FolderImport>,
    /// Every board (for the sidebar), once read.
    boards: Vec<crate::library::Board>,
    /// The sidebar's own state (a board name being typed).
    boards_sidebar: crate::ui::boards::BoardsSidebar,
    /// The prices in force (the user's price list, else the built-in one).
    price_book: crate::pricing::PriceBook,
    /// What was spent, once read.
    spend: Option<crate::ui::spend_ui::SpendView>,
    /// The user's price list was unreadable and the user was told (once).
    price_book_error_shown: bool,
    /// The cost window is open.
    cost_open: bool,
    /// The cost window's page and edits.
    cost_window: crate::ui::spend_ui::CostWindow,
    /// A run waiting for the user's yes to cross the monthly budget.
    held_run: Option<runs::HeldRun>,
    /// The prompt library's entries and windows (picker, save, variables).
    prompt_library: crate::ui::prompt_library::PromptLibrary,
    /// Files later launches handed to this window (see [`crate::instance`]).
    handed_files: Option<Receiver<Vec<PathBuf>>>,
    /// An image opened from a file (`pictor FILE`), shown in the viewer once the gallery
    /// holds it.
    open_when_listed: Option<String>,
    /// Where the log files go (shown in Settings → Help).
    log_dir: Option<PathBuf>,
    /// "Include my last prompts in the diagnostics" is ticked.
    diagnostics_prompts: bool,
    /// How the window draws, for the diagnostics.
    renderer: String,
}

/// A library task that has not ended yet.
struct RunningTask {
    kind: TaskKind,
    done: usize,
    total: usize,
    /// Set to ask the task to stop (honoured by kinds that [`TaskKind::can_cancel`]).
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

/// Image files found below dropped or chosen folders, waiting for the user's yes.
struct FolderImport {
    roots: Vec<PathBuf>,
    files: Vec<PathBuf>,
    unreadable: Vec<(PathBuf, Error)>,
}

/// A short message at the bottom of the window.
struct Notice {
    text: String,
    since: Instant,
    offer_undo: bool,
    offer_remove_missing: bool,
}

impl PictorApp {
    /// Builds the app: restores settings and the form, starts reading the key status.
    pub fn new(cc: &eframe::CreationContext<'_>, deps: AppDeps) -> Self {
        crate::ui::fonts::install_fonts(&cc.egui_ctx);
        crate::ui::style::install_style(&cc.egui_ctx);
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        let form: ComposeForm = cc
            .storage
            .and_then(|s| eframe::get_value(s, COMPOSE_KEY))
            .unwrap_or_default();
        let key_for = deps.overrides.provider.unwrap_or(settings.provider);
        let ctx = cc.egui_ctx.clone();
        let waker: Waker = Arc::new(move || ctx.request_repaint());
        let (jobs, job_events) = Jobs::new(deps.runtime.clone(), settings.concurrency, Arc::clone(&waker));
        let background = Background::new(deps.runtime, Arc::clone(&waker));
        let mut app = Self {
            secrets: deps.secrets,
            library: deps.library,
            background,
            jobs,
            job_events,
            cards: Vec::new(),
            settings,
            overrides: deps.overrides,
            form,
            key: None,
            key_for,
            key_dialog: None,
            settings_open: false,
            demo_base_url: deps.demo_base_url,
            client: None,
            thumbnails: ThumbnailCache::new(DEFAULT_CAPACITY),
            gallery: Gallery::default(),
            notice: None,
            applied_theme: None,
            dialogs: deps.dialogs,
            viewer: None,
            compare: None,
            undo: Vec::new(),
            models: Vec::new(),
            date_filter: DateFilter::Any,
            tasks: BTreeMap::new(),
            import_failures: Vec::new(),
            confirm_empty_trash: false,
            folder_import: None,
            lineage: None,
            compose_rect: None,
            references_loading: std::collections::HashSet::new(),
            resumed_tasks: std::collections::HashSet::new(),
            watching: watching::Watching::new(Arc::clone(&waker)),
            reference_records: std::collections::HashMap::new(),
            boards: Vec::new(),
            boards_sidebar: crate::ui::boards::BoardsSidebar::default(),
            price_book: crate::pricing::PriceBook::built_in(),
            spend: None,
            price_book_error_shown: false,
            cost_open: false,
            cost_window: crate::ui::spend_ui::CostWindow::default(),
            held_run: None,
            prompt_library: crate::ui::prompt_library::PromptLibrary::default(),
            handed_files: deps.handed_files,
            open_when_listed: None,
            log_dir: crate::logging::log_dir(),
            diagnostics_prompts: false,
            renderer: renderer_description(cc),
        };
        app.refresh_boards();
        app.refresh_spend();
        app.load_reference_records();
        app.refresh_key_status();
        app.refresh_gallery();
        app.refresh_models();
        app.retry_pending_downloads();
        let library = Arc::clone(&app.library);
        app.background
            .spawn(move || AppEvent::LibraryOpened(library.recovery_report()));
        if !deps.open_files.is_empty() {
            app.open_files(deps.open_files);
        }
        app
    }

    /// Reads the records of the reference strip's images (kept in the form between runs).
    /// Looks up (off the UI thread) the strip's references whose record is not known
    /// yet: after a start, "Use these settings" or "Generate again".
    fn load_reference_records(&mut self) {
        let asked: Vec<String> = self
            .form
            .params
            .references
            .iter()
            .filter(|id| !self.reference_records.contains_key(*id) && !self.references_loading.contains(*id))
            .cloned()
            .collect();
        if asked.is_empty() {
            return;
        }
        self.references_loading.extend(asked.iter().cloned());
        let library = Arc::clone(&self.library);
        self.background.spawn(move || {
            let found = asked
                .iter()
                .filter_map(|id| library.get(id).transpose())
                .filter(|record| record.as_ref().map_or(true, |r| r.deleted_ms.is_none()))
                .collect::<Result<Vec<_>, Error>>();
            AppEvent::ReferenceRecords { asked, found }
        });
    }

    /// The interface language code.
    fn locale(&self) -> &'static str {
        self.settings.language.locale()
    }

    /// The connection in force: the saved preferences with this run's overrides.
    pub fn connection(&self) -> Connection {
        Connection::effective(&self.settings, &self.overrides)
    }

    /// The provider requests go to now.
    fn provider(&self) -> Provider {
        self.overrides.provider.unwrap_or(self.settings.provider)
    }

    /// Makes `provider` the provider. Every change of provider in the window comes here
    /// (settings, key dialog, "use the demo"): the user chose it, so it is saved, and this
    /// run's provider and base URL overrides stop applying (a base URL meant for one
    /// service must never receive another's key).
    pub(super) fn choose_provider(&mut self, provider: Provider) {
        if provider == self.provider() {
            return;
        }
        self.overrides.provider = None;
        self.overrides.base_url = None;
        self.settings.provider = provider;
        self.follow_provider();
        self.load_reference_records();
    }

    /// Re-reads the key when the provider in force is not the one the key status is for,
    /// so a key is never used for another provider.
    fn follow_provider(&mut self) {
        if self.key_for != self.provider() {
            self.key = None;
            self.refresh_key_status();
            // Real and demo spend are counted apart.
            self.refresh_spend();
        }
    }

    fn refresh_key_status(&mut self) {
        let secrets = self.secrets.clone();
        let provider = self.provider();
        self.key_for = provider;
        self.background.spawn(move || AppEvent::KeyStatus {
            provider,
            status: secrets.status(provider),
        });
    }

    fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            since: Instant::now(),
            offer_undo: false,
            offer_remove_missing: false,
        });
    }

    /// Why Generate cannot run now, in the UI language; `None` when it can.
    fn generate_blocker(&self) -> Option<String> {
        let locale = self.locale();
        let params = &self.form.params;
        if params.prompt.trim().is_empty() {
            return Some(t!("compose.reason.empty", locale = locale).into_owned());
        }
        let used = char_count(params.prompt.trim());
        let limit = prompt_limit(&params.model);
        if used > limit {
            return Some(t!("compose.reason.too_long", locale = locale, used = used, limit = limit).into_owned());
        }
        if self.provider().needs_key() {
            match &self.key {
                None => return Some(t!("compose.reason.checking_key", locale = locale).into_owned()),
                Some(status) if status.key.is_none() => {
                    return Some(t!("compose.reason.no_key", locale = locale).into_owned());
                }
                Some(_) => {}
            }
        }
        self.form_plan().err().map(|err| err.user_message(locale))
    }

    /// The HTTP client for the connection in force (rebuilt only when it changed).
    pub(super) fn client(&mut self) -> Result<ApiClient, Error> {
        let connection = self.connection();
        if let Some((cached, client)) = &self.client
            && *cached == connection
        {
            return Ok(client.clone());
        }
        let client = connection.client(Some(&self.demo_base_url))?;
        self.client = Some((connection, client.clone()));
        Ok(client)
    }

    fn generator(&mut self) -> Result<Generator, Error> {
        let client = self.client()?;
        // Only a key read for the provider this client talks to.
        let key = self
            .key
            .as_ref()
            .filter(|_| self.key_for == client.endpoint().provider)
            .and_then(|k| k.key.clone());
        let key = if self.provider().needs_key() { key } else { None };
        Generator::new(client, key, Arc::clone(&self.library))
    }

    fn submit(&mut self, generator: &Generator, request: GenerationRequest) {
        let id = self.jobs.submit(generator.clone(), request.clone());
        self.cards.push(JobCard {
            id,
            request,
            state: CardState::Queued,
        });
    }

    fn handle_key_action(&mut self, action: KeyDialogAction) {
        match action {
            KeyDialogAction::Save { provider, key, persist } => {
                self.choose_provider(provider);
                let secrets = self.secrets.clone();
                self.background
                    .spawn(move || AppEvent::KeySaved(secrets.save(provider, &key, persist)));
            }
            KeyDialogAction::Forget(provider) => {
                let secrets = self.secrets.clone();
                self.background
                    .spawn(move || AppEvent::KeySaved(secrets.forget(provider).map(|()| KeySource::None)));
            }
            KeyDialogAction::UseDemo => {
                self.choose_provider(Provider::Demo);
                self.key_dialog = None;
            }
            KeyDialogAction::Close => self.key_dialog = None,
        }
    }

    fn handle_card_action(&mut self, action: CardAction) {
        match action {
            CardAction::Cancel(id) => self.jobs.cancel(id),
            CardAction::Dismiss(id) => self.cards.retain(|c| c.id != id),
            CardAction::ClearEnded => self.cards.retain(JobCard::is_active),
            CardAction::Retry(id) => {
                let Some(request) = self.cards.iter().find(|c| c.id == id).map(|c| c.request.clone()) else {
                    return;
                };
                match self.generator() {
                    Ok(generator) => {
                        self.cards.retain(|c| c.id != id);
                        self.submit(&generator, request);
                    }
                    Err(err) => {
                        let message = err.user_message(self.locale());
                        self.notify(message);
                    }
                }
            }
            CardAction::Open(id) => self.open_viewer_by_id(&id),
            CardAction::OpenKeySettings => self.open_key_dialog(),
        }
    }

    fn open_key_dialog(&mut self) {
        let provider = if self.provider().needs_key() {
            self.provider()
        } else {
            Provider::AppleRouter
        };
        self.key_dialog = Some(KeyDialog {
            provider,
            ..KeyDialog::default()
        });
    }

    fn apply_theme(&mut self, ctx: &egui::Context) {
        if self.applied_theme == Some(self.settings.theme) {
            return;
        }
        ctx.set_theme(match self.settings.theme {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
            ThemeChoice::Light => egui::ThemePreference::Light,
        });
        self.applied_theme = Some(self.settings.theme);
    }
}

impl eframe::App for PictorApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let job_events: Vec<JobEvent> = self.job_events.try_iter().collect();
        for event in job_events {
            self.handle_job_event(event);
        }
        for event in self.background.drain() {
            self.handle_app_event(ctx, event);
        }
        self.follow_provider();
        self.follow_watched_folders();
        self.import_arrivals();
        let handed: Vec<Vec<PathBuf>> = self
            .handed_files
            .as_ref()
            .map(|handed| handed.try_iter().collect())
            .unwrap_or_default();
        for files in handed {
            // A later launch: this window asks to come to the front (Wayland may only
            // mark it as wanting attention) and shows its files.
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                egui::UserAttentionType::Informational,
            ));
            if !files.is_empty() {
                self.open_files(files);
            }
        }
        if self.cards.iter().any(JobCard::is_active) {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        // Done cards leave the strip after a while; wake up once for the next to go.
        let now = Instant::now();
        self.cards.retain(|card| !crate::ui::job_cards::has_lingered(card, now));
        let next_leaves = self
            .cards
            .iter()
            .filter_map(|card| match card.state {
                CardState::Done { at, .. } => Some(crate::ui::job_cards::DONE_CARD_LINGERS.saturating_sub(now - at)),
                _ => None,
            })
            .min();
        if let Some(wait) = next_leaves {
            ctx.request_repaint_after(wait);
        }
        self.apply_theme(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let locale = self.locale();
        self.thumbnails.begin_frame();
        let modal_open = self.key_dialog.is_some()
            || self.confirm_empty_trash
            || self.held_run.is_some()
            || self.prompt_library.is_open();
        // Read before any panel draws: a single-line field drops its focus when it takes
        // Enter, and the gallery must not take that Enter as "open" in the same frame.
        let typing = ctx.egui_wants_keyboard_input();
        if !modal_open && ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter)) {
            self.generate();
        }
        if !modal_open
            && self.folder_import.is_none()
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::P))
        {
            self.open_prompt_picker();
        }
        // Before the panels: the picker's keys (arrows, Enter, Escape) are its own.
        self.prompt_library_ui(&ctx);
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
        let compose = egui::Panel::left("compose")
            .resizable(true)
            .default_size(340.0)
            .size_range(280.0..=560.0)
            .show(ui, |ui| {
                let blocker = self.generate_blocker();
                let preview = self.run_preview();
                let (library, thumbnails, background) = (&self.library, &mut self.thumbnails, &self.background);
                let records = &self.reference_records;
                let mut reference = |id: &str| {
                    let record = records.get(id)?;
                    Some((
                        record.meta.prompt.clone(),
                        thumbnails.of_record(library, record, background),
                    ))
                };
                match compose_ui(
                    ui,
                    &mut self.form,
                    locale,
                    blocker.as_deref(),
                    preview.as_ref(),
                    &mut reference,
                ) {
                    Some(ComposeAction::Generate) => self.generate(),
                    Some(ComposeAction::OpenPromptLibrary) => self.open_prompt_picker(),
                    Some(ComposeAction::SavePrompt) => self.open_save_prompt(),
                    None => {}
                }
            });
        self.compose_rect = Some(compose.response.rect);
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.compare.is_some() {
                self.compare_panel_ui(ui);
                return;
            }
            if self.viewer.is_some() {
                self.viewer_panel_ui(ui);
                return;
            }
            self.boards_sidebar_panel_ui(ui);
            if !modal_open && !typing {
                self.gallery_keys(ui);
            }
            let toolbar = gallery_toolbar_ui(
                ui,
                ToolbarState {
                    search_text: &mut self.gallery.search_text,
                    query: &mut self.gallery.query,
                    date: &mut self.date_filter,
                    cell_size: &mut self.settings.thumbnail_size,
                    models: &self.models,
                    selected: self.gallery.selected.len(),
                    shown: self.gallery.records.len(),
                },
                locale,
            );
            for action in toolbar {
                self.handle_toolbar_action(action);
            }
            self.tasks_ui(ui);
            ui.separator();
            if !self.cards.is_empty() {
                let (library, thumbnails, background) = (&self.library, &mut self.thumbnails, &self.background);
                let mut thumbnail =
                    |record: &crate::library::ImageRecord| thumbnails.of_record(library, record, background);
                let actions = job_cards_ui(ui, &self.cards, locale, &mut thumbnail);
                for action in actions {
                    self.handle_card_action(action);
                }
                ui.separator();
            }
            // The thumbnail size is the rows' target height.
            let row_height = self.settings.thumbnail_size;
            let actions = gallery_ui(
                ui,
                &mut self.gallery,
                &mut self.thumbnails,
                &self.library,
                &self.background,
                row_height,
                locale,
            );
            for action in actions {
                self.handle_gallery_action(action);
            }
        });
        self.import_failures_ui(&ctx);
        self.accept_dropped_files(&ctx);
        self.accept_pasted_images(&ctx);
        self.settings_window_ui(&ctx);
        self.confirm_empty_trash_ui(&ctx);
        self.confirm_budget_ui(&ctx);
        self.cost_window_ui(&ctx);
        self.confirm_folder_import_ui(&ctx);
        if let Some(dialog) = &mut self.key_dialog {
            let current = self.key.as_ref().and_then(|k| k.key.as_ref()).map(|k| k.masked());
            let can_persist = self.secrets.can_persist();
            if let Some(action) = key_dialog_ui(&ctx, dialog, can_persist, current.as_deref(), locale) {
                self.handle_key_action(action);
            }
        }
        self.notice_ui(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
        eframe::set_value(storage, COMPOSE_KEY, &self.form);
    }
}

/// Read access to the app's state (for tests and tools).
impl PictorApp {
    /// The saved preferences (without this run's overrides; see [`Self::connection`]).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes settings (as the settings window does).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// The compose form (as the compose panel edits it).
    pub fn form_mut(&mut self) -> &mut ComposeForm {
        &mut self.form
    }

    /// The compose form's parameters for the next image.
    pub fn form_params(&self) -> crate::api::request::GenerationParams {
        self.form.params_for(0)
    }

    /// The current key status (`None` while it is being read).
    pub fn key_status(&self) -> Option<&KeyStatus> {
        self.key.as_ref()
    }

    /// The job cards, oldest first.
    pub fn job_cards(&self) -> &[JobCard] {
        &self.cards
    }

    /// Switches the interface language (as the settings window does).
    pub fn set_language(&mut self, language: crate::settings::LanguageChoice) {
        self.settings.language = language;
    }

    /// GPU bytes held by thumbnail textures, and how many textures.
    pub fn thumbnail_texture_stats(&self) -> (usize, usize) {
        (self.thumbnails.texture_bytes(), self.thumbnails.len())
    }

    /// Thumbnails the gallery asked for that have not arrived yet (0: every cell drawn
    /// last frame had its picture, or its load failed).
    pub fn thumbnails_loading(&self) -> usize {
        self.thumbnails.loading()
    }

    /// The id of the image open in the viewer.
    pub fn viewer_image(&self) -> Option<&str> {
        self.viewer.as_ref().map(|v| v.id.as_str())
    }

    /// Whether the open image's full-size texture is loaded.
    pub fn viewer_loaded(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.texture.is_some())
    }

    /// The open Compare view: its images, mode, shared zoom and pan, and where it drew
    /// each pane.
    pub fn compare(&self) -> Option<&Compare> {
        self.compare.as_ref()
    }

    /// The selected image ids.
    pub fn selection(&self) -> Vec<String> {
        self.gallery.selected.iter().cloned().collect()
    }

    /// How many gallery queries this window has started (each library change that alters
    /// rows starts one; actions that change none, like an export, must not).
    pub fn gallery_queries(&self) -> u64 {
        self.gallery.generation
    }

    /// Whether a gallery query is running.
    pub fn gallery_loading(&self) -> bool {
        self.gallery.loading
    }

    /// The notice showing at the bottom of the window, if any.
    pub fn notice_text(&self) -> Option<&str> {
        self.notice.as_ref().map(|n| n.text.as_str())
    }

    /// How many library tasks (save, export, import, star, …) are still running.
    pub fn running_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// The gallery's records.
    pub fn gallery_records(&self) -> &[crate::library::ImageRecord] {
        &self.gallery.records
    }
}

/// How the window draws: eframe's renderer and the display server, for the diagnostics.
fn renderer_description(cc: &eframe::CreationContext<'_>) -> String {
    let renderer = if cc.gl.is_some() {
        "OpenGL (glow)"
    } else {
        "no GPU context (test harness)"
    };
    let session = if std::env::var_os("WAYLAND_DISPLAY").is_some() {
        "Wayland"
    } else if std::env::var_os("DISPLAY").is_some() {
        "X11"
    } else {
        "no display server"
    };
    format!("{renderer}, {session}")
}
