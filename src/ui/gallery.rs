//! The gallery: justified rows (each image at its own aspect ratio) over the current
//! query, newest first, virtualised (only visible rows are built), with the images of one
//! run folded into one cell. Cells are drawn by `gallery_cell.rs`, laid out by
//! `justified.rs`, and mapped to records by `gallery_items.rs`.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use egui::RichText;
use rust_i18n::t;

use crate::library::{ImageRecord, Library, Query};
use crate::ui::background::{AppEvent, Background};
use crate::ui::gallery_cell::{CellAction, CellLook, CellView, cell_ui, group_backgrounds_ui};
use crate::ui::gallery_items::{GalleryItem, GalleryItems};
use crate::ui::justified::{Layout, cell_aspect, justify};
use crate::ui::thumbnails::ThumbnailCache;
use crate::ui::viewer::ViewerAction;

/// The gap between cells and between rows, in points.
pub const GAP: f32 = 6.0;

/// Images being dragged out of the gallery (onto a board): the selection when the dragged
/// cell is selected, else that cell's image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraggedImages(pub Vec<String>);

/// Gallery state: the records of the current query, their cells, and the selection.
#[derive(Default)]
pub struct Gallery {
    /// Records of the current query, newest first. Change their order or number only
    /// through [`Gallery::set_records`], [`Gallery::receive`], [`Gallery::prepend`] or
    /// [`Gallery::remove`], so the cells follow.
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
    /// Record index of the last clicked cell (for Shift+click ranges).
    pub anchor: Option<usize>,
    /// Record index the keyboard is on (arrows move it; Enter opens it); on a folded
    /// batch, its first image.
    pub focus: Option<usize>,
    /// Scroll so that the cell of this record is visible in the next frame.
    pub scroll_to: Option<usize>,
    /// Batches shown image by image (the rest are folded into one cell).
    unfolded: HashSet<String>,
    /// The cells of `records`.
    items: GalleryItems,
    /// `items` must be rebuilt before use.
    items_stale: bool,
    /// The justified rows of `items`, and what they were computed for.
    layout: Option<(LayoutKey, Layout)>,
    /// Width and target row height the grid was last drawn at.
    drawn_at: Option<(f32, f32)>,
    /// The grid's scroll offset and visible height as last drawn.
    viewport: (f32, f32),
    /// The first and last cell drawn last frame (for the debug log of scrolling).
    shown_cells: Option<(usize, usize)>,
    /// What a drag out of the grid shows by the pointer: the first image and how many.
    pub(crate) drag: Option<(ImageRecord, usize)>,
    /// Images prepended since the running query started: an answer computed before they
    /// were stored must not make them vanish.
    arrived_during_query: Vec<ImageRecord>,
}

/// What a layout was computed for: the cells' version, width and target height.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LayoutKey {
    items: u64,
    width: f32,
    target: f32,
}

