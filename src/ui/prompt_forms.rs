//! The prompt library's two small forms, and what inserting an entry does to the compose
//! form: the save window (the current prompt as a prompt, the negative prompt as a
//! negative, or both as a style), and the form that asks for the `{variables}` of an
//! entry before it is inserted.

use egui::RichText;
use rust_i18n::t;

use crate::api::request::GenerationParams;
use crate::library::{PromptKind, SavedPrompt};
use crate::prompt_template;

/// The save window's state.
#[derive(Clone, Debug)]
pub struct SaveForm {
    /// What to save the text as.
    pub kind: PromptKind,
    /// The entry's name.
    pub name: String,
    /// Tags, comma-separated.
    pub tags: String,
    /// The text: the prompt, the negative prompt, or what a style appends to the prompt.
    pub text: String,
    /// A style's negative prompt.
    pub negative: String,
    /// The save runs; the buttons wait for it.
    pub saving: bool,
    /// Why the last save failed.
    pub error: Option<String>,
    /// The compose panel's prompt and negative prompt when the window opened (a change
    /// of kind takes its text from them).
    prompt: String,
    negative_prompt: String,
    focus_name: bool,
}

impl SaveForm {
    /// A form for the compose panel's current prompt (as a prompt; as a negative when
    /// only the negative prompt is written).
    pub fn new(params: &GenerationParams) -> Self {
        let mut form = Self {
            kind: PromptKind::Prompt,
            name: String::new(),
            tags: String::new(),
            text: String::new(),
            negative: String::new(),
            saving: false,
            error: None,
            prompt: params.prompt.trim().to_owned(),
            negative_prompt: params.negative_prompt.trim().to_owned(),
            focus_name: true,
        };
        let kind = if form.prompt.is_empty() && !form.negative_prompt.is_empty() {
            PromptKind::Negative
        } else {
            PromptKind::Prompt
        };
        form.set_kind(kind);
        form
    }

    /// Saves as `kind`: the text becomes the compose panel's prompt (its negative prompt
    /// for a negative), and a style also takes the negative prompt.
    pub fn set_kind(&mut self, kind: PromptKind) {
        self.kind = kind;
        self.text = match kind {
            PromptKind::Negative => self.negative_prompt.clone(),
            PromptKind::Prompt | PromptKind::Style => self.prompt.clone(),
        };
        self.negative = match kind {
            PromptKind::Style => self.negative_prompt.clone(),
            PromptKind::Prompt | PromptKind::Negative => String::new(),
        };
    }

    /// The entry the form describes.
    pub fn entry(&self) -> SavedPrompt {
        SavedPrompt {
            kind: self.kind,
            name: self.name.trim().to_owned(),
            text: self.text.trim().to_owned(),
            negative: self.negative.trim().to_owned(),
            tags: self
                .tags
                .split(',')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned)
                .collect(),
            ..SavedPrompt::default()
        }
    }
}

/// What the user did in the save window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveAction {
    /// Save (or replace) this entry.
    Save(SavedPrompt),
    /// Close without saving.
    Cancel,
}

/// The label of each kind in the picker's rows.
pub fn kind_label(kind: PromptKind, locale: &str) -> String {
    t!(format!("prompts.kind.{}", kind.name()), locale = locale).into_owned()
}

