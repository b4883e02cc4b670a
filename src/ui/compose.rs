//! The compose panel: every field of the request model, with live limits.

use std::hash::{BuildHasher, Hasher};

use egui::{Color32, RichText};
use rust_i18n::t;
use serde::{Deserialize, Serialize};

use crate::api::catalogue::{Catalogue, ModelGroup, ModelSpec, SizeRule};
use crate::api::request::{
    GenerationParams, MAX_SEED, NEGATIVE_PROMPT_LIMIT, Size, char_count, default_size, prompt_limit, spec_for,
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
    /// Changing the width or height of a free size keeps the aspect ratio.
    pub aspect_locked: bool,
    /// Images per click, 1–8 (as few requests as the model allows: several per request
    /// where it makes several).
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
            aspect_locked: false,
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
    /// Open the prompt library's picker.
    OpenPromptLibrary,
    /// Save the prompt (or the negative prompt, or both as a style) to the library.
    SavePrompt,
}

/// A reference image's prompt and thumbnail (still loading: `None`), by library id;
/// `None` when the image is not known yet.
pub type ReferenceLookup<'a> = dyn FnMut(&str) -> Option<(String, Option<egui::TextureHandle>)> + 'a;

/// What one Generate would send, shown above the button before it runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunPreview {
    /// Images in all.
    pub images: u32,
    /// "4 prompts × 1 image ≈ ¥0.80": the count and the estimate.
    pub line: String,
    /// The prompts of a matrix (empty for a single prompt).
    pub prompts: Vec<String>,
}

/// Draws the compose panel. `blocker` is why Generate cannot run now, if it cannot;
/// `preview` what it would send; `reference` shows the images of the reference strip.
pub fn compose_ui(
    ui: &mut egui::Ui,
    form: &mut ComposeForm,
    locale: &str,
    blocker: Option<&str>,
    preview: Option<&RunPreview>,
    reference: &mut ReferenceLookup<'_>,
) -> Option<ComposeAction> {
    let mut action = None;
    let spec = spec_for(&form.params.model);
    // Generate stays in view at the foot of the panel however long the form grows.
    egui::Panel::bottom("compose-generate")
        .show_separator_line(false)
        .show(ui, |ui| {
            ui.add_space(8.0);
            if generate_button_ui(ui, form, locale, blocker, preview) {
                action = Some(ComposeAction::Generate);
            }
            ui.add_space(4.0);
        });
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.add_space(4.0);
        model_ui(ui, form, locale);
        ui.add_space(6.0);
        references_ui(ui, form, locale, spec, reference);
        if let Some(library_action) = prompt_ui(ui, form, locale) {
            action = Some(library_action);
        }
        ui.add_space(6.0);
        negative_ui(ui, form, locale, spec);
        ui.add_space(6.0);
        size_ui(ui, form, locale, spec);
        ui.add_space(6.0);
        seed_ui(ui, form, locale);
        ui.add_space(6.0);
        options_ui(ui, form, locale);
        ui.add_space(6.0);
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
            .height(520.0)
            .show_ui(ui, |ui| model_menu_ui(ui, form, locale))
            .response
            .on_hover_text(t!("compose.model_catalogue", locale = locale));
        if before != form.params.model {
            let family = |model: &str| spec_for(model).map(|spec| spec.family.clone());
            if family(&form.params.model) != family(&before) {
                form.params.size = default_size(&form.params.model);
            }
        }
    });
}

/// The reference strip: Image 1, Image 2, … in the order the prompt refers to them, each
/// with buttons to move it left or right and to remove it. Shown while it holds images
/// or the model takes them.
fn references_ui(
    ui: &mut egui::Ui,
    form: &mut ComposeForm,
    locale: &str,
    spec: Option<&ModelSpec>,
    reference: &mut ReferenceLookup<'_>,
) {
    let range = spec.map(|spec| spec.references);
    if form.params.references.is_empty() && range.is_none_or(|range| range.max == 0) {
        return;
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new(t!("compose.references", locale = locale)).strong());
        if let Some(range) = range {
            let text = t!(
                "compose.references_range",
                locale = locale,
                min = range.min,
                max = range.max
            );
            ui.label(RichText::new(text).small().weak());
        }
    });
    if form.params.references.is_empty() {
        ui.label(
            RichText::new(t!("compose.references_hint", locale = locale))
                .small()
                .weak(),
        );
    }
    let mut remove = None;
    let mut swap = None;
    let count = form.params.references.len();
    ui.horizontal_wrapped(|ui| {
        for (index, id) in form.params.references.iter().enumerate() {
            let caption = t!("compose.image_n", locale = locale, n = index + 1).into_owned();
            let (prompt, texture) = reference(id).unwrap_or_default();
            ui.vertical(|ui| {
                crate::ui::viewer::small_image_button_ui(ui, texture, &caption).on_hover_text(prompt);
                ui.horizontal(|ui| {
                    if index > 0
                        && ui
                            .small_button("◀")
                            .on_hover_text(t!("compose.move_left", locale = locale))
                            .clicked()
                    {
                        swap = Some((index - 1, index));
                    }
                    if index + 1 < count
                        && ui
                            .small_button("▶")
                            .on_hover_text(t!("compose.move_right", locale = locale))
                            .clicked()
                    {
                        swap = Some((index, index + 1));
                    }
                    if ui
                        .small_button("×")
                        .on_hover_text(t!("compose.remove_reference", locale = locale, n = index + 1))
                        .clicked()
                    {
                        remove = Some(index);
                    }
                });
            });
        }
    });
    if let Some((a, b)) = swap {
        form.params.references.swap(a, b);
    }
    if let Some(index) = remove {
        form.params.references.remove(index);
    }
    ui.add_space(6.0);
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

