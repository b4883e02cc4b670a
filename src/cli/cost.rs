//! `pictor cost`: what was spent today, this month, per model and per board, priced with
//! the price book (the window's Settings > Cost edits the same file).

use serde::Serialize;

use super::{open_library, print_json};
use crate::api::provider::Provider;
use crate::error::Result;
use crate::metadata::ImageMeta;
use crate::pricing::{Currency, PriceBook};
use crate::spending::{SpendSummary, board_cost, summarize, window_start};

/// The whole answer, as `--json` prints it.
#[derive(Debug, Serialize)]
struct CostJson {
    currency: Currency,
    provider: String,
    monthly_budget: Option<f64>,
    #[serde(flatten)]
    summary: SpendSummary,
    boards: Vec<BoardCostJson>,
}

/// One board's generated images and their price.
#[derive(Debug, Serialize)]
struct BoardCostJson {
    name: String,
    images: u32,
    amount: f64,
}

/// Prints the spend for `provider`'s kind (the demo's is kept apart); returns the exit code.
pub(super) fn cost(provider: Provider, json: bool) -> Result<i32> {
    let library = open_library()?;
    let book = PriceBook::load(&library.paths().data_dir)?;
    let now = ImageMeta::now_ms();
    let offset = crate::clock::local_offset();
    let entries = library.spend_since(window_start(now, offset))?;
    let summary = summarize(&entries, &book, provider.name(), now, offset);
    let mut boards = Vec::new();
    for board in library.boards()? {
        let models = library.board_models(board.id)?;
        boards.push(BoardCostJson {
            images: models.iter().map(|(_, images)| images).sum(),
            amount: board_cost(&models, &book),
            name: board.name,
        });
    }
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
