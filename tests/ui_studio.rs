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

fn type_prompt(harness: &mut egui_kittest::Harness<'_, pictor::ui::app::PictorApp>, text: &str) {
    harness.get_by_label("Prompt").focus();
    harness.step();
    harness.get_by_label("Prompt").type_text(text);
    harness.step();
}

/// The ids of the images on `board`, as the library lists them.
fn ids_on_board(studio: &support::window::Studio, board: i64) -> Vec<String> {
    let query = pictor::library::Query {
        board: Some(board),
        ..pictor::library::Query::default()
    };
    studio
        .library
        .query(&query)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn all_done(app: &pictor::ui::app::PictorApp) -> bool {
    !app.job_cards().is_empty() && app.job_cards().iter().all(|card| !card.is_active())
}

#[test]
fn a_two_by_two_matrix_shows_its_count_and_cost_queues_four_jobs_as_one_group_and_the_spend_follows() {
    let studio = studio(0);
    let mut harness = window(&studio, WINDOW);
    harness.state_mut().form_mut().params.model = "qwen-image-plus".into();
    type_prompt(&mut harness, "a {red|blue} lantern, {ink wash|photo}");
    wait_for_label(&mut harness, "4 prompts × 1 = 4 images ≈ ¥0.80");
    harness.get_by_label("Generate 4").click();
    harness.step();
    let cards = harness.state().job_cards();
    assert_eq!(cards.len(), 4, "one job per combination");
    let batch = cards[0].request.batch.clone().expect("a matrix is one group");
    assert!(
        cards
            .iter()
            .all(|card| card.request.batch.as_deref() == Some(batch.as_str()))
    );
    let prompts: Vec<_> = cards.iter().map(|card| card.request.params.prompt.clone()).collect();
    assert_eq!(
        prompts,
        [
            "a red lantern, ink wash",
            "a red lantern, photo",
            "a blue lantern, ink wash",
            "a blue lantern, photo"
        ]
    );
    step_until(&mut harness, "the four jobs done", all_done);
    let stored = studio.library.query(&pictor::library::Query::default()).unwrap();
    assert_eq!(stored.len(), 4);
    assert!(
        stored
            .iter()
            .all(|record| record.meta.batch.as_deref() == Some(batch.as_str()))
    );

    // The demo's spend in the top bar, then the cost window.
    wait_for_label(&mut harness, "Demo today ¥0.80");
    harness.get_by_label("Demo today ¥0.80").click();
    wait_for_label(&mut harness, "Last 30 days");
    assert_eq!(
        harness.query_all_by_label("4 images").count(),
        3,
        "today, this month, the model"
    );
    assert_eq!(harness.query_all_by_label("¥0.80").count(), 3);
    harness.get_by_label("qwen-image-plus");
}

#[test]
fn variations_of_an_image_run_its_settings_with_new_seeds_as_one_group() {
    let studio = studio(3);
    let mut harness = window(&studio, WINDOW);
    step_until(&mut harness, "three images", |app| app.gallery_records().len() == 3);
    let record = harness.state().gallery_records()[0].clone();
    harness.get_by_label(&record.meta.prompt).click();
    step_until(&mut harness, "viewer open", |app| app.viewer_loaded());
    harness.key_press(egui::Key::V);
    harness.step();
    let cards = harness.state().job_cards();
    assert_eq!(
        cards.len(),
        4,
        "four variations, one request each for {}",
        record.meta.model
    );
    let batch = cards[0].request.batch.clone().expect("variations are one group");
    let mut seeds: Vec<_> = cards.iter().map(|card| card.request.params.seed).collect();
    seeds.dedup();
    assert_eq!(seeds.len(), 4, "new seeds: {seeds:?}");
    assert!(!seeds.contains(&record.meta.seed));
    for card in cards {
        assert_eq!(card.request.batch.as_deref(), Some(batch.as_str()));
        assert_eq!(card.request.params.prompt, record.meta.prompt);
        assert_eq!(card.request.params.model, record.meta.model);
    }
}

#[test]
fn a_run_that_would_cross_the_monthly_budget_waits_for_a_yes() {
    let studio = studio(0);
    std::fs::write(
        studio.dir.path().join("library").join("prices.json"),
        r#"{"currency": "CNY", "monthly_budget": 0.5, "prices": {"qwen-image-plus": {"CNY": 0.2}}}"#,
    )
    .unwrap();
    let mut harness = window(&studio, WINDOW);
    harness.state_mut().form_mut().params.model = "qwen-image-plus".into();
    harness.state_mut().form_mut().count = 3;
    type_prompt(&mut harness, "three lanterns");
    wait_for_label(&mut harness, "3 images ≈ ¥0.60");
    harness.get_by_label("Generate 3").click();
    wait_for_label(&mut harness, "Over the monthly budget");
    assert!(harness.state().job_cards().is_empty(), "nothing goes before the answer");
    harness.get_by_label("Cancel").click();
    harness.step();
    assert!(harness.state().job_cards().is_empty());
    harness.get_by_label("Generate 3").click();
    wait_for_label(&mut harness, "Generate anyway");
    harness.get_by_label("Generate anyway").click();
    harness.step();
    assert_eq!(harness.state().job_cards().len(), 3);
}

#[test]
fn many_jobs_stay_in_one_row_inside_the_window_and_can_be_cleared() {
    let studio = studio(0);
    let small = egui::vec2(1024.0, 640.0);
    let mut harness = window(&studio, small);
    harness.state_mut().form_mut().params.model = "qwen-image-plus".into();
    type_prompt(&mut harness, "{a|b|c} {d|e|f}");
    wait_for_label(&mut harness, "Generate 9");
    harness.get_by_label("Generate 9").click();
    step_until(&mut harness, "nine jobs done", all_done);
    harness.step();
    let done: Vec<egui::Rect> = harness
        .query_all_by_label_contains("Done in")
        .map(|node| node.rect())
        .collect();
    assert_eq!(done.len(), 9);
    assert!(
        done.iter().all(|rect| (rect.top() - done[0].top()).abs() < 1.0),
        "one row: {done:?}"
    );
    // The cards that do not fit are reached by scrolling the strip sideways.
    let oldest_job = |harness: &egui_kittest::Harness<'_, pictor::ui::app::PictorApp>| {
        harness
            .query_all_by_label_contains("Done in")
            .map(|node| node.rect())
            .max_by(|a, b| a.left().total_cmp(&b.left()))
            .unwrap()
    };
    assert!(
        oldest_job(&harness).right() > small.x,
        "nine cards do not fit at 1024 px"
    );
    harness.query_all_by_label_contains("Done in").next().unwrap().hover();
    for _ in 0..20 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(-400.0, 0.0),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        harness.step();
    }
    let oldest = oldest_job(&harness);
    assert!(
        oldest.right() <= small.x,
        "the last card scrolled into the window: {oldest:?}"
    );
    let settings = harness.get_by_label("⚙ Settings").rect();
    assert!(
        settings.right() <= small.x,
        "the top bar stays inside the window: {settings:?}"
    );
    harness.get_by_label("Clear ended").click();
    harness.step();
    assert!(harness.state().job_cards().is_empty());
}