/// The catalogue, grouped (Qwen-Image 2.0, Qwen-Image, Edit, Wan), each model with a
/// line on what its family takes.
fn model_menu_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str) {
    ui.set_min_width(320.0);
    let groups = [
        (ModelGroup::QwenImage2, "compose.group.qwen_image_2"),
        (ModelGroup::QwenImage, "compose.group.qwen_image"),
        (ModelGroup::Edit, "compose.group.edit"),
        (ModelGroup::Wan, "compose.group.wan"),
    ];
    for (group, key) in groups {
        ui.label(RichText::new(t!(key, locale = locale)).small().strong());
        for spec in Catalogue::get().families.iter().filter(|spec| spec.group == group) {
            for model in spec.named_models() {
                ui.selectable_value(&mut form.params.model, model.to_owned(), model)
                    .on_hover_text(spec.summary.get(locale));
            }
        }
        ui.separator();
    }
    ui.label(
        RichText::new(t!("compose.model_free_text", locale = locale))
            .small()
            .weak(),
    );
}

/// The prompt field with its counter, recent prompts and the prompt library's buttons.
fn prompt_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str) -> Option<ComposeAction> {
    let mut action = None;
    let used = char_count(form.params.prompt.trim());
    let limit = prompt_limit(&form.params.model);
    let warn = spec_for(&form.params.model).and_then(|spec| spec.prompt_warn);
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
            action = prompt_library_buttons_ui(ui, locale);
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
    } else if let Some(warn) = warn.filter(|warn| used > *warn) {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            t!("compose.long_prompt", locale = locale, used = used, warn = warn),
        );
    }
    action
}

/// "Library" (the picker, Ctrl+P) and "Save…" beside the prompt.
fn prompt_library_buttons_ui(ui: &mut egui::Ui, locale: &str) -> Option<ComposeAction> {
    let mut action = None;
    if ui
        .small_button(t!("prompts.library", locale = locale))
        .on_hover_text(t!("prompts.library_hint", locale = locale))
        .clicked()
    {
        action = Some(ComposeAction::OpenPromptLibrary);
    }
    if ui
        .small_button(t!("prompts.save_button", locale = locale))
        .on_hover_text(t!("prompts.save_hint", locale = locale))
        .clicked()
    {
        action = Some(ComposeAction::SavePrompt);
    }
    action
}