/// The save window. `saved` is the library as last read: an entry of the same kind and
/// name is named, and the button says Replace.
pub fn save_prompt_ui(
    ctx: &egui::Context,
    form: &mut SaveForm,
    saved: &[SavedPrompt],
    locale: &str,
) -> Option<SaveAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("prompt-save")).show(ctx, |ui| {
        ui.set_width(420.0_f32.min(ctx.content_rect().width() - 64.0));
        ui.heading(t!("prompts.save_title", locale = locale));
        ui.add_space(6.0);
        let mut kind = form.kind;
        ui.horizontal_wrapped(|ui| {
            for (choice, key) in [
                (PromptKind::Prompt, "prompts.save_as_prompt"),
                (PromptKind::Negative, "prompts.save_as_negative"),
                (PromptKind::Style, "prompts.save_as_style"),
            ] {
                ui.radio_value(&mut kind, choice, t!(key, locale = locale));
            }
        });
        if kind != form.kind {
            form.set_kind(kind);
        }
        ui.add_space(6.0);
        egui::Grid::new("prompt-save-grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(t!("prompts.name", locale = locale));
                let name = ui
                    .add(egui::TextEdit::singleline(&mut form.name).desired_width(280.0))
                    .labelled_by(label.id);
                if form.focus_name {
                    name.request_focus();
                    form.focus_name = false;
                }
                ui.end_row();
                let label = ui.label(t!("prompts.tags", locale = locale));
                ui.add(
                    egui::TextEdit::singleline(&mut form.tags)
                        .desired_width(280.0)
                        .hint_text(t!("prompts.tags_hint", locale = locale)),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
        ui.add_space(6.0);
        let text_key = match form.kind {
            PromptKind::Prompt => "prompts.text_prompt",
            PromptKind::Negative => "prompts.text_negative",
            PromptKind::Style => "prompts.text_style",
        };
        let label = ui.label(RichText::new(t!(text_key, locale = locale)).strong());
        ui.add(
            egui::TextEdit::multiline(&mut form.text)
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        if form.kind == PromptKind::Style {
            let label = ui.label(RichText::new(t!("prompts.style_negative", locale = locale)).strong());
            ui.add(
                egui::TextEdit::multiline(&mut form.negative)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        }
        let entry = form.entry();
        let exists = saved.iter().any(|p| p.kind == entry.kind && p.name == entry.name);
        if exists {
            let kind = kind_label(entry.kind, locale);
            ui.colored_label(
                ui.visuals().warn_fg_color,
                t!(
                    "prompts.replace_warning",
                    locale = locale,
                    kind = kind,
                    name = entry.name.as_str()
                ),
            );
        }
        let problem = entry.check().err();
        if let Some(error) = &form.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let key = if exists { "prompts.replace" } else { "prompts.save" };
            let button = egui::Button::new(RichText::new(t!(key, locale = locale)).strong());
            let save = ui.add_enabled(problem.is_none() && !form.saving, button);
            let save = match &problem {
                Some(problem) => save.on_disabled_hover_text(problem.message.as_str()),
                None => save,
            };
            if save.clicked() {
                action = Some(SaveAction::Save(entry.clone()));
            }
            if ui.button(t!("prompts.cancel", locale = locale)).clicked() {
                action = Some(SaveAction::Cancel);
            }
        });
    });
    action.or_else(|| modal.should_close().then_some(SaveAction::Cancel))
}

/// The form that asks for an entry's variables before it is inserted.
#[derive(Clone, Debug)]
pub struct FillForm {
    /// The entry to insert.
    pub entry: SavedPrompt,
    /// Each variable and the value typed for it.
    pub values: Vec<(String, String)>,
    focus_first: bool,
}

impl FillForm {
    /// A form with an empty field for each of `variables`.
    pub fn new(entry: SavedPrompt, variables: Vec<String>) -> Self {
        Self {
            entry,
            values: variables.into_iter().map(|name| (name, String::new())).collect(),
            focus_first: true,
        }
    }
}

/// What the user did in the variables form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillAction {
    /// Fill the variables and insert.
    Insert,
    /// Insert nothing.
    Cancel,
}

/// The variables form: one labelled field per variable; Enter inserts, Escape cancels.
pub fn fill_variables_ui(ctx: &egui::Context, form: &mut FillForm, locale: &str) -> Option<FillAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("prompt-fill")).show(ctx, |ui| {
        ui.set_width(400.0_f32.min(ctx.content_rect().width() - 64.0));
        // Before the fields draw: Enter inserts rather than leaving a field.
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)) {
            action = Some(FillAction::Insert);
        }
        ui.heading(t!(
            "prompts.fill_title",
            locale = locale,
            name = form.entry.name.as_str()
        ));
        ui.add(egui::Label::new(RichText::new(preview(&form.entry, locale)).small().weak()).truncate())
            .on_hover_text(full_text(&form.entry, locale));
        ui.add_space(6.0);
        egui::Grid::new("prompt-fill-grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                for (index, (name, value)) in form.values.iter_mut().enumerate() {
                    let label = ui.label(name.as_str());
                    let field = ui
                        .add(egui::TextEdit::singleline(value).desired_width(260.0))
                        .labelled_by(label.id);
                    if index == 0 && form.focus_first {
                        field.request_focus();
                    }
                    ui.end_row();
                }
            });
        form.focus_first = false;
        ui.label(RichText::new(t!("prompts.fill_hint", locale = locale)).small().weak());
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let insert = egui::Button::new(RichText::new(t!("prompts.insert", locale = locale)).strong());
            if ui.add(insert).clicked() {
                action = Some(FillAction::Insert);
            }
            if ui.button(t!("prompts.cancel", locale = locale)).clicked() {
                action = Some(FillAction::Cancel);
            }
        });
    });
    action.or_else(|| modal.should_close().then_some(FillAction::Cancel))
}

