//! Draws the Compare view: a bar (close, mode, fit / 100 %, the wipe divider, A/B), then
//! the panes, each under its image's caption (see `compare_caption`). Wheel, drag and
//! double-click in any pane change the one transform every pane is drawn with.

use egui::{Color32, Rect, RichText, Sense, Vec2, vec2};
use rust_i18n::t;

use crate::ui::compare::{Compare, CompareMode, Pane, ViewTransform, grid, letter};
use crate::ui::compare_caption::compare_caption_ui;

/// Space between panes.
const GAP: f32 = 6.0;
/// Corner radius of a pane.
const RADIUS: f32 = 6.0;
/// Half the width of the wipe divider's grip.
const GRIP: f32 = 8.0;

/// What the user asked of the Compare view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareAction {
    /// Back to the gallery.
    Close,
}

/// A zoom chosen in the bar, applied once the panes' places are known.
#[derive(Clone, Copy)]
enum ZoomRequest {
    Fit,
    ActualPixels,
}

/// What one pane shows.
#[derive(Clone, Copy)]
enum Shows {
    /// The image of this index.
    One(usize),
    /// A left of the divider, B right of it.
    Wipe,
}

/// One pane on screen.
struct Cell {
    caption: Rect,
    pane: Rect,
    shows: Shows,
}

impl Cell {
    /// The image whose size the pane's zoom and pan are measured against.
    fn reference(&self) -> usize {
        match self.shows {
            Shows::One(index) => index,
            Shows::Wipe => 0,
        }
    }
}

/// Draws the Compare view in `ui`; returns the user's actions.
pub fn compare_ui(ui: &mut egui::Ui, compare: &mut Compare, locale: &str) -> Vec<CompareAction> {
    let mut actions = Vec::new();
    keyboard(ui, compare, &mut actions);
    let request = toolbar_ui(ui, compare, locale, &mut actions);
    ui.add_space(4.0);
    let area = ui.available_rect_before_wrap();
    let caption = caption_height(ui);
    let cells = layout(compare, area, caption);
    if let (Some(request), Some(cell)) = (request, cells.first()) {
        match request {
            ZoomRequest::Fit => compare.view = ViewTransform::FIT,
            ZoomRequest::ActualPixels => {
                let image = compare.panes[cell.reference()].image_size();
                compare.view.set_pixel_scale(cell.pane, image, 1.0);
            }
        }
    }
    let responses: Vec<egui::Response> = cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            let response = ui.interact(
                cell.pane,
                ui.scope_id().with(("compare-pane", index)),
                Sense::click_and_drag(),
            );
            let label = pane_label(cell.shows, locale);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
            response
        })
        .collect();
    if compare.effective_mode() == CompareMode::Wipe
        && let Some(cell) = cells.first()
    {
        divider_ui(ui, compare, cell.pane, locale);
    }
    for (cell, response) in cells.iter().zip(&responses) {
        navigate(ui, compare, cell, response);
    }
    compare.drawn.clear();
    for cell in &cells {
        paint_cell(ui, compare, cell, locale);
    }
    for cell in &cells {
        captions_ui(ui, compare, cell, locale);
    }
    ui.advance_cursor_after_rect(area);
    actions
}

/// Escape closes; Space flips A and B (not while a text field has the keyboard).
fn keyboard(ui: &egui::Ui, compare: &mut Compare, actions: &mut Vec<CompareAction>) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    // Taken before any button is drawn: a focused button must not also take Space as a click.
    let (escape, space) = ui.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::NONE, egui::Key::Escape),
            i.consume_key(egui::Modifiers::NONE, egui::Key::Space),
        )
    });
    if escape {
        actions.push(CompareAction::Close);
    }
    if space {
        compare.flip();
    }
}

