//! [`PictorApp`]: the eframe application. It owns plain state, draws it, sends slow work
//! to the job queue or the background pool, and drains their events in `logic()`.

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use rust_i18n::t;

use crate::api::client::{ApiClient, ClientConfig};
use crate::api::provider::{Endpoint, Provider};
use crate::api::request::{GenerationRequest, ModelFamily, char_count};
use crate::cli::ConnectionArgs;
use crate::error::{Error, ErrorKind};
use crate::generate::Generator;
use crate::jobs::{JobEvent, Jobs, Waker};
use crate::library::Library;
use crate::secrets::{KeySource, KeyStatus, Secrets};
use crate::settings::{Settings, ThemeChoice};
use crate::ui::background::{AppEvent, Background};
use crate::ui::compose::{ComposeAction, ComposeForm, compose_ui};
use crate::ui::dialogs::FileDialogs;
use crate::ui::gallery::{Gallery, gallery_ui};
use crate::ui::gallery_toolbar::{DateFilter, ToolbarState, gallery_toolbar_ui};
use crate::ui::job_cards::{CardAction, CardState, JobCard, job_cards_ui};
use crate::ui::key_dialog::{KeyDialog, KeyDialogAction, key_dialog_ui};
use crate::ui::settings_ui::settings_ui;
use crate::ui::thumbnails::{DEFAULT_CAPACITY, ThumbnailCache};
use crate::ui::viewer::Viewer;

mod library_actions;

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
    /// Command-line overrides of provider and base URL.
    pub connection: ConnectionArgs,
    /// Base URL of the running demo server.
    pub demo_base_url: String,
    /// File dialogs (native, or scripted in tests).
    pub dialogs: Arc<dyn FileDialogs>,
}

/// The Pictor window.
pub struct PictorApp {
    secrets: Secrets,
    library: Arc<Library>,
    background: Background,
    jobs: Jobs,
    job_events: Receiver<JobEvent>,
    cards: Vec<JobCard>,
    settings: Settings,
    form: ComposeForm,
    key: Option<KeyStatus>,
    key_dialog: Option<KeyDialog>,
    settings_open: bool,
    demo_base_url: String,
    client: Option<(ClientSpec, ApiClient)>,
    thumbnails: ThumbnailCache,
    gallery: Gallery,
    notice: Option<Notice>,
    applied_theme: Option<ThemeChoice>,
    dialogs: Arc<dyn FileDialogs>,
    viewer: Option<Viewer>,
    undo: Vec<Vec<String>>,
    models: Vec<String>,
    date_filter: DateFilter,
    progress: Option<(usize, usize)>,
    import_failures: Vec<String>,
    /// "Empty trash" was clicked and waits for the user's confirmation.
    confirm_empty_trash: bool,
}

/// A short message at the bottom of the window.
struct Notice {
    text: String,
    since: Instant,
    offer_undo: bool,
    offer_remove_missing: bool,
}

/// What a cached client was built for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ClientSpec {
    provider: Provider,
    base_url: String,
    timeout_secs: u64,
    allow_insecure_http: bool,
}

impl PictorApp {
    /// Builds the app: restores settings and the form, starts reading the key status.
    pub fn new(cc: &eframe::CreationContext<'_>, deps: AppDeps) -> Self {
        crate::ui::fonts::install_fonts(&cc.egui_ctx);
        let mut settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        let form: ComposeForm = cc
            .storage
            .and_then(|s| eframe::get_value(s, COMPOSE_KEY))
            .unwrap_or_default();
        if let Some(provider) = deps.connection.provider {
            settings.provider = provider;
        }
        if let Some(base_url) = &deps.connection.base_url {
            settings.base_url = base_url.clone();
        }
        settings.allow_insecure_http |= deps.connection.allow_insecure_http;
        let ctx = cc.egui_ctx.clone();
        let waker: Waker = Arc::new(move || ctx.request_repaint());
        let (jobs, job_events) = Jobs::new(deps.runtime.clone(), settings.concurrency, Arc::clone(&waker));
        let background = Background::new(deps.runtime, waker);
        let mut app = Self {
            secrets: deps.secrets,
            library: deps.library,
            background,
            jobs,
            job_events,
            cards: Vec::new(),
            settings,
            form,
            key: None,
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
            undo: Vec::new(),
            models: Vec::new(),
            date_filter: DateFilter::Any,
            progress: None,
            import_failures: Vec::new(),
            confirm_empty_trash: false,
        };
        app.refresh_key_status();
        app.refresh_gallery();
        app.refresh_models();
        app.retry_pending_downloads();
        let missing = app.library.recovery_report().missing_files;
        if missing > 0 {
            let text = t!("gallery.missing_notice", locale = app.locale(), count = missing).into_owned();
            app.notice = Some(Notice {
                text,
                since: Instant::now(),
                offer_undo: false,
                offer_remove_missing: true,
            });
        }
        app
    }