/// What the user did in the gallery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GalleryAction {
    /// Open this image (a record index) in the viewer.
    Open(usize),
    /// The search text or a filter changed.
    QueryChanged,
    /// Something chosen from the context menu (right click) or the hover buttons of the
    /// image with this id. By id, not index: the grid may shift while the menu is open.
    Image(String, ViewerAction),
    /// The same for every image of a folded batch (star, rate, trash).
    Images(Vec<String>, ViewerAction),
    /// "Restore" from the context menu of images in the trash (one, or a folded batch).
    Restore(Vec<String>),
    /// "Compare selected" from the context menu of a selected image.
    CompareSelection,
    /// The hover tick: these images join the selection, or leave it when all are in it.
    ToggleSelected(Vec<String>),
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

    /// Replaces the records (the cells are rebuilt).
    pub fn set_records(&mut self, records: Vec<ImageRecord>) {
        self.records = records;
        self.items_stale = true;
    }

    /// Takes a query answer, unless a newer query was started since; says whether it
    /// was taken.
    pub fn receive(&mut self, generation: u64, records: Vec<ImageRecord>) -> bool {
        let current = generation == self.generation;
        if current {
            // The same images may come back at other places (a refresh after a trash):
            // the keyboard focus and the Shift anchor follow their images.
            let focus_id = self.focus.and_then(|i| self.records.get(i)).map(|r| r.id.clone());
            let anchor_id = self.anchor.and_then(|i| self.records.get(i)).map(|r| r.id.clone());
            self.set_records(records);
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
        current
    }

    /// Puts freshly generated images at the top (when they match the current view).
    pub fn prepend(&mut self, images: &[ImageRecord]) {
        if self.query.trash
            || self.query.favorites_only
            || !self.query.search.trim().is_empty()
            || self.query.model.is_some()
            || self.query.family_of.is_some()
            || self.query.batch.is_some()
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
        if inserted > 0 {
            self.items_stale = true;
        }
        // Indices below the new images moved down.
        self.focus = self.focus.map(|i| i + inserted);
        self.anchor = self.anchor.map(|i| i + inserted);
        if self.loading {
            self.arrived_during_query.extend_from_slice(images);
        }
    }

    /// The cells of the grid, rebuilt first if the records or the unfolded batches changed.
    pub fn items(&mut self) -> &GalleryItems {
        if self.items_stale || self.items.item_of_record.len() != self.records.len() {
            // A view of one batch lists it image by image.
            let group = self.query.batch.is_none();
            self.items.rebuild(&self.records, &self.unfolded, group);
            self.items_stale = false;
        }
        &self.items
    }

    /// The ids of the images cell `item` stands for (all of a folded batch).
    pub fn ids_of_item(&mut self, item: usize) -> Vec<String> {
        let range = self.items().get(item).map(GalleryItem::records).unwrap_or_default();
        self.records[range].iter().map(|r| r.id.clone()).collect()
    }

    /// Handles a click on the cell at grid position `item` with the given modifiers
    /// (click, Ctrl+click, Shift+click). A folded batch's cell selects all its images.
    pub fn click_item(&mut self, item: usize, modifiers: egui::Modifiers) {
        let anchor = self.anchor;
        let items = self.items();
        let Some(clicked) = items.get(item).map(GalleryItem::records) else {
            return;
        };
        if modifiers.shift {
            let anchor_item = anchor.and_then(|a| items.item_of(a)).unwrap_or(item);
            let (low, high) = if anchor_item <= item {
                (anchor_item, item)
            } else {
                (item, anchor_item)
            };
            let records = match (items.get(low), items.get(high)) {
                (Some(low), Some(high)) => low.records().start..high.records().end,
                _ => clicked.clone(),
            };
            if !modifiers.command {
                self.selected.clear();
            }
            for record in &self.records[records] {
                self.selected.insert(record.id.clone());
            }
        } else if modifiers.command {
            let ids: Vec<String> = self.records[clicked.clone()].iter().map(|r| r.id.clone()).collect();
            if ids.iter().all(|id| self.selected.contains(id)) {
                for id in &ids {
                    self.selected.remove(id);
                }
            } else {
                self.selected.extend(ids);
            }
            self.anchor = Some(clicked.start);
        } else {
            self.selected.clear();
            self.selected
                .extend(self.records[clicked.clone()].iter().map(|r| r.id.clone()));
            self.anchor = Some(clicked.start);
        }
        self.focus = Some(clicked.start);
    }

    /// Folds or unfolds the batch of cell `item` (nothing for a single image).
    pub fn toggle_group(&mut self, item: usize) {
        let Some(group) = self.items().get(item).and_then(GalleryItem::group).cloned() else {
            return;
        };
        let Some(batch) = self.records.get(group.start).and_then(|r| r.meta.batch.clone()) else {
            return;
        };
        if !self.unfolded.remove(&batch) {
            self.unfolded.insert(batch);
        }
        self.items_stale = true;
        self.scroll_to = Some(group.start);
    }

    /// Enter on the focused cell: unfolds a folded batch (`None`), or returns the record
    /// to open in the viewer.
    pub fn activate_focused(&mut self) -> Option<usize> {
        let focus = self.focus?;
        let item = self.items().item_of(focus)?;
        if matches!(self.items().get(item), Some(GalleryItem::Group(_))) {
            self.toggle_group(item);
            return None;
        }
        Some(focus)
    }

    /// Forgets the keyboard focus and the Shift anchor (a new search or filter).
    pub fn reset_focus(&mut self) {
        self.focus = None;
        self.anchor = None;
    }

    /// Removes `ids` from the view; the focus stays at its place, now on the next image.
    pub fn remove(&mut self, ids: &[String]) {
        self.records.retain(|r| !ids.contains(&r.id));
        self.items_stale = true;
        self.selected.clear();
        let last = self.records.len().checked_sub(1);
        self.focus = self.focus.and_then(|i| last.map(|last| i.min(last)));
        self.anchor = self.focus;
    }

    /// Selects every image of the current view.
    pub fn select_all(&mut self) {
        self.selected = self.records.iter().map(|r| r.id.clone()).collect();
    }

    /// The justified rows for the current cells at `width` and `target` row height,
    /// computed once per (cells, width, target) and kept.
    pub fn lay_out(&mut self, width: f32, target: f32) -> &Layout {
        self.drawn_at = Some((width, target));
        let key = LayoutKey {
            items: self.items().version,
            width,
            target,
        };
        if self.layout.as_ref().is_none_or(|(cached, _)| *cached != key) {
            let aspects: Vec<f32> = self
                .items
                .items
                .iter()
                .map(|item| {
                    let record = &self.records[item.first()];
                    cell_aspect(record.width, record.height)
                })
                .collect();
            self.layout = Some((key, justify(&aspects, width, target, GAP)));
        }
        &self.layout.get_or_insert_with(|| (key, Layout::default())).1
    }

    /// The rows as last laid out, brought up to date with the cells (`None` before the
    /// grid was first drawn).
    pub fn current_layout(&mut self) -> Option<&Layout> {
        let (width, target) = self.drawn_at?;
        Some(self.lay_out(width, target))
    }
}

