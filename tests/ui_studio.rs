//! The studio's workflows in the real window, driven by accessible labels with
//! egui_kittest on a generated library: boards, variations and the prompt matrix, the
//! prompt library, the cost meter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui_kittest::kittest::Queryable;
use support::window::{step_until, studio, wait_for_label, window};

const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

#[test]
fn a_board_is_made_filled_from_the_selection_and_shown_on_its_own() {
    let studio = studio(6);
    let mut harness = window(&studio, WINDOW);
    step_until(&mut harness, "six images", |app| app.gallery_records().len() == 6);
    harness.get_by_label("No boards yet. Make one with +, then drag images onto it.");

    harness.get_by_label("+").click();
    harness.step();
    harness.get_by_label("New board").type_text("Keepers");
    harness.key_press(egui::Key::Enter);
    wait_for_label(&mut harness, "Keepers  ·  0");

    let records = harness.state().gallery_records().to_vec();
    for record in &records[1..3] {
        harness
            .get_by_label(&record.meta.prompt)
            .click_modifiers(egui::Modifiers::COMMAND);
        harness.step();
    }
    harness.get_by_label("Add 2 selected to…").click();
    wait_for_label(&mut harness, "Keepers");
    harness.get_by_label("Keepers").click();
    wait_for_label(&mut harness, "Keepers  ·  2");
    assert!(harness.state().notice_text().unwrap().contains("Added 2 to Keepers"));

    harness.get_by_label("Keepers  ·  2").click();
    step_until(&mut harness, "the board's images", |app| {
        app.gallery_records().len() == 2
    });
    let mut shown: Vec<_> = harness.state().gallery_records().iter().map(|r| r.id.clone()).collect();
    shown.sort();
    let mut expected: Vec<_> = records[1..3].iter().map(|r| r.id.clone()).collect();
    expected.sort();
    assert_eq!(shown, expected);

    harness.get_by_label("All images").click();
    step_until(&mut harness, "every image again", |app| {
        app.gallery_records().len() == 6
    });
}
