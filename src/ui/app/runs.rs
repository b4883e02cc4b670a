//! Runs: Generate (a prompt, a prompt matrix) and Variations planned whole, priced
//! before they go, held for a yes when they would cross the monthly budget, then queued.

use rust_i18n::t;

use super::PictorApp;
use crate::api::request::GenerationParams;
use crate::library::ImageRecord;
use crate::run_plan::RunPlan;
use crate::ui::compose::RunPreview;
use crate::ui::confirm::{ConfirmAnswer, Confirmation, confirm_ui};

/// A run held until the user says yes to crossing the monthly budget.
pub(super) struct HeldRun {
    plan: RunPlan,
    /// The month's spend if it runs (in the price book's currency).
    month_after: f64,
    /// It came from the compose form (its prompt is remembered and the seed rolled).
    from_form: bool,
}

impl PictorApp {
    /// The compose form's run, planned (or why it cannot run).
    pub(super) fn form_plan(&self) -> crate::Result<RunPlan> {
        RunPlan::new(&self.form.params, self.form.count, Some(self.form.seed), None)
    }

    /// What Generate would send and cost, for the line above the button.
    pub(super) fn run_preview(&self) -> Option<RunPreview> {
        let plan = self.form_plan().ok()?;
        let locale = self.locale();
        let count = if plan.images == 1 {
            t!("compose.plan_one_image", locale = locale)
        } else {
            t!("compose.plan_images", locale = locale, count = plan.images)
        };
        let cost = match plan.estimate(&self.price_book) {
            Some(amount) => t!(
                "compose.plan_cost",
                locale = locale,
                amount = self.price_book.format(amount)
            ),
            None => t!("compose.plan_no_price", locale = locale),
        };
        let line = if plan.prompts > 1 {
            let per_prompt = plan.images / u32::try_from(plan.prompts).unwrap_or(1).max(1);
            let matrix = t!(
                "compose.plan_matrix",
                locale = locale,
                prompts = plan.prompts,
                each = per_prompt
            );
            format!("{matrix} = {count} {cost}")
        } else {
            format!("{count} {cost}")
        };
        let prompts = if plan.prompts > 1 {
            plan.requests
                .iter()
                .map(|request| request.params.prompt.clone())
                .fold(Vec::new(), |mut prompts, prompt| {
                    if prompts.last() != Some(&prompt) {
                        prompts.push(prompt);
                    }
                    prompts
                })
        } else {
            Vec::new()
        };
        Some(RunPreview {
            images: plan.images,
            line,
            prompts,
        })
    }

    /// Queues the compose form's run (every prompt of a matrix), or asks first when it
    /// would cross the monthly budget.
    pub fn generate(&mut self) {
        if self.generate_blocker().is_some() {
            return;
        }
        match self.form_plan() {
            Ok(plan) => self.run_or_hold(plan, true),
            Err(err) => {
                let message = err.user_message(self.locale());
                self.notify(message);
            }
        }
    }

    /// "Variations" of an image: its settings with new seeds, as one group.
    pub(super) fn variations(&mut self, record: &ImageRecord) {
        let params: GenerationParams = super::library_actions::params_of(record, &self.form.params);
        let seed = crate::ui::compose::random_seed();
        match RunPlan::variations(&params, self.settings.variations.max(1), seed) {
            Ok(plan) => self.run_or_hold(plan, false),
            Err(err) => {
                let message = err.user_message(self.locale());
                self.notify(message);
            }
        }
    }

    fn run_or_hold(&mut self, plan: RunPlan, from_form: bool) {
        let estimate = plan.estimate(&self.price_book).unwrap_or(0.0);
        let month = self.spend.as_ref().map_or(0.0, |view| view.summary.month);
        match crate::spending::crosses_budget(month, estimate, &self.price_book) {
            Some(month_after) => {
                self.held_run = Some(HeldRun {
                    plan,
                    month_after,
                    from_form,
                });
            }
            None => self.queue_run(plan, from_form),
        }
    }

    fn queue_run(&mut self, plan: RunPlan, from_form: bool) {
        let generator = match self.generator() {
            Ok(generator) => generator,
            Err(err) => {
                let message = err.user_message(self.locale());
                self.notify(message);
                return;
            }
        };
        let grouped = plan.requests.first().is_some_and(|r| r.batch.is_some());
        let images = plan.images;
        for request in plan.requests {
            self.submit(&generator, request);
        }
        if from_form {
            self.form.after_submit();
        }
        if grouped {
            let text = t!("compose.queued_group", locale = self.locale(), count = images).into_owned();
            self.notify(text);
        }
    }

    /// Asks before a run that would take the month's spend over the budget.
    pub(super) fn confirm_budget_ui(&mut self, ctx: &egui::Context) {
        let Some(held) = &self.held_run else {
            return;
        };
        let locale = self.locale();
        let book = &self.price_book;
        let title = t!("cost.over_budget_title", locale = locale);
        let text = t!(
            "cost.over_budget_text",
            locale = locale,
            count = held.plan.images,
            after = book.format(held.month_after),
            budget = book.format(book.monthly_budget.unwrap_or(0.0))
        );
        let confirm = t!("cost.over_budget_confirm", locale = locale);
        let question = Confirmation {
            id: "confirm-over-budget",
            title: &title,
            text: &text,
            confirm: &confirm,
            destructive: false,
        };
        match confirm_ui(ctx, &question, locale) {
            None => {}
            Some(ConfirmAnswer::Cancel) => self.held_run = None,
            Some(ConfirmAnswer::Confirm) => {
                if let Some(held) = self.held_run.take() {
                    self.queue_run(held.plan, held.from_form);
                }
            }
        }
    }
}
