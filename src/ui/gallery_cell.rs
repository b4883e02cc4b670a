//! One cell of the gallery: the thumbnail uncropped at the cell's aspect, the marks (made
//! from, stars, favourite), a folded batch's stack and count badge, an unfolded batch's
//! shared background and "Collapse", the hover bar (favourite, open) and the right-click
//! menu.

use std::sync::Arc;

use egui::{Color32, CornerRadius, Rect, Sense, Stroke, StrokeKind, vec2};
use rust_i18n::t;

use crate::library::{ImageRecord, Library};
use crate::ui::background::Background;
use crate::ui::gallery::{GAP, GalleryAction};
use crate::ui::gallery_items::{GalleryItem, GalleryItems};
use crate::ui::thumbnails::{ThumbnailCache, ThumbnailSource};
use crate::ui::viewer::{IMAGE_ACTIONS, ViewerAction};

/// Corner radius of cells and thumbnails.
const RADIUS: f32 = 6.0;
/// The favourite star and rating colour.
const GOLD: Color32 = Color32::from_rgb(0xF5, 0xC5, 0x18);
/// Side of the hover bar's round buttons.
const BUTTON: f32 = 24.0;

/// How a cell is drawn besides its image.
#[derive(Clone, Copy, Debug)]
pub struct CellLook {
    /// Part of the selection (all its images, for a folded batch).
    pub selected: bool,
    /// Where the keyboard is.
    pub focused: bool,
}

/// What one cell shows.
pub struct CellView<'a> {
    /// The image whose picture is shown (a folded batch's first).
    pub record: &'a ImageRecord,
    /// Every image the cell stands for (more than one: a folded batch).
    pub records: &'a [ImageRecord],
    /// The first image of an unfolded batch (it carries "Collapse").
    pub unfolded_first: bool,
    /// Selection and focus.
    pub look: CellLook,
    /// The trash is shown (the menu offers Restore).
    pub in_trash: bool,
    /// The cell is part of a selection of 2 to 4 images (the menu offers Compare).
    pub comparable: bool,
}

impl CellView<'_> {
    fn folded(&self) -> bool {
        self.records.len() > 1
    }

    fn ids(&self) -> Vec<String> {
        self.records.iter().map(|r| r.id.clone()).collect()
    }

    fn all_favorite(&self) -> bool {
        self.records.iter().all(|r| r.favorite)
    }

    /// `action` on this cell's images: the one image, or every image of a folded batch.
    fn on_all(&self, action: ViewerAction) -> GalleryAction {
        if self.folded() {
            GalleryAction::Images(self.ids(), action)
        } else {
            GalleryAction::Image(self.record.id.clone(), action)
        }
    }
}

/// What a cell asks for besides its response's clicks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CellAction {
    /// Fold or unfold the cell's batch (the badge, "Collapse", the menu).
    ToggleGroup,
    /// An action for the app.
    Gallery(GalleryAction),
}

/// A drawn cell: its response (clicks, drags) and what its buttons or menu asked.
pub struct CellOutput {
    /// The cell's own response (click and drag).
    pub response: egui::Response,
    /// A button or menu entry chosen this frame.
    pub action: Option<CellAction>,
}

/// Draws one cell in `rect`.
pub fn cell_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    view: &CellView<'_>,
    thumbnails: &mut ThumbnailCache,
    library: &Arc<Library>,
    background: &Background,
    locale: &str,
) -> CellOutput {
    let record = view.record;
    // The id follows the image, so an open context menu stays with it when newer images
    // push the grid down.
    let id = egui::Id::unique(("gallery-cell", &record.id));
    let response = ui.interact(rect, id, Sense::click_and_drag());
    let label: String = record.meta.prompt.chars().take(80).collect();
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, view.look.selected, &label));
    let mut action = None;
    response.context_menu(|ui| {
        if let Some(chosen) = cell_menu_ui(ui, view, locale) {
            action = Some(chosen);
            ui.close();
        }
    });
    let dragging = egui::DragAndDrop::has_any_payload(ui.ctx());
    let hovered = !dragging && ui.rect_contains_pointer(rect);
    if ui.is_rect_visible(rect) {
        paint_picture(ui, rect, view, hovered, thumbnails, library, background);
        paint_marks(ui, rect, view, hovered);
    }
    if view.folded() {
        let count = view.records.len();
        let at = |size: egui::Vec2| rect.right_bottom() - size - vec2(6.0, 6.0);
        let badge = badge_ui(ui, at, id.with("badge"), &format!("×{count}"));
        if badge
            .on_hover_text(t!("gallery.unfold", locale = locale, count = count))
            .clicked()
        {
            action = Some(CellAction::ToggleGroup);
        }
    } else if view.unfolded_first {
        // Top left, clear of the stars (bottom left) on a narrow cell; after the made-from badge.
        let left = if record.meta.parents.is_empty() { 6.0 } else { 24.0 };
        let at = |_: egui::Vec2| rect.left_top() + vec2(left, 6.0);
        let collapse = badge_ui(ui, at, id.with("collapse"), &t!("gallery.fold", locale = locale));
        if collapse
            .on_hover_text(t!("gallery.fold_hint", locale = locale))
            .clicked()
        {
            action = Some(CellAction::ToggleGroup);
        }
    }
    if hovered && let Some(chosen) = hover_bar_ui(ui, rect, id, view, locale) {
        action = Some(CellAction::Gallery(chosen));
    }
    paint_outlines(ui, rect, view.look, &response);
    let response = response.on_hover_text(&record.meta.prompt);
    CellOutput { response, action }
}

