//! The prompt library picker (Ctrl+P, or "Library" in the compose panel): a modal with
//! a search field that has the keyboard, the entries in sections (Starred, Recent, All)
//! or under one tag, Up/Down/Enter to insert, Escape to close; each row with its kind,
//! name, tags, a one-line preview, a star and a delete (with Undo); import and export.

use egui::{RichText, Sense};
use rust_i18n::t;

use crate::library::SavedPrompt;
use crate::ui::prompt_forms::{FillForm, SaveForm, full_text, kind_label, preview};

/// How many recently used (unstarred) entries the Recent section shows.
pub const RECENT: usize = 8;

/// The prompt library's windows and the entries as last read.
#[derive(Debug, Default)]
pub struct PromptLibrary {
    /// Every saved entry, in the library's order (starred, recently used, by name).
    pub entries: Vec<SavedPrompt>,
    /// The entries have been read at least once.
    pub loaded: bool,
    /// The picker, while open.
    pub picker: Option<Picker>,
    /// The save window, while open.
    pub save: Option<SaveForm>,
    /// The variables form of an entry being inserted, while open.
    pub fill: Option<FillForm>,
}

impl PromptLibrary {
    /// Whether one of its windows is open (they are modal).
    pub fn is_open(&self) -> bool {
        self.picker.is_some() || self.save.is_some() || self.fill.is_some()
    }
}

/// The picker's state.
#[derive(Debug)]
pub struct Picker {
    /// What is typed in the search field.
    pub search: String,
    /// Only entries with this tag are shown.
    pub tag: Option<String>,
    /// The highlighted row (Up/Down move it, Enter inserts it), counted over the rows
    /// shown, top to bottom.
    pub selected: usize,
    /// What the last import or export did, or why it failed.
    pub status: Option<String>,
    /// Entries of the last import that were left out, one line each.
    pub rejected: Vec<String>,
    /// The entry deleted last, until Undo or the next delete.
    pub deleted: Option<SavedPrompt>,
    focus_search: bool,
    scroll_to_selected: bool,
}

impl Default for Picker {
    fn default() -> Self {
        Self {
            search: String::new(),
            tag: None,
            selected: 0,
            status: None,
            rejected: Vec::new(),
            deleted: None,
            focus_search: true,
            scroll_to_selected: false,
        }
    }
}

/// What the user did in the picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickerAction {
    /// Insert this entry into the compose panel.
    Insert(SavedPrompt),
    /// Star or unstar an entry.
    Star {
        /// Its row id.
        id: i64,
        /// Starred or not.
        starred: bool,
    },
    /// Delete an entry (Undo saves it again).
    Delete(SavedPrompt),
    /// Save the entry deleted last again.
    Restore(SavedPrompt),
    /// Read entries from a JSON file.
    Import,
    /// Write every entry to a JSON file.
    Export,
    /// Close the picker.
    Close,
}

/// A section of the picker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Starred entries.
    Starred,
    /// The most recently used others.
    Recent,
    /// Every other entry, by name.
    All,
    /// The entries with the chosen tag.
    Tagged,
}

/// The entries that match `search` (and carry `tag`, when one is chosen), in sections:
/// starred, the [`RECENT`] most recently used others, then the rest by name; with a tag,
/// one section. Empty sections are left out; each entry is in one section.
pub fn sections<'a>(
    entries: &'a [SavedPrompt],
    search: &str,
    tag: Option<&str>,
) -> Vec<(Section, Vec<&'a SavedPrompt>)> {
    let shown: Vec<&SavedPrompt> = entries
        .iter()
        .filter(|entry| entry.matches(search))
        .filter(|entry| tag.is_none_or(|tag| entry.tags.iter().any(|t| t == tag)))
        .collect();
    if tag.is_some() {
        return if shown.is_empty() {
            Vec::new()
        } else {
            vec![(Section::Tagged, shown)]
        };
    }
    let starred: Vec<&SavedPrompt> = shown.iter().copied().filter(|e| e.starred).collect();
    let mut recent: Vec<&SavedPrompt> = shown
        .iter()
        .copied()
        .filter(|e| !e.starred && e.used_ms.is_some())
        .collect();
    recent.sort_by_key(|e| std::cmp::Reverse(e.used_ms));
    recent.truncate(RECENT);
    let mut rest: Vec<&SavedPrompt> = shown
        .iter()
        .copied()
        .filter(|e| !e.starred && !recent.iter().any(|r| std::ptr::eq(*r, *e)))
        .collect();
    rest.sort_by_cached_key(|e| (e.name.to_lowercase(), e.kind.name()));
    [
        (Section::Starred, starred),
        (Section::Recent, recent),
        (Section::All, rest),
    ]
    .into_iter()
    .filter(|(_, entries)| !entries.is_empty())
    .collect()
}

