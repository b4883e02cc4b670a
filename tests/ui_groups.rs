//! The justified gallery through the real `PictorApp` with egui_kittest: cells at their
//! image's aspect ratio, a run's images folded into one cell, keyboard moves by visual
//! rows, hover actions, cells as drag sources, and the empty library's first steps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pictor::library::{ImageRecord, Query};
use pictor::metadata::ImageMeta;
use pictor::ui::app::PictorApp;
use pictor::ui::gallery::DraggedImages;
use support::window::{Studio, step_until, studio, window};

fn world() -> Studio {
    studio(0)
}

/// Stores a `width` × `height` image with `prompt`, `seconds` after a fixed start (the
/// gallery lists the newest first), in run `batch`.
fn store(world: &Studio, prompt: &str, (width, height): (u32, u32), seconds: i64, batch: Option<&str>) -> ImageRecord {
    let meta = ImageMeta {
        prompt: prompt.into(),
        model: "qwen-image".into(),
        provider: "demo".into(),
        created_ms: 1_700_000_000_000 + seconds * 1000,
        batch: batch.map(str::to_owned),
        ..Default::default()
    };
    let png = support::sample_png(width, height, seconds as u32);
    pictor::generate::store_blocking(&world.library, &png, &meta).unwrap()
}

fn harness(world: &Studio, images: usize) -> Harness<'static, PictorApp> {
    let mut harness = window(world, egui::vec2(1400.0, 900.0));
    step_until(&mut harness, "gallery loaded", |app| {
        !app.gallery_loading() && app.gallery_records().len() == images
    });
    harness.run_steps(2);
    harness
}

fn rect_of(harness: &Harness<'_, PictorApp>, label: &str) -> egui::Rect {
    harness.get_by_label(label).rect()
}

#[test]
fn cells_keep_their_images_aspect_ratio() {
    let world = world();
    store(&world, "a wide harbour at dusk", (160, 90), 1, None);
    store(&world, "a tall lighthouse", (90, 160), 2, None);
    store(&world, "a file of unknown shape", (64, 64), 3, None);
    let harness = harness(&world, 3);
    let wide = rect_of(&harness, "a wide harbour at dusk");
    let tall = rect_of(&harness, "a tall lighthouse");
    assert!(
        (wide.height() - tall.height()).abs() < 0.5,
        "one row: {wide:?} {tall:?}"
    );
    assert!(wide.width() > 2.5 * tall.width(), "{wide:?} {tall:?}");
    assert!((wide.aspect_ratio() - 16.0 / 9.0).abs() < 0.02, "{wide:?}");
    assert!((tall.aspect_ratio() - 9.0 / 16.0).abs() < 0.02, "{tall:?}");
    let settings_height = harness.state().settings().thumbnail_size;
    assert!(
        (wide.height() - settings_height).abs() < 0.5,
        "a short last row keeps the target height"
    );
}

/// Two single images around a run of four (the newest of the run first).
fn world_with_a_run() -> (Studio, Vec<ImageRecord>) {
    let world = world();
    store(&world, "an older single image", (64, 64), 1, None);
    let mut run: Vec<ImageRecord> = (1..=4)
        .map(|i| {
            store(
                &world,
                &format!("variation {i} of a koi pond"),
                (80, 60),
                10 + i,
                Some("run-7"),
            )
        })
        .collect();
    run.reverse();
    store(&world, "a newer single image", (64, 64), 30, None);
    (world, run)
}

fn run_cells(harness: &Harness<'_, PictorApp>) -> usize {
    harness.query_all_by_label_contains("of a koi pond").count()
}

