//! The settings window: provider, base URL, timeout, concurrency, theme, language,
//! export, watched folders, and help for bug reports (the log folder, diagnostics).

use rust_i18n::t;

use crate::api::provider::Provider;
use crate::connection::Overrides;
use crate::settings::{ExportFormat, LanguageChoice, Settings, ThemeChoice};
use crate::ui::provider_label;

/// Draws the settings form over the saved preferences; returns true when anything
/// changed. A connection value that this run's `overrides` replace is shown as the value
/// in force, read-only, with a note that it comes from the command line and is not saved.
pub fn settings_ui(ui: &mut egui::Ui, settings: &mut Settings, overrides: &Overrides, locale: &str) -> bool {
    let before = settings.clone();
    egui::Grid::new("settings-grid")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            connection_rows_ui(ui, settings, overrides, locale);

            let label = ui.label(t!("settings.timeout", locale = locale));
            ui.add(
                egui::DragValue::new(&mut settings.timeout_secs)
                    .range(30..=1800)
                    .suffix(" s"),
            )
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label(t!("settings.concurrency", locale = locale));
            ui.add(egui::Slider::new(&mut settings.concurrency, 1..=8))
                .labelled_by(label.id);
            ui.end_row();

            let label = ui.label(t!("settings.theme", locale = locale));
            ui.horizontal(|ui| {
                ui.selectable_value(
                    &mut settings.theme,
                    ThemeChoice::System,
                    t!("settings.theme_system", locale = locale),
                );
                ui.selectable_value(
                    &mut settings.theme,
                    ThemeChoice::Dark,
                    t!("settings.theme_dark", locale = locale),
                );
                ui.selectable_value(
                    &mut settings.theme,
                    ThemeChoice::Light,
                    t!("settings.theme_light", locale = locale),
                );
            })
            .response
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label(t!("settings.language", locale = locale));
            ui.horizontal(|ui| {
                ui.selectable_value(
                    &mut settings.language,
                    LanguageChoice::System,
                    t!("settings.language_system", locale = locale),
                );
                ui.selectable_value(&mut settings.language, LanguageChoice::English, "English");
                ui.selectable_value(&mut settings.language, LanguageChoice::Chinese, "简体中文");
            })
            .response
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label(t!("settings.export_format", locale = locale));
            ui.horizontal(|ui| {
                ui.selectable_value(&mut settings.export_format, ExportFormat::Png, "PNG");
                ui.selectable_value(&mut settings.export_format, ExportFormat::Jpeg, "JPEG");
                ui.selectable_value(&mut settings.export_format, ExportFormat::WebP, "WebP");
            })
            .response
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label(t!("settings.export_quality", locale = locale));
            ui.add(egui::Slider::new(&mut settings.export_quality, 1..=100))
                .labelled_by(label.id);
            ui.end_row();

            let label = ui.label(t!("settings.export_dir", locale = locale));
            let mut dir_text = settings
                .export_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            if ui
                .add(
                    egui::TextEdit::singleline(&mut dir_text)
                        .hint_text(t!("settings.export_dir_hint", locale = locale)),
                )
                .labelled_by(label.id)
                .changed()
            {
                settings.export_dir = if dir_text.trim().is_empty() {
                    None
                } else {
                    Some(dir_text.trim().into())
                };
            }
            ui.end_row();

            let label = ui.label(t!("settings.file_name", locale = locale));
            ui.add(egui::TextEdit::singleline(&mut settings.file_name_template))
                .labelled_by(label.id);
            ui.end_row();
        });
    *settings != before
}

/// Provider, base URL and insecure http: editable preferences, or this run's override.
fn connection_rows_ui(ui: &mut egui::Ui, settings: &mut Settings, overrides: &Overrides, locale: &str) {
    let label = ui.label(t!("settings.provider", locale = locale));
    match overrides.provider {
        Some(provider) => overridden_ui(ui, &provider_label(provider, locale), locale).labelled_by(label.id),
        None => egui::ComboBox::from_id_salt("settings-provider")
            .selected_text(provider_label(settings.provider, locale))
            .show_ui(ui, |ui| {
                for provider in Provider::ALL {
                    ui.selectable_value(&mut settings.provider, provider, provider_label(provider, locale));
                }
            })
            .response
            .labelled_by(label.id),
    };
    ui.end_row();

    let label = ui.label(t!("settings.base_url", locale = locale));
    let provider = overrides.provider.unwrap_or(settings.provider);
    match &overrides.base_url {
        Some(base_url) => overridden_ui(ui, base_url, locale).labelled_by(label.id),
        // The provider of this run, without a base URL: its own address (not the saved
        // one, which belongs to another provider), or none at all.
        None if overrides.provider.is_some_and(|p| p != settings.provider) => ui
            .vertical(|ui| {
                let (shown, note) = match provider.default_base_url() {
                    Some(own) => (own, t!("settings.provider_own_url", locale = locale)),
                    None => ("—", t!("settings.needs_base_url", locale = locale)),
                };
                let response = ui.label(egui::RichText::new(shown).strong());
                ui.label(egui::RichText::new(note).small().weak());
                response
            })
            .inner
            .labelled_by(label.id),
        None => {
            let hint = provider.default_base_url().unwrap_or("https://router.example.com");
            ui.add(egui::TextEdit::singleline(&mut settings.base_url).hint_text(hint))
                .labelled_by(label.id)
        }
    };
    ui.end_row();

    ui.label("");
    if overrides.allow_insecure_http {
        ui.vertical(|ui| {
            ui.add_enabled(
                false,
                egui::Checkbox::new(&mut true, t!("settings.insecure_http", locale = locale)),
            );
            ui.label(
                egui::RichText::new(t!("settings.from_command_line", locale = locale))
                    .small()
                    .weak(),
            );
        });
    } else {
        ui.checkbox(
            &mut settings.allow_insecure_http,
            t!("settings.insecure_http", locale = locale),
        );
    }
    ui.end_row();
}

