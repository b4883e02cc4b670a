//! The cost window: what was spent (today, this month against the budget, per model and
//! per board, a bar chart of the last 30 days) and the price list with the currency and
//! the monthly budget, editable.

use egui::RichText;
use egui_plot::{Bar, BarChart, Plot};
use rust_i18n::t;

use crate::pricing::{Currency, PriceBook};
use crate::spending::{BoardSpend, SpendSummary};

/// What the cost window shows, read on a worker.
#[derive(Clone, Debug, Default)]
pub struct SpendView {
    /// Today, this month, the chart, per model.
    pub summary: SpendSummary,
    /// Each board's generated images and their price.
    pub boards: Vec<BoardSpend>,
}

/// Which page of the cost window is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CostPage {
    /// What was spent.
    #[default]
    Spend,
    /// Prices, currency and budget.
    Prices,
}

/// The cost window's own state: its page and the price list being edited.
#[derive(Debug, Default)]
pub struct CostWindow {
    /// The page shown.
    pub page: CostPage,
    /// The price list as edited (saved with "Save prices").
    pub draft: Option<PriceBook>,
    /// A model name typed to add a price for.
    pub new_model: String,
}

/// What the user did in the cost window.
#[derive(Clone, Debug, PartialEq)]
pub enum CostAction {
    /// Save this price list (prices, currency, budget).
    SavePrices(PriceBook),
}

/// Draws the cost window while `open`; `view` is `None` until it has been read.
pub fn cost_window_ui(
    ctx: &egui::Context,
    open: &mut bool,
    window: &mut CostWindow,
    view: Option<&SpendView>,
    book: &PriceBook,
    locale: &str,
) -> Vec<CostAction> {
    let mut actions = Vec::new();
    egui::Window::new(t!("cost.title", locale = locale))
        .open(open)
        .default_width(520.0)
        .min_height(520.0_f32.min(ctx.content_rect().height() - 80.0))
        .max_height(ctx.content_rect().height() - 80.0)
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .collapsible(false)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(
                    &mut window.page,
                    CostPage::Spend,
                    t!("cost.spend_page", locale = locale),
                );
                ui.selectable_value(
                    &mut window.page,
                    CostPage::Prices,
                    t!("cost.prices_page", locale = locale),
                );
            });
            ui.separator();
            egui::ScrollArea::vertical()
                .auto_shrink([false, true])
                .show(ui, |ui| match window.page {
                    CostPage::Spend => spend_page_ui(ui, view, book, locale),
                    CostPage::Prices => {
                        let draft = window.draft.get_or_insert_with(|| book.clone());
                        if let Some(action) = prices_page_ui(ui, draft, &mut window.new_model, locale) {
                            actions.push(action);
                        }
                    }
                });
        });
    actions
}

fn spend_page_ui(ui: &mut egui::Ui, view: Option<&SpendView>, book: &PriceBook, locale: &str) {
    let Some(view) = view else {
        ui.spinner();
        return;
    };
    let summary = &view.summary;
    if summary.demo {
        ui.label(RichText::new(t!("cost.demo_note", locale = locale)).color(ui.visuals().warn_fg_color));
    }
    egui::Grid::new("spend-totals")
        .num_columns(3)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            ui.label(t!("cost.today", locale = locale));
            ui.label(RichText::new(book.format(summary.today)).strong().size(16.0));
            ui.label(t!("cost.images", locale = locale, count = summary.today_images));
            ui.end_row();
            ui.label(t!("cost.this_month", locale = locale));
            ui.label(RichText::new(book.format(summary.month)).strong().size(16.0));
            ui.label(t!("cost.images", locale = locale, count = summary.month_images));
            ui.end_row();
        });
    if let Some(budget) = book.monthly_budget.filter(|b| *b > 0.0) {
        let used = (summary.month / budget) as f32;
        let text = t!(
            "cost.budget_used",
            locale = locale,
            spent = book.format(summary.month),
            budget = book.format(budget)
        );
        let bar = egui::ProgressBar::new(used.min(1.0)).text(text);
        let bar = if used > 1.0 {
            bar.fill(ui.visuals().error_fg_color)
        } else {
            bar
        };
        ui.add(bar);
    }
    if summary.unpriced_images > 0 {
        ui.label(
            RichText::new(t!("cost.unpriced", locale = locale, count = summary.unpriced_images))
                .small()
                .weak(),
        );
    }
    ui.add_space(8.0);
    ui.label(RichText::new(t!("cost.last_30_days", locale = locale)).strong());
    chart_ui(ui, summary, book);
    if !summary.by_model.is_empty() {
        ui.add_space(8.0);
        ui.label(RichText::new(t!("cost.by_model", locale = locale)).strong());
        egui::Grid::new("spend-models")
            .num_columns(3)
            .striped(true)
            .show(ui, |ui| {
                for model in &summary.by_model {
                    ui.label(&model.model);
                    ui.label(t!("cost.images", locale = locale, count = model.images));
                    ui.label(model.amount.map_or_else(
                        || t!("cost.no_price", locale = locale).into_owned(),
                        |amount| book.format(amount),
                    ));
                    ui.end_row();
                }
            });
    }
    if !view.boards.is_empty() {
        ui.add_space(8.0);
        ui.label(RichText::new(t!("cost.by_board", locale = locale)).strong());
        egui::Grid::new("spend-boards")
            .num_columns(3)
            .striped(true)
            .show(ui, |ui| {
                for board in &view.boards {
                    ui.label(&board.name);
                    ui.label(t!("cost.images", locale = locale, count = board.images));
                    ui.label(book.format(board.amount));
                    ui.end_row();
                }
            });
    }
}

