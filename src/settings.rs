//! Persisted preferences (never secrets). Every field has a default, so settings
//! written by an older or newer Pictor still load.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::api::provider::Provider;

/// Colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the operating system.
    #[default]
    System,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

/// Interface language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LanguageChoice {
    /// Follow the system locale.
    #[default]
    System,
    /// English.
    English,
    /// Simplified Chinese.
    Chinese,
}

impl LanguageChoice {
    /// The locale code used for translations (`"en"` or `"zh-CN"`).
    pub fn locale(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Chinese => "zh-CN",
            Self::System => system_locale(),
        }
    }
}

/// `"zh-CN"` when the system locale is Chinese, else `"en"`.
pub fn system_locale() -> &'static str {
    let locale = sys_locale::get_locale().unwrap_or_default().to_ascii_lowercase();
    if locale.starts_with("zh") { "zh-CN" } else { "en" }
}

/// File format for saving and exporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    /// PNG, with the generation parameters embedded.
    #[default]
    Png,
    /// JPEG at the chosen quality.
    Jpeg,
    /// WebP (lossy) at the chosen quality.
    WebP,
}

/// Everything the user can set in Settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The provider requests go to.
    pub provider: Provider,
    /// Base-URL override for the provider (empty = the provider's own).
    pub base_url: String,
    /// Allow plain http to non-local hosts.
    pub allow_insecure_http: bool,
    /// Total request timeout in seconds.
    pub timeout_secs: u64,
    /// Jobs that run at once.
    pub concurrency: usize,
    /// Colour theme.
    pub theme: ThemeChoice,
    /// Interface language.
    pub language: LanguageChoice,
    /// Where exports go by default (`None` = the Pictures folder).
    pub export_dir: Option<PathBuf>,
    /// Default export format.
    pub export_format: ExportFormat,
    /// JPEG and WebP quality 1–100 (saved as `jpeg_quality` by earlier versions).
    #[serde(alias = "jpeg_quality")]
    pub export_quality: u8,
    /// Gallery thumbnail size in points.
    pub thumbnail_size: f32,
    /// File name template for saving: `{date}`, `{model}`, `{seed}`, `{prompt:N}`, `{id}`.
    pub file_name_template: String,
    /// Folders whose new images are imported as they arrive (none by default).
    pub watched_folders: Vec<PathBuf>,
    /// How many images "Variations" makes.
    pub variations: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            provider: Provider::default(),
            base_url: String::new(),
            allow_insecure_http: false,
            timeout_secs: 300,
            concurrency: 2,
            theme: ThemeChoice::System,
            language: LanguageChoice::System,
            export_dir: None,
            export_format: ExportFormat::Png,
            export_quality: 90,
            thumbnail_size: 160.0,
            file_name_template: "{date}_{model}_{seed}_{prompt:24}".to_owned(),
            watched_folders: Vec::new(),
            variations: 4,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_quality_saved_by_earlier_versions_still_loads() {
        let old: Settings = serde_json::from_str(r#"{"jpeg_quality": 70, "export_format": "WebP"}"#).unwrap();
        assert_eq!(old.export_quality, 70);
        assert_eq!(old.export_format, ExportFormat::WebP);
        let new: Settings = serde_json::from_str(r#"{"export_quality": 55}"#).unwrap();
        assert_eq!(new.export_quality, 55);
        assert_eq!(new.timeout_secs, Settings::default().timeout_secs);
    }
}