/// Every tag in use, once, sorted.
fn all_tags(entries: &[SavedPrompt]) -> Vec<&str> {
    let mut tags: Vec<&str> = entries.iter().flat_map(|e| e.tags.iter().map(String::as_str)).collect();
    tags.sort_by_key(|tag| tag.to_lowercase());
    tags.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    tags
}

/// Draws the picker; returns what the user did. `loaded`: the entries have been read.
pub fn prompt_picker_ui(
    ctx: &egui::Context,
    picker: &mut Picker,
    entries: &[SavedPrompt],
    loaded: bool,
    locale: &str,
) -> Vec<PickerAction> {
    let mut actions = Vec::new();
    let id = egui::Id::unique("prompt-picker");
    // Hung from the top, like a command palette: rows stay put while the list grows.
    let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 48.0));
    let modal = egui::Modal::new(id).area(area).show(ctx, |ui| {
        let screen = ctx.content_rect();
        ui.set_width(560.0_f32.min(screen.width() - 64.0));
        // Taken before the search field draws: the field keeps the keyboard for typing.
        let (up, down, enter) = ui.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                i.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
            )
        });
        ui.heading(t!("prompts.title", locale = locale));
        let before = (picker.search.clone(), picker.tag.clone());
        search_ui(ui, picker, locale);
        tags_ui(ui, picker, entries, locale);
        if before != (picker.search.clone(), picker.tag.clone()) {
            picker.selected = 0;
        }
        status_ui(ui, picker, locale, &mut actions);
        let shown = sections(entries, &picker.search, picker.tag.as_deref());
        let rows: Vec<&SavedPrompt> = shown.iter().flat_map(|(_, rows)| rows.iter().copied()).collect();
        picker.selected = picker.selected.min(rows.len().saturating_sub(1));
        if down && picker.selected + 1 < rows.len() {
            picker.selected += 1;
            picker.scroll_to_selected = true;
        }
        if up && picker.selected > 0 {
            picker.selected -= 1;
            picker.scroll_to_selected = true;
        }
        if enter && let Some(entry) = rows.get(picker.selected) {
            actions.push(PickerAction::Insert((*entry).clone()));
        }
        ui.separator();
        // One height whatever the rows: the footer stays put while the list loads or
        // narrows as the user types.
        let height = (screen.height() - 320.0).clamp(120.0, 360.0);
        egui::ScrollArea::vertical()
            .min_scrolled_height(height)
            .max_height(height)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if rows.is_empty() {
                    let key = match (loaded, entries.is_empty()) {
                        (false, _) => "prompts.loading",
                        (true, true) => "prompts.empty",
                        (true, false) => "prompts.no_match",
                    };
                    ui.label(RichText::new(t!(key, locale = locale)).weak());
                }
                let mut index = 0;
                for (section, entries) in &shown {
                    let heading = match section {
                        Section::Starred => t!("prompts.starred", locale = locale),
                        Section::Recent => t!("prompts.recent", locale = locale),
                        Section::All => t!("prompts.all", locale = locale),
                        Section::Tagged => t!(
                            "prompts.tagged",
                            locale = locale,
                            tag = picker.tag.as_deref().unwrap_or_default()
                        ),
                    };
                    ui.add_space(4.0);
                    ui.label(RichText::new(heading).small().strong());
                    for entry in entries {
                        let selected = index == picker.selected;
                        let scroll = selected && std::mem::take(&mut picker.scroll_to_selected);
                        if let Some(action) = row_ui(ui, entry, selected, scroll, locale) {
                            actions.push(action);
                        }
                        index += 1;
                    }
                }
            });
        ui.separator();
        footer_ui(ui, locale, &mut actions);
    });
    if modal.should_close() {
        actions.push(PickerAction::Close);
    }
    actions
}

