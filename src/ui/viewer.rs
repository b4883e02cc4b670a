//! The viewer: one image large (fit, 100 %, wheel zoom around the pointer, drag to pan)
//! with its metadata and actions. Only the open image has a full-size texture.

use egui::{Color32, RichText, Sense};
use rust_i18n::t;

use crate::library::ImageRecord;

/// How the image is scaled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zoom {
    /// Fit the available space.
    Fit,
    /// A fixed scale (1.0 = 100 %).
    Scale(f32),
}

/// The open image.
pub struct Viewer {
    /// The image's id.
    pub id: String,
    /// Its full-size texture, once decoded.
    pub texture: Option<egui::TextureHandle>,
    /// Decoding failed with this message.
    pub failed: Option<String>,
    /// Current zoom.
    pub zoom: Zoom,
    /// Offset of the image centre from the view centre, in points.
    pub pan: egui::Vec2,
    /// Every text an imported file carries besides Pictor's own (keyword, text), once read.
    pub raw_texts: Option<Vec<(String, String)>>,
    /// The boards it is on, and those it could be put on.
    pub boards: ViewerBoards,
}

/// The boards of the open image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewerBoards {
    /// The names of the boards it is on (empty until read).
    pub on: Vec<String>,
    /// Every board (row id, name), for "Add to board".
    pub choices: Vec<(i64, String)>,
}

impl Viewer {
    /// A viewer for `id` (its texture arrives later).
    pub fn new(id: String) -> Self {
        Self {
            id,
            texture: None,
            failed: None,
            zoom: Zoom::Fit,
            pan: egui::Vec2::ZERO,
            raw_texts: None,
            boards: ViewerBoards::default(),
        }
    }
}

/// What the user asked of the viewer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewerAction {
    /// Open the image in the viewer (from the gallery's context menu).
    Open,
    /// Close the viewer.
    Close,
    /// Previous image.
    Previous,
    /// Next image.
    Next,
    /// Toggle the favourite star.
    ToggleFavorite,
    /// Give the image this many stars (keys 1–5; 0 clears).
    Rate(u8),
    /// Fill the compose form with this image's settings.
    UseSettings,
    /// Put the prompt as the service rewrote it in the compose panel.
    UseRevisedPrompt,
    /// Queue a new job with the same settings.
    GenerateAgain,
    /// The same settings with new seeds, as one group (V).
    Variations,
    /// Put the image on this board (row id).
    AddToBoard(i64),
    /// Save a copy through the file dialog.
    SaveAs,
    /// Copy the image to the clipboard.
    CopyImage,
    /// Open the folder that holds the file.
    ShowInFolder,
    /// Move to the trash.
    Delete,
    /// Put this image in the compose panel's reference strip (key E).
    Edit,
    /// Open another image (from the lineage).
    OpenId(String),
    /// Show only this image's family in the gallery.
    ShowFamily,
}

/// An image's family: what it was made from and what was made from it.
#[derive(Clone, Debug, Default)]
pub struct Lineage {
    /// The image these are for.
    pub id: String,
    /// Its references, in order (image 1, image 2, …); ids no longer in the library are left out.
    pub parents: Vec<ImageRecord>,
    /// The images made from it, newest first.
    pub children: Vec<ImageRecord>,
}

/// Thumbnail lookup for small image buttons (lineage, reference strip).
pub type ThumbnailOf<'a> = dyn FnMut(&ImageRecord) -> Option<egui::TextureHandle> + 'a;

/// What can be done with one image, with the translation key of its label: the
/// viewer's buttons and the gallery's context menu.
pub const IMAGE_ACTIONS: [(ViewerAction, &str); 9] = [
    (ViewerAction::Edit, "viewer.edit"),
    (ViewerAction::ShowFamily, "viewer.show_family"),
    (ViewerAction::UseSettings, "viewer.use_settings"),
    (ViewerAction::GenerateAgain, "viewer.generate_again"),
    (ViewerAction::Variations, "viewer.variations"),
    (ViewerAction::SaveAs, "viewer.save_as"),
    (ViewerAction::CopyImage, "viewer.copy_image"),
    (ViewerAction::ShowInFolder, "viewer.show_in_folder"),
    (ViewerAction::Delete, "viewer.delete"),
];