#[test]
fn a_run_folds_into_one_cell_that_unfolds_and_selects_as_one() {
    let (world, run) = world_with_a_run();
    let mut harness = harness(&world, 6);
    assert_eq!(run_cells(&harness), 1, "one cell for the run");
    harness.get_by_label(&run[0].meta.prompt);
    harness.get_by_label("×4");

    // A click selects the whole run (and opens nothing).
    harness.get_by_label(&run[0].meta.prompt).click();
    harness.run_steps(2);
    let mut selected = harness.state().selection();
    selected.sort();
    let mut ids: Vec<String> = run.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    assert_eq!(selected, ids);
    assert_eq!(harness.state().viewer_image(), None);

    // The badge unfolds it in place: four cells, then Collapse folds them again.
    harness.get_by_label("×4").click();
    harness.run_steps(2);
    assert_eq!(run_cells(&harness), 4);
    assert!(harness.query_by_label("×4").is_none());
    let first = rect_of(&harness, &run[0].meta.prompt);
    let second = rect_of(&harness, &run[1].meta.prompt);
    assert!(second.left() > first.right(), "its images follow it");
    harness.get_by_label("Collapse").click();
    harness.run_steps(2);
    assert_eq!(run_cells(&harness), 1);

    // Enter on the folded cell unfolds it; the viewer then walks image by image.
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    assert_eq!(run_cells(&harness), 4);
    harness.get_by_label(&run[1].meta.prompt).click();
    step_until(&mut harness, "viewer", |app| app.viewer_image().is_some());
    harness.key_press(egui::Key::ArrowRight);
    let next = run[2].id.clone();
    step_until(&mut harness, "next image of the run", |app| {
        app.viewer_image() == Some(next.as_str())
    });
}

#[test]
fn trashing_a_folded_run_from_the_keyboard_trashes_all_its_images() {
    let (world, run) = world_with_a_run();
    let mut harness = harness(&world, 6);
    harness.get_by_label(&run[0].meta.prompt).click();
    harness.run_steps(2);
    harness.key_press(egui::Key::Delete);
    step_until(&mut harness, "trashed", |_| {
        world.library.count(&Query::default()).unwrap() == 2
    });
}

/// Cells of one image each, by label, with their rects, grouped into rows by their top.
fn rows(harness: &Harness<'_, PictorApp>, records: &[ImageRecord]) -> Vec<Vec<(String, egui::Rect)>> {
    let mut rows: Vec<Vec<(String, egui::Rect)>> = Vec::new();
    for record in records {
        let Some(node) = harness.query_by_label(&record.meta.prompt) else {
            continue;
        };
        let rect = node.rect();
        match rows.iter_mut().find(|row| (row[0].1.top() - rect.top()).abs() < 1.0) {
            Some(row) => row.push((record.id.clone(), rect)),
            None => rows.push(vec![(record.id.clone(), rect)]),
        }
    }
    rows.sort_by(|a, b| a[0].1.top().total_cmp(&b[0].1.top()));
    rows
}

#[test]
fn down_moves_to_the_nearest_cell_of_the_next_visual_row() {
    let world = world();
    let shapes = [(160, 90), (90, 160), (64, 64), (200, 60), (90, 160), (120, 90)];
    let mut records: Vec<ImageRecord> = (0..30)
        .map(|i| {
            store(
                &world,
                &format!("shape study {i}"),
                shapes[i % shapes.len()],
                i as i64,
                None,
            )
        })
        .collect();
    records.reverse();
    let mut harness = harness(&world, 30);
    let rows = rows(&harness, &records);
    assert!(rows.len() >= 3, "{} rows", rows.len());
    assert_ne!(rows[0].len(), rows[1].len(), "justified rows differ in length here");

    // From the third cell of the first row, Down lands in the second row on the cell
    // whose centre is nearest horizontally.
    harness.key_press(egui::Key::Home);
    harness.key_press(egui::Key::ArrowRight);
    harness.key_press(egui::Key::ArrowRight);
    harness.run_steps(2);
    let (from_id, from) = rows[0][2].clone();
    assert_eq!(harness.state().selection(), vec![from_id]);
    harness.key_press(egui::Key::ArrowDown);
    harness.run_steps(2);
    let nearest = rows[1]
        .iter()
        .min_by(|a, b| {
            let distance = |rect: &egui::Rect| (rect.center().x - from.center().x).abs();
            distance(&a.1).total_cmp(&distance(&b.1))
        })
        .unwrap();
    assert_eq!(harness.state().selection(), vec![nearest.0.clone()]);
    harness.key_press(egui::Key::ArrowUp);
    harness.run_steps(2);
    let back = rows[0]
        .iter()
        .min_by(|a, b| {
            let distance = |rect: &egui::Rect| (rect.center().x - nearest.1.center().x).abs();
            distance(&a.1).total_cmp(&distance(&b.1))
        })
        .unwrap();
    assert_eq!(harness.state().selection(), vec![back.0.clone()]);
}