fn search_ui(ui: &mut egui::Ui, picker: &mut Picker, locale: &str) {
    ui.horizontal(|ui| {
        let label = ui.label(t!("prompts.search", locale = locale));
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut picker.search)
                    .desired_width(f32::INFINITY)
                    .hint_text(t!("prompts.search_hint", locale = locale)),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut picker.focus_search) {
            field.request_focus();
        }
    });
}

/// A chip per tag in use; a click shows only that tag's entries (again: every entry).
fn tags_ui(ui: &mut egui::Ui, picker: &mut Picker, entries: &[SavedPrompt], locale: &str) {
    let tags = all_tags(entries);
    if tags.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(t!("prompts.tags", locale = locale)).small().weak());
        if ui
            .selectable_label(picker.tag.is_none(), t!("prompts.every_tag", locale = locale))
            .clicked()
        {
            picker.tag = None;
        }
        for tag in tags {
            let chosen = picker.tag.as_deref() == Some(tag);
            if ui.selectable_label(chosen, format!("#{tag}")).clicked() {
                picker.tag = if chosen { None } else { Some(tag.to_owned()) };
            }
        }
    });
}

/// What the last import, export or delete did, with Undo after a delete.
fn status_ui(ui: &mut egui::Ui, picker: &mut Picker, locale: &str, actions: &mut Vec<PickerAction>) {
    if let Some(status) = &picker.status {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(status.as_str()).small());
            if let Some(deleted) = &picker.deleted
                && ui.small_button(t!("prompts.undo", locale = locale)).clicked()
            {
                actions.push(PickerAction::Restore(deleted.clone()));
            }
        });
    }
    if !picker.rejected.is_empty() {
        // Sized from its lines at once, so nothing below it moves over several frames.
        let height = (picker.rejected.len() as f32 * 18.0).min(72.0);
        egui::ScrollArea::vertical()
            .id_salt("prompt-import-rejected")
            .min_scrolled_height(height)
            .max_height(height)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for line in &picker.rejected {
                    ui.colored_label(ui.visuals().warn_fg_color, RichText::new(line.as_str()).small());
                }
            });
    }
}

/// One entry: star, kind, name (a click inserts), tags, delete; then its text on one line.
fn row_ui(ui: &mut egui::Ui, entry: &SavedPrompt, selected: bool, scroll: bool, locale: &str) -> Option<PickerAction> {
    let mut action = None;
    let fill = if selected {
        ui.visuals().selection.bg_fill.gamma_multiply(0.35)
    } else {
        egui::Color32::TRANSPARENT
    };
    let frame = egui::Frame::new()
        .fill(fill)
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(6, 3))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let (glyph, key) = if entry.starred {
                    ("★", "prompts.unstar")
                } else {
                    ("☆", "prompts.star")
                };
                let star_label = t!(key, locale = locale, name = entry.name.as_str()).into_owned();
                let star = ui.add(egui::Button::new(glyph).frame(false)).on_hover_text(&star_label);
                star.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &star_label));
                if star.clicked() {
                    action = Some(PickerAction::Star {
                        id: entry.id,
                        starred: !entry.starred,
                    });
                }
                ui.label(RichText::new(kind_label(entry.kind, locale)).small().weak());
                let name = ui.add(egui::Button::selectable(
                    selected,
                    RichText::new(entry.name.as_str()).strong(),
                ));
                if name.clicked() {
                    action = Some(PickerAction::Insert(entry.clone()));
                }
                if !entry.tags.is_empty() {
                    let tags: Vec<String> = entry.tags.iter().map(|tag| format!("#{tag}")).collect();
                    ui.label(RichText::new(tags.join(" ")).small().weak());
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let delete_label = t!("prompts.delete", locale = locale, name = entry.name.as_str()).into_owned();
                    let delete = ui.add(egui::Button::new("🗑").frame(false)).on_hover_text(&delete_label);
                    delete.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &delete_label));
                    if delete.clicked() {
                        action = Some(PickerAction::Delete(entry.clone()));
                    }
                });
            });
            let line = ui
                .add(
                    egui::Label::new(RichText::new(preview(entry, locale)).small().weak())
                        .truncate()
                        .sense(Sense::click()),
                )
                .on_hover_text(full_text(entry, locale));
            if line.clicked() {
                action = Some(PickerAction::Insert(entry.clone()));
            }
        });
    if scroll {
        frame.response.scroll_to_me(None);
    }
    action
}