fn toolbar_ui(
    ui: &mut egui::Ui,
    compare: &mut Compare,
    locale: &str,
    actions: &mut Vec<CompareAction>,
) -> Option<ZoomRequest> {
    let mut request = None;
    ui.horizontal_wrapped(|ui| {
        if ui
            .button(t!("compare.close", locale = locale))
            .on_hover_text(t!("compare.close_hint", locale = locale))
            .clicked()
        {
            actions.push(CompareAction::Close);
        }
        ui.separator();
        if compare.panes.len() == 2 {
            for (mode, key) in [
                (CompareMode::SideBySide, "compare.side_by_side"),
                (CompareMode::Wipe, "compare.wipe"),
                (CompareMode::Flip, "compare.flip"),
            ] {
                if ui
                    .selectable_label(compare.mode == mode, t!(key, locale = locale))
                    .clicked()
                {
                    compare.mode = mode;
                }
            }
            ui.separator();
        }
        if ui
            .selectable_label(compare.view == ViewTransform::FIT, t!("viewer.fit", locale = locale))
            .clicked()
        {
            request = Some(ZoomRequest::Fit);
        }
        if ui
            .button("100 %")
            .on_hover_text(t!("compare.actual_pixels", locale = locale))
            .clicked()
        {
            request = Some(ZoomRequest::ActualPixels);
        }
        match compare.effective_mode() {
            CompareMode::Wipe => {
                ui.separator();
                let label = ui.label(t!("compare.divider", locale = locale));
                ui.add(
                    egui::Slider::new(&mut compare.wipe, 0.0..=1.0)
                        .custom_formatter(|value, _| format!("{:.0} %", value * 100.0)),
                )
                .labelled_by(label.id);
            }
            CompareMode::Flip => {
                ui.separator();
                if ui.button(t!("compare.switch", locale = locale)).clicked() {
                    compare.flip();
                }
            }
            CompareMode::SideBySide => {}
        }
        ui.separator();
        ui.label(RichText::new(t!("compare.hint", locale = locale)).weak().small());
    });
    request
}

/// A caption's height: a line of facts and two lines of prompt.
fn caption_height(ui: &egui::Ui) -> f32 {
    ui.spacing().interact_size.y + 2.0 * ui.text_style_height(&egui::TextStyle::Body) + 8.0
}

/// Where each pane and its caption go in `area`.
fn layout(compare: &Compare, area: Rect, caption: f32) -> Vec<Cell> {
    let split = |rect: Rect, shows: Shows| Cell {
        caption: Rect::from_min_size(rect.min, vec2(rect.width(), caption)),
        pane: Rect::from_min_max(
            rect.min + vec2(0.0, caption),
            rect.max.max(rect.min + vec2(1.0, caption + 1.0)),
        ),
        shows,
    };
    match compare.effective_mode() {
        CompareMode::Wipe => vec![split(area, Shows::Wipe)],
        CompareMode::Flip => vec![split(area, Shows::One(usize::from(compare.showing_b)))],
        CompareMode::SideBySide => {
            let count = compare.panes.len();
            let aspect = compare.panes.first().map_or(1.0, |pane| {
                let size = pane.image_size();
                size.x / size.y.max(1.0)
            });
            let (columns, rows) = grid(count, area.size(), caption + GAP, aspect);
            let size = vec2(
                (area.width() - GAP * (columns - 1) as f32) / columns as f32,
                (area.height() - GAP * (rows - 1) as f32) / rows as f32,
            );
            (0..count)
                .map(|index| {
                    let at = vec2((index % columns) as f32, (index / columns) as f32);
                    let min = area.min + at * (size + Vec2::splat(GAP));
                    split(Rect::from_min_size(min, size), Shows::One(index))
                })
                .collect()
        }
    }
}

/// The accessible name of a pane.
fn pane_label(shows: Shows, locale: &str) -> String {
    match shows {
        Shows::One(index) => t!("compare.pane", locale = locale, letter = letter(index)).into_owned(),
        Shows::Wipe => t!("compare.wipe_pane", locale = locale).into_owned(),
    }
}

/// The wipe divider's grip: dragging it moves the divider (it lies above the pane, so a
/// drag that starts on it does not pan).
fn divider_ui(ui: &egui::Ui, compare: &mut Compare, pane: Rect, locale: &str) {
    let x = pane.left() + compare.wipe * pane.width();
    let grip = Rect::from_x_y_ranges(x - GRIP..=x + GRIP, pane.y_range());
    let response = ui.interact(grip, ui.scope_id().with("compare-divider"), Sense::drag());
    let label = t!("compare.divider_grip", locale = locale);
    response.widget_info(|| egui::WidgetInfo::slider(true, f64::from(compare.wipe), &label));
    if response.hovered() || response.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }
    if response.dragged()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        compare.wipe = ((pointer.x - pane.left()) / pane.width().max(1.0)).clamp(0.0, 1.0);
    }
}

/// Wheel (or pinch) zooms at the pointer, a drag pans, a double-click toggles fit and
/// 100 %: in whichever pane, for every pane.
fn navigate(ui: &egui::Ui, compare: &mut Compare, cell: &Cell, response: &egui::Response) {
    let image = compare.panes[cell.reference()].image_size();
    let pointer = ui.input(|i| i.pointer.hover_pos());
    if let Some(pointer) = pointer.filter(|p| cell.pane.contains(*p))
        && ui.rect_contains_pointer(cell.pane)
    {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y + i.zoom_delta().ln() * 200.0);
        if scroll.abs() > 0.0 {
            compare.view.zoom_at(cell.pane, image, pointer, (scroll / 200.0).exp());
        }
    }
    if response.dragged() {
        compare.view.pan_by(cell.pane, image, response.drag_delta());
    }
    if response.double_clicked() {
        if compare.view == ViewTransform::FIT {
            let at = response.interact_pointer_pos().unwrap_or(cell.pane.center());
            let factor = 1.0 / compare.view.pixel_scale(cell.pane, image).max(f32::EPSILON);
            compare.view.zoom_at(cell.pane, image, at, factor);
        } else {
            compare.view = ViewTransform::FIT;
        }
    }
}

