//! A modal question before something that cannot be undone (emptying the trash) or
//! that is big (importing a folder of thousands of images).

use rust_i18n::t;

/// What the user answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmAnswer {
    /// Go ahead.
    Confirm,
    /// Don't (the Cancel button, Esc or a click beside the dialog).
    Cancel,
}

/// The question to ask and the button that confirms it.
pub struct Confirmation<'a> {
    /// Stable id of the modal.
    pub id: &'static str,
    /// The headline.
    pub title: &'a str,
    /// What will happen, in a sentence or two.
    pub text: &'a str,
    /// The label of the button that goes ahead (a verb: "Delete for good").
    pub confirm: &'a str,
    /// Whether going ahead destroys something (the button is then drawn as a warning).
    pub destructive: bool,
}

/// Draws the modal; `None` while the user has not answered.
pub fn confirm_ui(ctx: &egui::Context, question: &Confirmation<'_>, locale: &str) -> Option<ConfirmAnswer> {
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique(question.id)).show(ctx, |ui| {
        ui.set_max_width(380.0);
        ui.heading(question.title);
        ui.add_space(6.0);
        ui.label(question.text);
        ui.add_space(12.0);
        ui.horizontal(|ui| {
            let label = egui::RichText::new(question.confirm);
            let label = if question.destructive {
                label.color(ui.visuals().error_fg_color)
            } else {
                label.strong()
            };
            let confirm = egui::Button::new(label);
            if ui.add(confirm).clicked() {
                answer = Some(ConfirmAnswer::Confirm);
            }
            if ui.button(t!("confirm.cancel", locale = locale)).clicked() {
                answer = Some(ConfirmAnswer::Cancel);
            }
        });
    });
    answer.or_else(|| modal.should_close().then_some(ConfirmAnswer::Cancel))
}