/// A value set for this run only: shown, not editable, with where it comes from.
fn overridden_ui(ui: &mut egui::Ui, value: &str, locale: &str) -> egui::Response {
    ui.vertical(|ui| {
        let shown = if value.is_empty() { "—" } else { value };
        let response = ui.label(egui::RichText::new(shown).strong());
        ui.label(
            egui::RichText::new(t!("settings.from_command_line", locale = locale))
                .small()
                .weak(),
        )
        .on_hover_text(t!("settings.from_command_line_hint", locale = locale));
        response
    })
    .inner
}

/// What the user asked of the watched folders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchAction {
    /// Choose a folder to watch (through the file dialog).
    Add,
    /// Watch this folder, typed in (when no file dialog is available).
    AddPath(std::path::PathBuf),
    /// Stop watching this folder.
    Remove(std::path::PathBuf),
}

/// The watched folders: each with a button that stops watching it, and one that adds a
/// folder. `problems` are the folders that could not be watched, with why.
///
/// Without a file dialog (`typed` is then the folder being typed) the folder is typed in.
pub fn watched_folders_ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    problems: &[(std::path::PathBuf, String)],
    typed: Option<&mut String>,
    locale: &str,
) -> Option<WatchAction> {
    let mut action = None;
    ui.separator();
    ui.label(egui::RichText::new(t!("settings.watched_folders", locale = locale)).strong());
    ui.label(
        egui::RichText::new(t!("settings.watched_folders_hint", locale = locale))
            .small()
            .weak(),
    );
    for folder in &settings.watched_folders {
        ui.horizontal(|ui| {
            if ui.small_button(t!("settings.stop_watching", locale = locale)).clicked() {
                action = Some(WatchAction::Remove(folder.clone()));
            }
            ui.label(folder.display().to_string());
        });
        if let Some((_, why)) = problems.iter().find(|(path, _)| path == folder) {
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
    }
    match typed {
        None => {
            if ui.button(t!("settings.watch_folder", locale = locale)).clicked() {
                action = Some(WatchAction::Add);
            }
        }
        Some(typed) => {
            ui.horizontal(|ui| {
                let field = ui.add(
                    egui::TextEdit::singleline(typed)
                        .hint_text(t!("settings.folder_path_hint", locale = locale))
                        .desired_width(220.0),
                );
                let field = field.on_hover_text(t!("settings.no_dialog_type_path", locale = locale));
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let clicked = ui.button(t!("settings.watch", locale = locale)).clicked();
                if (entered || clicked) && !typed.trim().is_empty() {
                    action = Some(WatchAction::AddPath(std::path::PathBuf::from(typed.trim())));
                    typed.clear();
                }
            });
        }
    }
    action
}

/// What the user asked for in the settings' "Help" section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpAction {
    /// Open the folder holding the log files.
    OpenLogFolder,
    /// Copy the diagnostics text to the clipboard.
    CopyDiagnostics,
}

/// The "Help" section: where the log files are, a button that opens that folder, and one
/// that copies the diagnostics (with the user's prompts only when `include_prompts`).
pub fn help_ui(
    ui: &mut egui::Ui,
    log_dir: Option<&std::path::Path>,
    include_prompts: &mut bool,
    locale: &str,
) -> Option<HelpAction> {
    let mut action = None;
    ui.separator();
    ui.label(egui::RichText::new(t!("settings.help", locale = locale)).strong());
    match log_dir {
        Some(dir) => {
            ui.label(
                egui::RichText::new(t!("settings.log_folder_is", locale = locale, path = dir.display()))
                    .small()
                    .weak(),
            );
        }
        None => {
            ui.label(
                egui::RichText::new(t!("settings.no_log_folder", locale = locale))
                    .small()
                    .weak(),
            );
        }
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                log_dir.is_some(),
                egui::Button::new(t!("settings.open_log_folder", locale = locale)),
            )
            .clicked()
        {
            action = Some(HelpAction::OpenLogFolder);
        }
        if ui
            .button(t!("settings.copy_diagnostics", locale = locale))
            .on_hover_text(t!("settings.copy_diagnostics_hint", locale = locale))
            .clicked()
        {
            action = Some(HelpAction::CopyDiagnostics);
        }
    });
    ui.checkbox(include_prompts, t!("settings.diagnostics_prompts", locale = locale));
    action
}
