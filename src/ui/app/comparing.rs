//! The Compare view in the window: opened on the gallery's selection (key C, the
//! toolbar, the context menu), its images decoded on the background pool like the
//! viewer's one image, and closed back to the gallery with its textures freed.

use std::sync::Arc;

use rust_i18n::t;

use super::PictorApp;
use super::transfers::decode_full;
use crate::library::ImageRecord;
use crate::ui::background::AppEvent;
use crate::ui::compare::Compare;
use crate::ui::compare_ui::{CompareAction, compare_ui};

impl PictorApp {
    /// Opens the Compare view on the selected images (2 to 4, in the gallery's order)
    /// in place of the viewer; with another count a notice says what to do.
    pub(super) fn compare_selection(&mut self) {
        let records: Vec<ImageRecord> = self
            .gallery
            .records
            .iter()
            .filter(|record| self.gallery.selected.contains(&record.id))
            .cloned()
            .collect();
        let Some(compare) = Compare::new(records.clone()) else {
            let text = t!("compare.select_two_to_four", locale = self.locale()).into_owned();
            self.notify(text);
            return;
        };
        self.viewer = None;
        self.compare = Some(compare);
        for record in records {
            let library = Arc::clone(&self.library);
            self.background.spawn(move || AppEvent::FullImage {
                id: record.id.clone(),
                image: decode_full(&library, &record),
            });
        }
    }

    /// Draws the Compare view in the central area.
    pub(super) fn compare_panel_ui(&mut self, ui: &mut egui::Ui) {
        let locale = self.locale();
        let Some(compare) = &mut self.compare else { return };
        for action in compare_ui(ui, compare, locale) {
            match action {
                // Dropping the view drops its textures: the GPU memory is freed.
                CompareAction::Close => self.compare = None,
            }
        }
    }
}
