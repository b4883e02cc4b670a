//! The Compare view's state: 2–4 images side by side (or, with two, wiped or flipped),
//! one shared zoom and pan for all of them, and the pure geometry behind it.
//!
//! The shared transform lives in *normalised image coordinates* ((0, 0) is an image's top
//! left corner, (1, 1) its bottom right) with the zoom relative to "fit", so panes whose
//! images have different pixel sizes show the same part of each image at the same place.
//! Drawing is in [`crate::ui::compare_ui`].

use egui::{Pos2, Rect, Vec2, pos2, vec2};

use crate::library::ImageRecord;

/// The fewest images the view compares.
pub const MIN_IMAGES: usize = 2;
/// The most images the view compares.
pub const MAX_IMAGES: usize = 4;
/// The smallest zoom, relative to fit.
pub const MIN_ZOOM: f32 = 0.25;
/// The largest zoom, relative to fit.
pub const MAX_ZOOM: f32 = 64.0;

/// Whether `count` images can be compared (2 to 4).
pub fn can_compare(count: usize) -> bool {
    (MIN_IMAGES..=MAX_IMAGES).contains(&count)
}

/// How much an image of `image` pixels is scaled to fit `pane` whole (it may grow).
pub fn fit_scale(pane: Rect, image: Vec2) -> f32 {
    (pane.width() / image.x.max(1.0)).min(pane.height() / image.y.max(1.0))
}

/// Zoom and pan shared by every pane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewTransform {
    /// Scale relative to fitting the pane: 1.0 shows the whole image as large as it fits.
    pub zoom: f32,
    /// The image point shown at the pane's centre, in normalised image coordinates.
    pub center: Pos2,
}

impl Default for ViewTransform {
    fn default() -> Self {
        Self::FIT
    }
}

impl ViewTransform {
    /// The whole image, centred, as large as it fits.
    pub const FIT: Self = Self {
        zoom: 1.0,
        center: pos2(0.5, 0.5),
    };

    /// Screen pixels per image pixel for an image of `image` pixels in `pane`.
    pub fn pixel_scale(&self, pane: Rect, image: Vec2) -> f32 {
        fit_scale(pane, image) * self.zoom
    }

    /// Where the image is drawn (it may reach beyond the pane, which clips it).
    pub fn image_rect(&self, pane: Rect, image: Vec2) -> Rect {
        let size = image * self.pixel_scale(pane, image);
        Rect::from_min_size(pane.center() - self.center.to_vec2() * size, size)
    }

    /// The normalised image point under the screen point `at`.
    pub fn to_image(&self, pane: Rect, image: Vec2, at: Pos2) -> Pos2 {
        let rect = self.image_rect(pane, image);
        ((at - rect.min) / rect.size().max(Vec2::splat(f32::EPSILON))).to_pos2()
    }

    /// Multiplies the zoom by `factor`, keeping the image point under `pointer` where it is.
    pub fn zoom_at(&mut self, pane: Rect, image: Vec2, pointer: Pos2, factor: f32) {
        let before = self.to_image(pane, image, pointer);
        self.zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let size = image * self.pixel_scale(pane, image);
        let offset = (pointer - pane.center()) / size.max(Vec2::splat(f32::EPSILON));
        self.center = before - offset;
        self.clamp();
    }

    /// Moves the image by `delta` screen points (as a drag in a pane of `pane` showing an
    /// image of `image` pixels).
    pub fn pan_by(&mut self, pane: Rect, image: Vec2, delta: Vec2) {
        let size = image * self.pixel_scale(pane, image);
        self.center -= delta / size.max(Vec2::splat(f32::EPSILON));
        self.clamp();
    }

    /// Sets the zoom so that an image of `image` pixels in `pane` shows one screen pixel
    /// per image pixel, keeping the pan.
    pub fn set_pixel_scale(&mut self, pane: Rect, image: Vec2, scale: f32) {
        self.zoom = (scale / fit_scale(pane, image).max(f32::EPSILON)).clamp(MIN_ZOOM, MAX_ZOOM);
        self.clamp();
    }

    /// Keeps the pane's centre over the image, so the image never leaves a pane
    /// entirely, whatever the pane's size.
    fn clamp(&mut self) {
        self.center = pos2(self.center.x.clamp(0.0, 1.0), self.center.y.clamp(0.0, 1.0));
    }
}

/// Columns and rows for `count` panes in `area`, each with a caption `caption` points
/// high, for images `aspect` (width / height) wide. Two and three images stand side by
/// side; four take a 2 × 2 grid or four columns, whichever shows them larger.
pub fn grid(count: usize, area: Vec2, caption: f32, aspect: f32) -> (usize, usize) {
    let shown = |columns: usize, rows: usize| {
        let cell = vec2(area.x / columns as f32, (area.y / rows as f32 - caption).max(0.0));
        // In pixel-like units: fit_scale treats a side under one pixel as one pixel.
        let image = vec2(aspect.max(0.01) * 1000.0, 1000.0);
        let scale = fit_scale(Rect::from_min_size(Pos2::ZERO, cell), image);
        image.x * image.y * scale * scale
    };
    match count {
        0 | 1 => (1, 1),
        2 | 3 => (count, 1),
        _ if shown(4, 1) > shown(2, 2) => (4, 1),
        _ => (2, 2),
    }
}