/// The last 30 days as bars, today at the right; hovering a bar names its day.
fn chart_ui(ui: &mut egui::Ui, summary: &SpendSummary, book: &PriceBook) {
    let fill = ui.visuals().selection.bg_fill;
    let bars: Vec<Bar> = summary
        .days
        .iter()
        .enumerate()
        .map(|(index, day)| {
            Bar::new(index as f64, day.amount).width(0.7).fill(fill).name(format!(
                "{} · {}",
                day.date,
                book.format(day.amount)
            ))
        })
        .collect();
    let dates: Vec<String> = summary.days.iter().map(|day| day.date.clone()).collect();
    let sign = book.currency.sign();
    Plot::new("spend-30-days")
        .height(150.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_grid([false, true])
        .include_y(0.0)
        .x_axis_formatter(move |mark, _| {
            let index = mark.value.round();
            if (mark.value - index).abs() > 1e-6 || index < 0.0 {
                return String::new();
            }
            dates
                .get(index as usize)
                .and_then(|date| date.get(5..))
                .map(str::to_owned)
                .unwrap_or_default()
        })
        .y_axis_formatter(move |mark, _| format!("{sign}{:.2}", mark.value))
        .show(ui, |plot| plot.bar_chart(BarChart::new("spend", bars)));
}

/// The price list: currency, budget, one row per model. Returns "save" when clicked.
fn prices_page_ui(
    ui: &mut egui::Ui,
    draft: &mut PriceBook,
    new_model: &mut String,
    locale: &str,
) -> Option<CostAction> {
    let mut action = None;
    ui.label(RichText::new(t!("cost.prices_note", locale = locale)).small().weak());
    egui::Grid::new("price-settings")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            ui.label(t!("cost.currency", locale = locale));
            ui.horizontal(|ui| {
                for currency in [Currency::Cny, Currency::Usd] {
                    ui.radio_value(
                        &mut draft.currency,
                        currency,
                        format!("{} {}", currency.sign(), currency.code()),
                    );
                }
            });
            ui.end_row();
            let label = ui.label(t!("cost.budget", locale = locale));
            ui.horizontal(|ui| {
                let mut has_budget = draft.monthly_budget.is_some();
                if ui
                    .checkbox(&mut has_budget, t!("cost.budget_on", locale = locale))
                    .changed()
                {
                    draft.monthly_budget = has_budget.then_some(50.0);
                }
                if let Some(budget) = &mut draft.monthly_budget {
                    ui.add(
                        egui::DragValue::new(budget)
                            .range(0.0..=1_000_000.0)
                            .speed(1.0)
                            .prefix(draft.currency.sign()),
                    )
                    .labelled_by(label.id);
                }
            });
            ui.end_row();
        });
    ui.add_space(8.0);
    let currency = draft.currency;
    egui::Grid::new("price-table")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new(t!("cost.model", locale = locale)).strong());
            ui.label(RichText::new(t!("cost.per_image", locale = locale, currency = currency.code())).strong());
            ui.end_row();
            for (model, price) in &mut draft.prices {
                let label = ui.label(model.as_str());
                let mut value = price.get(currency).unwrap_or(0.0);
                if ui
                    .add(
                        egui::DragValue::new(&mut value)
                            .range(0.0..=1000.0)
                            .speed(0.005)
                            .max_decimals(4)
                            .prefix(currency.sign()),
                    )
                    .labelled_by(label.id)
                    .changed()
                {
                    price.set(currency, Some(value));
                }
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        let label = ui.label(t!("cost.add_model", locale = locale));
        ui.add(
            egui::TextEdit::singleline(new_model)
                .desired_width(180.0)
                .hint_text("wan2.8-t2i*"),
        )
        .labelled_by(label.id);
        let name = new_model.trim().to_owned();
        if ui
            .add_enabled(!name.is_empty(), egui::Button::new(t!("cost.add", locale = locale)))
            .clicked()
        {
            draft.prices.entry(name).or_default();
            new_model.clear();
        }
    });
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui.button(t!("cost.save_prices", locale = locale)).clicked() {
            action = Some(CostAction::SavePrices(draft.clone()));
        }
        if ui.button(t!("cost.reset_prices", locale = locale)).clicked() {
            let kept = (draft.currency, draft.monthly_budget);
            *draft = PriceBook::built_in();
            (draft.currency, draft.monthly_budget) = kept;
        }
    });
    action
}
