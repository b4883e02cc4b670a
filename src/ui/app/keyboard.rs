//! The gallery's keyboard: arrows and Home/End move the focus (Shift extends the
//! selection), Enter opens (or unfolds a batch), Ctrl+A selects all, Delete trashes, F
//! stars, 1–5 rate (0 clears), E edits (puts the image in the reference strip), C compares
//! the selection (2 to 4 images), V makes variations, Ctrl+Z undoes.

use super::PictorApp;
use crate::ui::gallery_nav::FocusStep;

impl PictorApp {
    /// Keyboard shortcuts of the grid: arrows, Home/End (Shift extends), Enter opens,
    /// Ctrl+A, Delete, F, C, V, Ctrl+Z.
    pub(super) fn gallery_keys(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let (select_all, delete, favorite, undo, edit, compare, variations) = ui.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::A),
                i.consume_key(egui::Modifiers::NONE, egui::Key::Delete),
                i.consume_key(egui::Modifiers::NONE, egui::Key::F),
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z),
                i.consume_key(egui::Modifiers::NONE, egui::Key::E),
                i.consume_key(egui::Modifiers::NONE, egui::Key::C),
                i.consume_key(egui::Modifiers::NONE, egui::Key::V),
            )
        });
        if compare {
            self.compare_selection();
            return;
        }
        // E: the focused image (or else the selected ones) into the reference strip.
        if edit {
            for record in &self.focused_or_selected() {
                self.edit_image(record);
            }
        }
        // V: variations of the focused image (or else of each selected one).
        if variations {
            for record in &self.focused_or_selected() {
                self.variations(record);
            }
        }
        if select_all {
            self.gallery.select_all();
        }
        if delete && !self.gallery.selected.is_empty() && !self.gallery.query.trash {
            self.trash(self.selection());
        }
        if favorite && !self.gallery.selected.is_empty() {
            let all_starred = self
                .gallery
                .records
                .iter()
                .filter(|r| self.gallery.selected.contains(&r.id))
                .all(|r| r.favorite);
            self.set_favorite(self.selection(), !all_starred);
        }
        if undo {
            self.undo_last_delete();
        }
        // 1–5 rate the selection (0 clears).
        if let Some(stars) = ui.input(crate::ui::viewer::rating_key)
            && !self.gallery.selected.is_empty()
        {
            self.set_rating(self.selection(), stars);
        }
        // In the order pressed, each repeat counted; Ctrl, Alt or Cmd make it another shortcut.
        let (moves, open) = ui.input_mut(|i| {
            let mut moves = Vec::new();
            let mut open = false;
            i.events.retain(|event| {
                let egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } = event
                else {
                    return true;
                };
                if modifiers.ctrl || modifiers.alt || modifiers.command || modifiers.mac_cmd {
                    return true;
                }
                if let Some(step) = FocusStep::of_key(*key) {
                    moves.push((step, modifiers.shift));
                    false
                } else if *key == egui::Key::Enter && !modifiers.shift {
                    open = true;
                    false
                } else {
                    true
                }
            });
            (moves, open)
        });
        for (step, extend) in moves {
            self.gallery.move_focus(step, extend);
        }
        // Enter unfolds a folded batch, or opens the focused image.
        if open && let Some(index) = self.gallery.activate_focused() {
            self.open_viewer(index);
        }
    }

    /// The focused image, or else the selected ones.
    fn focused_or_selected(&self) -> Vec<crate::library::ImageRecord> {
        match self.gallery.focus.and_then(|i| self.gallery.records.get(i)) {
            Some(record) => vec![record.clone()],
            None => self
                .gallery
                .records
                .iter()
                .filter(|r| self.gallery.selected.contains(&r.id))
                .cloned()
                .collect(),
        }
    }
}