    /// The interface language code.
    fn locale(&self) -> &'static str {
        self.settings.language.locale()
    }

    fn refresh_key_status(&mut self) {
        let secrets = self.secrets.clone();
        let provider = self.settings.provider;
        self.background
            .spawn(move || AppEvent::KeyStatus(secrets.status(provider)));
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
        let limit = ModelFamily::of(&params.model).prompt_limit();
        if used > limit {
            return Some(t!("compose.reason.too_long", locale = locale, used = used, limit = limit).into_owned());
        }
        if self.settings.provider.needs_key() {
            match &self.key {
                None => return Some(t!("compose.reason.checking_key", locale = locale).into_owned()),
                Some(status) if status.key.is_none() => {
                    return Some(t!("compose.reason.no_key", locale = locale).into_owned());
                }
                Some(_) => {}
            }
        }
        GenerationRequest::try_from(&self.form.params_for(0))
            .err()
            .map(|err| err.user_message(locale))
    }

    pub(super) fn client(&mut self) -> Result<ApiClient, Error> {
        let spec = ClientSpec {
            provider: self.settings.provider,
            base_url: if self.settings.provider == Provider::Demo {
                self.demo_base_url.clone()
            } else {
                self.settings.base_url.trim().to_owned()
            },
            timeout_secs: self.settings.timeout_secs,
            allow_insecure_http: self.settings.allow_insecure_http,
        };
        if let Some((cached, client)) = &self.client
            && *cached == spec
        {
            return Ok(client.clone());
        }
        let base_url = Some(spec.base_url.as_str()).filter(|b| !b.is_empty());
        let endpoint = Endpoint::new(spec.provider, base_url, spec.allow_insecure_http)?;
        let config = ClientConfig {
            total_timeout: Duration::from_secs(spec.timeout_secs),
            ..ClientConfig::default()
        };
        let client = ApiClient::new(endpoint, config)?;
        self.client = Some((spec, client.clone()));
        Ok(client)
    }

    fn generator(&mut self) -> Result<Generator, Error> {
        let client = self.client()?;
        let key = if self.settings.provider.needs_key() {
            Some(
                self.key
                    .as_ref()
                    .and_then(|k| k.key.clone())
                    .ok_or_else(|| Error::new(ErrorKind::Auth, ""))?,
            )
        } else {
            None
        };
        Ok(Generator {
            client,
            key,
            library: Arc::clone(&self.library),
        })
    }

    /// Queues the form's images (one job per image).
    pub fn generate(&mut self) {
        if self.generate_blocker().is_some() {
            return;
        }
        let generator = match self.generator() {
            Ok(generator) => generator,
            Err(err) => {
                let message = err.user_message(self.locale());
                self.notify(message);
                return;
            }
        };
        for index in 0..self.form.count {
            match GenerationRequest::try_from(&self.form.params_for(index)) {
                Ok(request) => self.submit(&generator, request),
                Err(err) => {
                    let message = err.user_message(self.locale());
                    self.notify(message);
                    return;
                }
            }
        }
        self.form.after_submit();
    }

    fn submit(&mut self, generator: &Generator, request: GenerationRequest) {
        let id = self.jobs.submit(generator.clone(), request.clone());
        self.cards.push(JobCard {
            id,
            request,
            state: CardState::Queued,
        });
    }

    fn handle_job_event(&mut self, event: JobEvent) {
        let id = match &event {
            JobEvent::Queued(id) | JobEvent::Started(id) | JobEvent::Cancelled(id) => *id,
            JobEvent::Retrying { id, .. } | JobEvent::Finished { id, .. } | JobEvent::Failed { id, .. } => *id,
        };
        if let JobEvent::Finished { images, .. } = &event {
            self.gallery.prepend(images);
            if images.iter().any(|image| !self.models.contains(&image.meta.model)) {
                self.refresh_models();
            }
        }
        if let Some(card) = self.cards.iter_mut().find(|c| c.id == id) {
            card.apply(&event);
        }
    }

    fn handle_app_event(&mut self, ctx: &egui::Context, event: AppEvent) {
        match event {
            AppEvent::KeyStatus(Ok(status)) => {
                let missing = status.key.is_none() && self.settings.provider.needs_key();
                self.key = Some(status);
                if missing && self.key_dialog.is_none() {
                    self.key_dialog = Some(KeyDialog {
                        provider: self.settings.provider,
                        ..KeyDialog::default()
                    });
                }
            }
            AppEvent::KeyStatus(Err(err)) => {
                self.key = Some(KeyStatus {
                    key: None,
                    source: KeySource::None,
                });
                let message = err.user_message(self.locale());
                self.notify(message);
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
            AppEvent::Gallery { generation, records } => match records {
                Ok(records) => self.gallery.receive(generation, records),
                Err(err) => {
                    self.gallery.loading = false;
                    let message = err.user_message(self.locale());
                    self.notify(message);
                }
            },
            AppEvent::Thumbnail { id, image } => self.thumbnails.insert(ctx, id, image),
            AppEvent::ThumbnailsDropped(ids) => self.thumbnails.dropped(&ids),
            other => self.handle_library_event(ctx, other),
        }
    }

    fn handle_key_action(&mut self, action: KeyDialogAction) {
        match action {
            KeyDialogAction::Save { provider, key, persist } => {
                if provider != self.settings.provider {
                    self.settings.provider = provider;
                    self.key = None;
                }
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
                self.settings.provider = Provider::Demo;
                self.key_dialog = None;
                self.refresh_key_status();
            }
            KeyDialogAction::Close => self.key_dialog = None,
        }
    }

    fn handle_card_action(&mut self, action: CardAction) {
        match action {
            CardAction::Cancel(id) => self.jobs.cancel(id),
            CardAction::Dismiss(id) => self.cards.retain(|c| c.id != id),
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
        let provider = if self.settings.provider.needs_key() {
            self.settings.provider
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

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        let locale = self.locale();
        ui.horizontal(|ui| {
            ui.heading("Pictor");
            ui.separator();
            ui.label(crate::ui::provider_label(self.settings.provider, locale));
            if self.settings.provider == Provider::Demo {
                ui.label(egui::RichText::new(t!("top.demo_badge", locale = locale)).color(ui.visuals().warn_fg_color));
            }
            ui.separator();
            let key_text = match &self.key {
                _ if !self.settings.provider.needs_key() => t!("top.key_not_needed", locale = locale).into_owned(),
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
            });
        });
    }

    fn settings_window_ui(&mut self, ctx: &egui::Context) {
        if !self.settings_open {
            return;
        }
        let locale = self.locale();
        let mut open = true;
        let mut changed = false;
        egui::Window::new(t!("settings.title", locale = locale))
            .open(&mut open)
            .pivot(egui::Align2::RIGHT_TOP)
            .default_pos(ctx.content_rect().right_top() + egui::vec2(-12.0, 40.0))
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                changed = settings_ui(ui, &mut self.settings, locale);
            });
        self.settings_open = open;
        if changed {
            self.jobs.set_concurrency(self.settings.concurrency);
            if self.key.as_ref().is_some()
                && self
                    .client
                    .as_ref()
                    .is_some_and(|(spec, _)| spec.provider != self.settings.provider)
            {
                self.key = None;
                self.refresh_key_status();
            }
        }
    }

    fn notice_ui(&mut self, ctx: &egui::Context) {
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
        if self.cards.iter().any(JobCard::is_active) {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        self.apply_theme(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let locale = self.locale();
        self.thumbnails.begin_frame();
        let modal_open = self.key_dialog.is_some() || self.confirm_empty_trash;
        // Read before any panel draws: a single-line field drops its focus when it takes
        // Enter, and the gallery must not take that Enter as "open" in the same frame.
        let typing = ctx.egui_wants_keyboard_input();
        if !modal_open && ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter)) {
            self.generate();
        }
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::left("compose")
            .resizable(true)
            .default_size(340.0)
            .size_range(280.0..=560.0)
            .show(ui, |ui| {
                let blocker = self.generate_blocker();
                if compose_ui(ui, &mut self.form, locale, blocker.as_deref()) == Some(ComposeAction::Generate) {
                    self.generate();
                }
            });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.viewer.is_some() {
                self.viewer_panel_ui(ui);
                return;
            }
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
            if let Some((done, total)) = self.progress {
                ui.add(egui::ProgressBar::new(done as f32 / total.max(1) as f32).text(format!("{done} / {total}")));
            }
            ui.separator();
            if !self.cards.is_empty() {
                let library = Arc::clone(&self.library);
                let thumbnails = &mut self.thumbnails;
                let background = &self.background;
                let mut thumbnail = |record: &crate::library::ImageRecord| {
                    thumbnails.get(
                        &record.id,
                        crate::ui::thumbnails::ThumbnailSource::of(&library, record),
                        background,
                    )
                };
                let actions = job_cards_ui(ui, &self.cards, locale, &mut thumbnail);
                for action in actions {
                    self.handle_card_action(action);
                }
                ui.separator();
            }
            let cell = self.settings.thumbnail_size;
            let actions = gallery_ui(
                ui,
                &mut self.gallery,
                &mut self.thumbnails,
                &self.library,
                &self.background,
                cell,
                locale,
            );
            for action in actions {
                self.handle_gallery_action(action);
            }
        });
        self.import_failures_ui(&ctx);
        self.accept_dropped_files(&ctx);
        self.settings_window_ui(&ctx);
        self.confirm_empty_trash_ui(&ctx);
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
    /// The current settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes settings (as the settings window does).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
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

    /// The id of the image open in the viewer.
    pub fn viewer_image(&self) -> Option<&str> {
        self.viewer.as_ref().map(|v| v.id.as_str())
    }

    /// Whether the open image's full-size texture is loaded.
    pub fn viewer_loaded(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.texture.is_some())
    }

    /// The selected image ids.
    pub fn selection(&self) -> Vec<String> {
        self.gallery.selected.iter().cloned().collect()
    }

    /// Whether a gallery query is running.
    pub fn gallery_loading(&self) -> bool {
        self.gallery.loading
    }

    /// Whether background work (export, import, save) is in progress or a notice shows.
    pub fn notice_text(&self) -> Option<&str> {
        self.notice.as_ref().map(|n| n.text.as_str())
    }

    /// The gallery's records.
    pub fn gallery_records(&self) -> &[crate::library::ImageRecord] {
        &self.gallery.records
    }
}
