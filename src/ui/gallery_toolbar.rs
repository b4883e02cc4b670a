//! The bar above the gallery: search, filters, view, thumbnail size and selection actions.

use rust_i18n::t;

use crate::library::{Order, Query};
use crate::metadata::{ImageMeta, SourceTool};

/// A date range for the gallery filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateFilter {
    /// Any time.
    #[default]
    Any,
    /// The last 24 hours.
    Today,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

impl DateFilter {
    /// The earliest creation time this filter lets through.
    pub fn since_ms(self, now_ms: i64) -> Option<i64> {
        const DAY: i64 = 24 * 60 * 60 * 1000;
        match self {
            Self::Any => None,
            Self::Today => Some(now_ms - DAY),
            Self::Week => Some(now_ms - 7 * DAY),
            Self::Month => Some(now_ms - 30 * DAY),
        }
    }

    fn label_key(self) -> &'static str {
        match self {
            Self::Any => "gallery.date_any",
            Self::Today => "gallery.date_today",
            Self::Week => "gallery.date_week",
            Self::Month => "gallery.date_month",
        }
    }
}

/// What the user asked of the toolbar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolbarAction {
    /// The search text or a filter changed: query again.
    QueryChanged,
    /// Import files through the file dialog.
    Import,
    /// Import a whole folder (chosen in the dialog, counted, then confirmed).
    ImportFolder,
    /// Export the selection to a folder.
    ExportSelected,
    /// Move the selection to the trash.
    TrashSelected,
    /// Restore the selection from the trash.
    RestoreSelected,
    /// Star or unstar the selection.
    FavoriteSelected(bool),
    /// Delete everything in the trash for good.
    EmptyTrash,
    /// Select every image in view.
    SelectAll,
    /// Clear the selection.
    SelectNone,
    /// Open the Compare view on the selection (2 to 4 images).
    CompareSelected,
}

/// The translation key naming `order`.
fn order_key(order: Order) -> &'static str {
    match order {
        Order::Newest => "gallery.order_newest",
        Order::FileDate => "gallery.order_file_date",
        Order::Rating => "gallery.order_rating",
    }
}

/// The toolbar's inputs besides the query.
pub struct ToolbarState<'a> {
    /// Search box text.
    pub search_text: &'a mut String,
    /// The query the gallery shows.
    pub query: &'a mut Query,
    /// Date filter.
    pub date: &'a mut DateFilter,
    /// Thumbnail size in points.
    pub cell_size: &'a mut f32,
    /// Models known to the library.
    pub models: &'a [String],
    /// How many images are selected.
    pub selected: usize,
    /// How many images are in view.
    pub shown: usize,
}

