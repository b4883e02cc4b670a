//! Job cards: one per request, queued → running (elapsed) → done / failed / cancelled.

use std::time::{Duration, Instant};

use egui::{Color32, RichText};
use rust_i18n::t;

use crate::api::request::GenerationRequest;
use crate::api::task::TaskStatus;
use crate::error::Error;
use crate::generate::TaskFate;
use crate::jobs::{JobEvent, JobId};
use crate::library::ImageRecord;

/// Where a job is.
#[derive(Clone, Debug)]
pub enum CardState {
    /// Waiting for a free slot.
    Queued,
    /// Request sent at `since`.
    Running {
        /// When the request started.
        since: Instant,
        /// For an asynchronous task, where it stands at the service.
        task: Option<TaskStatus>,
    },
    /// Rate limited; retried at `at`.
    Retrying {
        /// When the job started.
        since: Instant,
        /// When the retry happens.
        at: Instant,
        /// Which retry.
        attempt: u32,
    },
    /// Stored.
    Done {
        /// The stored images.
        images: Vec<ImageRecord>,
        /// How long it took.
        took: Duration,
        /// When it ended (done cards leave the strip a few seconds later).
        at: Instant,
    },
    /// Failed.
    Failed(Error),
    /// Cancelled by the user.
    Cancelled {
        /// What became of a task already created at the service.
        task: Option<TaskFate>,
    },
}

/// One job as the UI shows it.
#[derive(Clone, Debug)]
pub struct JobCard {
    /// The job.
    pub id: JobId,
    /// The request (for Retry).
    pub request: GenerationRequest,
    /// Current state.
    pub state: CardState,
}

impl JobCard {
    /// Whether the job is still queued or running.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            CardState::Queued | CardState::Running { .. } | CardState::Retrying { .. }
        )
    }

    /// Applies an event about this job.
    pub fn apply(&mut self, event: &JobEvent) {
        let since = match self.state {
            CardState::Running { since, .. } | CardState::Retrying { since, .. } => since,
            _ => Instant::now(),
        };
        self.state = match event {
            JobEvent::Queued(_) => CardState::Queued,
            JobEvent::Started(_) => CardState::Running {
                since: Instant::now(),
                task: None,
            },
            JobEvent::TaskWaiting { status, .. } => CardState::Running {
                since,
                task: Some(*status),
            },
            JobEvent::Retrying { delay, attempt, .. } => CardState::Retrying {
                since,
                at: Instant::now() + *delay,
                attempt: *attempt,
            },
            JobEvent::Finished { images, .. } => CardState::Done {
                images: images.clone(),
                took: since.elapsed(),
                at: Instant::now(),
            },
            JobEvent::Failed { error, .. } => CardState::Failed(error.clone()),
            JobEvent::Cancelled { task, .. } => CardState::Cancelled { task: *task },
            // A note while the job runs, not a change of state.
            JobEvent::ReferenceAdjusted { .. } | JobEvent::SomeImagesFailed { .. } => return,
        };
    }
}

/// What the user asked of a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardAction {
    /// Cancel the job.
    Cancel(JobId),
    /// Queue the same request again.
    Retry(JobId),
    /// Remove the card.
    Dismiss(JobId),
    /// Remove every card that has ended (done, failed or cancelled).
    ClearEnded,
    /// Open the image in the viewer.
    Open(String),
    /// Open the key settings.
    OpenKeySettings,
}

/// Thumbnail lookup for finished cards.
pub type ThumbnailFor<'a> = dyn FnMut(&ImageRecord) -> Option<egui::TextureHandle> + 'a;

/// Draws the cards in a wrapping row; returns what the user clicked.
pub fn job_cards_ui(
    ui: &mut egui::Ui,
    cards: &[JobCard],
    locale: &str,
    thumbnail: &mut ThumbnailFor<'_>,
) -> Vec<CardAction> {
    let mut actions = Vec::new();
    let active = cards.iter().filter(|card| card.is_active()).count();
    let ended = cards.len() - active;
    ui.horizontal(|ui| {
        ui.label(RichText::new(t!("job.strip_summary", locale = locale, active = active, ended = ended)).small());
        if ended > 0 && ui.small_button(t!("job.clear_ended", locale = locale)).clicked() {
            actions.push(CardAction::ClearEnded);
        }
    });
    // One row, newest first; more cards than fit scroll sideways, never off the window.
    egui::ScrollArea::horizontal()
        .id_salt("job-strip")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                for card in cards.iter().rev() {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(CARD_WIDTH);
                        ui.vertical(|ui| card_ui(ui, card, locale, thumbnail, &mut actions));
                    });
                }
            });
        });
    actions
}

/// The width of one card, in points.
const CARD_WIDTH: f32 = 240.0;

/// How long a done card stays in the strip (its images are in the gallery by then).
pub const DONE_CARD_LINGERS: Duration = Duration::from_secs(8);