fn footer_ui(ui: &mut egui::Ui, locale: &str, actions: &mut Vec<PickerAction>) {
    ui.horizontal(|ui| {
        if ui
            .button(t!("prompts.import", locale = locale))
            .on_hover_text(t!("prompts.import_hint", locale = locale))
            .clicked()
        {
            actions.push(PickerAction::Import);
        }
        if ui
            .button(t!("prompts.export", locale = locale))
            .on_hover_text(t!("prompts.export_hint", locale = locale))
            .clicked()
        {
            actions.push(PickerAction::Export);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(t!("prompts.close", locale = locale)).clicked() {
                actions.push(PickerAction::Close);
            }
            ui.label(RichText::new(t!("prompts.keys", locale = locale)).small().weak());
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::PromptKind;

    fn entry(name: &str, starred: bool, used_ms: Option<i64>, tags: &[&str]) -> SavedPrompt {
        SavedPrompt {
            kind: PromptKind::Prompt,
            name: name.into(),
            text: format!("{name} text"),
            starred,
            used_ms,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..SavedPrompt::default()
        }
    }

    fn names(sections: &[(Section, Vec<&SavedPrompt>)]) -> Vec<(Section, Vec<String>)> {
        sections
            .iter()
            .map(|(section, rows)| (*section, rows.iter().map(|r| r.name.clone()).collect()))
            .collect()
    }

    #[test]
    fn starred_then_recent_then_the_rest_by_name_each_once() {
        let mut entries = vec![
            entry("zebra", true, None, &[]),
            entry("old", false, Some(1), &["ink"]),
            entry("new", false, Some(5), &[]),
            entry("Beta", false, None, &["ink"]),
            entry("alpha", false, None, &[]),
        ];
        entries.extend((0..RECENT).map(|n| entry(&format!("r{n}"), false, Some(10 + n as i64), &[])));
        let shown = names(&sections(&entries, "", None));
        assert_eq!(shown[0], (Section::Starred, vec!["zebra".to_owned()]));
        assert_eq!(shown[1].0, Section::Recent);
        assert_eq!(shown[1].1.len(), RECENT);
        assert_eq!(shown[1].1[0], format!("r{}", RECENT - 1), "most recent first");
        assert_eq!(
            shown[2],
            (
                Section::All,
                vec!["alpha".into(), "Beta".into(), "new".into(), "old".into()]
            )
        );

        let inked = names(&sections(&entries, "", Some("ink")));
        assert_eq!(inked, [(Section::Tagged, vec!["old".to_owned(), "Beta".to_owned()])]);
        let searched = names(&sections(&entries, "BETA", None));
        assert_eq!(searched, [(Section::All, vec!["Beta".to_owned()])]);
        assert!(sections(&entries, "nothing like it", None).is_empty());
        assert_eq!(all_tags(&entries), ["ink"]);
    }
}