/// The thumbnail, uncropped, inside the cell (a folded batch's stacked behind it).
fn paint_picture(
    ui: &egui::Ui,
    rect: Rect,
    view: &CellView<'_>,
    hovered: bool,
    thumbnails: &mut ThumbnailCache,
    library: &Arc<Library>,
    background: &Background,
) {
    let painter = ui.painter();
    let record = view.record;
    let tone = ui.visuals().faint_bg_color;
    let picture = if view.folded() {
        // Two cards peek out behind the first image, up and to the right.
        let front = Rect::from_min_max(rect.min + vec2(0.0, 6.0), rect.max - vec2(6.0, 0.0));
        for shift in [6.0, 3.0] {
            let card = front.translate(vec2(shift, -shift));
            painter.rect_filled(card, RADIUS, ui.visuals().widgets.inactive.weak_bg_fill);
            painter.rect_stroke(
                card,
                RADIUS,
                Stroke::new(1.0, ui.visuals().extreme_bg_color),
                StrokeKind::Inside,
            );
        }
        front
    } else {
        rect
    };
    let texture = if record.missing {
        None
    } else {
        thumbnails.get(&record.id, ThumbnailSource::of(library, record), background)
    };
    match texture {
        Some(texture) => {
            let size = texture.size_vec2();
            let scale = (picture.width() / size.x.max(1.0)).min(picture.height() / size.y.max(1.0));
            let fitted = Rect::from_center_size(picture.center(), size * scale);
            egui::Image::new((texture.id(), size))
                .corner_radius(CornerRadius::same(RADIUS as u8))
                .paint_at(ui, fitted);
            if hovered {
                painter.rect_filled(fitted, RADIUS, Color32::from_white_alpha(14));
            }
        }
        None if record.missing || thumbnails.failed(&record.id) => {
            painter.rect_filled(picture, RADIUS, tone);
            painter.text(
                picture.center(),
                egui::Align2::CENTER_CENTER,
                "⚠",
                egui::FontId::proportional(24.0),
                ui.visuals().weak_text_color(),
            );
        }
        // Loading: the neutral placeholder at the image's aspect ratio.
        None => {
            painter.rect_filled(picture, RADIUS, tone);
        }
    }
}

/// Made-from count (top left), stars given (bottom left), favourite (top right).
fn paint_marks(ui: &egui::Ui, rect: Rect, view: &CellView<'_>, hovered: bool) {
    let painter = ui.painter_at(rect);
    let record = view.record;
    if !record.meta.parents.is_empty() {
        let centre = rect.left_top() + vec2(12.0, 12.0);
        painter.circle_filled(centre, 7.0, ui.visuals().selection.bg_fill);
        painter.circle_stroke(centre, 7.0, Stroke::new(1.0, Color32::WHITE));
        painter.text(
            centre,
            egui::Align2::CENTER_CENTER,
            record.meta.parents.len().to_string(),
            egui::FontId::proportional(10.0),
            Color32::WHITE,
        );
    }
    if record.rating > 0 {
        // Over a dark strip so they read on any image.
        let stars = "★".repeat(usize::from(record.rating));
        let at = rect.left_bottom() + vec2(6.0, -6.0);
        let galley = painter.layout_no_wrap(stars, egui::FontId::proportional(12.0), GOLD);
        let back = Rect::from_min_size(at - vec2(2.0, galley.size().y + 2.0), galley.size() + vec2(4.0, 4.0));
        painter.rect_filled(back, 3.0, Color32::from_black_alpha(150));
        painter.galley(at - vec2(0.0, galley.size().y), galley, Color32::WHITE);
    }
    // On hover the bar's toggle stands in its place.
    if view.all_favorite() && !hovered {
        painter.text(
            rect.right_top() + vec2(-6.0, 4.0),
            egui::Align2::RIGHT_TOP,
            "★",
            egui::FontId::proportional(18.0),
            GOLD,
        );
    }
}