/// How the images are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompareMode {
    /// Each image in its own pane.
    #[default]
    SideBySide,
    /// Two images in one pane: A left of a divider, B right of it.
    Wipe,
    /// Two images in one pane, one at a time (Space flips).
    Flip,
}

/// One compared image.
pub struct Pane {
    /// Its library record (model, seed, prompt, size).
    pub record: ImageRecord,
    /// Its full-size texture, once decoded (dropped with the pane: the GPU memory is freed).
    pub texture: Option<egui::TextureHandle>,
    /// Decoding failed with this message.
    pub failed: Option<String>,
}

impl Pane {
    /// The image's size in pixels (from the record, so the layout is right before the
    /// pixels arrive; else from the texture).
    pub fn image_size(&self) -> Vec2 {
        if self.record.width > 0 && self.record.height > 0 {
            vec2(self.record.width as f32, self.record.height as f32)
        } else {
            self.texture
                .as_ref()
                .map_or(Vec2::splat(1.0), egui::TextureHandle::size_vec2)
        }
    }
}

/// The open Compare view.
pub struct Compare {
    /// The images, in the gallery's order; the first is what the others' prompts are
    /// compared with.
    pub panes: Vec<Pane>,
    /// Zoom and pan, the same for every pane.
    pub view: ViewTransform,
    /// How the images are shown (wipe and flip only with two).
    pub mode: CompareMode,
    /// Where the wipe divider stands, as a fraction of the pane's width from its left.
    pub wipe: f32,
    /// In flip mode, B is shown (else A).
    pub showing_b: bool,
    /// Each pane's rectangle and its image's rectangle as drawn last frame (in wipe and
    /// flip modes: the one pane, once per image it shows).
    pub drawn: Vec<(Rect, Rect)>,
}

impl Compare {
    /// The view of `records` (2 to 4), fitted, side by side; `None` for another count.
    pub fn new(records: Vec<ImageRecord>) -> Option<Self> {
        if !can_compare(records.len()) {
            return None;
        }
        Some(Self {
            panes: records
                .into_iter()
                .map(|record| Pane {
                    record,
                    texture: None,
                    failed: None,
                })
                .collect(),
            view: ViewTransform::FIT,
            mode: CompareMode::SideBySide,
            wipe: 0.5,
            showing_b: false,
            drawn: Vec::new(),
        })
    }

    /// The mode in force: wipe and flip need exactly two images.
    pub fn effective_mode(&self) -> CompareMode {
        if self.panes.len() == 2 {
            self.mode
        } else {
            CompareMode::SideBySide
        }
    }

    /// The pane showing image `id`, if it is compared.
    pub fn pane_mut(&mut self, id: &str) -> Option<&mut Pane> {
        self.panes.iter_mut().find(|pane| pane.record.id == id)
    }

    /// Whether every image's pixels (or its failure) have arrived.
    pub fn loaded(&self) -> bool {
        self.panes
            .iter()
            .all(|pane| pane.texture.is_some() || pane.failed.is_some())
    }

    /// Space: flips between A and B (switching to flip mode first, showing A).
    pub fn flip(&mut self) {
        if self.panes.len() != 2 {
            return;
        }
        if self.mode == CompareMode::Flip {
            self.showing_b = !self.showing_b;
        } else {
            self.mode = CompareMode::Flip;
            self.showing_b = false;
        }
    }
}