#[test]
fn hover_buttons_star_and_open_an_image() {
    let world = world();
    let record = store(&world, "a cat on a windowsill", (120, 80), 1, None);
    let mut harness = harness(&world, 1);
    assert!(harness.query_by_label("Add to favourites").is_none(), "only on hover");
    harness.get_by_label("a cat on a windowsill").hover();
    harness.run_steps(2);
    harness.get_by_label("Add to favourites").click();
    step_until(&mut harness, "starred in the library", |_| {
        world.library.get(&record.id).unwrap().unwrap().favorite
    });
    assert_eq!(harness.state().viewer_image(), None, "the star opens nothing");
    harness.get_by_label("a cat on a windowsill").hover();
    harness.run_steps(2);
    harness.get_by_label("Remove from favourites");
    harness.get_by_label("Open in the viewer").click();
    step_until(&mut harness, "viewer", |app| {
        app.viewer_image() == Some(record.id.as_str())
    });
}

#[test]
fn dragging_a_cell_carries_its_images_and_selects_nothing() {
    let (world, run) = world_with_a_run();
    let mut harness = harness(&world, 6);
    let single = harness.state().gallery_records()[0].clone();
    let from = rect_of(&harness, &single.meta.prompt).center();
    harness.drag_at(from);
    harness.run_steps(1);
    for step in 1..=5 {
        harness.hover_at(from + egui::vec2(0.0, 30.0 * step as f32));
        harness.run_steps(1);
    }
    let payload = egui::DragAndDrop::payload::<DraggedImages>(&harness.ctx).expect("a drag payload");
    assert_eq!(payload.0, vec![single.id.clone()]);
    harness.drop_at(from + egui::vec2(0.0, 150.0));
    harness.run_steps(2);
    assert!(harness.state().selection().is_empty(), "a drag selects nothing");
    assert_eq!(harness.state().viewer_image(), None, "and opens nothing");

    // A folded run's cell carries all its images.
    let from = rect_of(&harness, &run[0].meta.prompt).center();
    harness.drag_at(from);
    harness.run_steps(1);
    for step in 1..=5 {
        harness.hover_at(from + egui::vec2(20.0 * step as f32, 0.0));
        harness.run_steps(1);
    }
    let payload = egui::DragAndDrop::payload::<DraggedImages>(&harness.ctx).expect("a drag payload");
    assert_eq!(payload.0.len(), 4);
    harness.drop_at(from);
    harness.run_steps(2);

    // A selected cell carries the whole selection.
    let records = harness.state().gallery_records().to_vec();
    let (newest, oldest) = (&records[0], &records[5]);
    for record in [newest, oldest] {
        harness
            .get_by_label(&record.meta.prompt)
            .click_modifiers(egui::Modifiers::COMMAND);
        harness.run_steps(1);
    }
    let from = rect_of(&harness, &oldest.meta.prompt).center();
    harness.drag_at(from);
    harness.run_steps(1);
    for step in 1..=5 {
        harness.hover_at(from - egui::vec2(0.0, 20.0 * step as f32));
        harness.run_steps(1);
    }
    let payload = egui::DragAndDrop::payload::<DraggedImages>(&harness.ctx).expect("a drag payload");
    assert_eq!(payload.0, vec![newest.id.clone(), oldest.id.clone()]);
    harness.drop_at(from);
    harness.run_steps(2);
}

#[test]
fn an_empty_library_shows_the_first_steps_and_an_empty_search_does_not() {
    let world = world();
    let mut harness = harness(&world, 0);
    harness.get_by_label("Your studio is ready");
    harness.get_by_label("Write a prompt in the panel on the left");
    harness.get_by_label("Press Generate (Ctrl+Enter): the demo provider works offline");
    harness.get_by_label("Drop images or folders here to import your history");
    let queries = harness.state().gallery_queries();
    harness.get_by_label("★ Favourites").click();
    step_until(&mut harness, "favourites", |app| {
        app.gallery_queries() > queries && !app.gallery_loading()
    });
    harness.run_steps(2);
    assert!(harness.query_by_label("Your studio is ready").is_none());
    harness.get_by_label("No image matches.");
}