/// Focus (dotted), selection (2 px accent), context menu open (2 px strong).
fn paint_outlines(ui: &egui::Ui, rect: Rect, look: CellLook, response: &egui::Response) {
    let painter = ui.painter();
    if look.focused {
        let inner = rect.shrink(4.0);
        let corners = [
            inner.left_top(),
            inner.right_top(),
            inner.right_bottom(),
            inner.left_bottom(),
            inner.left_top(),
        ];
        let stroke = Stroke::new(1.5, ui.visuals().strong_text_color());
        painter.extend(egui::Shape::dashed_line(&corners, stroke, 3.0, 3.0));
    }
    if look.selected {
        painter.rect_stroke(
            rect,
            RADIUS,
            Stroke::new(2.0, ui.visuals().selection.stroke.color),
            StrokeKind::Inside,
        );
    }
    if response.context_menu_opened() {
        let stroke = Stroke::new(2.0, ui.visuals().widgets.active.fg_stroke.color);
        painter.rect_stroke(rect, RADIUS, stroke, StrokeKind::Inside);
    }
}

/// A small dark chip (the count badge, "Collapse") whose top left `at` gives for its size.
fn badge_ui(ui: &egui::Ui, at: impl Fn(egui::Vec2) -> egui::Pos2, id: egui::Id, text: &str) -> egui::Response {
    let galley = ui
        .painter()
        .layout_no_wrap(text.to_owned(), egui::FontId::proportional(12.0), Color32::WHITE);
    let size = galley.size() + vec2(10.0, 4.0);
    let rect = Rect::from_min_size(at(size), size);
    let response = ui.interact(rect, id, Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, text));
    if ui.is_rect_visible(rect) {
        let alpha = if response.hovered() { 220 } else { 170 };
        ui.painter().rect_filled(rect, 4.0, Color32::from_black_alpha(alpha));
        ui.painter().galley(rect.min + vec2(5.0, 2.0), galley, Color32::WHITE);
    }
    response
}

/// On hover: a soft dark gradient along the top with the selection tick (to compare),
/// the favourite toggle, Edit and Open.
fn hover_bar_ui(ui: &egui::Ui, rect: Rect, id: egui::Id, view: &CellView<'_>, locale: &str) -> Option<GalleryAction> {
    let bar = Rect::from_min_size(rect.min, vec2(rect.width(), (BUTTON + 16.0).min(rect.height())));
    let mut mesh = egui::Mesh::default();
    let (dark, clear) = (Color32::from_black_alpha(130), Color32::TRANSPARENT);
    mesh.colored_vertex(bar.left_top(), dark);
    mesh.colored_vertex(bar.right_top(), dark);
    mesh.colored_vertex(bar.right_bottom(), clear);
    mesh.colored_vertex(bar.left_bottom(), clear);
    mesh.add_triangle(0, 1, 2);
    mesh.add_triangle(0, 2, 3);
    ui.painter_at(rect).add(mesh);
    let starred = view.all_favorite();
    let (glyph, key) = if starred {
        ("★", "gallery.hover_unstar")
    } else {
        ("☆", "gallery.hover_star")
    };
    let mut at = Rect::from_min_size(rect.right_top() + vec2(-BUTTON - 6.0, 6.0), vec2(BUTTON, BUTTON));
    let star = round_button_ui(ui, at, id.with("star"), glyph, &t!(key, locale = locale), "F", locale);
    at = at.translate(vec2(-BUTTON - 4.0, 0.0));
    let edit = round_button_ui(
        ui,
        at,
        id.with("edit"),
        "✏",
        &t!("gallery.hover_edit", locale = locale),
        "E",
        locale,
    );
    // The tick at the left adds the image to the selection (to compare it) or takes it out.
    let (tick, tick_key) = if view.look.selected {
        ("☑", "gallery.hover_unpick")
    } else {
        ("☐", "gallery.hover_pick")
    };
    let pick_at = Rect::from_min_size(rect.left_top() + vec2(6.0, 6.0), vec2(BUTTON, BUTTON));
    let pick = round_button_ui(
        ui,
        pick_at,
        id.with("pick"),
        tick,
        &t!(tick_key, locale = locale),
        "Ctrl+click",
        locale,
    );
    at = at.translate(vec2(-BUTTON - 4.0, 0.0));
    let open = round_button_ui(
        ui,
        at,
        id.with("open"),
        "⛶",
        &t!("gallery.hover_open", locale = locale),
        "Enter",
        locale,
    );
    if star.clicked() {
        return Some(view.on_all(ViewerAction::ToggleFavorite));
    }
    if edit.clicked() {
        return Some(GalleryAction::Image(view.record.id.clone(), ViewerAction::Edit));
    }
    if pick.clicked() {
        return Some(GalleryAction::ToggleSelected(view.ids()));
    }
    open.clicked()
        .then(|| GalleryAction::Image(view.record.id.clone(), ViewerAction::Open))
}