/// Draws the viewer in `ui`; returns the user's actions.
pub fn viewer_ui(
    ui: &mut egui::Ui,
    viewer: &mut Viewer,
    record: &ImageRecord,
    position: (usize, usize),
    lineage: Option<&Lineage>,
    thumbnail: &mut ThumbnailOf<'_>,
    locale: &str,
) -> Vec<ViewerAction> {
    let mut actions = Vec::new();
    keyboard(ui, &mut actions);
    egui::Panel::right("viewer-meta")
        .default_size(300.0)
        .resizable(true)
        .show(ui, |ui| {
            metadata_ui(ui, record, viewer, position, locale, &mut actions);
            if let Some(lineage) = lineage.filter(|l| l.id == record.id) {
                lineage_ui(ui, lineage, thumbnail, locale, &mut actions);
            }
        });
    egui::CentralPanel::no_frame().show(ui, |ui| {
        ui.horizontal(|ui| {
            if ui.button(t!("viewer.back", locale = locale)).clicked() {
                actions.push(ViewerAction::Close);
            }
            if ui
                .button("◀")
                .on_hover_text(t!("viewer.previous", locale = locale))
                .clicked()
            {
                actions.push(ViewerAction::Previous);
            }
            if ui
                .button("▶")
                .on_hover_text(t!("viewer.next", locale = locale))
                .clicked()
            {
                actions.push(ViewerAction::Next);
            }
            ui.separator();
            if ui
                .selectable_label(viewer.zoom == Zoom::Fit, t!("viewer.fit", locale = locale))
                .clicked()
            {
                viewer.zoom = Zoom::Fit;
                viewer.pan = egui::Vec2::ZERO;
            }
            if ui.selectable_label(viewer.zoom == Zoom::Scale(1.0), "100 %").clicked() {
                viewer.zoom = Zoom::Scale(1.0);
                viewer.pan = egui::Vec2::ZERO;
            }
            if let Zoom::Scale(scale) = viewer.zoom {
                ui.label(format!("{:.0} %", scale * 100.0));
            }
        });
        image_ui(ui, viewer, locale);
    });
    actions
}

fn keyboard(ui: &egui::Ui, actions: &mut Vec<ViewerAction>) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    ui.input(|i| {
        if i.key_pressed(egui::Key::Escape) {
            actions.push(ViewerAction::Close);
        }
        if i.key_pressed(egui::Key::ArrowLeft) {
            actions.push(ViewerAction::Previous);
        }
        if i.key_pressed(egui::Key::ArrowRight) {
            actions.push(ViewerAction::Next);
        }
        if i.key_pressed(egui::Key::F) && !i.modifiers.any() {
            actions.push(ViewerAction::ToggleFavorite);
        }
        if i.key_pressed(egui::Key::Delete) {
            actions.push(ViewerAction::Delete);
        }
        if i.key_pressed(egui::Key::E) && !i.modifiers.any() {
            actions.push(ViewerAction::Edit);
        }
        if i.key_pressed(egui::Key::V) && !i.modifiers.any() {
            actions.push(ViewerAction::Variations);
        }
        if let Some(stars) = rating_key(i) {
            actions.push(ViewerAction::Rate(stars));
        }
    });
}

