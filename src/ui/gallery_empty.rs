//! The gallery of an empty library: a short welcome with the three first steps.

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
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.18).max(24.0));
        egui::Frame::new()
            .fill(ui.visuals().faint_bg_color)
            .corner_radius(6.0)
            .inner_margin(24.0)
            .show(ui, |ui| {
                ui.set_max_width(460.0);
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
    });
}
