//! The style tokens of docs/design.md, set once at start for both themes: the spacing
//! scale, corner radii, type sizes, the dark palette (background, panels, cards) and one
//! accent for "selected / the main action".

use egui::{Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle, Theme};

/// The spacing scale, in points.
pub const SPACE: [f32; 5] = [4.0, 8.0, 12.0, 16.0, 24.0];
/// Corner radius of cards, windows and images.
pub const CARD_RADIUS: u8 = 6;
/// Corner radius of chips and buttons.
pub const CHIP_RADIUS: u8 = 4;

/// The accent: a clear blue, used only for what is selected and the main action.
pub const ACCENT: Color32 = Color32::from_rgb(0x2F, 0x7D, 0xE1);

/// Sets the tokens on the dark and the light style of `ctx`.
pub fn install_style(ctx: &egui::Context) {
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(SPACE[1], SPACE[0] + 2.0);
        style.spacing.button_padding = egui::vec2(SPACE[1], SPACE[0]);
        style.spacing.window_margin = egui::Margin::same(12);
        style.spacing.menu_margin = egui::Margin::same(8);
        style.text_styles = [
            (TextStyle::Small, FontId::new(12.0, FontFamily::Proportional)),
            (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
            (TextStyle::Button, FontId::new(14.0, FontFamily::Proportional)),
            (TextStyle::Heading, FontId::new(16.0, FontFamily::Proportional)),
            (TextStyle::Monospace, FontId::new(13.0, FontFamily::Monospace)),
        ]
        .into();
        let visuals = &mut style.visuals;
        visuals.window_corner_radius = CornerRadius::same(CARD_RADIUS);
        visuals.menu_corner_radius = CornerRadius::same(CARD_RADIUS);
        for widget in [
            &mut visuals.widgets.noninteractive,
            &mut visuals.widgets.inactive,
            &mut visuals.widgets.hovered,
            &mut visuals.widgets.active,
            &mut visuals.widgets.open,
        ] {
            widget.corner_radius = CornerRadius::same(CHIP_RADIUS);
        }
        visuals.selection.bg_fill = ACCENT;
        visuals.selection.stroke = Stroke::new(1.0, Color32::WHITE);
        visuals.hyperlink_color = ACCENT.gamma_multiply(1.3);
    });
    ctx.style_mut_of(Theme::Dark, |style| {
        let visuals = &mut style.visuals;
        visuals.panel_fill = Color32::from_rgb(0x1A, 0x1B, 0x1F);
        visuals.window_fill = Color32::from_rgb(0x20, 0x22, 0x27);
        visuals.extreme_bg_color = Color32::from_rgb(0x12, 0x13, 0x16);
        visuals.faint_bg_color = Color32::from_rgb(0x20, 0x22, 0x27);
        visuals.widgets.noninteractive.bg_fill = Color32::from_rgb(0x20, 0x22, 0x27);
    });
    ctx.style_mut_of(Theme::Light, |style| {
        let visuals = &mut style.visuals;
        visuals.panel_fill = Color32::from_rgb(0xF4, 0xF5, 0xF7);
        visuals.window_fill = Color32::WHITE;
        visuals.extreme_bg_color = Color32::from_rgb(0xFF, 0xFF, 0xFF);
        visuals.faint_bg_color = Color32::from_rgb(0xEC, 0xEE, 0xF1);
        visuals.selection.stroke = Stroke::new(1.0, Color32::WHITE);
    });
}
