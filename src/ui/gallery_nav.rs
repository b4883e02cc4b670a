//! Moving through the gallery with the keyboard: arrows, Home/End, Shift to extend the
//! selection, as in a file manager.

use crate::ui::gallery::Gallery;

/// A keyboard move in the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FocusStep {
    /// One cell back.
    Left,
    /// One cell on.
    Right,
    /// One row up.
    Up,
    /// One row down.
    Down,
    /// The first image.
    Home,
    /// The last image.
    End,
}

impl FocusStep {
    /// The step an arrow, Home or End key makes; `None` for other keys.
    pub fn of_key(key: egui::Key) -> Option<Self> {
        match key {
            egui::Key::ArrowLeft => Some(Self::Left),
            egui::Key::ArrowRight => Some(Self::Right),
            egui::Key::ArrowUp => Some(Self::Up),
            egui::Key::ArrowDown => Some(Self::Down),
            egui::Key::Home => Some(Self::Home),
            egui::Key::End => Some(Self::End),
            _ => None,
        }
    }
}

impl Gallery {
    /// Moves the keyboard focus by `step` and scrolls to it. Without `extend` the
    /// focused image alone is selected; with it (Shift) the range from the anchor is.
    /// The first move from nowhere lands on the first image.
    pub fn move_focus(&mut self, step: FocusStep, extend: bool) {
        let Some(last) = self.records.len().checked_sub(1) else {
            return;
        };
        let columns = self.columns.max(1);
        let target = match (self.focus.map(|f| f.min(last)), step) {
            (None, _) | (Some(_), FocusStep::Home) => 0,
            (Some(_), FocusStep::End) => last,
            (Some(at), FocusStep::Left) => at.saturating_sub(1),
            (Some(at), FocusStep::Right) => (at + 1).min(last),
            (Some(at), FocusStep::Up) => at.checked_sub(columns).unwrap_or(at),
            (Some(at), FocusStep::Down) => (at + columns).min(last),
        };
        let modifiers = if extend {
            egui::Modifiers::SHIFT
        } else {
            egui::Modifiers::NONE
        };
        let anchor = self.anchor;
        self.click(target, modifiers);
        if extend {
            // A Shift move keeps the range's anchor where it was.
            self.anchor = anchor.or(Some(target));
        }
        self.scroll_to = Some(target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::ImageRecord;

    fn gallery(count: usize, columns: usize) -> Gallery {
        let mut gallery = Gallery::default();
        gallery.columns = columns;
        gallery.records = (0..count)
            .map(|i| ImageRecord::for_tests(&format!("{i:02}"), crate::metadata::ImageMeta::default()))
            .collect();
        gallery
    }

    fn selected(gallery: &Gallery) -> Vec<&str> {
        gallery.selected.iter().map(String::as_str).collect()
    }

    #[test]
    fn arrows_move_by_cell_and_by_row_and_stop_at_the_ends() {
        let mut gallery = gallery(10, 4);
        gallery.move_focus(FocusStep::Down, false);
        assert_eq!(gallery.focus, Some(0), "the first move lands on the first image");
        gallery.move_focus(FocusStep::Right, false);
        gallery.move_focus(FocusStep::Down, false);
        assert_eq!(gallery.focus, Some(5));
        assert_eq!(selected(&gallery), ["05"]);
        gallery.move_focus(FocusStep::Down, false);
        assert_eq!(gallery.focus, Some(9), "the last row is short: the last image");
        gallery.move_focus(FocusStep::Right, false);
        assert_eq!(gallery.focus, Some(9));
        gallery.move_focus(FocusStep::Up, false);
        gallery.move_focus(FocusStep::Up, false);
        assert_eq!(gallery.focus, Some(1));
        gallery.move_focus(FocusStep::Up, false);
        assert_eq!(gallery.focus, Some(1), "no row above");
        gallery.move_focus(FocusStep::End, false);
        assert_eq!((gallery.focus, gallery.scroll_to), (Some(9), Some(9)));
        gallery.move_focus(FocusStep::Home, false);
        gallery.move_focus(FocusStep::Left, false);
        assert_eq!(gallery.focus, Some(0));
    }

    #[test]
    fn shift_extends_from_the_anchor_both_ways() {
        let mut gallery = gallery(10, 4);
        gallery.click(5, egui::Modifiers::NONE);
        gallery.move_focus(FocusStep::Right, true);
        gallery.move_focus(FocusStep::Right, true);
        assert_eq!(selected(&gallery), ["05", "06", "07"]);
        gallery.move_focus(FocusStep::Up, true);
        assert_eq!(selected(&gallery), ["03", "04", "05"]);
        gallery.move_focus(FocusStep::Left, false);
        assert_eq!(selected(&gallery), ["02"]);
    }

    #[test]
    fn an_empty_gallery_ignores_the_keys() {
        let mut gallery = gallery(0, 4);
        gallery.move_focus(FocusStep::End, false);
        assert_eq!((gallery.focus, gallery.scroll_to), (None, None));
    }
}
