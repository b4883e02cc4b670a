//! What was spent: the ledger's rows priced with the price book, per local day, month,
//! model and board. The demo's spend is priced the same but kept apart: real totals
//! leave it out, and in demo mode only the demo's is counted.

use serde::Serialize;
use time::{Date, UtcOffset};

use crate::clock::at_offset;
use crate::error::Result;
use crate::library::{Library, SpendEntry};
use crate::metadata::ImageMeta;
use crate::pricing::PriceBook;

/// Days in the spend chart.
pub const CHART_DAYS: usize = 30;

/// The demo provider's name in the ledger.
const DEMO: &str = "demo";

/// One day of the chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DaySpend {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// Images billed that day.
    pub images: u32,
    /// Their price.
    pub amount: f64,
}

/// One model's share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelSpend {
    /// The model.
    pub model: String,
    /// Images billed this month.
    pub images: u32,
    /// Their price (`None`: the model has no price in the book).
    pub amount: Option<f64>,
}

/// Spend in the price book's currency.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SpendSummary {
    /// Today (local time).
    pub today: f64,
    /// Images billed today.
    pub today_images: u32,
    /// This calendar month (local time).
    pub month: f64,
    /// Images billed this month.
    pub month_images: u32,
    /// The last [`CHART_DAYS`] days, oldest first, today last.
    pub days: Vec<DaySpend>,
    /// This month per model, most images first.
    pub by_model: Vec<ModelSpend>,
    /// Images this month of models with no price (not in the totals).
    pub unpriced_images: u32,
    /// Only the demo's simulated spend is counted.
    pub demo: bool,
}

/// Whether a ledger row of `provider` counts when `provider_in_force` is used.
pub fn counts(provider: &str, provider_in_force: &str) -> bool {
    (provider == DEMO) == (provider_in_force == DEMO)
}

/// The first ms of the local day `days_back` days before `now_ms` (0 = today).
pub fn start_of_day(now_ms: i64, days_back: i64, offset: UtcOffset) -> i64 {
    let Some(now) = at_offset(now_ms, offset) else {
        return 0;
    };
    let date = now.date().saturating_sub(time::Duration::days(days_back));
    date.midnight().assume_offset(offset).unix_timestamp() * 1000
}

/// The first ms of the local month of `now_ms`.
pub fn start_of_month(now_ms: i64, offset: UtcOffset) -> i64 {
    let Some(now) = at_offset(now_ms, offset) else {
        return 0;
    };
    let first = now.date().replace_day(1).unwrap_or(now.date());
    first.midnight().assume_offset(offset).unix_timestamp() * 1000
}

/// The ledger rows to read for [`summarize`]: the earlier of the chart's first day and
/// the month's first day.
pub fn window_start(now_ms: i64, offset: UtcOffset) -> i64 {
    let chart = start_of_day(now_ms, i64::try_from(CHART_DAYS).unwrap_or(30) - 1, offset);
    chart.min(start_of_month(now_ms, offset))
}

/// Prices `entries` (read from [`window_start`] on) with `book` for `provider_in_force`.
pub fn summarize(
    entries: &[SpendEntry],
    book: &PriceBook,
    provider_in_force: &str,
    now_ms: i64,
    offset: UtcOffset,
) -> SpendSummary {
    let today = at_offset(now_ms, offset).map(|t| t.date()).unwrap_or(Date::MIN);
    let month_start = start_of_month(now_ms, offset);
    let day_start = start_of_day(now_ms, 0, offset);
    let mut summary = SpendSummary {
        demo: provider_in_force == DEMO,
        days: (0..CHART_DAYS)
            .rev()
            .map(|back| DaySpend {
                date: today
                    .saturating_sub(time::Duration::days(i64::try_from(back).unwrap_or(0)))
                    .to_string(),
                images: 0,
                amount: 0.0,
            })
            .collect(),
        ..SpendSummary::default()
    };
    for entry in entries.iter().filter(|e| counts(&e.provider, provider_in_force)) {
        let amount = book.estimate(&entry.model, entry.images);
        if let Some(date) = at_offset(entry.at_ms, offset).map(|t| t.date()) {
            let back = (today - date).whole_days();
            if let Ok(back) = usize::try_from(back)
                && back < CHART_DAYS
                && let Some(day) = summary.days.get_mut(CHART_DAYS - 1 - back)
            {
                day.images += entry.images;
                day.amount += amount.unwrap_or(0.0);
            }
        }
        if entry.at_ms >= day_start {
            summary.today_images += entry.images;
            summary.today += amount.unwrap_or(0.0);
        }
        if entry.at_ms >= month_start {
            summary.month_images += entry.images;
            summary.month += amount.unwrap_or(0.0);
            if amount.is_none() {
                summary.unpriced_images += entry.images;
            }
            match summary.by_model.iter_mut().find(|m| m.model == entry.model) {
                Some(model) => {
                    model.images += entry.images;
                    model.amount = model.amount.zip(amount).map(|(a, b)| a + b);
                }
                None => summary.by_model.push(ModelSpend {
                    model: entry.model.clone(),
                    images: entry.images,
                    amount,
                }),
            }
        }
    }
    summary
        .by_model
        .sort_by(|a, b| b.images.cmp(&a.images).then(a.model.cmp(&b.model)));
    summary
}

/// One board's generated images and what they cost at the book's prices.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoardSpend {
    /// The board's name.
    pub name: String,
    /// Its generated images (trashed ones too: they were paid for).
    pub images: u32,
    /// Their price.
    pub amount: f64,
}

