//! The compose panel: every field of the request model, with live limits.

use std::hash::{BuildHasher, Hasher};

use egui::{Color32, RichText};
use rust_i18n::t;
use serde::{Deserialize, Serialize};

use crate::api::request::{
    GenerationParams, MAX_SEED, MODEL_CATALOGUE, ModelFamily, NEGATIVE_PROMPT_LIMIT, Size, WAN_MAX_SIDE, WAN_MIN_SIDE,
    char_count,
};

/// How many recent prompts are remembered.
const RECENT_LIMIT: usize = 20;
/// Most images one click may queue.
pub const MAX_COUNT: u32 = 8;

/// The compose form's state (persisted between runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComposeForm {
    /// The parameters being edited (`seed` is kept in [`Self::seed`]).
    pub params: GenerationParams,
    /// The seed shown in the form.
    pub seed: u32,
    /// Keep the seed between generations (else a new random one each time).
    pub seed_locked: bool,
    /// Images per click, 1–8 (one request each).
    pub count: u32,
    /// Recently used prompts, newest first.
    pub recent_prompts: Vec<String>,
}

impl Default for ComposeForm {
    fn default() -> Self {
        Self {
            params: GenerationParams::default(),
            seed: random_seed(),
            seed_locked: false,
            count: 1,
            recent_prompts: Vec::new(),
        }
    }
}

impl ComposeForm {
    /// The parameters of the `index`-th image of the next click (seed S, S+1, …).
    pub fn params_for(&self, index: u32) -> GenerationParams {
        let mut params = self.params.clone();
        params.seed = Some(self.seed.saturating_add(index).min(MAX_SEED));
        params
    }

    /// Call after queueing: remembers the prompt and rolls a new seed unless locked.
    pub fn after_submit(&mut self) {
        let prompt = self.params.prompt.trim().to_owned();
        self.recent_prompts.retain(|p| *p != prompt);
        self.recent_prompts.insert(0, prompt);
        self.recent_prompts.truncate(RECENT_LIMIT);
        if !self.seed_locked {
            self.seed = random_seed();
        }
    }

    /// Fills the form from an existing image's parameters (the seed gets locked).
    pub fn use_params(&mut self, params: &GenerationParams) {
        self.params = params.clone();
        if let Some(seed) = params.seed {
            self.seed = seed;
            self.seed_locked = true;
        }
    }
}

/// A random seed in 0..=2147483647.
pub fn random_seed() -> u32 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    u32::try_from(hasher.finish() % (u64::from(MAX_SEED) + 1)).unwrap_or(0)
}

/// What the user asked the panel to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComposeAction {
    /// Queue the images.
    Generate,
}

/// Draws the compose panel. `blocker` is why Generate cannot run now, if it cannot.
pub fn compose_ui(
    ui: &mut egui::Ui,
    form: &mut ComposeForm,
    locale: &str,
    blocker: Option<&str>,
) -> Option<ComposeAction> {
    let mut action = None;
    let family = ModelFamily::of(&form.params.model);
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.add_space(4.0);
        model_ui(ui, form, locale);
        ui.add_space(6.0);
        prompt_ui(ui, form, locale, family);
        ui.add_space(6.0);
        negative_ui(ui, form, locale);
        ui.add_space(6.0);
        size_ui(ui, form, locale, family);
        ui.add_space(6.0);
        seed_ui(ui, form, locale);
        ui.add_space(6.0);
        options_ui(ui, form, locale);
        ui.add_space(10.0);
        if generate_button_ui(ui, form, locale, blocker) {
            action = Some(ComposeAction::Generate);
        }
    });
    action
}

fn model_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str) {
    let label = ui.label(RichText::new(t!("compose.model", locale = locale)).strong());
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut form.params.model)
                .desired_width((ui.available_width() - 48.0).max(80.0))
                .hint_text("qwen-image-plus"),
        )
        .labelled_by(label.id);
        let before = form.params.model.clone();
        egui::ComboBox::from_id_salt("model-catalogue")
            .selected_text("")
            .width(20.0)
            .show_ui(ui, |ui| {
                for model in MODEL_CATALOGUE {
                    ui.selectable_value(&mut form.params.model, model.to_owned(), model);
                }
            })
            .response
            .on_hover_text(t!("compose.model_catalogue", locale = locale));
        if before != form.params.model {
            let family = ModelFamily::of(&form.params.model);
            if family != ModelFamily::of(&before) {
                form.params.size = family.default_size();
            }
        }
    });
}

fn counter_ui(ui: &mut egui::Ui, used: usize, limit: usize) {
    let text = format!("{used} / {limit}");
    let color = if used > limit {
        Color32::from_rgb(0xE0, 0x40, 0x40)
    } else {
        ui.visuals().weak_text_color()
    };
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.label(RichText::new(text).color(color).small());
    });
}

