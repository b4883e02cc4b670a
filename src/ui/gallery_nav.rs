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
    /// focused cell alone is selected; with it (Shift) the range from the anchor is.
    /// The first move from nowhere lands on the first cell. Up and Down go to the cell
    /// of the row above or below nearest horizontally (rows are justified, so their
    /// cells do not line up in columns).
    pub fn move_focus(&mut self, step: FocusStep, extend: bool) {
        let Some(last) = self.items().len().checked_sub(1) else {
            return;
        };
        let last_record = self.records.len().saturating_sub(1);
        let at = self
            .focus
            .and_then(|focus| self.items().item_of(focus.min(last_record)));
        let target = match (at, step) {
            (None, _) | (Some(_), FocusStep::Home) => 0,
            (Some(_), FocusStep::End) => last,
            (Some(at), FocusStep::Left) => at.saturating_sub(1),
            (Some(at), FocusStep::Right) => (at + 1).min(last),
            (Some(at), FocusStep::Up) => self.vertical_neighbour(at, -1).unwrap_or(at),
            (Some(at), FocusStep::Down) => self.vertical_neighbour(at, 1).unwrap_or(at),
        };
        let modifiers = if extend {
            egui::Modifiers::SHIFT
        } else {
            egui::Modifiers::NONE
        };
        let anchor = self.anchor;
        self.click_item(target, modifiers);
        if extend {
            // A Shift move keeps the range's anchor where it was.
            self.anchor = anchor.or(self.focus);
        }
        self.scroll_to = self.focus;
    }

    /// The cell of the row `direction` (-1 up, 1 down) from cell `item` whose centre is
    /// nearest to `item`'s centre horizontally; `None` at the top or bottom row, or before
    /// the grid was laid out.
    fn vertical_neighbour(&mut self, item: usize, direction: isize) -> Option<usize> {
        let layout = self.current_layout()?;
        let row = layout.row_of(item)?;
        let (left, width) = layout.rows[row].span_of(item, layout.spacing)?;
        let centre = left + width / 2.0;
        let next = layout.rows.get(row.checked_add_signed(direction)?)?;
        next.items
            .clone()
            .zip(next.lefts(layout.spacing).zip(&next.widths))
            .map(|(index, (left, width))| (index, (left + width / 2.0 - centre).abs()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(index, _)| index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::ImageRecord;

    /// `count` square images laid out `columns` to a row (100 px cells, 6 px gaps).
    fn gallery(count: usize, columns: usize) -> Gallery {
        let mut gallery = Gallery::default();
        gallery.set_records(
            (0..count)
                .map(|i| ImageRecord::for_tests(&format!("{i:02}"), crate::metadata::ImageMeta::default()))
                .collect(),
        );
        gallery.lay_out(columns as f32 * 106.0 - 6.0, 100.0);
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
        gallery.click_item(5, egui::Modifiers::NONE);
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