/// A round icon button over an image, named `label` for screen readers and tests, with a
/// tooltip naming its shortcut.
fn round_button_ui(
    ui: &egui::Ui,
    rect: Rect,
    id: egui::Id,
    glyph: &str,
    label: &str,
    shortcut: &str,
    locale: &str,
) -> egui::Response {
    let response = ui.interact(rect, id, Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, label));
    let alpha = if response.hovered() { 220 } else { 140 };
    let painter = ui.painter();
    painter.circle_filled(rect.center(), rect.width() / 2.0, Color32::from_black_alpha(alpha));
    let colour = if glyph == "★" { GOLD } else { Color32::WHITE };
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        glyph,
        egui::FontId::proportional(15.0),
        colour,
    );
    response.on_hover_text(t!(
        "gallery.with_shortcut",
        locale = locale,
        action = label,
        key = shortcut
    ))
}

/// A subtle shared background behind the images of one unfolded batch, per row.
pub fn group_backgrounds_ui(ui: &egui::Ui, items: &GalleryItems, cells: &[(usize, Rect)]) {
    let tint = ui.visuals().selection.bg_fill.gamma_multiply(0.22);
    let mut span: Option<(std::ops::Range<usize>, Rect)> = None;
    let paint = |span: Option<(std::ops::Range<usize>, Rect)>| {
        if let Some((_, rect)) = span {
            ui.painter().rect_filled(rect.expand(GAP / 2.0), RADIUS + 2.0, tint);
        }
    };
    for (item, rect) in cells {
        let group = match items.get(*item) {
            Some(GalleryItem::Member { group, .. }) => Some(group.clone()),
            _ => None,
        };
        span = match (span, group) {
            (Some((current, union)), Some(group)) if current == group => Some((current, union.union(*rect))),
            (previous, group) => {
                paint(previous);
                group.map(|group| (group, *rect))
            }
        };
    }
    paint(span);
}

/// The context menu of a cell: open, star, the viewer's actions; restore in the trash.
/// On a folded batch: star, rate and trash act on all its images, the rest on the first.
fn cell_menu_ui(ui: &mut egui::Ui, view: &CellView<'_>, locale: &str) -> Option<CellAction> {
    let id = &view.record.id;
    let gallery = |action| Some(CellAction::Gallery(action));
    if ui.button(t!("gallery.open", locale = locale)).clicked() {
        return gallery(GalleryAction::Image(id.clone(), ViewerAction::Open));
    }
    if view.folded()
        && ui
            .button(t!("gallery.unfold", locale = locale, count = view.records.len()))
            .clicked()
    {
        return Some(CellAction::ToggleGroup);
    }
    if ui
        .add_enabled(
            view.comparable,
            egui::Button::new(t!("gallery.compare_selected", locale = locale)),
        )
        .on_disabled_hover_text(t!("compare.select_two_to_four", locale = locale))
        .clicked()
    {
        return gallery(GalleryAction::CompareSelection);
    }
    if view.in_trash {
        let restore = ui.button(t!("gallery.restore", locale = locale)).clicked();
        return restore.then(|| CellAction::Gallery(GalleryAction::Restore(view.ids())));
    }
    let star = if view.all_favorite() {
        "gallery.unstar"
    } else {
        "gallery.star"
    };
    if ui.button(t!(star, locale = locale)).clicked() {
        return gallery(view.on_all(ViewerAction::ToggleFavorite));
    }
    ui.separator();
    let mut chosen = None;
    for (action, key) in IMAGE_ACTIONS {
        if action == ViewerAction::Delete {
            ui.separator();
        }
        if ui.button(t!(key, locale = locale)).clicked() {
            chosen = Some(if action == ViewerAction::Delete {
                view.on_all(action)
            } else {
                GalleryAction::Image(id.clone(), action)
            });
        }
    }
    chosen.map(CellAction::Gallery)
}