/// Draws the toolbar; returns the user's actions.
pub fn gallery_toolbar_ui(ui: &mut egui::Ui, state: ToolbarState<'_>, locale: &str) -> Vec<ToolbarAction> {
    let mut actions = Vec::new();
    let ToolbarState {
        search_text,
        query,
        date,
        cell_size,
        models,
        selected,
        shown,
    } = state;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t!("gallery.search", locale = locale));
        let search = ui.add(
            egui::TextEdit::singleline(search_text)
                .hint_text(t!("gallery.search_hint", locale = locale))
                .desired_width(200.0),
        );
        let search = search.labelled_by(label.id);
        if search.changed() {
            query.search = search_text.trim().to_owned();
            actions.push(ToolbarAction::QueryChanged);
        }
        if ui
            .selectable_label(query.favorites_only, t!("gallery.favorites", locale = locale))
            .clicked()
        {
            query.favorites_only = !query.favorites_only;
            actions.push(ToolbarAction::QueryChanged);
        }
        // One image's family is shown: a chip that says so and clears it.
        if query.family_of.is_some()
            && ui
                .selectable_label(true, t!("gallery.family_only", locale = locale))
                .on_hover_text(t!("gallery.family_clear", locale = locale))
                .clicked()
        {
            query.family_of = None;
            actions.push(ToolbarAction::QueryChanged);
        }
        let any_model = t!("gallery.all_models", locale = locale).into_owned();
        let model_label = ui.label(t!("gallery.model", locale = locale));
        egui::ComboBox::from_id_salt("gallery-model")
            .selected_text(query.model.clone().unwrap_or_else(|| any_model.clone()))
            .show_ui(ui, |ui| {
                if ui.selectable_label(query.model.is_none(), &any_model).clicked() {
                    query.model = None;
                    actions.push(ToolbarAction::QueryChanged);
                }
                for model in models {
                    if ui
                        .selectable_label(query.model.as_ref() == Some(model), model)
                        .clicked()
                    {
                        query.model = Some(model.clone());
                        actions.push(ToolbarAction::QueryChanged);
                    }
                }
            })
            .response
            .labelled_by(model_label.id);
        let rating_label = ui.label(t!("gallery.rating", locale = locale));
        let shown_rating = match query.min_rating {
            Some(stars) if stars > 0 => t!("gallery.min_rating", locale = locale, stars = stars).into_owned(),
            _ => t!("gallery.any_rating", locale = locale).into_owned(),
        };
        egui::ComboBox::from_id_salt("gallery-rating")
            .selected_text(shown_rating)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(query.min_rating.is_none(), t!("gallery.any_rating", locale = locale))
                    .clicked()
                {
                    query.min_rating = None;
                    actions.push(ToolbarAction::QueryChanged);
                }
                for stars in 1..=crate::library::MAX_RATING {
                    let label = t!("gallery.min_rating", locale = locale, stars = stars);
                    if ui.selectable_label(query.min_rating == Some(stars), label).clicked() {
                        query.min_rating = Some(stars);
                        actions.push(ToolbarAction::QueryChanged);
                    }
                }
            })
            .response
            .labelled_by(rating_label.id);
        let any_tool = t!("gallery.any_source", locale = locale).into_owned();
        let tool_label = ui.label(t!("gallery.source", locale = locale));
        egui::ComboBox::from_id_salt("gallery-source")
            .selected_text(
                query
                    .source_tool
                    .map_or(any_tool.clone(), |tool| tool.label().to_owned()),
            )
            .show_ui(ui, |ui| {
                if ui.selectable_label(query.source_tool.is_none(), &any_tool).clicked() {
                    query.source_tool = None;
                    actions.push(ToolbarAction::QueryChanged);
                }
                for tool in SourceTool::ALL {
                    if ui
                        .selectable_label(query.source_tool == Some(tool), tool.label())
                        .clicked()
                    {
                        query.source_tool = Some(tool);
                        actions.push(ToolbarAction::QueryChanged);
                    }
                }
            })
            .response
            .labelled_by(tool_label.id);
        let order_label = ui.label(t!("gallery.order", locale = locale));
        egui::ComboBox::from_id_salt("gallery-order")
            .selected_text(t!(order_key(query.order), locale = locale))
            .show_ui(ui, |ui| {
                for order in [Order::Newest, Order::FileDate, Order::Rating] {
                    if ui
                        .selectable_label(query.order == order, t!(order_key(order), locale = locale))
                        .clicked()
                    {
                        query.order = order;
                        actions.push(ToolbarAction::QueryChanged);
                    }
                }
            })
            .response
            .labelled_by(order_label.id);
        let date_label = ui.label(t!("gallery.date", locale = locale));
        egui::ComboBox::from_id_salt("gallery-date")
            .selected_text(t!(date.label_key(), locale = locale))
            .show_ui(ui, |ui| {
                for choice in [DateFilter::Any, DateFilter::Today, DateFilter::Week, DateFilter::Month] {
                    if ui
                        .selectable_label(*date == choice, t!(choice.label_key(), locale = locale))
                        .clicked()
                    {
                        *date = choice;
                        query.since_ms = choice.since_ms(ImageMeta::now_ms());
                        actions.push(ToolbarAction::QueryChanged);
                    }
                }
            })
            .response
            .labelled_by(date_label.id);
        ui.separator();
        if ui
            .selectable_label(query.trash, t!("gallery.trash", locale = locale))
            .clicked()
        {
            query.trash = !query.trash;
            actions.push(ToolbarAction::QueryChanged);
        }
        ui.separator();
        let size_label = ui.label(t!("gallery.thumb_size", locale = locale));
        ui.add(egui::Slider::new(cell_size, 80.0..=320.0).show_value(false))
            .labelled_by(size_label.id);
        if ui.button(t!("gallery.import", locale = locale)).clicked() {
            actions.push(ToolbarAction::Import);
        }
        if ui.button(t!("gallery.import_folder", locale = locale)).clicked() {
            actions.push(ToolbarAction::ImportFolder);
        }
    });
    ui.horizontal(|ui| {
        ui.label(t!("gallery.count", locale = locale, shown = shown, selected = selected));
        if selected == 0 {
            if shown > 0 && ui.small_button(t!("gallery.select_all", locale = locale)).clicked() {
                actions.push(ToolbarAction::SelectAll);
            }
        } else {
            if ui.small_button(t!("gallery.select_none", locale = locale)).clicked() {
                actions.push(ToolbarAction::SelectNone);
            }
            let compare = egui::Button::new(t!("gallery.compare", locale = locale)).small();
            if ui
                .add_enabled(crate::ui::compare::can_compare(selected), compare)
                .on_disabled_hover_text(t!("compare.select_two_to_four", locale = locale))
                .clicked()
            {
                actions.push(ToolbarAction::CompareSelected);
            }
            if query.trash {
                if ui.small_button(t!("gallery.restore", locale = locale)).clicked() {
                    actions.push(ToolbarAction::RestoreSelected);
                }
            } else {
                if ui.small_button(t!("gallery.star", locale = locale)).clicked() {
                    actions.push(ToolbarAction::FavoriteSelected(true));
                }
                if ui.small_button(t!("gallery.unstar", locale = locale)).clicked() {
                    actions.push(ToolbarAction::FavoriteSelected(false));
                }
                if ui.small_button(t!("gallery.export", locale = locale)).clicked() {
                    actions.push(ToolbarAction::ExportSelected);
                }
                if ui.small_button(t!("gallery.delete", locale = locale)).clicked() {
                    actions.push(ToolbarAction::TrashSelected);
                }
            }
        }
        if query.trash && shown > 0 && ui.small_button(t!("gallery.empty_trash", locale = locale)).clicked() {
            actions.push(ToolbarAction::EmptyTrash);
        }
    });
    actions
}
