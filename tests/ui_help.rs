//! Settings → Help: where the log goes, and "Copy diagnostics" putting a report on the
//! clipboard without the user's prompts unless asked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pictor::ui::app::PictorApp;
use support::window::{studio, wait_until_settled, window};

const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

/// Steps until the window puts text on the clipboard; returns it.
fn copied_text(harness: &mut Harness<'_, PictorApp>) -> String {
    let started = Instant::now();
    loop {
        harness.step();
        let copied = harness
            .output()
            .platform_output
            .commands
            .iter()
            .find_map(|command| match command {
                egui::OutputCommand::CopyText(text) => Some(text.clone()),
                _ => None,
            });
        if let Some(text) = copied {
            return text;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "nothing was copied");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn copy_diagnostics_puts_a_report_on_the_clipboard_with_prompts_only_when_ticked() {
    let studio = studio(2);
    let mut harness = window(&studio, WINDOW);
    harness.get_by_label("⚙ Settings").click();
    wait_until_settled(&mut harness, "Copy diagnostics");
    harness.get_by_label_contains("Pictor writes a log to");

    harness.get_by_label("Copy diagnostics").click();
    let report = copied_text(&mut harness);
    assert!(report.starts_with("Pictor "), "{report}");
    assert!(report.contains("Library: 2 images, 0 in the trash"), "{report}");
    assert!(!report.contains("red fox"), "no prompt unless asked: {report}");
    harness.step();
    assert_eq!(
        harness.state().notice_text(),
        Some("Diagnostics copied to the clipboard: paste them into your bug report.")
    );

    harness
        .get_by_label("Include my last prompts in the diagnostics")
        .click();
    harness.step();
    harness.get_by_label("Copy diagnostics").click();
    let report = copied_text(&mut harness);
    assert!(report.contains("Last 2 prompts:"), "{report}");
    assert!(report.contains("a red fox in the snow number 1"), "{report}");
}
