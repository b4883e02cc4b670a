//! The Compare view, driven through the real `PictorApp` with egui_kittest: opened with
//! C, the toolbar or the context menu on 2 to 4 selected images; zoom and pan shared by
//! every pane; with two, the wipe divider and the A/B flip; Escape and Close.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use pictor::library::ImageRecord;
use pictor::ui::app::PictorApp;
use support::window::{step_until, studio, window};

/// The harness window, in points.
const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

/// Ctrl+clicks each record's cell (adds it to the selection without opening it).
fn select(harness: &mut Harness<'_, PictorApp>, records: &[ImageRecord]) {
    for record in records {
        harness
            .get_by_label(&record.meta.prompt)
            .click_modifiers(egui::Modifiers::COMMAND);
        harness.step();
    }
}

/// The caption the user reads above a pane.
fn caption(letter: char, record: &ImageRecord) -> String {
    format!(
        "{letter} · {} · seed {} · {} × {}",
        record.meta.model,
        record.meta.seed.unwrap(),
        record.width,
        record.height
    )
}

/// How many full-size compare textures the GPU holds.
fn compare_textures(harness: &Harness<'_, PictorApp>) -> usize {
    harness
        .ctx
        .tex_manager()
        .read()
        .allocated()
        .filter(|(_, meta)| meta.name.starts_with("compare-"))
        .count()
}

/// The zoom labels the panes show, left to right.
fn zoom_labels(harness: &Harness<'_, PictorApp>) -> Vec<String> {
    let mut labels: Vec<(f32, String)> = harness
        .query_all_by_label_contains("Zoom ")
        .map(|node| {
            // egui gives a label's text as the node's value.
            let node_text = node.accesskit_node();
            let text = node_text
                .label()
                .filter(|l| !l.is_empty())
                .or_else(|| node_text.value());
            (node.rect().left(), text.unwrap_or_default())
        })
        .collect();
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    labels.into_iter().map(|(_, label)| label).collect()
}

/// Each drawn image's rectangle relative to its pane (min corner and size).
fn relative_rects(app: &PictorApp) -> Vec<(egui::Vec2, egui::Vec2)> {
    app.compare()
        .unwrap()
        .drawn
        .iter()
        .map(|(pane, image)| (image.min - pane.min, image.size()))
        .collect()
}

fn assert_same_transform(app: &PictorApp) {
    let rects = relative_rects(app);
    for other in &rects[1..] {
        assert!(
            (other.0 - rects[0].0).length() < 0.01 && (other.1 - rects[0].1).length() < 0.01,
            "every pane shows the same part: {rects:?}"
        );
    }
}

/// The wipe divider's slider in the bar (the word "Divider" beside it is a node too).
fn divider_slider<'h>(harness: &'h Harness<'_, PictorApp>) -> egui_kittest::Node<'h> {
    harness
        .get_all_by_label("Divider")
        .find(|node| node.accesskit_node().role() == egui::accesskit::Role::Slider)
        .unwrap()
}

fn wheel(harness: &mut Harness<'_, PictorApp>, at: egui::Pos2, delta: f32) {
    harness.hover_at(at);
    harness.step();
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, delta),
        modifiers: egui::Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    // The wheel is smoothed over a few frames.
    harness.run_steps(40);
}

fn drag(harness: &mut Harness<'_, PictorApp>, from: egui::Pos2, to: egui::Pos2) {
    harness.hover_at(from);
    harness.step();
    harness.drag_at(from);
    harness.step();
    for step in 1..=5 {
        harness.hover_at(from + (to - from) * (step as f32 / 5.0));
        harness.step();
    }
    harness.drop_at(to);
    harness.step();
}

