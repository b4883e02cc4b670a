//! Fonts: egui's defaults, then a bundled CJK fallback (Droid Sans Fallback, Apache-2.0,
//! subset to the 7,730 characters of GB2312 plus punctuation), so Chinese renders even
//! on a machine without a CJK font. eframe's system font fallback covers the rest.

use std::sync::Arc;

/// The bundled CJK subset.
const CJK_FALLBACK: &[u8] = include_bytes!("../../assets/fonts/DroidSansFallback-GB2312.ttf");
const CJK_FALLBACK_NAME: &str = "droid-sans-fallback-gb2312";

/// Installs egui's default fonts plus the bundled CJK fallback on `ctx`.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        CJK_FALLBACK_NAME.to_owned(),
        Arc::new(egui::FontData::from_static(CJK_FALLBACK)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push(CJK_FALLBACK_NAME.to_owned());
    }
    ctx.set_fonts(fonts);
}