/// Whether a card has had its time in the strip: done, and longer than
/// [`DONE_CARD_LINGERS`] ago. Failed and cancelled cards stay until dismissed.
pub fn has_lingered(card: &JobCard, now: Instant) -> bool {
    matches!(card.state, CardState::Done { at, .. } if now.duration_since(at) >= DONE_CARD_LINGERS)
}

fn card_ui(
    ui: &mut egui::Ui,
    card: &JobCard,
    locale: &str,
    thumbnail: &mut ThumbnailFor<'_>,
    actions: &mut Vec<CardAction>,
) {
    let prompt: String = card.request.params.prompt.chars().take(40).collect();
    ui.label(RichText::new(prompt).small())
        .on_hover_text(&card.request.params.prompt);
    match &card.state {
        CardState::Queued => {
            ui.horizontal(|ui| {
                ui.label(t!("job.queued", locale = locale));
                cancel_button_ui(ui, card.id, locale, actions);
            });
        }
        CardState::Running { since, task } => {
            let seconds = since.elapsed().as_secs();
            let text = match task {
                None => t!("job.running", locale = locale, seconds = seconds),
                Some(TaskStatus::Pending) => t!("job.task_pending", locale = locale, seconds = seconds),
                Some(TaskStatus::Running) => t!("job.task_running", locale = locale, seconds = seconds),
            };
            ui.horizontal(|ui| {
                ui.label(text);
                cancel_button_ui(ui, card.id, locale, actions);
            });
        }
        CardState::Retrying { at, attempt, .. } => {
            let left = at.saturating_duration_since(Instant::now()).as_secs();
            ui.horizontal(|ui| {
                ui.label(t!("job.retrying", locale = locale, seconds = left, attempt = attempt));
                cancel_button_ui(ui, card.id, locale, actions);
            });
        }
        CardState::Done { images, took, .. } => {
            // Thumbnails wrap (a request may bring up to six images); the status below them.
            ui.horizontal_wrapped(|ui| {
                for image in images {
                    match thumbnail(image) {
                        Some(texture) => {
                            let size = texture.size_vec2();
                            let scale = 56.0 / size.x.max(size.y).max(1.0);
                            let button =
                                egui::Button::image(egui::Image::new(&texture).fit_to_exact_size(size * scale));
                            if ui.add(button).on_hover_text(t!("job.open", locale = locale)).clicked() {
                                actions.push(CardAction::Open(image.id.clone()));
                            }
                        }
                        None => {
                            ui.add_sized([56.0, 56.0], egui::Label::new("🖼"));
                        }
                    }
                }
            });
            ui.horizontal(|ui| {
                // Tenths: a fast answer said "Done in 0 s".
                let seconds = format!("{:.1}", took.as_secs_f32());
                ui.label(t!("job.done", locale = locale, seconds = seconds));
                if ui.small_button(t!("job.dismiss", locale = locale)).clicked() {
                    actions.push(CardAction::Dismiss(card.id));
                }
            });
        }
        CardState::Failed(error) => {
            ui.colored_label(Color32::from_rgb(0xE0, 0x50, 0x50), error.user_message(locale));
            ui.horizontal(|ui| {
                if ui.small_button(t!("job.retry", locale = locale)).clicked() {
                    actions.push(CardAction::Retry(card.id));
                }
                if ui.small_button(t!("job.copy_details", locale = locale)).clicked() {
                    let details = if error.details.is_empty() {
                        error.to_string()
                    } else {
                        error.details.clone()
                    };
                    ui.ctx()
                        .copy_text(format!("{}\n\n{}", error.user_message("en"), details));
                }
                if error.kind == crate::ErrorKind::Auth
                    && ui.small_button(t!("job.key_settings", locale = locale)).clicked()
                {
                    actions.push(CardAction::OpenKeySettings);
                }
                if ui.small_button(t!("job.dismiss", locale = locale)).clicked() {
                    actions.push(CardAction::Dismiss(card.id));
                }
            });
        }
        CardState::Cancelled { task } => {
            let note = match task {
                Some(TaskFate::CancelledAtService) => Some(t!("job.task_cancelled_at_service", locale = locale)),
                Some(TaskFate::GoesOn) => Some(t!("job.task_goes_on", locale = locale)),
                None => None,
            };
            if let Some(note) = note {
                ui.label(RichText::new(note).small().weak());
            }
            ui.horizontal(|ui| {
                ui.label(RichText::new(t!("job.cancelled", locale = locale)).weak());
                if ui.small_button(t!("job.retry", locale = locale)).clicked() {
                    actions.push(CardAction::Retry(card.id));
                }
                if ui.small_button(t!("job.dismiss", locale = locale)).clicked() {
                    actions.push(CardAction::Dismiss(card.id));
                }
            });
        }
    }
}

fn cancel_button_ui(ui: &mut egui::Ui, id: JobId, locale: &str, actions: &mut Vec<CardAction>) {
    if ui.small_button(t!("job.cancel", locale = locale)).clicked() {
        actions.push(CardAction::Cancel(id));
    }
}