fn negative_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str, spec: Option<&ModelSpec>) {
    let used = char_count(form.params.negative_prompt.trim());
    let limit = spec.map_or(NEGATIVE_PROMPT_LIMIT, |spec| spec.negative_limit);
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(RichText::new(t!("compose.negative", locale = locale)).strong());
            counter_ui(ui, used, limit);
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

/// Preset chips where the model has presets; free width × height with its bounds where it
/// has a range (the chips are suggestions then); nothing to choose where it takes no size.
/// A model the catalogue does not know gets free width × height with no local rule.
fn size_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str, spec: Option<&ModelSpec>) {
    ui.label(RichText::new(t!("compose.size", locale = locale)).strong());
    if !form.params.references.is_empty() && spec.is_none_or(|spec| spec.size != SizeRule::None) {
        // With references the service can take the size from the last one.
        ui.checkbox(
            &mut form.params.size_from_reference,
            t!("compose.size_from_references", locale = locale),
        );
        if form.params.size_from_reference {
            return;
        }
    }
    let Some(spec) = spec else {
        free_size_ui(ui, form, locale, 64..=8192);
        return;
    };
    ui.horizontal_wrapped(|ui| {
        for (aspect, size) in spec.presets() {
            let selected = form.params.size == size.0;
            let chip = ui
                .selectable_label(selected, format!("{aspect}\n{}×{}", size.0.width, size.0.height))
                .on_hover_text(size.0.wire());
            if chip.clicked() {
                form.params.size = size.0;
            }
        }
    });
    match &spec.size {
        SizeRule::Presets { .. } => {
            if spec.check_size(&form.params.model, form.params.size).is_err() {
                form.params.size = default_size(&form.params.model);
            }
        }
        SizeRule::Range {
            min_side,
            max_side,
            min_pixels,
            max_pixels,
            ..
        } => {
            free_size_ui(ui, form, locale, *min_side..=*max_side);
            let bounds = t!(
                "compose.size_bounds",
                locale = locale,
                min = min_side,
                max = max_side,
                min_mp = format!("{:.1}", *min_pixels as f64 / 1e6),
                max_mp = format!("{:.1}", *max_pixels as f64 / 1e6)
            );
            match spec.check_size(&form.params.model, form.params.size) {
                Ok(_) => ui.label(RichText::new(bounds).small().weak()),
                Err(_) => ui.colored_label(Color32::from_rgb(0xE0, 0x40, 0x40), RichText::new(bounds).small()),
            };
        }
        SizeRule::None => {
            ui.label(
                RichText::new(t!("compose.size_from_reference", locale = locale))
                    .small()
                    .weak(),
            );
        }
    }
}

/// Width × height within `sides`, with a lock that keeps the aspect ratio while one of
/// them changes.
fn free_size_ui(ui: &mut egui::Ui, form: &mut ComposeForm, locale: &str, sides: std::ops::RangeInclusive<u32>) {
    let before = form.params.size;
    ui.horizontal(|ui| {
        let w = ui.label(t!("compose.width", locale = locale));
        ui.add(egui::DragValue::new(&mut form.params.size.width).range(sides.clone()))
            .labelled_by(w.id);
        let h = ui.label(t!("compose.height", locale = locale));
        ui.add(egui::DragValue::new(&mut form.params.size.height).range(sides.clone()))
            .labelled_by(h.id);
        let lock = if form.aspect_locked { "🔒" } else { "🔓" };
        if ui
            .selectable_label(form.aspect_locked, lock)
            .on_hover_text(t!("compose.aspect_lock", locale = locale))
            .clicked()
        {
            form.aspect_locked = !form.aspect_locked;
        }
    });
    if form.aspect_locked {
        form.params.size = keep_aspect(before, form.params.size, &sides);
    }
}

/// `after` with the side that did not change following the one that did, so the aspect
/// ratio of `before` is kept (within `sides`).
fn keep_aspect(before: Size, after: Size, sides: &std::ops::RangeInclusive<u32>) -> Size {
    if before.width == 0 || before.height == 0 {
        return after;
    }
    let ratio = f64::from(before.width) / f64::from(before.height);
    let clamp = |v: f64| (v.round() as u32).clamp(*sides.start(), *sides.end());
    if after.width != before.width {
        Size::new(after.width, clamp(f64::from(after.width) / ratio))
    } else if after.height != before.height {
        Size::new(clamp(f64::from(after.height) * ratio), after.height)
    } else {
        after
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
fn generate_button_ui(
    ui: &mut egui::Ui,
    form: &ComposeForm,
    locale: &str,
    blocker: Option<&str>,
    preview: Option<&RunPreview>,
) -> bool {
    let images = preview.map_or(form.count, |preview| preview.images);
    let label = if images > 1 {
        t!("compose.generate_n", locale = locale, count = images).into_owned()
    } else {
        t!("compose.generate", locale = locale).into_owned()
    };
    if let Some(preview) = preview.filter(|_| blocker.is_none()) {
        let line = ui.label(&preview.line);
        if !preview.prompts.is_empty() {
            line.on_hover_ui(|ui| {
                for prompt in &preview.prompts {
                    ui.label(prompt);
                }
            });
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aspect_lock_moves_the_other_side_within_the_bounds() {
        let sides = 512..=2048;
        let before = Size::new(1024, 1536);
        assert_eq!(
            keep_aspect(before, Size::new(1366, 1536), &sides),
            Size::new(1366, 2048)
        );
        assert_eq!(keep_aspect(before, Size::new(1024, 768), &sides), Size::new(512, 768));
        assert_eq!(
            keep_aspect(before, Size::new(2048, 1536), &sides),
            Size::new(2048, 2048),
            "clamped"
        );
        assert_eq!(keep_aspect(before, before, &sides), before);
        assert_eq!(
            keep_aspect(Size::new(0, 10), Size::new(5, 10), &sides),
            Size::new(5, 10)
        );
    }
}