#[test]
fn c_compares_two_images_with_one_zoom_and_pan_and_escape_closes() {
    let world = studio(6);
    let mut harness = window(&world, WINDOW);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    select(&mut harness, &records[..2]);
    harness.key_press(egui::Key::C);
    step_until(&mut harness, "both images decoded", |app| {
        app.compare().is_some_and(pictor::ui::compare::Compare::loaded)
    });
    harness.run_steps(2);
    assert_eq!(harness.state().viewer_image(), None);
    harness.get_by_label(&caption('A', &records[0]));
    harness.get_by_label(&caption('B', &records[1]));
    // B's caption shows only what its prompt changes: "number 5" became "number 4".
    assert_eq!(records[0].meta.prompt, "a red fox in the snow number 5");
    harness.get_by_label("−5  +4");
    assert_eq!(compare_textures(&harness), 2);

    let fitted = zoom_labels(&harness);
    assert_eq!(fitted.len(), 2);
    assert!(
        fitted[0].starts_with("Zoom ") && fitted[0].ends_with(" %"),
        "{fitted:?}"
    );
    assert_eq!(fitted[0], fitted[1]);
    assert_same_transform(harness.state());

    // The wheel over B zooms at the pointer: the point under it stays put in B, and A
    // follows exactly.
    let pane_b = harness.get_by_label("Image B").rect();
    let pointer = pane_b.center() + egui::vec2(60.0, -40.0);
    let under = |app: &PictorApp| {
        let (_, image) = app.compare().unwrap().drawn[1];
        (pointer - image.min) / image.size()
    };
    let before = under(harness.state());
    wheel(&mut harness, pointer, 150.0);
    let zoomed = zoom_labels(&harness);
    assert_ne!(zoomed[1], fitted[1], "B zoomed in");
    assert_eq!(zoomed[0], zoomed[1], "A zoomed with it: {zoomed:?}");
    assert!(harness.state().compare().unwrap().view.zoom > 1.5);
    assert!((under(harness.state()) - before).length() < 0.002);
    assert_same_transform(harness.state());

    // A drag in A pans both.
    let pane_a = harness.get_by_label("Image A").rect();
    let centre_before = harness.state().compare().unwrap().view.center;
    drag(&mut harness, pane_a.center(), pane_a.center() + egui::vec2(-80.0, 30.0));
    let centre = harness.state().compare().unwrap().view.center;
    assert!(centre.x > centre_before.x && centre.y < centre_before.y, "{centre:?}");
    assert_same_transform(harness.state());

    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    assert!(harness.state().compare().is_none());
    assert_eq!(compare_textures(&harness), 0, "closing frees the textures");
    harness.get_by_label(&records[3].meta.prompt);
}

#[test]
fn with_two_images_the_wipe_divider_moves_and_space_flips_a_and_b() {
    let world = studio(4);
    let mut harness = window(&world, WINDOW);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    select(&mut harness, &records[1..3]);
    harness.key_press(egui::Key::C);
    step_until(&mut harness, "compare open", |app| app.compare().is_some());

    harness.get_by_label("Wipe").click();
    harness.run_steps(2);
    let value = |harness: &Harness<'_, PictorApp>| divider_slider(harness).accesskit_node().numeric_value().unwrap();
    assert!((value(&harness) - 0.5).abs() < 1e-6);
    // Both images in one pane, each half drawn with the same transform.
    assert_eq!(harness.state().compare().unwrap().drawn.len(), 2);
    harness.get_by_label(&caption('A', &records[1]));
    harness.get_by_label(&caption('B', &records[2]));

    let pane = harness.get_by_label("Images A and B").rect();
    let grip = harness.get_by_label("Divider grip").rect();
    assert!((grip.center().x - pane.center().x).abs() < 1.0);
    let to = egui::pos2(pane.left() + pane.width() * 0.25, pane.center().y + 40.0);
    drag(&mut harness, grip.center(), to);
    let wipe = harness.state().compare().unwrap().wipe;
    assert!((wipe - 0.25).abs() < 0.01, "the divider followed the drag: {wipe}");
    assert!((value(&harness) - f64::from(wipe)).abs() < 1e-6, "the slider shows it");
    assert_eq!(
        harness.state().compare().unwrap().view,
        pictor::ui::compare::ViewTransform::FIT,
        "dragging the divider does not pan"
    );
    divider_slider(&harness).set_value_accesskit(0.75);
    harness.run_steps(2);
    assert!((harness.state().compare().unwrap().wipe - 0.75).abs() < 1e-6);

    harness.get_by_label("A/B").click();
    harness.run_steps(2);
    harness.get_by_label("Showing A");
    harness.get_by_label(&caption('A', &records[1]));
    harness.key_press(egui::Key::Space);
    harness.run_steps(2);
    harness.get_by_label("Showing B");
    harness.get_by_label(&caption('B', &records[2]));
    assert!(harness.query_by_label("Showing A").is_none());
    harness.key_press(egui::Key::Space);
    harness.run_steps(2);
    harness.get_by_label("Showing A");

    harness.get_by_label("Close").click();
    harness.run_steps(2);
    assert!(harness.state().compare().is_none());
}