/// An entry's text on one line, with a style's negative prompt after it.
pub fn preview(entry: &SavedPrompt, locale: &str) -> String {
    let one_line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = one_line(&entry.text);
    if entry.kind == PromptKind::Style && !entry.negative.trim().is_empty() {
        let negative = one_line(&entry.negative);
        t!(
            "prompts.preview_style",
            locale = locale,
            text = text,
            negative = negative
        )
        .into_owned()
    } else {
        text
    }
}

/// An entry's whole text (and a style's negative prompt), for its tooltip.
pub fn full_text(entry: &SavedPrompt, locale: &str) -> String {
    if entry.kind == PromptKind::Style && !entry.negative.trim().is_empty() {
        let negative = t!(
            "prompts.negative_line",
            locale = locale,
            negative = entry.negative.as_str()
        );
        format!("{}\n\n{negative}", entry.text)
    } else {
        entry.text.clone()
    }
}

/// The texts inserting `entry` uses: its text, and a style's negative prompt too.
fn inserted_texts(entry: &SavedPrompt) -> Vec<&str> {
    match entry.kind {
        PromptKind::Prompt | PromptKind::Negative => vec![entry.text.as_str()],
        PromptKind::Style => vec![entry.text.as_str(), entry.negative.as_str()],
    }
}