fn paint_cell(ui: &mut egui::Ui, compare: &mut Compare, cell: &Cell, locale: &str) {
    let painter = ui.painter_at(cell.pane);
    painter.rect_filled(cell.pane, RADIUS, ui.visuals().extreme_bg_color);
    match cell.shows {
        Shows::One(index) => {
            let rect = compare.view.image_rect(cell.pane, compare.panes[index].image_size());
            paint_image(ui, &painter, &compare.panes[index], rect, locale);
            compare.drawn.push((cell.pane, rect));
        }
        Shows::Wipe => {
            let x = cell.pane.left() + compare.wipe * cell.pane.width();
            let (mut left, mut right) = (cell.pane, cell.pane);
            left.max.x = x;
            right.min.x = x;
            for (index, side) in [(0, left), (1, right)] {
                let rect = compare.view.image_rect(cell.pane, compare.panes[index].image_size());
                paint_image(ui, &painter.with_clip_rect(side), &compare.panes[index], rect, locale);
                compare.drawn.push((cell.pane, rect));
            }
            let stroke = egui::Stroke::new(2.0, Color32::WHITE);
            painter.vline(x, cell.pane.y_range(), stroke);
            let knob = egui::pos2(x, cell.pane.center().y);
            painter.circle(knob, GRIP + 2.0, ui.visuals().selection.bg_fill, stroke);
            // Two small arrows, left and right (drawn: no font needed).
            for direction in [-1.0, 1.0] {
                let tip = knob + vec2(direction * 7.0, 0.0);
                let back = knob + vec2(direction * 2.5, 0.0);
                let points = vec![tip, back + vec2(0.0, -4.0), back + vec2(0.0, 4.0)];
                painter.add(egui::Shape::convex_polygon(points, Color32::WHITE, egui::Stroke::NONE));
            }
        }
    }
}

/// The image's pixels in `rect`, or while they load a placeholder of the image's shape
/// with a spinner (or why it failed).
fn paint_image(ui: &mut egui::Ui, painter: &egui::Painter, pane: &Pane, rect: Rect, locale: &str) {
    if let Some(texture) = &pane.texture {
        let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        painter.image(texture.id(), rect, uv, Color32::WHITE);
        return;
    }
    painter.rect_filled(rect, 0.0, ui.visuals().faint_bg_color);
    let visible = rect.intersect(painter.clip_rect());
    if !visible.is_positive() {
        return;
    }
    let centre = visible.center();
    let (text, color) = match &pane.failed {
        Some(message) => (message.clone(), ui.visuals().warn_fg_color),
        None => {
            let spinner = Rect::from_center_size(centre - vec2(0.0, 12.0), Vec2::splat(20.0));
            ui.put(spinner, egui::Spinner::new().size(20.0));
            (
                t!("viewer.loading", locale = locale).into_owned(),
                ui.visuals().weak_text_color(),
            )
        }
    };
    painter.text(
        centre + vec2(0.0, 12.0),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(13.0),
        color,
    );
}

/// The captions above a pane: one per image it shows (the wipe pane: A left, B right).
fn captions_ui(ui: &mut egui::Ui, compare: &Compare, cell: &Cell, locale: &str) {
    match cell.shows {
        Shows::One(index) => {
            let showing = (compare.effective_mode() == CompareMode::Flip)
                .then(|| t!("compare.showing", locale = locale, which = letter(index)).into_owned());
            compare_caption_ui(ui, compare, index, cell.pane, cell.caption, showing, locale);
        }
        Shows::Wipe => {
            let half = cell.caption.width() / 2.0;
            let left = Rect::from_min_size(cell.caption.min, vec2(half - GAP, cell.caption.height()));
            let right = Rect::from_min_size(
                cell.caption.min + vec2(half + GAP, 0.0),
                vec2(half - GAP, cell.caption.height()),
            );
            compare_caption_ui(ui, compare, 0, cell.pane, left, None, locale);
            compare_caption_ui(ui, compare, 1, cell.pane, right, None, locale);
        }
    }
}
