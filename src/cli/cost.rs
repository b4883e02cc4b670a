//! `pictor cost`: what was spent today, this month, per model and per board, priced with
//! the price book (the window's Settings > Cost edits the same file).

use serde::Serialize;

use super::{open_library, print_json};
use crate::api::provider::Provider;
use crate::error::Result;
use crate::pricing::Currency;
use crate::spending::{BoardSpend, SpendReport, SpendSummary, read_report};

/// The whole answer, as `--json` prints it.
#[derive(Debug, Serialize)]
struct CostJson {
    currency: Currency,
    provider: String,
    monthly_budget: Option<f64>,
    #[serde(flatten)]
    summary: SpendSummary,
    boards: Vec<BoardSpend>,
}

/// Prints the spend for `provider`'s kind (the demo's is kept apart); returns the exit code.
pub(super) fn cost(provider: Provider, json: bool) -> Result<i32> {
    let library = open_library()?;
    let SpendReport { book, summary, boards } = read_report(&library, provider.name())?;
    if json {
        print_json(&CostJson {
            currency: book.currency,
            provider: provider.name().to_owned(),
            monthly_budget: book.monthly_budget,
            summary,
            boards,
        });
        return Ok(0);
    }
    if summary.demo {
        println!("Demo (simulated, at list prices)");
    }
    println!(
        "Today       {:>10}  {} images",
        book.format(summary.today),
        summary.today_images
    );
    let budget = book
        .monthly_budget
        .map(|budget| format!("  of a {} budget", book.format(budget)))
        .unwrap_or_default();
    println!(
        "This month  {:>10}  {} images{budget}",
        book.format(summary.month),
        summary.month_images
    );
    if summary.unpriced_images > 0 {
        println!(
            "({} images of models without a price are not counted; add prices in Settings > Cost)",
            summary.unpriced_images
        );
    }
    if !summary.by_model.is_empty() {
        println!("\nThis month by model");
        for model in &summary.by_model {
            let amount = model.amount.map_or_else(|| "no price".to_owned(), |a| book.format(a));
            println!("  {:<24} {:>5} images  {amount:>10}", model.model, model.images);
        }
    }
    if !boards.is_empty() {
        println!("\nBoards (their generated images at today's prices)");
        for board in &boards {
            println!(
                "  {:<24} {:>5} images  {:>10}",
                board.name,
                board.images,
                book.format(board.amount)
            );
        }
    }
    Ok(0)
}
