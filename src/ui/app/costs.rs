//! The cost meter in the window: the price book and the spend read on a worker, today's
//! spend in the top bar, the cost window, saving edited prices.

use std::sync::Arc;

use rust_i18n::t;

use super::PictorApp;
use crate::spending::{SpendReport, read_report};
use crate::ui::background::{AppEvent, TaskKind, TaskOutcome};
use crate::ui::spend_ui::{CostAction, SpendView, cost_window_ui};

impl PictorApp {
    /// Reads the price book and the spend again (at start, after a job, after an edit).
    pub(super) fn refresh_spend(&mut self) {
        let library = Arc::clone(&self.library);
        let provider = self.provider().name().to_owned();
        self.background
            .spawn(move || AppEvent::Spend(read_report(&library, &provider)));
    }

    /// The price book and spend arrived (or the user's price file is unreadable).
    pub(super) fn receive_spend(&mut self, spend: crate::Result<SpendReport>) {
        match spend {
            Ok(report) => {
                self.price_book = report.book;
                self.spend = Some(SpendView {
                    summary: report.summary,
                    boards: report.boards,
                });
            }
            Err(err) => {
                // The built-in prices stand in; the user's file is left as it is.
                self.spend = Some(SpendView::default());
                if !self.price_book_error_shown {
                    self.price_book_error_shown = true;
                    self.notify_error(&err);
                }
            }
        }
    }

    /// Today's spend in the top bar; a click opens the cost window.
    pub(super) fn spend_chip_ui(&mut self, ui: &mut egui::Ui) {
        let locale = self.locale();
        let Some(view) = &self.spend else {
            return;
        };
        let amount = self.price_book.format(view.summary.today);
        let text = if view.summary.demo {
            t!("top.spend_demo", locale = locale, amount = amount)
        } else {
            t!("top.spend_today", locale = locale, amount = amount)
        };
        if ui
            .link(text)
            .on_hover_text(t!("top.spend_hint", locale = locale))
            .clicked()
        {
            self.cost_open = !self.cost_open;
            if self.cost_open {
                self.refresh_spend();
            }
        }
    }

    /// Opens the cost window at its price list (from Settings).
    pub(super) fn open_prices(&mut self) {
        self.cost_open = true;
        self.cost_window.page = crate::ui::spend_ui::CostPage::Prices;
    }

    /// The cost window, while open.
    pub(super) fn cost_window_ui(&mut self, ctx: &egui::Context) {
        if !self.cost_open {
            return;
        }
        let locale = self.locale();
        let mut open = true;
        let actions = cost_window_ui(
            ctx,
            &mut open,
            &mut self.cost_window,
            self.spend.as_ref(),
            &self.price_book,
            locale,
        );
        if !open {
            self.cost_open = false;
            self.cost_window.draft = None;
        }
        for action in actions {
            match action {
                CostAction::SavePrices(book) => {
                    self.library_task(TaskKind::Prices, move |library| {
                        book.save(&library.paths().data_dir)?;
                        Ok(TaskOutcome::PricesSaved)
                    });
                }
            }
        }
    }
}
