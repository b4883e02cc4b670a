//! What the gallery shows when it has no cells: the welcome of an empty library (three
//! first steps), placeholders while the library opens, and why it could not be opened.

use egui::{Color32, RichText, vec2};
use rust_i18n::t;

/// The steps, as translation keys, in order.
const STEPS: [&str; 3] = [
    "gallery.welcome_prompt",
    "gallery.welcome_generate",
    "gallery.welcome_import",
];

/// Draws the welcome panel centred in the gallery: a title and three numbered steps.
pub fn empty_library_ui(ui: &mut egui::Ui, locale: &str) {
    centred_card_ui(ui, 460.0, |ui| {
        ui.label(
            RichText::new(t!("gallery.welcome_title", locale = locale))
                .size(16.0)
                .strong(),
        );
        ui.add_space(12.0);
        for (number, key) in STEPS.iter().enumerate() {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(vec2(22.0, 22.0), egui::Sense::hover());
                ui.painter()
                    .circle_filled(rect.center(), 11.0, ui.visuals().selection.bg_fill);
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    (number + 1).to_string(),
                    egui::FontId::proportional(12.0),
                    Color32::WHITE,
                );
                ui.add_space(4.0);
                ui.add(egui::Label::new(RichText::new(t!(*key, locale = locale)).size(14.0)).truncate());
            });
            ui.add_space(8.0);
        }
    });
}

/// A card centred in the gallery, a little above the middle, at most `max_width` wide.
fn centred_card_ui(ui: &mut egui::Ui, max_width: f32, add_contents: impl FnOnce(&mut egui::Ui)) {
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.18).max(24.0));
        egui::Frame::new()
            .fill(ui.visuals().faint_bg_color)
            .corner_radius(6.0)
            .inner_margin(24.0)
            .show(ui, |ui| {
                ui.set_max_width(max_width);
                add_contents(ui);
            });
    });
}

/// The aspect ratios of the placeholder cells: Qwen-Image's sizes, mixed.
const PLACEHOLDER_ASPECTS: [f32; 10] = [1.0, 1.79, 0.56, 1.29, 0.77, 1.79, 1.0, 1.29, 0.56, 1.0];

/// While the library opens and its first rows load: neutral cells in justified rows at
/// `row_height`, the shape of the gallery to come, filling the visible area. Static (no
/// spinner), so a slow disk costs no repaints.
pub fn loading_placeholders_ui(ui: &mut egui::Ui, row_height: f32, locale: &str) {
    let area = ui.available_rect_before_wrap();
    let spacing = crate::ui::gallery::GAP;
    let rows = ((area.height() / (row_height + spacing)).ceil() as usize).max(1);
    let per_row = ((area.width() / (row_height + spacing)).ceil() as usize).max(1);
    let aspects: Vec<f32> = PLACEHOLDER_ASPECTS
        .iter()
        .copied()
        .cycle()
        .take(rows * per_row + PLACEHOLDER_ASPECTS.len())
        .collect();
    let layout = crate::ui::justified::justify(&aspects, area.width(), row_height, spacing);
    let painter = ui.painter_at(area);
    let tone = ui.visuals().faint_bg_color;
    for index in 0..aspects.len() {
        let Some([left, top, width, height]) = layout.cell(index) else {
            break;
        };
        if top > area.height() {
            break;
        }
        let cell = egui::Rect::from_min_size(area.min + vec2(left, top), vec2(width, height));
        painter.rect_filled(cell, f32::from(crate::ui::style::CARD_RADIUS), tone);
    }
    let label = t!("gallery.loading", locale = locale).into_owned();
    ui.allocate_rect(area, egui::Sense::hover())
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ProgressIndicator, true, &label));
}

/// The gallery of a library that could not be opened: what happened and where.
pub fn library_unavailable_ui(ui: &mut egui::Ui, error: &crate::Error, folder: &std::path::Path, locale: &str) {
    centred_card_ui(ui, 520.0, |ui| {
        ui.label(
            RichText::new(t!("gallery.library_unavailable", locale = locale))
                .size(16.0)
                .strong()
                .color(ui.visuals().error_fg_color),
        );
        ui.add_space(8.0);
        ui.label(error.user_message(locale));
        ui.add_space(8.0);
        ui.label(RichText::new(folder.display().to_string()).monospace().weak());
    });
}