fn image_ui(ui: &mut egui::Ui, viewer: &mut Viewer, locale: &str) {
    let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
    let Some(texture) = &viewer.texture else {
        let text = match &viewer.failed {
            Some(message) => message.clone(),
            None => t!("viewer.loading", locale = locale).into_owned(),
        };
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(16.0),
            ui.visuals().weak_text_color(),
        );
        return;
    };
    let size = texture.size_vec2();
    let fit = (rect.width() / size.x.max(1.0))
        .min(rect.height() / size.y.max(1.0))
        .min(1.0);
    let mut scale = match viewer.zoom {
        Zoom::Fit => fit,
        Zoom::Scale(scale) => scale,
    };
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y + i.zoom_delta().ln() * 200.0);
        if scroll.abs() > 0.0 {
            let new_scale = (scale * (scroll / 200.0).exp()).clamp(0.05, 16.0);
            if let Some(pointer) = response.hover_pos() {
                let relative = (pointer - rect.center() - viewer.pan) / scale;
                viewer.pan = pointer - rect.center() - relative * new_scale;
            }
            scale = new_scale;
            viewer.zoom = Zoom::Scale(scale);
        }
    }
    if response.dragged() {
        viewer.pan += response.drag_delta();
        if viewer.zoom == Zoom::Fit {
            viewer.zoom = Zoom::Scale(scale);
        }
    }
    if response.double_clicked() {
        viewer.zoom = if viewer.zoom == Zoom::Fit {
            Zoom::Scale(1.0)
        } else {
            Zoom::Fit
        };
        viewer.pan = egui::Vec2::ZERO;
    }
    let image_rect = egui::Rect::from_center_size(rect.center() + viewer.pan, size * scale);
    let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    painter.image(texture.id(), image_rect, uv, Color32::WHITE);
}

fn metadata_ui(
    ui: &mut egui::Ui,
    record: &ImageRecord,
    viewer: &Viewer,
    position: (usize, usize),
    locale: &str,
    actions: &mut Vec<ViewerAction>,
) {
    let meta = &record.meta;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.horizontal(|ui| {
            let star = if record.favorite { "★" } else { "☆" };
            if ui
                .button(RichText::new(star).size(18.0))
                .on_hover_text(t!("viewer.favorite", locale = locale))
                .clicked()
            {
                actions.push(ViewerAction::ToggleFavorite);
            }
            ui.label(format!("{} / {}", position.0 + 1, position.1));
        });
        rating_ui(ui, record.rating, locale, actions);
        boards_ui(ui, &viewer.boards, locale, actions);
        if record.missing {
            ui.colored_label(ui.visuals().warn_fg_color, t!("viewer.missing", locale = locale));
        }
        field_ui(ui, &t!("viewer.prompt", locale = locale), &meta.prompt);
        if ui.small_button(t!("viewer.copy_prompt", locale = locale)).clicked() {
            ui.ctx().copy_text(meta.prompt.clone());
        }
        if let Some(revised) = &meta.revised_prompt {
            // What the service changed, against what was typed.
            ui.label(RichText::new(t!("viewer.revised_prompt", locale = locale)).weak());
            crate::ui::prompt_diff::prompt_diff_ui(ui, &meta.prompt, revised);
            if ui.small_button(t!("viewer.use_revised", locale = locale)).clicked() {
                actions.push(ViewerAction::UseRevisedPrompt);
            }
            ui.add_space(4.0);
        }
        if !meta.negative_prompt.is_empty() {
            field_ui(
                ui,
                &t!("viewer.negative_prompt", locale = locale),
                &meta.negative_prompt,
            );
        }
        egui::Grid::new("viewer-facts")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                let seed = seed_of(meta).map_or_else(|| "—".into(), |seed| seed.to_string());
                for (label, value) in [
                    (
                        t!("viewer.model", locale = locale),
                        // An imported file from a tool that did not name its model.
                        if meta.model.is_empty() {
                            "—".into()
                        } else {
                            meta.model.clone()
                        },
                    ),
                    (
                        t!("viewer.size", locale = locale),
                        format!("{}×{}", record.width, record.height),
                    ),
                    (t!("viewer.seed", locale = locale), seed.clone()),
                    (t!("viewer.provider", locale = locale), meta.provider.clone()),
                    (
                        t!("viewer.created", locale = locale),
                        crate::ui::dates::human_date(meta.created_ms, locale),
                    ),
                    (
                        t!("viewer.request_id", locale = locale),
                        meta.request_id.clone().unwrap_or_else(|| "—".into()),
                    ),
                ] {
                    ui.label(RichText::new(label).weak());
                    ui.add(egui::Label::new(value).selectable(true));
                    ui.end_row();
                }
            });
        if let Some(seed) = meta.seed
            && ui.small_button(t!("viewer.copy_seed", locale = locale)).clicked()
        {
            ui.ctx().copy_text(seed.to_string());
        }
        if let Some(source) = &meta.source {
            source_ui(ui, source, locale);
        }
        ui.separator();
        for (action, key) in IMAGE_ACTIONS {
            if ui
                .add(egui::Button::new(t!(key, locale = locale)).min_size(egui::vec2(ui.available_width(), 0.0)))
                .clicked()
            {
                actions.push(action);
            }
        }
        if let Some(texts) = viewer.raw_texts.as_deref().filter(|texts| !texts.is_empty()) {
            raw_texts_ui(ui, texts, locale);
        }
    });
}

