//! The gallery: a virtualised grid (only visible rows are built) over the current query,
//! newest first, with thumbnails from the LRU texture cache.

use std::collections::BTreeSet;
use std::sync::Arc;

use egui::{Color32, RichText, Sense};
use rust_i18n::t;

use crate::library::{ImageRecord, Library, Query};
use crate::ui::background::{AppEvent, Background};
use crate::ui::thumbnails::ThumbnailCache;
use crate::ui::viewer::{IMAGE_ACTIONS, ViewerAction};

/// Gallery state: the records of the current query and the selection.
#[derive(Default)]
pub struct Gallery {
    /// Records of the current query, newest first.
    pub records: Vec<ImageRecord>,
    /// The current query.
    pub query: Query,
    /// The search box text (the query follows it).
    pub search_text: String,
    /// Bumped for every query; answers to older queries are dropped.
    pub generation: u64,
    /// A query is running.
    pub loading: bool,
    /// Selected image ids.
    pub selected: BTreeSet<String>,
    /// Index of the last clicked cell (for Shift+click ranges).
    pub anchor: Option<usize>,
    /// The cell the keyboard is on (arrows move it; Enter opens it).
    pub focus: Option<usize>,
    /// Columns of the grid as last drawn (Up and Down move by a row).
    pub columns: usize,
    /// Scroll so that this cell is visible in the next frame.
    pub scroll_to: Option<usize>,
    /// The grid's scroll offset and visible height as last drawn.
    viewport: (f32, f32),
    /// Images prepended since the running query started: an answer computed before they
    /// were stored must not make them vanish.
    arrived_during_query: Vec<ImageRecord>,
}

/// What the user did in the gallery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GalleryAction {
    /// Open this image in the viewer.
    Open(usize),
    /// The search text or a filter changed.
    QueryChanged,
    /// Something chosen from the context menu (right click) of the image with this id.
    /// By id, not index: the grid may shift while the menu is open.
    Image(String, ViewerAction),
    /// "Restore" from the context menu of the image in the trash with this id.
    Restore(String),
    /// "Compare selected" from the context menu of a selected image.
    CompareSelection,
}

impl Gallery {
    /// Starts loading the records for the current query in the background.
    pub fn refresh(&mut self, library: &Arc<Library>, background: &Background) {
        self.generation += 1;
        self.loading = true;
        self.arrived_during_query.clear();
        let generation = self.generation;
        let library = Arc::clone(library);
        let query = self.query.clone();
        background.spawn(move || AppEvent::Gallery {
            generation,
            records: library.query(&query),
        });
    }

    /// Takes a query answer, unless a newer query was started since.
    pub fn receive(&mut self, generation: u64, records: Vec<ImageRecord>) {
        if generation == self.generation {
            // The same images may come back at other places (a refresh after a trash):
            // the keyboard focus and the Shift anchor follow their images.
            let focus_id = self.focus.and_then(|i| self.records.get(i)).map(|r| r.id.clone());
            let anchor_id = self.anchor.and_then(|i| self.records.get(i)).map(|r| r.id.clone());
            self.records = records;
            let position =
                |id: Option<String>, records: &[ImageRecord]| id.and_then(|id| records.iter().position(|r| r.id == id));
            self.focus = position(focus_id, &self.records);
            self.anchor = position(anchor_id, &self.records);
            self.loading = false;
            let arrived = std::mem::take(&mut self.arrived_during_query);
            self.prepend(&arrived);
            let live: BTreeSet<&str> = self.records.iter().map(|r| r.id.as_str()).collect();
            self.selected.retain(|id| live.contains(id.as_str()));
        }
    }

    /// Puts freshly generated images at the top (when they match the current view).
    pub fn prepend(&mut self, images: &[ImageRecord]) {
        if self.query.trash
            || self.query.favorites_only
            || !self.query.search.trim().is_empty()
            || self.query.model.is_some()
            || self.query.family_of.is_some()
        {
            return;
        }
        let mut inserted = 0;
        for image in images.iter().rev() {
            if !self.records.iter().any(|r| r.id == image.id) {
                self.records.insert(0, image.clone());
                inserted += 1;
            }
        }
        // Indices below the new images moved down.
        self.focus = self.focus.map(|i| i + inserted);
        self.anchor = self.anchor.map(|i| i + inserted);
        if self.loading {
            self.arrived_during_query.extend_from_slice(images);
        }
    }

