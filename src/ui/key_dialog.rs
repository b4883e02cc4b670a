//! The API-key dialog: paste a key (masked, show/hide), choose the provider, save it to
//! the OS keyring, keep it for this session only, or try the offline demo.

use egui::RichText;
use rust_i18n::t;

use crate::api::provider::Provider;
use crate::api::secret::ApiKey;
use crate::ui::provider_label;

/// The dialog's state while open.
#[derive(Debug, Default)]
pub struct KeyDialog {
    /// Provider the key is for.
    pub provider: Provider,
    /// The text field (cleared as soon as the key is handed on).
    pub key_text: String,
    /// Show the key in clear text.
    pub reveal: bool,
    /// The last failure, shown in the dialog.
    pub error: Option<String>,
    /// A save is in flight.
    pub saving: bool,
}

/// What the user chose.
#[derive(Debug)]
pub enum KeyDialogAction {
    /// Store `key` for `provider`; in the OS keyring when `persist`, else for this session.
    Save {
        /// The provider.
        provider: Provider,
        /// The key.
        key: ApiKey,
        /// OS keyring (true) or this session only (false).
        persist: bool,
    },
    /// Forget the stored key for `provider`.
    Forget(Provider),
    /// Switch to the offline demo.
    UseDemo,
    /// Close without changes.
    Close,
}

/// Draws the dialog as a modal. `current` is the masked current key, if any.
pub fn key_dialog_ui(
    ctx: &egui::Context,
    dialog: &mut KeyDialog,
    can_persist: bool,
    current: Option<&str>,
    locale: &str,
) -> Option<KeyDialogAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("key-dialog")).show(ctx, |ui| {
        ui.set_width(440.0);
        ui.heading(t!("key.title", locale = locale));
        ui.label(t!("key.explain", locale = locale));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let label = ui.label(t!("key.provider", locale = locale));
            egui::ComboBox::from_id_salt("key-provider")
                .selected_text(provider_label(dialog.provider, locale))
                .show_ui(ui, |ui| {
                    for provider in Provider::ALL.into_iter().filter(|p| p.needs_key()) {
                        ui.selectable_value(&mut dialog.provider, provider, provider_label(provider, locale));
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if let Some(current) = current {
            ui.label(RichText::new(t!("key.current", locale = locale, key = current)).weak());
        }
        ui.horizontal(|ui| {
            let label = ui.label(t!("key.key", locale = locale));
            ui.add(
                egui::TextEdit::singleline(&mut dialog.key_text)
                    .password(!dialog.reveal)
                    .hint_text("sk-…")
                    .desired_width(300.0),
            )
            .labelled_by(label.id);
            ui.toggle_value(&mut dialog.reveal, "👁")
                .on_hover_text(t!("key.reveal", locale = locale));
        });
        if !can_persist {
            ui.colored_label(ui.visuals().warn_fg_color, t!("key.no_keyring", locale = locale));
        }
        if let Some(error) = &dialog.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        ui.add_space(8.0);
        let key = ApiKey::new(dialog.key_text.clone());
        ui.horizontal(|ui| {
            let ready = key.is_some() && !dialog.saving;
            if ui
                .add_enabled(ready && can_persist, egui::Button::new(t!("key.save", locale = locale)))
                .clicked()
                && let Some(key) = key.clone()
            {
                action = Some(KeyDialogAction::Save {
                    provider: dialog.provider,
                    key,
                    persist: true,
                });
            }
            if ui
                .add_enabled(ready, egui::Button::new(t!("key.session", locale = locale)))
                .clicked()
                && let Some(key) = key.clone()
            {
                action = Some(KeyDialogAction::Save {
                    provider: dialog.provider,
                    key,
                    persist: false,
                });
            }
            if current.is_some() && ui.button(t!("key.forget", locale = locale)).clicked() {
                action = Some(KeyDialogAction::Forget(dialog.provider));
            }
        });
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button(t!("key.demo", locale = locale)).clicked() {
                action = Some(KeyDialogAction::UseDemo);
            }
            if ui.button(t!("key.close", locale = locale)).clicked() {
                action = Some(KeyDialogAction::Close);
            }
        });
    });
    if action.is_none() && modal.should_close() {
        action = Some(KeyDialogAction::Close);
    }
    if matches!(action, Some(KeyDialogAction::Save { .. })) {
        dialog.key_text.clear();
        dialog.saving = true;
    }
    action
}