#[test]
fn the_keeper_goes_on_a_board_with_five_stars_from_the_viewer() {
    let studio = studio(3);
    let board = studio.library.create_board("Keepers").unwrap();
    let mut harness = window(&studio, WINDOW);
    step_until(&mut harness, "three images", |app| app.gallery_records().len() == 3);
    let record = harness.state().gallery_records()[1].clone();
    harness.get_by_label(&record.meta.prompt).click();
    step_until(&mut harness, "viewer open", |app| app.viewer_loaded());
    harness.key_press(egui::Key::Num5);
    wait_for_label(&mut harness, "Add to board…");
    harness.get_by_label("Add to board…").click();
    wait_for_label(&mut harness, "Keepers");
    harness.get_by_label("Keepers").click();
    wait_for_label(&mut harness, "On Keepers");
    assert!(
        harness.query_by_label("Add to board…").is_none(),
        "no other board to offer"
    );
    let stored = studio.library.get(&record.id).unwrap().unwrap();
    assert_eq!(stored.rating, 5);
    assert_eq!(ids_on_board(&studio, board.id), std::slice::from_ref(&record.id));
}

#[test]
fn dropping_a_cell_on_a_board_puts_its_image_there() {
    let studio = studio(4);
    let board = studio.library.create_board("Keepers").unwrap();
    let mut harness = window(&studio, WINDOW);
    step_until(&mut harness, "four images", |app| app.gallery_records().len() == 4);
    wait_for_label(&mut harness, "Keepers  ·  0");
    let record = harness.state().gallery_records()[2].clone();
    let from = harness.get_by_label(&record.meta.prompt).rect().center();
    let to = harness.get_by_label("Keepers  ·  0").rect().center();
    harness.drag_at(from);
    harness.step();
    for step in 1..=8 {
        harness.hover_at(from + (to - from) * (step as f32 / 8.0));
        harness.step();
    }
    harness.drop_at(to);
    harness.step();
    wait_for_label(&mut harness, "Keepers  ·  1");
    assert_eq!(ids_on_board(&studio, board.id), std::slice::from_ref(&record.id));
    assert!(harness.state().selection().is_empty(), "a drag selects nothing");
}

#[test]
fn the_hover_tick_picks_two_images_to_compare_without_a_modifier_key() {
    let studio = studio(5);
    let mut harness = window(&studio, WINDOW);
    step_until(&mut harness, "five images", |app| app.gallery_records().len() == 5);
    let records = harness.state().gallery_records().to_vec();
    for record in [&records[1], &records[3]] {
        let center = harness.get_by_label(&record.meta.prompt).rect().center();
        harness.hover_at(center);
        harness.step();
        harness.step();
        harness.get_by_label("Add to the selection (to compare)").click();
        harness.step();
    }
    let mut selected = harness.state().selection();
    selected.sort();
    let mut expected = vec![records[1].id.clone(), records[3].id.clone()];
    expected.sort();
    assert_eq!(selected, expected);
    assert_eq!(harness.state().viewer_image(), None, "a tick opens nothing");
    harness.key_press(egui::Key::C);
    step_until(&mut harness, "compare open", |app| app.compare().is_some());
}