/// Every text the file carries (other tools' chunks, EXIF comments, XMP), as written:
/// nothing a tool recorded is lost, even what Pictor does not understand.
fn raw_texts_ui(ui: &mut egui::Ui, texts: &[(String, String)], locale: &str) {
    ui.separator();
    egui::CollapsingHeader::new(t!("viewer.raw_texts", locale = locale, count = texts.len()))
        .id_salt("viewer-raw-texts")
        .show(ui, |ui| {
            if ui.small_button(t!("viewer.copy_raw_texts", locale = locale)).clicked() {
                let all: Vec<String> = texts.iter().map(|(key, text)| format!("{key}:\n{text}")).collect();
                ui.ctx().copy_text(all.join("\n\n"));
            }
            for (key, text) in texts {
                ui.label(RichText::new(key).weak());
                egui::ScrollArea::vertical()
                    .id_salt(("viewer-raw-text", key))
                    .max_height(160.0)
                    .show(ui, |ui| {
                        ui.add(
                            egui::Label::new(RichText::new(text).monospace().small())
                                .wrap()
                                .selectable(true),
                        );
                    });
                ui.add_space(4.0);
            }
        });
}

/// "Made from" and "Edits of this image", as thumbnails that open their image.
fn lineage_ui(
    ui: &mut egui::Ui,
    lineage: &Lineage,
    thumbnail: &mut ThumbnailOf<'_>,
    locale: &str,
    actions: &mut Vec<ViewerAction>,
) {
    for (key, records) in [
        ("viewer.made_from", &lineage.parents),
        ("viewer.edits_of", &lineage.children),
    ] {
        if records.is_empty() {
            continue;
        }
        ui.separator();
        ui.label(RichText::new(t!(key, locale = locale)).strong());
        ui.horizontal_wrapped(|ui| {
            for (position, record) in (1..).zip(records) {
                let label = if key == "viewer.made_from" {
                    t!("viewer.image_n", locale = locale, n = position).into_owned()
                } else {
                    record.meta.prompt.chars().take(24).collect()
                };
                if small_image_button_ui(ui, thumbnail(record), &label)
                    .on_hover_text(&record.meta.prompt)
                    .clicked()
                {
                    actions.push(ViewerAction::OpenId(record.id.clone()));
                }
            }
        });
    }
}

/// A 56 px thumbnail button (or a placeholder while it loads) with a caption; the
/// caption is its accessible label.
pub fn small_image_button_ui(ui: &mut egui::Ui, texture: Option<egui::TextureHandle>, caption: &str) -> egui::Response {
    ui.vertical(|ui| {
        let response = match texture {
            Some(texture) => {
                let size = texture.size_vec2();
                let scale = 56.0 / size.x.max(size.y).max(1.0);
                ui.add(egui::Button::image(
                    egui::Image::new(&texture).fit_to_exact_size(size * scale),
                ))
            }
            None => ui.add_sized([56.0, 56.0], egui::Button::new("🖼")),
        };
        ui.label(RichText::new(caption).small());
        response.on_hover_text(caption)
    })
    .inner
}

/// The image's seed; an imported image's as its tool wrote it (it may exceed 2³²).
pub fn seed_of(meta: &crate::metadata::ImageMeta) -> Option<u64> {
    meta.source
        .as_ref()
        .and_then(|source| source.seed)
        .or(meta.seed.map(u64::from))
}