fn prompt_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str, family: ModelFamily) {
    let used = char_count(form.params.prompt.trim());
    let limit = family.prompt_limit();
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(RichText::new(t!("compose.prompt", locale = locale)).strong());
            if !form.recent_prompts.is_empty() {
                ui.menu_button("⟲", |ui| {
                    for prompt in form.recent_prompts.clone() {
                        let shown: String = prompt.chars().take(60).collect();
                        if ui.button(shown).clicked() {
                            form.params.prompt = prompt;
                            ui.close();
                        }
                    }
                })
                .response
                .on_hover_text(t!("compose.recent", locale = locale));
            }
            counter_ui(ui, used, limit);
            label
        })
        .inner;
    ui.add(
        egui::TextEdit::multiline(&mut form.params.prompt)
            .desired_rows(5)
            .desired_width(ui.available_width())
            .hint_text(t!("compose.prompt_hint", locale = locale)),
    )
    .labelled_by(label.id);
    if used > limit {
        ui.colored_label(
            Color32::from_rgb(0xE0, 0x40, 0x40),
            t!("compose.too_long", locale = locale, used = used, limit = limit),
        );
    }
}

fn negative_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str) {
    let used = char_count(form.params.negative_prompt.trim());
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(RichText::new(t!("compose.negative", locale = locale)).strong());
            counter_ui(ui, used, NEGATIVE_PROMPT_LIMIT);
            label
        })
        .inner;
    ui.add(
        egui::TextEdit::multiline(&mut form.params.negative_prompt)
            .desired_rows(2)
            .desired_width(ui.available_width())
            .hint_text(t!("compose.negative_hint", locale = locale)),
    )
    .labelled_by(label.id);
}

fn size_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str, family: ModelFamily) {
    ui.label(RichText::new(t!("compose.size", locale = locale)).strong());
    ui.horizontal_wrapped(|ui| {
        for (aspect, size) in family.preset_sizes() {
            let selected = form.params.size == *size;
            let chip = ui
                .selectable_label(selected, format!("{aspect}\n{}×{}", size.width, size.height))
                .on_hover_text(size.wire());
            if chip.clicked() {
                form.params.size = *size;
            }
        }
    });
    if family == ModelFamily::Wan {
        ui.horizontal(|ui| {
            let w = ui.label(t!("compose.width", locale = locale));
            ui.add(egui::DragValue::new(&mut form.params.size.width).range(WAN_MIN_SIDE..=WAN_MAX_SIDE))
                .labelled_by(w.id);
            let h = ui.label(t!("compose.height", locale = locale));
            ui.add(egui::DragValue::new(&mut form.params.size.height).range(WAN_MIN_SIDE..=WAN_MAX_SIDE))
                .labelled_by(h.id);
        });
    } else if Size::validated_for(form.params.size, family).is_err() {
        form.params.size = family.default_size();
    }
}

fn seed_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str) {
    ui.horizontal(|ui| {
        let label = ui.label(RichText::new(t!("compose.seed", locale = locale)).strong());
        ui.add(egui::DragValue::new(&mut form.seed).range(0..=MAX_SEED))
            .labelled_by(label.id);
        if ui
            .button("🎲")
            .on_hover_text(t!("compose.dice", locale = locale))
            .clicked()
        {
            form.seed = random_seed();
        }
        let lock_text = if form.seed_locked { "🔒" } else { "🔓" };
        let lock_hint = if form.seed_locked {
            t!("compose.seed_locked", locale = locale)
        } else {
            t!("compose.seed_random", locale = locale)
        };
        ui.toggle_value(&mut form.seed_locked, lock_text)
            .on_hover_text(lock_hint);
    });
}

fn options_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str) {
    ui.horizontal(|ui| {
        let label = ui.label(RichText::new(t!("compose.count", locale = locale)).strong());
        ui.add(egui::Slider::new(&mut form.count, 1..=MAX_COUNT))
            .labelled_by(label.id);
    });
    ui.checkbox(
        &mut form.params.prompt_extend,
        t!("compose.prompt_extend", locale = locale),
    )
    .on_hover_text(t!("compose.prompt_extend_hint", locale = locale));
    ui.checkbox(&mut form.params.watermark, t!("compose.watermark", locale = locale));
}

/// Returns true when Generate was clicked.
fn generate_button_ui(ui: &mut egui::Ui, form: &ComposeForm, locale: &str, blocker: Option<&str>) -> bool {
    let label = if form.count > 1 {
        t!("compose.generate_n", locale = locale, count = form.count).into_owned()
    } else {
        t!("compose.generate", locale = locale).into_owned()
    };
    let button =
        egui::Button::new(RichText::new(label).size(16.0).strong()).min_size(egui::vec2(ui.available_width(), 36.0));
    let response = ui.add_enabled(blocker.is_none(), button);
    if let Some(reason) = blocker {
        ui.colored_label(ui.visuals().warn_fg_color, reason);
    } else {
        ui.label(RichText::new(t!("compose.shortcut", locale = locale)).small().weak());
    }
    response.clicked()
}