/// Logs (at debug level, target `pictor::gallery`) which cells the grid shows after a
/// scroll: `scripts/window-perf.sh` reads it to know the scroll reached the last image.
fn log_shown_cells(shown: Option<(usize, usize)>, (offset, height): (f32, f32), layout: &Layout) {
    let Some((first, last)) = shown else { return };
    let cells = layout.rows.last().map_or(0, |row| row.items.end);
    tracing::debug!(
        target: "pictor::gallery",
        "the gallery shows cells {first}-{last} of {cells}, {offset:.0} px down {:.0} px, {height:.0} px high",
        layout.height
    );
}

/// Draws the grid (or the empty state); returns what the user did. `target_height` is
/// the rows' target height (the thumbnail size setting).
pub fn gallery_ui(
    ui: &mut egui::Ui,
    gallery: &mut Gallery,
    thumbnails: &mut ThumbnailCache,
    library: &Arc<Library>,
    background: &Background,
    target_height: f32,
    locale: &str,
) -> Vec<GalleryAction> {
    let mut actions = Vec::new();
    if let Some(error) = library.open_error() {
        crate::ui::gallery_empty::library_unavailable_ui(ui, error, &library.paths().data_dir, locale);
        return actions;
    }
    if gallery.records.is_empty() && (gallery.loading || library.is_opening()) {
        crate::ui::gallery_empty::loading_placeholders_ui(ui, target_height, locale);
        return actions;
    }
    if gallery.records.is_empty() && !gallery.loading {
        if gallery.query == Query::default() {
            crate::ui::gallery_empty::empty_library_ui(ui, locale);
        } else {
            ui.add_space(40.0);
            ui.vertical_centered(|ui| {
                let text = t!("gallery.no_match", locale = locale);
                ui.label(RichText::new(text).weak().size(16.0));
            });
        }
        return actions;
    }
    // Rows end before the scroll bar: a floating one is drawn over the content's edge.
    let scroll = ui.spacing().scroll;
    let gutter = if scroll.floating {
        scroll.bar_width + scroll.bar_outer_margin
    } else {
        scroll.allocated_width()
    };
    let width = (ui.available_width() - gutter - scroll.content_margin.sum().x).max(1.0);
    gallery.lay_out(width, target_height);
    // Taken out while the grid is drawn (cells borrow the gallery), put back after.
    let Some((key, layout)) = gallery.layout.take() else {
        return actions;
    };
    let mut scroll_area = egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .id_salt("gallery-grid");
    if let Some(record) = gallery.scroll_to.take()
        && let Some(cell) = gallery.items().item_of(record).and_then(|item| layout.cell(item))
    {
        let (offset, height) = gallery.viewport;
        let (top, bottom) = (cell[1], cell[1] + cell[3]);
        if top < offset {
            scroll_area = scroll_area.vertical_scroll_offset(top);
        } else if bottom > offset + height {
            scroll_area = scroll_area.vertical_scroll_offset(bottom - height);
        }
    }
    let mut events = Vec::new();
    let mut shown = None;
    let output = scroll_area.show_viewport(ui, |ui, viewport| {
        ui.set_height(layout.height);
        let origin = ui.max_rect().min;
        let visible = layout.visible_rows(viewport.min.y, viewport.max.y);
        shown = layout.rows[visible.clone()]
            .first()
            .zip(layout.rows[visible.clone()].last())
            .map(|(first, last)| (first.items.start, last.items.end.saturating_sub(1)));
        let gallery = &*gallery;
        for row in &layout.rows[visible] {
            let cells: Vec<(usize, egui::Rect)> = row
                .items
                .clone()
                .zip(row.lefts(GAP))
                .zip(&row.widths)
                .map(|((item, left), width)| {
                    let min = origin + egui::vec2(left, row.top);
                    (item, egui::Rect::from_min_size(min, egui::vec2(*width, row.height)))
                })
                .collect();
            group_backgrounds_ui(ui, &gallery.items, &cells);
            for (item, rect) in cells {
                let Some(view) = cell_view(gallery, item) else {
                    continue;
                };
                let output = cell_ui(ui, rect, &view, thumbnails, library, background, locale);
                events.push((item, output));
            }
        }
    });
    gallery.viewport = (output.state.clamped_offset().y, output.inner_rect.height());
    if shown != gallery.shown_cells {
        gallery.shown_cells = shown;
        log_shown_cells(shown, gallery.viewport, &layout);
    }
    gallery.layout = Some((key, layout));
    for (item, output) in events {
        let records = gallery.items().get(item).map(GalleryItem::records).unwrap_or_default();
        let folded = records.len() > 1;
        let response = output.response;
        if response.drag_started() {
            let mut ids = gallery.ids_of_item(item);
            if ids.iter().all(|id| gallery.selected.contains(id)) {
                // The dragged cell is part of the selection: the whole selection goes.
                ids = gallery
                    .records
                    .iter()
                    .filter(|r| gallery.selected.contains(&r.id))
                    .map(|r| r.id.clone())
                    .collect();
            }
            if let Some(first) = gallery.records.iter().find(|r| ids.first() == Some(&r.id)) {
                gallery.drag = Some((first.clone(), ids.len()));
            }
            response.dnd_set_drag_payload(DraggedImages(ids));
        }
        match output.action {
            Some(CellAction::ToggleGroup) => gallery.toggle_group(item),
            Some(CellAction::Gallery(action)) => actions.push(action),
            None => {}
        }
        if response.double_clicked() {
            if folded {
                gallery.toggle_group(item);
            } else {
                actions.push(GalleryAction::Open(records.start));
            }
        } else if response.clicked() {
            let modifiers = ui.input(|i| i.modifiers);
            gallery.click_item(item, modifiers);
            // A folded batch is selected, not opened: Enter or its badge unfolds it.
            if !modifiers.any() && !folded {
                actions.push(GalleryAction::Open(records.start));
            }
        }
    }
    crate::ui::gallery_drag::drag_preview_ui(ui.ctx(), gallery, thumbnails, library, background);
    actions
}

