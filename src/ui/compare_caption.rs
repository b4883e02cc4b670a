//! One image's caption in the Compare view: its letter, model, seed, size and zoom, then
//! its prompt (the first image) or only what its prompt changes against the first's.

use egui::{Align, Layout, Rect, RichText, UiBuilder};
use rust_i18n::t;

use crate::ui::compare::{Compare, letter};

/// One image's caption in `rect`: "A · model · seed 42 · 1328 × 1328", its zoom, and its
/// prompt (the first image) or what its prompt changes against the first image's.
/// `pane` is where the image is drawn (for its zoom); `showing` leads the first line (A/B).
pub fn compare_caption_ui(
    ui: &mut egui::Ui,
    compare: &Compare,
    index: usize,
    pane: Rect,
    rect: Rect,
    showing: Option<String>,
    locale: &str,
) {
    let image = &compare.panes[index];
    let meta = &image.record.meta;
    let seed = crate::ui::viewer::seed_of(meta).map_or_else(|| "—".to_owned(), |seed| seed.to_string());
    let model = if meta.model.is_empty() {
        "—"
    } else {
        meta.model.as_str()
    };
    let facts = t!(
        "compare.caption",
        locale = locale,
        letter = letter(index),
        model = model,
        seed = seed,
        width = image.record.width,
        height = image.record.height
    );
    let percent = compare.view.pixel_scale(pane, image.image_size()) * 100.0;
    let zoom = t!("compare.zoom", locale = locale, percent = format!("{percent:.0}"));
    let base = compare
        .panes
        .first()
        .map_or("", |first| first.record.meta.prompt.as_str());
    ui.scope_builder(
        UiBuilder::new()
            .max_rect(rect)
            .layout(Layout::top_down(Align::Min))
            .id_salt(("compare-caption", index)),
        |ui| {
            ui.set_clip_rect(rect.intersect(ui.clip_rect()));
            ui.horizontal(|ui| {
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    ui.add(egui::Label::new(RichText::new(zoom).small().weak()).selectable(false));
                    ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                        if let Some(showing) = showing {
                            let accent = ui.visuals().selection.stroke.color;
                            ui.add(egui::Label::new(RichText::new(showing).strong().color(accent)).selectable(false));
                        }
                        ui.add(egui::Label::new(RichText::new(facts).strong()).truncate())
                            .on_hover_text(&meta.prompt);
                    });
                });
            });
            if index == 0 {
                ui.add(egui::Label::new(RichText::new(&meta.prompt).weak()).truncate())
                    .on_hover_text(&meta.prompt);
            } else {
                match crate::ui::prompt_diff::prompt_changes_ui(ui, base, &meta.prompt, 2) {
                    Some(response) => {
                        response.on_hover_text(&meta.prompt);
                    }
                    None => {
                        ui.label(
                            RichText::new(t!("compare.same_prompt", locale = locale))
                                .weak()
                                .italics(),
                        );
                    }
                }
            }
        },
    );
}
