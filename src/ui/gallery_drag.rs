//! What follows the pointer while images are dragged out of the gallery: the first
//! image's thumbnail and, for several, how many.

use std::sync::Arc;

use egui::{Color32, Rect, vec2};

use crate::library::Library;
use crate::ui::background::Background;
use crate::ui::gallery::{DraggedImages, Gallery};
use crate::ui::thumbnails::{ThumbnailCache, ThumbnailSource};

/// Height of the preview, in points.
const HEIGHT: f32 = 64.0;

/// Paints the drag preview on the tooltip layer while a [`DraggedImages`] drag lasts,
/// and forgets it once the drag ended (dropped or cancelled with Escape).
pub fn drag_preview_ui(
    ctx: &egui::Context,
    gallery: &mut Gallery,
    thumbnails: &mut ThumbnailCache,
    library: &Arc<Library>,
    background: &Background,
) {
    if !egui::DragAndDrop::has_payload_of_type::<DraggedImages>(ctx) {
        gallery.drag = None;
        return;
    }
    let (Some((record, count)), Some(pointer)) = (&gallery.drag, ctx.pointer_latest_pos()) else {
        return;
    };
    let aspect = crate::ui::justified::cell_aspect(record.width, record.height);
    let rect = Rect::from_min_size(pointer + vec2(14.0, 14.0), vec2(HEIGHT * aspect.min(2.0), HEIGHT));
    let layer = egui::LayerId::new(egui::Order::Tooltip, egui::Id::unique("gallery-drag-preview"));
    let painter = ctx.layer_painter(layer);
    painter.rect_filled(rect.expand(3.0), 6.0, Color32::from_black_alpha(180));
    if let Some(texture) = thumbnails.get(&record.id, ThumbnailSource::of(library, record), background) {
        let size = texture.size_vec2();
        let scale = (rect.width() / size.x.max(1.0)).min(rect.height() / size.y.max(1.0));
        let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        painter.image(
            texture.id(),
            Rect::from_center_size(rect.center(), size * scale),
            uv,
            Color32::from_white_alpha(230),
        );
    }
    if *count > 1 {
        let centre = rect.right_top();
        painter.circle_filled(centre, 11.0, ctx.global_style().visuals.selection.bg_fill);
        painter.text(
            centre,
            egui::Align2::CENTER_CENTER,
            count.to_string(),
            egui::FontId::proportional(11.0),
            Color32::WHITE,
        );
    }
}