    /// Handles a click on cell `index` with the given modifiers (click, Ctrl+click, Shift+click).
    pub fn click(&mut self, index: usize, modifiers: egui::Modifiers) {
        let Some(id) = self.records.get(index).map(|r| r.id.clone()) else {
            return;
        };
        if modifiers.shift {
            let anchor = self.anchor.unwrap_or(index);
            let (low, high) = if anchor <= index {
                (anchor, index)
            } else {
                (index, anchor)
            };
            if !modifiers.command {
                self.selected.clear();
            }
            for record in self.records.iter().skip(low).take(high - low + 1) {
                self.selected.insert(record.id.clone());
            }
        } else if modifiers.command {
            if !self.selected.remove(&id) {
                self.selected.insert(id);
            }
            self.anchor = Some(index);
        } else {
            self.selected.clear();
            self.selected.insert(id);
            self.anchor = Some(index);
        }
        self.focus = Some(index);
    }

    /// Forgets the keyboard focus and the Shift anchor (a new search or filter).
    pub fn reset_focus(&mut self) {
        self.focus = None;
        self.anchor = None;
    }

    /// Removes `ids` from the view; the focus stays at its place, now on the next image.
    pub fn remove(&mut self, ids: &[String]) {
        self.records.retain(|r| !ids.contains(&r.id));
        self.selected.clear();
        let last = self.records.len().checked_sub(1);
        self.focus = self.focus.and_then(|i| last.map(|last| i.min(last)));
        self.anchor = self.focus;
    }

    /// Selects every image of the current view.
    pub fn select_all(&mut self) {
        self.selected = self.records.iter().map(|r| r.id.clone()).collect();
    }
}

/// Images being dragged out of the gallery (onto a board): the selection when the dragged
/// cell is selected, else that cell's image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraggedImages(pub Vec<String>);

/// Draws the search bar and the grid; returns what the user did.
pub fn gallery_ui(
    ui: &mut egui::Ui,
    gallery: &mut Gallery,
    thumbnails: &mut ThumbnailCache,
    library: &Arc<Library>,
    background: &Background,
    cell_size: f32,
    locale: &str,
) -> Vec<GalleryAction> {
    let mut actions = Vec::new();
    if gallery.records.is_empty() && !gallery.loading {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            let text = if gallery.query == Query::default() {
                t!("gallery.empty", locale = locale)
            } else {
                t!("gallery.no_match", locale = locale)
            };
            ui.label(RichText::new(text).weak().size(16.0));
        });
        return actions;
    }
    let spacing = 6.0;
    let width = ui.available_width().max(cell_size);
    let columns = ((width + spacing) / (cell_size + spacing)).floor().max(1.0) as usize;
    let rows = gallery.records.len().div_ceil(columns);
    let row_height = cell_size + spacing;
    gallery.columns = columns;
    let mut scroll_area = egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .id_salt("gallery-grid");
    if let Some(index) = gallery.scroll_to.take() {
        // show_rows puts the item spacing between rows.
        let pitch = row_height + ui.spacing().item_spacing.y;
        let (offset, height) = gallery.viewport;
        let top = (index / columns) as f32 * pitch;
        if top < offset {
            scroll_area = scroll_area.vertical_scroll_offset(top);
        } else if top + pitch > offset + height {
            scroll_area = scroll_area.vertical_scroll_offset(top + pitch - height);
        }
    }
    let focus = gallery.focus;
    let output = scroll_area.show_rows(ui, row_height, rows, |ui, visible_rows| {
        for row in visible_rows {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = spacing;
                for column in 0..columns {
                    let index = row * columns + column;
                    let Some(record) = gallery.records.get(index) else {
                        break;
                    };
                    let look = CellLook {
                        selected: gallery.selected.contains(&record.id),
                        focused: focus == Some(index),
                    };
                    let comparable = look.selected && crate::ui::compare::can_compare(gallery.selected.len());
                    // The cell's id follows the image, so an open context menu stays
                    // with it when newer images push the grid down.
                    let response = ui
                        .push_id(&record.id, |ui| {
                            let response = cell_ui(ui, record, look, cell_size, thumbnails, library, background);
                            response.context_menu(|ui| {
                                if let Some(action) = cell_menu_ui(ui, record, gallery.query.trash, comparable, locale)
                                {
                                    actions.push(action);
                                    ui.close();
                                }
                            });
                            if response.context_menu_opened() {
                                let stroke = egui::Stroke::new(2.0, ui.visuals().widgets.active.fg_stroke.color);
                                ui.painter()
                                    .rect_stroke(response.rect, 4.0, stroke, egui::StrokeKind::Inside);
                            }
                            response
                        })
                        .inner;
                    if response.double_clicked() {
                        actions.push(GalleryAction::Open(index));
                    } else if response.clicked() {
                        let modifiers = ui.input(|i| i.modifiers);
                        gallery.click(index, modifiers);
                        if !modifiers.any() {
                            actions.push(GalleryAction::Open(index));
                        }
                    }
                }
            });
            ui.add_space(spacing);
        }
    });
    gallery.viewport = (output.state.clamped_offset().y, output.inner_rect.height());
    actions
}