/// The `{variables}` inserting `entry` asks for, each once, in order. A text that is not
/// a valid template (a lone brace) has none: it is inserted as written.
pub fn variables_of(entry: &SavedPrompt) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for text in inserted_texts(entry) {
        for name in prompt_template::variables(text).unwrap_or_default() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// `text` with its variables filled from `values` (an empty value leaves the variable as
/// written); a text without variables is returned untouched.
fn filled(text: &str, values: &[(String, String)]) -> String {
    if prompt_template::variables(text).unwrap_or_default().is_empty() {
        return text.to_owned();
    }
    let value_of = |name: &str| {
        values
            .iter()
            .find(|(variable, value)| variable == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_owned())
    };
    prompt_template::fill(text, value_of).unwrap_or_else(|_| text.to_owned())
}

/// Inserts `entry` into the compose form with its variables filled from `values`: a
/// prompt replaces the prompt, a negative the negative prompt, and a style appends its
/// text to the prompt and its negative to the negative prompt (each only when not there
/// already).
pub fn insert_into(params: &mut GenerationParams, entry: &SavedPrompt, values: &[(String, String)]) {
    let text = filled(&entry.text, values);
    match entry.kind {
        PromptKind::Prompt => params.prompt = text,
        PromptKind::Negative => params.negative_prompt = text,
        PromptKind::Style => {
            params.prompt = append_once(&params.prompt, &text);
            let negative = filled(&entry.negative, values);
            params.negative_prompt = append_once(&params.negative_prompt, &negative);
        }
    }
}

/// `field` with `addition` after it, joined by ", "; `field` unchanged when it already
/// holds `addition` (or `addition` is empty).
pub fn append_once(field: &str, addition: &str) -> String {
    let addition = addition.trim();
    if addition.is_empty() || field.contains(addition) {
        return field.to_owned();
    }
    let base = field.trim_end().trim_end_matches(',').trim_end();
    if base.is_empty() {
        addition.to_owned()
    } else {
        format!("{base}, {addition}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(text: &str, negative: &str) -> SavedPrompt {
        SavedPrompt {
            kind: PromptKind::Style,
            name: "Ink".into(),
            text: text.into(),
            negative: negative.into(),
            ..SavedPrompt::default()
        }
    }

    #[test]
    fn a_style_appends_once_with_a_comma() {
        assert_eq!(append_once("a fox", "ink wash"), "a fox, ink wash");
        assert_eq!(append_once("a fox, ", "ink wash"), "a fox, ink wash");
        assert_eq!(append_once("", " ink wash "), "ink wash");
        assert_eq!(append_once("a fox, ink wash", "ink wash"), "a fox, ink wash");
        assert_eq!(append_once("a fox", ""), "a fox");

        let mut params = GenerationParams {
            prompt: "a fox".into(),
            negative_prompt: String::new(),
            ..GenerationParams::default()
        };
        let ink = style("ink wash, soft light", "blurry");
        insert_into(&mut params, &ink, &[]);
        insert_into(&mut params, &ink, &[]);
        assert_eq!(params.prompt, "a fox, ink wash, soft light");
        assert_eq!(params.negative_prompt, "blurry");
    }

    #[test]
    fn variables_are_asked_once_and_filled_in_text_and_negative() {
        let entry = style("{subject} in ink, {red|blue}", "a blurry {subject}, {mood}");
        assert_eq!(variables_of(&entry), ["subject", "mood"]);
        let mut params = GenerationParams::default();
        let values = [
            ("subject".to_owned(), "a heron".to_owned()),
            ("mood".to_owned(), " ".to_owned()),
        ];
        insert_into(&mut params, &entry, &values);
        assert_eq!(
            params.prompt, "a heron in ink, {red|blue}",
            "alternatives stay for the matrix"
        );
        assert_eq!(
            params.negative_prompt, "a blurry a heron, {mood}",
            "an empty value leaves it"
        );
    }

    #[test]
    fn a_prompt_replaces_and_a_broken_template_goes_as_written() {
        let mut params = GenerationParams {
            prompt: "old".into(),
            negative_prompt: "old negative".into(),
            ..GenerationParams::default()
        };
        let prompt = SavedPrompt {
            kind: PromptKind::Prompt,
            text: "json {\"a\": 1".into(),
            negative: "{ignored}".into(),
            ..SavedPrompt::default()
        };
        assert!(variables_of(&prompt).is_empty());
        insert_into(&mut params, &prompt, &[]);
        assert_eq!(params.prompt, "json {\"a\": 1");
        assert_eq!(params.negative_prompt, "old negative");
        let negative = SavedPrompt {
            kind: PromptKind::Negative,
            text: "lowres".into(),
            ..SavedPrompt::default()
        };
        insert_into(&mut params, &negative, &[]);
        assert_eq!(params.negative_prompt, "lowres");
    }

    #[test]
    fn the_save_form_takes_its_text_from_the_kind() {
        let params = GenerationParams {
            prompt: " a fox ".into(),
            negative_prompt: "blurry".into(),
            ..GenerationParams::default()
        };
        let mut form = SaveForm::new(&params);
        assert_eq!((form.kind, form.text.as_str()), (PromptKind::Prompt, "a fox"));
        form.set_kind(PromptKind::Style);
        form.name = " Ink ".into();
        form.tags = "ink, , wash ".into();
        let entry = form.entry();
        assert_eq!(
            (entry.name.as_str(), entry.text.as_str(), entry.negative.as_str()),
            ("Ink", "a fox", "blurry")
        );
        assert_eq!(entry.tags, ["ink", "wash"]);
        form.set_kind(PromptKind::Negative);
        assert_eq!((form.text.as_str(), form.negative.as_str()), ("blurry", ""));
    }

    #[test]
    fn every_kind_has_a_label_in_both_languages() {
        for kind in [PromptKind::Prompt, PromptKind::Negative, PromptKind::Style] {
            for locale in ["en", "zh-CN"] {
                let label = kind_label(kind, locale);
                assert!(!label.contains("prompts."), "{locale}: {label}");
            }
        }
        assert_eq!(kind_label(PromptKind::Style, "en"), "Style");
    }
}