/// What the cost views show (the window's cost window, `pictor cost`).
#[derive(Clone, Debug, PartialEq)]
pub struct SpendReport {
    /// The user's price book (the built-in one when there is none).
    pub book: PriceBook,
    /// The spend of the provider in force.
    pub summary: SpendSummary,
    /// Every board, by name.
    pub boards: Vec<BoardSpend>,
}

/// Reads the user's price book and prices the ledger (from [`window_start`] on, in local
/// time) and every board with it, for `provider_in_force`. An unreadable price file is
/// an error and is left as it is.
pub fn read_report(library: &Library, provider_in_force: &str) -> Result<SpendReport> {
    let book = PriceBook::load(&library.paths().data_dir)?;
    let now = ImageMeta::now_ms();
    let offset = crate::clock::local_offset();
    let entries = library.spend_since(window_start(now, offset))?;
    let summary = summarize(&entries, &book, provider_in_force, now, offset);
    let mut boards = Vec::new();
    for board in library.boards()? {
        let models = library.board_models(board.id)?;
        boards.push(BoardSpend {
            images: models.iter().map(|(_, images)| images).sum(),
            amount: board_cost(&models, &book),
            name: board.name,
        });
    }
    Ok(SpendReport { book, summary, boards })
}

/// What a board's generated images cost (images per model priced with `book`).
pub fn board_cost(models: &[(String, u32)], book: &PriceBook) -> f64 {
    models
        .iter()
        .filter_map(|(model, images)| book.estimate(model, *images))
        .sum()
}

/// The month's spend after a job costing `estimate`, when that crosses the book's
/// monthly budget (and the month had not crossed it before).
pub fn crosses_budget(month: f64, estimate: f64, book: &PriceBook) -> Option<f64> {
    let budget = book.monthly_budget?;
    let after = month + estimate;
    (estimate > 0.0 && after > budget).then_some(after)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::pricing::Currency;

    /// 2026-11-30 14:05 UTC.
    const NOW: i64 = 1_796_047_500_000;
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    fn entry(at_ms: i64, provider: &str, model: &str, images: u32) -> SpendEntry {
        SpendEntry {
            at_ms,
            provider: provider.into(),
            model: model.into(),
            images,
            request_key: None,
        }
    }

    #[test]
    fn today_month_and_days_follow_local_time_and_the_demo_is_kept_apart() {
        let book = PriceBook::built_in();
        let offset = UtcOffset::from_hms(8, 0, 0).unwrap();
        let entries = [
            entry(NOW - 40 * DAY, "apple-router", "qwen-image-plus", 9),
            entry(NOW - 20 * DAY, "apple-router", "qwen-image-plus", 2),
            // 15:30 UTC on the 29th is 23:30 there (yesterday); 16:30 UTC is 00:30 today.
            entry(1_795_966_200_000, "apple-router", "qwen-image-plus", 1),
            entry(1_795_969_800_000, "apple-router", "qwen-image-plus", 1),
            entry(NOW - DAY, "dashscope", "wan2.2-t2i-flash", 3),
            entry(NOW, "apple-router", "qwen-image-plus", 3),
            entry(NOW, "apple-router", "mystery-model", 4),
            entry(NOW, "demo", "qwen-image-plus", 100),
        ];
        let summary = summarize(&entries, &book, "apple-router", NOW, offset);
        assert_eq!(summary.today_images, 1 + 3 + 4);
        assert!((summary.today - 0.8).abs() < 1e-9, "{}", summary.today);
        assert_eq!(summary.unpriced_images, 4);
        assert_eq!(
            summary.month_images,
            2 + 1 + 1 + 3 + 3 + 4,
            "the 40-day-old row is last month"
        );
        assert!(
            (summary.month - (0.4 + 0.2 + 0.2 + 0.42 + 0.6)).abs() < 1e-9,
            "{}",
            summary.month
        );
        assert_eq!(summary.days.len(), CHART_DAYS);
        assert_eq!(summary.days.last().unwrap().date, "2026-11-30");
        assert_eq!(summary.days.last().unwrap().images, 8);
        assert_eq!(summary.days[CHART_DAYS - 2].images, 1 + 3);
        assert_eq!(summary.by_model[0].model, "qwen-image-plus");
        assert_eq!(
            summary
                .by_model
                .iter()
                .find(|m| m.model == "mystery-model")
                .unwrap()
                .amount,
            None
        );

        let demo = summarize(&entries, &book, "demo", NOW, offset);
        assert!(demo.demo);
        assert_eq!(demo.today_images, 100);
        assert!((demo.today - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_month_starts_on_its_first_local_day() {
        let offset = UtcOffset::from_hms(8, 0, 0).unwrap();
        // 2026-11-01 00:00 at +08:00 = 2026-10-31 16:00 UTC.
        assert_eq!(start_of_month(NOW, offset), 1_793_462_400_000);
        assert_eq!(start_of_day(NOW, 0, offset), 1_796_054_400_000 - DAY);
        assert!(window_start(NOW, offset) <= start_of_month(NOW, offset));
    }

    #[test]
    fn the_budget_warns_only_when_a_job_crosses_it() {
        let mut book = PriceBook {
            currency: Currency::Cny,
            ..PriceBook::default()
        };
        assert_eq!(crosses_budget(9.0, 2.0, &book), None, "no budget");
        book.monthly_budget = Some(10.0);
        assert_eq!(crosses_budget(7.0, 2.0, &book), None);
        assert_eq!(crosses_budget(9.0, 2.0, &book), Some(11.0));
        assert_eq!(crosses_budget(12.0, 0.0, &book), None, "a free job");
        assert!((board_cost(&[("qwen-image-plus".into(), 3)], &PriceBook::built_in()) - 0.6).abs() < 1e-9);
    }
}