/// How a cell is drawn besides its image.
#[derive(Clone, Copy)]
struct CellLook {
    /// Part of the selection.
    selected: bool,
    /// Where the keyboard is.
    focused: bool,
}

/// The context menu of one image: open, compare the selection it belongs to (enabled for
/// 2 to 4 images), star, the viewer's actions; restore in the trash.
fn cell_menu_ui(
    ui: &mut egui::Ui,
    record: &ImageRecord,
    in_trash: bool,
    comparable: bool,
    locale: &str,
) -> Option<GalleryAction> {
    let id = &record.id;
    if ui.button(t!("gallery.open", locale = locale)).clicked() {
        return Some(GalleryAction::Image(id.clone(), ViewerAction::Open));
    }
    if ui
        .add_enabled(
            comparable,
            egui::Button::new(t!("gallery.compare_selected", locale = locale)),
        )
        .on_disabled_hover_text(t!("compare.select_two_to_four", locale = locale))
        .clicked()
    {
        return Some(GalleryAction::CompareSelection);
    }
    if in_trash {
        let restore = ui.button(t!("gallery.restore", locale = locale)).clicked();
        return restore.then(|| GalleryAction::Restore(id.clone()));
    }
    let star = if record.favorite {
        "gallery.unstar"
    } else {
        "gallery.star"
    };
    if ui.button(t!(star, locale = locale)).clicked() {
        return Some(GalleryAction::Image(id.clone(), ViewerAction::ToggleFavorite));
    }
    ui.separator();
    let mut chosen = None;
    for (action, key) in IMAGE_ACTIONS {
        if action == ViewerAction::Delete {
            ui.separator();
        }
        if ui.button(t!(key, locale = locale)).clicked() {
            chosen = Some(GalleryAction::Image(id.clone(), action));
        }
    }
    chosen
}