#[test]
fn c_with_one_or_five_selected_explains_and_opens_nothing() {
    let world = studio(6);
    let mut harness = window(&world, WINDOW);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    select(&mut harness, &records[..1]);
    assert!(harness.get_by_label("Compare (C)").accesskit_node().is_disabled());
    harness.key_press(egui::Key::C);
    harness.run_steps(2);
    assert_eq!(harness.state().notice_text(), Some("Select 2 to 4 images to compare"));
    assert!(harness.state().compare().is_none());

    select(&mut harness, &records[1..5]);
    assert_eq!(harness.state().selection().len(), 5);
    assert!(harness.get_by_label("Compare (C)").accesskit_node().is_disabled());
    harness.key_press(egui::Key::C);
    harness.run_steps(2);
    assert!(harness.state().compare().is_none());
    assert_eq!(harness.state().notice_text(), Some("Select 2 to 4 images to compare"));
    harness.get_by_label(&records[0].meta.prompt);
}

#[test]
fn the_toolbar_opens_three_side_by_side_and_the_context_menu_four_in_a_grid() {
    let world = studio(6);
    let mut harness = window(&world, WINDOW);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    select(&mut harness, &records[..3]);
    let button = harness.get_by_label("Compare (C)");
    assert!(!button.accesskit_node().is_disabled());
    button.click();
    harness.run_steps(2);
    assert_eq!(harness.state().compare().unwrap().panes.len(), 3);
    let panes: Vec<egui::Rect> = ["Image A", "Image B", "Image C"]
        .iter()
        .map(|label| harness.get_by_label(label).rect())
        .collect();
    assert!(panes[0].right() < panes[1].left() && panes[1].right() < panes[2].left());
    assert!(panes.iter().all(|pane| (pane.top() - panes[0].top()).abs() < 0.5));
    assert!(harness.query_by_label("Wipe").is_none(), "wipe and A/B need two images");
    for (letter, record) in ['A', 'B', 'C'].into_iter().zip(&records) {
        harness.get_by_label(&caption(letter, record));
    }
    harness.get_by_label("Close").click();
    harness.run_steps(2);
    assert!(harness.state().compare().is_none());

    select(&mut harness, &records[3..4]);
    harness.get_by_label(&records[3].meta.prompt).click_secondary();
    harness.run_steps(2);
    harness.get_by_label("Compare selected (C)").click();
    harness.run_steps(2);
    assert_eq!(harness.state().compare().unwrap().panes.len(), 4);
    let [a, b, c, d] = ["Image A", "Image B", "Image C", "Image D"].map(|label| harness.get_by_label(label).rect());
    // Landscape images in this window: two rows of two show them larger than four columns.
    assert!((a.top() - b.top()).abs() < 0.5 && a.right() < b.left());
    assert!(c.top() > a.bottom() && (c.left() - a.left()).abs() < 0.5);
    assert!((d.top() - c.top()).abs() < 0.5);
}