/// The letter naming pane `index`: A, B, C, D.
pub fn letter(index: usize) -> char {
    char::from(b'A' + u8::try_from(index.min(25)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pane() -> Rect {
        Rect::from_min_size(pos2(100.0, 50.0), vec2(400.0, 300.0))
    }

    fn close(a: Pos2, b: Pos2) -> bool {
        (a - b).length() < 1e-3
    }

    #[test]
    fn fit_shows_the_whole_image_centred() {
        let image = vec2(1600.0, 800.0);
        let rect = ViewTransform::FIT.image_rect(pane(), image);
        assert!((rect.width() - 400.0).abs() < 1e-3, "{rect:?}");
        assert!((rect.height() - 200.0).abs() < 1e-3);
        assert!(close(rect.center(), pane().center()));
        // A small image grows to fit too: panes of different images stay the same size.
        let small = ViewTransform::FIT.image_rect(pane(), vec2(40.0, 20.0));
        assert!((small.width() - 400.0).abs() < 1e-3);
    }

    #[test]
    fn zoom_at_the_pointer_keeps_the_point_under_it() {
        let image = vec2(1328.0, 1328.0);
        let mut view = ViewTransform::FIT;
        let pointer = pos2(420.0, 130.0);
        let under = view.to_image(pane(), image, pointer);
        view.zoom_at(pane(), image, pointer, 2.5);
        assert!((view.zoom - 2.5).abs() < 1e-6);
        assert!(close(view.to_image(pane(), image, pointer), under));
        // Again, out this time.
        view.zoom_at(pane(), image, pointer, 0.6);
        assert!(close(view.to_image(pane(), image, pointer), under));
        // Zoom is bounded.
        view.zoom_at(pane(), image, pointer, 1e9);
        assert_eq!(view.zoom, MAX_ZOOM);
    }

    #[test]
    fn a_drag_moves_the_image_with_the_pointer_and_pan_stops_at_the_edges() {
        let image = vec2(800.0, 600.0);
        let mut view = ViewTransform {
            zoom: 4.0,
            center: pos2(0.5, 0.5),
        };
        let at = pos2(300.0, 200.0);
        let under = view.to_image(pane(), image, at);
        view.pan_by(pane(), image, vec2(30.0, -20.0));
        assert!(close(view.to_image(pane(), image, at + vec2(30.0, -20.0)), under));
        // However far it is dragged, the pane's centre stays over the image.
        view.pan_by(pane(), image, vec2(1e6, -1e6));
        assert_eq!(view.center, pos2(0.0, 1.0));
        let rect = view.image_rect(pane(), image);
        assert!(rect.intersects(pane()));
        assert!(rect.expand(0.01).contains(pane().center()));
        view.zoom_at(pane(), image, pane().left_top(), 0.01);
        assert_eq!(view.zoom, MIN_ZOOM);
        assert!(view.image_rect(pane(), image).intersects(pane()));
    }

    #[test]
    fn one_transform_shows_the_same_part_of_images_of_different_sizes() {
        let view = ViewTransform {
            zoom: 3.0,
            center: pos2(0.3, 0.6),
        };
        let small = Rect::from_min_size(pos2(0.0, 0.0), vec2(300.0, 300.0));
        let large = Rect::from_min_size(pos2(320.0, 0.0), vec2(300.0, 300.0));
        let (a, b) = (vec2(512.0, 512.0), vec2(2048.0, 2048.0));
        // The same normalised point sits at the same place in each pane.
        for point in [pos2(0.3, 0.6), pos2(0.35, 0.5), pos2(0.2, 0.7)] {
            let in_small = view.image_rect(small, a).lerp_inside(point.to_vec2());
            let in_large = view.image_rect(large, b).lerp_inside(point.to_vec2());
            assert!(close(in_small - small.min.to_vec2(), in_large - large.min.to_vec2()));
        }
        // The pixel scales differ by the size ratio.
        assert!((view.pixel_scale(small, a) / view.pixel_scale(large, b) - 4.0).abs() < 1e-4);
        // The pane's centre shows the centre point in both.
        assert!(close(view.to_image(small, a, small.center()), pos2(0.3, 0.6)));
        assert!(close(view.to_image(large, b, large.center()), pos2(0.3, 0.6)));
    }

    #[test]
    fn actual_pixels_sets_the_zoom_for_that_pane() {
        let mut view = ViewTransform::FIT;
        let image = vec2(1600.0, 1200.0);
        view.set_pixel_scale(pane(), image, 1.0);
        assert!((view.pixel_scale(pane(), image) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn four_images_take_four_columns_only_in_a_wide_window() {
        assert_eq!(grid(2, vec2(800.0, 600.0), 40.0, 1.0), (2, 1));
        assert_eq!(grid(3, vec2(800.0, 600.0), 40.0, 1.0), (3, 1));
        assert_eq!(grid(4, vec2(1000.0, 800.0), 40.0, 1.0), (2, 2));
        assert_eq!(grid(4, vec2(2400.0, 500.0), 40.0, 1.0), (4, 1));
        // Tall images prefer columns sooner than wide ones.
        assert_eq!(grid(4, vec2(1200.0, 700.0), 40.0, 0.5), (4, 1));
        assert_eq!(grid(4, vec2(1200.0, 700.0), 40.0, 2.0), (2, 2));
    }

    #[test]
    fn only_two_to_four_images_open_and_only_two_wipe_or_flip() {
        let record = |id: &str| ImageRecord::for_tests(id, crate::metadata::ImageMeta::default());
        assert!(Compare::new(vec![record("a")]).is_none());
        assert!(Compare::new((0..5).map(|i| record(&i.to_string())).collect()).is_none());
        let mut three = Compare::new(vec![record("a"), record("b"), record("c")]).unwrap();
        three.mode = CompareMode::Wipe;
        assert_eq!(three.effective_mode(), CompareMode::SideBySide);
        three.flip();
        assert!(!three.showing_b);
        let mut two = Compare::new(vec![record("a"), record("b")]).unwrap();
        two.flip();
        assert_eq!((two.mode, two.showing_b), (CompareMode::Flip, false));
        two.flip();
        assert!(two.showing_b);
        assert_eq!(letter(3), 'D');
    }
}