fn cell_ui(
    ui: &mut egui::Ui,
    record: &ImageRecord,
    look: CellLook,
    cell_size: f32,
    thumbnails: &mut ThumbnailCache,
    library: &Arc<Library>,
    background: &Background,
) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(cell_size, cell_size), Sense::click());
    let label: String = record.meta.prompt.chars().take(80).collect();
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, look.selected, &label));
    let response = response.on_hover_text(&record.meta.prompt);
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let painter = ui.painter_at(rect);
    let background_color = ui.visuals().faint_bg_color;
    painter.rect_filled(rect, 4.0, background_color);
    let texture = if record.missing {
        None
    } else {
        thumbnails.get(
            &record.id,
            crate::ui::thumbnails::ThumbnailSource::of(library, record),
            background,
        )
    };
    match texture {
        Some(texture) => {
            let size = texture.size_vec2();
            let scale = (cell_size / size.x.max(1.0)).min(cell_size / size.y.max(1.0));
            let image_rect = egui::Rect::from_center_size(rect.center(), size * scale);
            painter.image(
                texture.id(),
                image_rect,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        None => {
            let mark = if record.missing || thumbnails.failed(&record.id) {
                "⚠"
            } else {
                "🖼"
            };
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                mark,
                egui::FontId::proportional(24.0),
                ui.visuals().weak_text_color(),
            );
        }
    }
    if !record.meta.parents.is_empty() {
        // Made from other images: a small badge in the top-left corner.
        let centre = rect.left_top() + egui::vec2(12.0, 12.0);
        painter.circle_filled(centre, 7.0, ui.visuals().selection.bg_fill);
        painter.circle_stroke(centre, 7.0, egui::Stroke::new(1.0, Color32::WHITE));
        painter.text(
            centre,
            egui::Align2::CENTER_CENTER,
            record.meta.parents.len().to_string(),
            egui::FontId::proportional(10.0),
            Color32::WHITE,
        );
    }
    if record.rating > 0 {
        // The stars given, bottom left, over a dark strip so they read on any image.
        let stars = "★".repeat(usize::from(record.rating));
        let at = rect.left_bottom() + egui::vec2(6.0, -6.0);
        let galley = painter.layout_no_wrap(
            stars,
            egui::FontId::proportional(12.0),
            Color32::from_rgb(0xF5, 0xC5, 0x18),
        );
        let back = egui::Rect::from_min_size(
            at - egui::vec2(2.0, galley.size().y + 2.0),
            galley.size() + egui::vec2(4.0, 4.0),
        );
        painter.rect_filled(back, 3.0, Color32::from_black_alpha(150));
        painter.galley(at - egui::vec2(0.0, galley.size().y), galley, Color32::WHITE);
    }
    if record.favorite {
        painter.text(
            rect.right_top() + egui::vec2(-6.0, 4.0),
            egui::Align2::RIGHT_TOP,
            "★",
            egui::FontId::proportional(18.0),
            Color32::from_rgb(0xF5, 0xC5, 0x18),
        );
    }
    if look.focused {
        painter.rect_stroke(
            rect.shrink(5.0),
            2.0,
            egui::Stroke::new(1.0, ui.visuals().strong_text_color()),
            egui::StrokeKind::Inside,
        );
    }
    if look.selected {
        painter.rect_stroke(
            rect,
            4.0,
            egui::Stroke::new(3.0, ui.visuals().selection.stroke.color),
            egui::StrokeKind::Inside,
        );
    } else if response.hovered() {
        painter.rect_stroke(
            rect,
            4.0,
            egui::Stroke::new(1.0, ui.visuals().widgets.hovered.fg_stroke.color),
            egui::StrokeKind::Inside,
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> ImageRecord {
        ImageRecord::for_tests(id, crate::metadata::ImageMeta::default())
    }

    #[test]
    fn an_image_that_arrives_during_a_query_survives_its_older_answer() {
        let mut gallery = Gallery {
            generation: 3,
            loading: true,
            ..Gallery::default()
        };
        gallery.prepend(&[record("new")]);
        // The query started before "new" was stored, so its answer lacks it.
        gallery.receive(3, vec![record("old")]);
        let ids: Vec<&str> = gallery.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["new", "old"]);
        // A stale answer is ignored altogether.
        gallery.receive(2, Vec::new());
        assert_eq!(gallery.records.len(), 2);
    }

    #[test]
    fn the_keyboard_focus_follows_its_image_through_arrivals_refreshes_and_deletes() {
        let mut gallery = Gallery {
            records: ["c", "b", "a"].map(record).to_vec(),
            generation: 1,
            ..Gallery::default()
        };
        gallery.click(1, egui::Modifiers::NONE);
        gallery.prepend(&[record("d"), record("e")]);
        assert_eq!(gallery.records[gallery.focus.unwrap()].id, "b", "new images above it");
        assert_eq!(gallery.records[gallery.anchor.unwrap()].id, "b");
        gallery.receive(1, ["b", "a"].map(record).to_vec());
        assert_eq!(gallery.focus, Some(0), "a refresh finds it again");
        gallery.receive(1, ["a"].map(record).to_vec());
        assert_eq!(gallery.focus, None, "gone from the view");
        gallery.records = ["c", "b", "a"].map(record).to_vec();
        gallery.click(2, egui::Modifiers::NONE);
        gallery.remove(&["a".to_owned()]);
        assert_eq!(gallery.focus, Some(1), "deleting the last moves the focus up");
        gallery.remove(&["c".to_owned(), "b".to_owned()]);
        assert_eq!(gallery.focus, None);
    }

    #[test]
    fn shift_click_selects_a_range_and_ctrl_click_toggles() {
        let mut gallery = Gallery {
            records: (0..6).map(|i| record(&i.to_string())).collect(),
            ..Gallery::default()
        };
        gallery.click(1, egui::Modifiers::NONE);
        gallery.click(4, egui::Modifiers::SHIFT);
        assert_eq!(gallery.selected.len(), 4);
        gallery.click(2, egui::Modifiers::COMMAND);
        assert!(!gallery.selected.contains("2"));
        gallery.select_all();
        assert_eq!(gallery.selected.len(), 6);
    }
}