/// What cell `item` shows and how.
fn cell_view(gallery: &Gallery, item: usize) -> Option<CellView<'_>> {
    let cell = gallery.items.get(item)?;
    let records = &gallery.records[cell.records()];
    let record = records.first()?;
    let focused = gallery.focus.is_some_and(|f| cell.records().contains(&f));
    let selected = records.iter().all(|r| gallery.selected.contains(&r.id));
    let unfolded_first = matches!(cell, GalleryItem::Member { index, group } if *index == group.start);
    Some(CellView {
        record,
        records,
        unfolded_first,
        look: CellLook { selected, focused },
        in_trash: gallery.query.trash,
        comparable: selected && crate::ui::compare::can_compare(gallery.selected.len()),
    })
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
        gallery.click_item(1, egui::Modifiers::NONE);
        gallery.prepend(&[record("d"), record("e")]);
        assert_eq!(gallery.records[gallery.focus.unwrap()].id, "b", "new images above it");
        assert_eq!(gallery.records[gallery.anchor.unwrap()].id, "b");
        gallery.receive(1, ["b", "a"].map(record).to_vec());
        assert_eq!(gallery.focus, Some(0), "a refresh finds it again");
        gallery.receive(1, ["a"].map(record).to_vec());
        assert_eq!(gallery.focus, None, "gone from the view");
        gallery.set_records(["c", "b", "a"].map(record).to_vec());
        gallery.click_item(2, egui::Modifiers::NONE);
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
        gallery.click_item(1, egui::Modifiers::NONE);
        gallery.click_item(4, egui::Modifiers::SHIFT);
        assert_eq!(gallery.selected.len(), 4);
        gallery.click_item(2, egui::Modifiers::COMMAND);
        assert!(!gallery.selected.contains("2"));
        gallery.select_all();
        assert_eq!(gallery.selected.len(), 6);
    }

    fn batch_record(id: &str, batch: Option<&str>) -> ImageRecord {
        let meta = crate::metadata::ImageMeta {
            batch: batch.map(str::to_owned),
            ..Default::default()
        };
        ImageRecord::for_tests(id, meta)
    }

    /// "a", then "b1".."b4" of one run, then "c".
    fn with_a_batch() -> Gallery {
        let mut gallery = Gallery::default();
        let mut records = vec![batch_record("a", None)];
        records.extend((1..=4).map(|i| batch_record(&format!("b{i}"), Some("run"))));
        records.push(batch_record("c", None));
        gallery.set_records(records);
        gallery
    }

    #[test]
    fn a_folded_batch_is_one_cell_that_selects_all_its_images() {
        let mut gallery = with_a_batch();
        assert_eq!(gallery.items().len(), 3);
        gallery.click_item(1, egui::Modifiers::NONE);
        assert_eq!(gallery.selected.len(), 4);
        assert_eq!(gallery.focus, Some(1), "the focus is on the batch's first image");
        gallery.click_item(1, egui::Modifiers::COMMAND);
        assert!(
            gallery.selected.is_empty(),
            "Ctrl+click takes the whole batch out again"
        );
        gallery.click_item(0, egui::Modifiers::NONE);
        gallery.click_item(2, egui::Modifiers::SHIFT);
        assert_eq!(gallery.selected.len(), 6, "a range over a batch takes all of it");
    }

    #[test]
    fn enter_unfolds_a_batch_and_opens_an_image() {
        let mut gallery = with_a_batch();
        gallery.click_item(1, egui::Modifiers::NONE);
        assert_eq!(gallery.activate_focused(), None, "Enter on a folded batch unfolds it");
        assert_eq!(gallery.items().len(), 6);
        assert_eq!(gallery.activate_focused(), Some(1), "now it opens the image");
        gallery.click_item(3, egui::Modifiers::NONE);
        gallery.toggle_group(3);
        assert_eq!(gallery.items().len(), 3, "folded again from any of its images");
        let focus = gallery.focus.unwrap();
        assert_eq!(gallery.items().item_of(focus), Some(1));
        gallery.query.batch = Some("run".into());
        gallery.set_records(gallery.records.clone());
        assert_eq!(gallery.items().len(), 6, "a view of one batch is not folded");
    }
}