/// The digit key pressed without modifiers, 0–5, as a rating (0 clears).
pub fn rating_key(input: &egui::InputState) -> Option<u8> {
    const KEYS: [(egui::Key, u8); 6] = [
        (egui::Key::Num0, 0),
        (egui::Key::Num1, 1),
        (egui::Key::Num2, 2),
        (egui::Key::Num3, 3),
        (egui::Key::Num4, 4),
        (egui::Key::Num5, 5),
    ];
    if input.modifiers.any() {
        return None;
    }
    KEYS.iter()
        .find(|(key, _)| input.key_pressed(*key))
        .map(|(_, stars)| *stars)
}

/// The boards the image is on, and a menu to put it on another.
fn boards_ui(ui: &mut egui::Ui, boards: &ViewerBoards, locale: &str, actions: &mut Vec<ViewerAction>) {
    ui.horizontal_wrapped(|ui| {
        if !boards.on.is_empty() {
            ui.label(t!("viewer.on_boards", locale = locale, boards = boards.on.join(" · ")));
        }
        let choices: Vec<_> = boards
            .choices
            .iter()
            .filter(|(_, name)| !boards.on.contains(name))
            .collect();
        if !choices.is_empty() {
            ui.menu_button(t!("viewer.add_to_board", locale = locale), |ui| {
                for (id, name) in choices {
                    if ui.button(name).clicked() {
                        actions.push(ViewerAction::AddToBoard(*id));
                        ui.close();
                    }
                }
            });
        }
    });
}

/// Five stars to click: the image's rating filled; clicking the current rating clears it.
fn rating_ui(ui: &mut egui::Ui, rating: u8, locale: &str, actions: &mut Vec<ViewerAction>) {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for stars in 1..=crate::library::MAX_RATING {
            let filled = stars <= rating;
            let text = RichText::new(if filled { "★" } else { "☆" }).size(16.0);
            let text = if filled {
                text.color(Color32::from_rgb(0xF5, 0xC5, 0x18))
            } else {
                text.weak()
            };
            let button = egui::Button::new(text).frame(false);
            let hover = t!("viewer.rate", locale = locale, stars = stars);
            if ui.add(button).on_hover_text(hover).clicked() {
                actions.push(ViewerAction::Rate(if stars == rating { 0 } else { stars }));
            }
        }
    });
}

/// Where an imported image came from: its tool, file, file date, what the tool recorded
/// besides the prompt, and what was wrong with its metadata.
fn source_ui(ui: &mut egui::Ui, source: &crate::metadata::ImportSource, locale: &str) {
    ui.separator();
    egui::Grid::new("viewer-source")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            let tool = source.tool.map_or_else(
                || t!("viewer.no_tool", locale = locale).into_owned(),
                |tool| tool.label().to_owned(),
            );
            let file_date = source
                .modified_ms
                .map_or_else(|| "—".to_owned(), |ms| crate::ui::dates::human_date(ms, locale));
            for (label, value) in [
                (t!("viewer.source_tool", locale = locale), tool),
                (t!("viewer.file_name", locale = locale), source.file_name.clone()),
                (t!("viewer.file_date", locale = locale), file_date),
            ] {
                ui.label(RichText::new(label).weak());
                ui.add(egui::Label::new(value).selectable(true));
                ui.end_row();
            }
        });
    for note in &source.notes {
        ui.colored_label(ui.visuals().warn_fg_color, note);
    }
    if !source.details.is_empty() {
        egui::CollapsingHeader::new(t!("viewer.tool_details", locale = locale))
            .id_salt("viewer-tool-details")
            .show(ui, |ui| {
                egui::Grid::new("viewer-tool-details-grid")
                    .num_columns(2)
                    .spacing([8.0, 2.0])
                    .show(ui, |ui| {
                        for (key, value) in &source.details {
                            ui.label(RichText::new(key).weak());
                            ui.add(egui::Label::new(value).wrap().selectable(true));
                            ui.end_row();
                        }
                    });
            });
    }
}

fn field_ui(ui: &mut egui::Ui, label: &str, text: &str) {
    ui.label(RichText::new(label).weak());
    ui.add(egui::Label::new(text).wrap().selectable(true));
    ui.add_space(4.0);
}
