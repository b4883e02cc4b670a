//! The gallery, viewer, search, trash, save/export and import, driven through the real
//! `PictorApp` with egui_kittest on a generated library of 1,000 images.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use pictor::api::provider::Provider;
use pictor::connection::Overrides;
use pictor::library::{Library, LibraryPaths, Query};
use pictor::secrets::{MemoryStore, SecretStore, Secrets};
use pictor::settings::{ExportFormat, LanguageChoice};
use pictor::ui::app::{AppDeps, PictorApp};
use pictor::ui::dialogs::ScriptedDialogs;

const IMAGES: usize = 1000;

struct World {
    runtime: tokio::runtime::Runtime,
    library: Arc<Library>,
    dialogs: Arc<ScriptedDialogs>,
    dir: tempfile::TempDir,
}

/// The harness window, in points.
const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

fn world(count: usize) -> World {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(Library::open(LibraryPaths::in_dir(&dir.path().join("library"))).unwrap());
    support::populate(&library, count);
    World {
        runtime,
        library,
        dialogs: Arc::new(ScriptedDialogs::default()),
        dir,
    }
}

fn harness(world: &World) -> Harness<'static, PictorApp> {
    let deps = AppDeps {
        secrets: Secrets::with_store(Some(Arc::new(MemoryStore::default()) as Arc<dyn SecretStore>)),
        library: Arc::clone(&world.library),
        runtime: world.runtime.handle().clone(),
        overrides: Overrides {
            provider: Some(Provider::Demo),
            base_url: None,
            allow_insecure_http: false,
        },
        demo_base_url: "http://127.0.0.1:9".into(),
        dialogs: world.dialogs.clone(),
        open_files: Vec::new(),
        handed_files: None,
    };
    let mut harness = Harness::builder()
        .with_size(WINDOW)
        .build_eframe(move |cc| PictorApp::new(cc, deps));
    harness.state_mut().set_language(LanguageChoice::English);
    step_until(&mut harness, "gallery loaded", |app| {
        !app.gallery_loading() && !app.gallery_records().is_empty()
    });
    harness
}

fn step_until(harness: &mut Harness<'_, PictorApp>, what: &str, done: impl Fn(&PictorApp) -> bool) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for: {what}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

fn wait_for_file(harness: &mut Harness<'_, PictorApp>, path: &std::path::Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no file at {}",
            path.display()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn scrolls_to_the_oldest_image() {
    let world = world(IMAGES);
    let mut harness = harness(&world);
    assert_eq!(harness.state().gallery_records().len(), IMAGES);
    assert!(
        harness.query_by_label("the very first image").is_none(),
        "only visible cells exist"
    );
    let first = harness.state().gallery_records()[0].meta.prompt.clone();
    harness.get_by_label(&first).hover();
    for _ in 0..200 {
        if harness.query_by_label("the very first image").is_some() {
            break;
        }
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -4000.0),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        harness.step();
    }
    harness.get_by_label("the very first image");
    let (bytes, textures) = harness.state().thumbnail_texture_stats();
    assert!(
        textures <= pictor::ui::thumbnails::DEFAULT_CAPACITY,
        "{textures} textures, {bytes} bytes"
    );
}

#[test]
fn viewer_opens_steps_and_closes() {
    let world = world(50);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    harness.get_by_label(&records[0].meta.prompt).click();
    step_until(&mut harness, "viewer loaded", |app| app.viewer_loaded());
    assert_eq!(harness.state().viewer_image(), Some(records[0].id.as_str()));
    harness.get_by_label("Use these settings");
    harness.key_press(egui::Key::ArrowRight);
    step_until(&mut harness, "next image", |app| {
        app.viewer_image() == Some(records[1].id.as_str())
    });
    harness.key_press(egui::Key::ArrowLeft);
    step_until(&mut harness, "previous image", |app| {
        app.viewer_image() == Some(records[0].id.as_str())
    });
    harness.get_by_label("Use these settings").click();
    harness.step();
    let params = harness.state().form_params();
    assert_eq!(params.prompt, records[0].meta.prompt);
    assert_eq!(params.seed, records[0].meta.seed);
    assert!(
        harness.state().viewer_image().is_none(),
        "using the settings returns to the compose panel"
    );
    harness.run_steps(2);
    harness.get_by_label(&records[2].meta.prompt).click();
    step_until(&mut harness, "viewer open", |app| app.viewer_image().is_some());
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "viewer closed", |app| app.viewer_image().is_none());
}

#[test]
fn search_finds_a_chinese_word_and_the_favourite_filter_narrows() {
    let world = world(IMAGES);
    let mut harness = harness(&world);
    harness.get_by_label("Search").focus();
    harness.step();
    harness.get_by_label("Search").type_text("山水");
    step_until(&mut harness, "search results", |app| {
        !app.gallery_loading() && app.gallery_records().iter().all(|r| r.meta.prompt.contains("山水"))
    });
    let expected = (1..IMAGES).filter(|i| i % 7 == 0).count();
    assert_eq!(harness.state().gallery_records().len(), expected);
    harness.get_by_label("★ Favourites").click();
    step_until(&mut harness, "favourites", |app| {
        !app.gallery_loading() && app.gallery_records().iter().all(|r| r.favorite)
    });
    let both = (1..IMAGES).filter(|i| i % 7 == 0 && i % 10 == 0).count();
    assert_eq!(harness.state().gallery_records().len(), both);
}

#[test]
fn delete_then_undo_and_trash_then_restore() {
    let world = world(30);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    harness
        .get_by_label(&records[0].meta.prompt)
        .click_modifiers(egui::Modifiers::COMMAND);
    harness.step();
    assert_eq!(harness.state().selection(), vec![records[0].id.clone()]);
    harness.key_press(egui::Key::Delete);
    step_until(&mut harness, "trashed", |app| {
        app.notice_text().is_some_and(|t| t.contains("moved to the trash"))
    });
    assert_eq!(world.library.count(&Query::default()).unwrap(), 29);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "restored", |app| {
        app.gallery_records().len() == 30 && !app.gallery_loading()
    });
    assert_eq!(world.library.count(&Query::default()).unwrap(), 30);

    harness
        .get_by_label(&records[1].meta.prompt)
        .click_modifiers(egui::Modifiers::COMMAND);
    harness
        .get_by_label(&records[2].meta.prompt)
        .click_modifiers(egui::Modifiers::COMMAND);
    harness.step();
    harness.get_by_label("Move to trash").click();
    step_until(&mut harness, "two trashed", |app| {
        app.notice_text().is_some_and(|t| t.contains("2 moved"))
    });
    harness.get_by_label("🗑 Trash").click();
    step_until(&mut harness, "trash view", |app| {
        !app.gallery_loading() && app.gallery_records().len() == 2
    });
    harness.get_by_label("Select all").click();
    harness.run_steps(2);
    harness.get_by_label("Restore").click();
    step_until(&mut harness, "restored from trash", |app| {
        !app.gallery_loading() && app.gallery_records().is_empty()
    });
    assert_eq!(world.library.count(&Query::default()).unwrap(), 30);
}

#[test]
fn save_as_writes_a_png_that_carries_the_prompt() {
    let world = world(5);
    let target = world.dir.path().join("saved.png");
    world
        .dialogs
        .save_answers
        .lock()
        .unwrap()
        .push_back(Some(target.clone()));
    let mut harness = harness(&world);
    let record = harness.state().gallery_records()[0].clone();
    harness.get_by_label(&record.meta.prompt).click();
    step_until(&mut harness, "viewer", |app| app.viewer_image().is_some());
    harness.get_by_label("Save as…").click();
    wait_for_file(&mut harness, &target);
    let bytes = std::fs::read(&target).unwrap();
    let meta = pictor::imaging::read_metadata(&bytes).unwrap();
    assert_eq!(meta.prompt, record.meta.prompt);
    assert!(pictor::imaging::decode(&bytes, &Default::default()).is_ok());
}

#[test]
fn without_a_dialog_backend_save_goes_to_the_export_folder_and_says_so() {
    let mut world = world(3);
    world.dialogs = Arc::new(ScriptedDialogs {
        unavailable: true,
        ..Default::default()
    });
    let mut harness = harness(&world);
    let export_dir = world.dir.path().join("exports");
    harness.state_mut().settings_mut().export_dir = Some(export_dir.clone());
    let record = harness.state().gallery_records()[0].clone();
    harness.get_by_label(&record.meta.prompt).click();
    step_until(&mut harness, "viewer", |app| app.viewer_image().is_some());
    harness.get_by_label("Save as…").click();
    step_until(&mut harness, "notice", |app| {
        app.notice_text().is_some_and(|t| t.contains("No file dialog"))
    });
    assert_eq!(std::fs::read_dir(&export_dir).unwrap().count(), 1);
}

/// A harness exporting as `format`, whose folder dialog answers `export/` in the test
/// folder, with the three newest images selected; the folder and the records.
fn three_selected_for_export(
    world: &World,
    format: ExportFormat,
) -> (Harness<'static, PictorApp>, PathBuf, Vec<pictor::library::ImageRecord>) {
    let folder = world.dir.path().join("export");
    world
        .dialogs
        .folder_answers
        .lock()
        .unwrap()
        .push_back(Some(folder.clone()));
    let mut harness = harness(world);
    harness.state_mut().settings_mut().export_format = format;
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    for record in &records[..3] {
        harness
            .get_by_label(&record.meta.prompt)
            .click_modifiers(egui::Modifiers::COMMAND);
        harness.step();
    }
    (harness, folder, records)
}

#[test]
fn export_of_three_images_as_webp() {
    let world = world(10);
    let (mut harness, folder, records) = three_selected_for_export(&world, ExportFormat::WebP);
    harness.get_by_label("Export selected…").click();
    step_until(&mut harness, "exported", |app| {
        app.notice_text().is_some_and(|t| t.starts_with("Exported 3"))
    });
    let files: Vec<PathBuf> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 3);
    let mut exported_prompts = Vec::new();
    for file in files {
        assert_eq!(file.extension().unwrap(), "webp");
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(pictor::imaging::sniff(&bytes), Some(pictor::imaging::ImageFormat::WebP));
        assert!(bytes.windows(4).any(|w| w == b"VP8 "), "lossy at the quality setting");
        exported_prompts.push(pictor::imaging::read_metadata(&bytes).unwrap().prompt);
    }
    let mut selected_prompts: Vec<String> = records[..3].iter().map(|r| r.meta.prompt.clone()).collect();
    exported_prompts.sort();
    selected_prompts.sort();
    assert_eq!(
        exported_prompts, selected_prompts,
        "each file carries its own parameters"
    );
}

#[test]
fn enter_in_a_form_field_does_not_open_the_focused_image() {
    let world = world(5);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    harness.get_by_label(&records[1].meta.prompt).click();
    harness.run_steps(2);
    assert_eq!(harness.state().viewer_image(), Some(records[1].id.as_str()));
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    assert_eq!(harness.state().viewer_image(), None);

    let model_field = harness
        .get_all_by_label("Model")
        .find(|node| node.accesskit_node().role() == egui::accesskit::Role::TextInput)
        .unwrap();
    model_field.focus();
    harness.run_steps(2);
    harness.key_press(egui::Key::Enter);
    harness.run_steps(3);
    assert_eq!(harness.state().viewer_image(), None, "Enter belonged to the field");

    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    assert_eq!(
        harness.state().viewer_image(),
        Some(records[1].id.as_str()),
        "with no field focused, Enter opens the focused image"
    );
}

/// The cell labelled `prompt` lies inside the window, not in the extra row below it.
fn assert_fully_visible(harness: &Harness<'static, PictorApp>, prompt: &str) {
    let rect = harness.get_by_label(prompt).rect();
    assert!(
        rect.top() >= 0.0 && rect.bottom() <= WINDOW.y,
        "{prompt}: {rect:?} is not inside the {WINDOW:?} window"
    );
}

#[test]
fn the_keyboard_walks_the_grid_scrolls_to_the_end_and_opens_an_image() {
    let world = world(IMAGES);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    let last = records.last().unwrap();
    assert!(
        harness.query_by_label(&last.meta.prompt).is_none(),
        "off screen at first"
    );

    harness.key_press(egui::Key::ArrowRight);
    harness.key_press(egui::Key::ArrowRight);
    harness.run_steps(2);
    assert_eq!(harness.state().selection(), vec![records[1].id.clone()]);
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowRight);
    harness.run_steps(2);
    assert_eq!(harness.state().selection().len(), 2);

    // Down twelve rows from the top: the grid must scroll so the focused cell is on screen.
    harness.key_press(egui::Key::Home);
    for _ in 0..12 {
        harness.key_press(egui::Key::ArrowDown);
        harness.run_steps(2);
    }
    let selection = harness.state().selection();
    let focused = records.iter().position(|r| r.id == selection[0]).unwrap();
    assert!(focused >= 12, "twelve rows down: image {focused}");
    assert_fully_visible(&harness, &records[focused].meta.prompt);

    harness.key_press(egui::Key::End);
    harness.run_steps(3);
    assert_eq!(harness.state().selection(), vec![last.id.clone()]);
    assert_fully_visible(&harness, &last.meta.prompt);
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    assert_eq!(harness.state().viewer_image(), Some(last.id.as_str()));

    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    assert_eq!(harness.state().viewer_image(), None);
    harness.key_press(egui::Key::Home);
    harness.run_steps(3);
    assert_eq!(harness.state().selection(), vec![records[0].id.clone()]);
    harness.get_by_label(&records[0].meta.prompt);
    assert!(harness.query_by_label(&last.meta.prompt).is_none(), "scrolled back up");
}

#[test]
fn the_context_menu_stars_and_trashes_one_image_and_restores_it_from_the_trash() {
    let world = world(6);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    let target = &records[2];
    assert!(!target.favorite);
    let favorites = Query {
        favorites_only: true,
        ..Query::default()
    };
    let favorites_before = world.library.count(&favorites).unwrap();

    harness.get_by_label(&target.meta.prompt).click_secondary();
    harness.run_steps(2);
    harness.get_by_label("★ Favourite").click();
    step_until(&mut harness, "starred", |app| {
        app.gallery_records().iter().any(|r| r.id == target.id && r.favorite)
    });
    let started = Instant::now();
    while world.library.count(&favorites).unwrap() != favorites_before + 1 {
        assert!(started.elapsed() < Duration::from_secs(20), "the star was not stored");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        harness.state().viewer_image(),
        None,
        "the menu does not open the viewer"
    );

    harness.get_by_label(&target.meta.prompt).click_secondary();
    harness.run_steps(2);
    harness.get_by_label("Move to trash").click();
    step_until(&mut harness, "trashed", |app| {
        app.notice_text().is_some_and(|t| t.contains("moved to the trash"))
    });
    assert_eq!(world.library.count(&Query::default()).unwrap(), 5);
    assert_eq!(harness.state().viewer_image(), None, "nothing opens in its place");

    harness.get_by_label("🗑 Trash").click();
    step_until(&mut harness, "trash view", |app| {
        !app.gallery_loading() && app.gallery_records().len() == 1
    });
    harness.get_by_label(&target.meta.prompt).click_secondary();
    harness.run_steps(2);
    harness.get_by_label("Restore").click();
    step_until(&mut harness, "restored", |app| {
        app.notice_text().is_some_and(|t| t.contains("1 restored"))
    });
    assert_eq!(world.library.count(&Query::default()).unwrap(), 6);
}

#[test]
fn emptying_the_trash_asks_first_and_cancel_keeps_every_file() {
    let world = world(5);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    let files: Vec<_> = records[..2].iter().map(|r| world.library.image_path(r)).collect();
    world
        .library
        .trash(&[records[0].id.clone(), records[1].id.clone()])
        .unwrap();
    harness.get_by_label("🗑 Trash").click();
    step_until(&mut harness, "trash view", |app| {
        !app.gallery_loading() && app.gallery_records().len() == 2
    });

    harness.get_by_label("Empty trash").click();
    harness.run_steps(2);
    harness.get_by_label("Empty the trash?");
    harness.get_by_label("Cancel").click();
    // Give any background work a cancel might (wrongly) have started time to finish.
    for _ in 0..30 {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        harness.query_by_label("Empty the trash?").is_none(),
        "the question went away"
    );
    assert!(files.iter().all(|f| f.exists()), "cancel deletes nothing");
    assert_eq!(
        world
            .library
            .count(&Query {
                trash: true,
                ..Query::default()
            })
            .unwrap(),
        2
    );

    harness.get_by_label("Empty trash").click();
    harness.run_steps(2);
    harness.get_by_label("Delete for good").click();
    step_until(&mut harness, "emptied", |app| {
        app.notice_text().is_some_and(|t| t.contains("deleted for good"))
    });
    assert!(files.iter().all(|f| !f.exists()), "the files are gone");
    assert_eq!(
        world
            .library
            .count(&Query {
                trash: true,
                ..Query::default()
            })
            .unwrap(),
        0
    );
    assert_eq!(world.library.count(&Query::default()).unwrap(), 3);
}

#[test]
fn an_export_where_one_file_fails_says_so_and_writes_the_others() {
    let world = world(10);
    let (mut harness, folder, records) = three_selected_for_export(&world, ExportFormat::Jpeg);
    std::fs::remove_file(world.library.image_path(&records[1])).unwrap();
    harness.get_by_label("Export selected…").click();
    step_until(&mut harness, "exported", |app| {
        app.notice_text().is_some_and(|t| t.starts_with("Exported"))
    });
    let notice = harness.state().notice_text().unwrap().to_owned();
    assert!(notice.starts_with("Exported 2 to "), "{notice}");
    assert!(notice.contains("1 failed, the first: "), "{notice}");
    assert!(notice.contains("cannot read"), "{notice}");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 2);
}

#[test]
fn import_of_pngsuite_reports_the_corrupt_files_and_keeps_the_good_ones() {
    let world = world(1);
    let files: Vec<PathBuf> = std::fs::read_dir(support::pngsuite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    let corrupt = files
        .iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('x'))
        .count();
    assert!(corrupt > 5 && files.len() > 100);
    world
        .dialogs
        .image_answers
        .lock()
        .unwrap()
        .push_back(Some(files.clone()));
    let mut harness = harness(&world);
    harness.get_by_label("Import…").click();
    step_until(&mut harness, "imported", |app| {
        app.notice_text().is_some_and(|t| t.starts_with("Imported"))
    });
    // PngSuite holds the same pictures several times (interlaced and not, other chunks):
    // each distinct set of pixels is stored once.
    let distinct: std::collections::HashSet<String> = files
        .iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('x'))
        .map(|p| {
            let image = pictor::imaging::decode(&std::fs::read(p).unwrap(), &Default::default()).unwrap();
            pictor::imaging::pixel_hash(&image)
        })
        .collect();
    let good = files.len() - corrupt;
    assert!(distinct.len() < good, "the suite does repeat pictures");
    let expected = format!(
        "Imported {} · {} already in the library · {corrupt} failed",
        distinct.len(),
        good - distinct.len()
    );
    assert_eq!(harness.state().notice_text(), Some(expected.as_str()));
    harness.get_by_label("Files not imported");
    assert_eq!(world.library.count(&Query::default()).unwrap(), 1 + distinct.len());
}

#[test]
fn an_a1111_png_imports_with_its_settings() {
    let world = world(1);
    let a1111 = "a castle on a hill, golden hour\nNegative prompt: fog, people\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 12345, Size: 1328x1328, Model: qwen-image";
    let png = pictor::imaging::embed_png_text(&support::sample_png(40, 40, 3), &[("parameters", a1111)]).unwrap();
    let file = world.dir.path().join("castle.png");
    std::fs::write(&file, png).unwrap();
    let mut harness = harness(&world);
    harness.state_mut().import_paths(vec![file]);
    step_until(&mut harness, "imported", |app| app.gallery_records().len() == 2);
    let record = harness
        .state()
        .gallery_records()
        .iter()
        .find(|r| r.meta.prompt.contains("castle"))
        .unwrap()
        .clone();
    assert_eq!(record.meta.negative_prompt, "fog, people");
    assert_eq!(record.meta.seed, Some(12345));
    harness.get_by_label(&record.meta.prompt).click();
    step_until(&mut harness, "viewer", |app| app.viewer_image().is_some());
    harness.get_by_label("Use these settings").click();
    harness.step();
    let params = harness.state().form_params();
    assert_eq!(params.prompt, "a castle on a hill, golden hour");
    assert_eq!(params.seed, Some(12345));
    assert_eq!(params.size, pictor::api::request::Size::new(1328, 1328));
}

#[test]
fn starring_during_an_export_keeps_the_exports_progress_and_only_row_changes_requery() {
    let world = world(10);
    let (gate, held) = std::sync::mpsc::channel::<()>();
    *world.dialogs.folder_gate.lock().unwrap() = Some(held);
    let (mut harness, folder, records) = three_selected_for_export(&world, ExportFormat::Png);
    let queries_before = harness.state().gallery_queries();
    harness.get_by_label("Export selected…").click();
    harness.run_steps(3);
    // The export waits in its folder dialog; its progress line shows.
    assert_eq!(harness.state().running_tasks(), 1);
    harness.get_by_label_contains("Exporting");
    // Meanwhile a star (F on the selection) starts and ends as its own task.
    harness.key_press(egui::Key::F);
    step_until(&mut harness, "star stored", |_| {
        world.library.get(&records[0].id).unwrap().unwrap().favorite
    });
    step_until(&mut harness, "star task done", |app| app.running_tasks() == 1);
    harness.get_by_label_contains("Exporting");
    assert_eq!(
        harness.state().gallery_queries(),
        queries_before,
        "starring updates the rows in place; no new query"
    );
    // The user picks the folder: the export ends, and (no row changed) the gallery does not re-query.
    drop(gate);
    step_until(&mut harness, "exported", |app| {
        app.notice_text().is_some_and(|t| t.starts_with("Exported 3"))
    });
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 3);
    assert_eq!(harness.state().running_tasks(), 0);
    assert!(harness.query_by_label_contains("Exporting").is_none());
    assert_eq!(
        harness.state().gallery_queries(),
        queries_before,
        "an export changes no row"
    );
    // A trash changes rows: one new query.
    harness.key_press(egui::Key::Delete);
    step_until(&mut harness, "trashed", |app| {
        app.notice_text().is_some_and(|t| t.contains("moved to the trash"))
    });
    assert_eq!(harness.state().gallery_queries(), queries_before + 1);
}

#[test]
fn a_watched_folder_imports_new_images_as_they_arrive_and_stops_when_removed() {
    let world = world(1);
    let watched = world.dir.path().join("comfy output");
    std::fs::create_dir_all(&watched).unwrap();
    world
        .dialogs
        .folder_answers
        .lock()
        .unwrap()
        .push_back(Some(watched.clone()));
    let mut harness = harness(&world);
    harness.get_by_label("⚙ Settings").click();
    support::window::wait_until_settled(&mut harness, "Watch a folder…");
    harness.get_by_label("Watch a folder…").click();
    let shown = watched.display().to_string();
    let started = std::time::Instant::now();
    while harness.query_by_label(&shown).is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the folder is listed"
        );
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(15));
    }
    harness.run_steps(2);
    // Another tool writes an image into it: it is imported with its prompt.
    let a1111 = "a paper boat on a pond\nNegative prompt: blur\nSteps: 20, Seed: 77, Size: 40x40";
    let png = pictor::imaging::embed_png_text(&support::sample_png(40, 40, 11), &[("parameters", a1111)]).unwrap();
    std::fs::write(watched.join("00007-77.png"), png).unwrap();
    step_until(&mut harness, "imported from the watched folder", |_| {
        world.library.count(&Query::default()).unwrap() == 2
    });
    let boat = world
        .library
        .query(&Query::default())
        .unwrap()
        .into_iter()
        .find(|r| r.meta.prompt == "a paper boat on a pond");
    assert!(boat.is_some(), "arrived with its prompt");

    // Stop watching: a later file stays where it is.
    harness.get_by_label("Stop watching").click();
    harness.run_steps(3);
    std::fs::write(watched.join("00008-78.png"), support::sample_png(40, 40, 12)).unwrap();
    std::thread::sleep(pictor::watch::SETTLE_TIME + std::time::Duration::from_secs(1));
    harness.run_steps(5);
    assert_eq!(world.library.count(&Query::default()).unwrap(), 2);
}

#[test]
fn without_a_dialog_backend_a_folder_to_watch_is_typed_in() {
    let mut world = world(1);
    world.dialogs = Arc::new(ScriptedDialogs {
        unavailable: true,
        ..Default::default()
    });
    let watched = world.dir.path().join("typed in");
    std::fs::create_dir_all(&watched).unwrap();
    let mut harness = harness(&world);
    harness.get_by_label("⚙ Settings").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Watch a folder…").is_none(), "no dialog to open");
    let field = harness.get_by_label("No file dialog is available on this system: type the folder's path");
    field.focus();
    harness.run_steps(1);
    field_type(&mut harness, &watched.display().to_string());
    harness.get_by_label("Watch").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state_mut().settings_mut().watched_folders,
        vec![watched.clone()]
    );
    std::fs::write(watched.join("new.png"), support::sample_png(30, 30, 5)).unwrap();
    step_until(&mut harness, "imported from the typed folder", |_| {
        world.library.count(&Query::default()).unwrap() == 2
    });
}

fn field_type(harness: &mut Harness<'_, PictorApp>, text: &str) {
    harness.input_mut().events.push(egui::Event::Text(text.to_owned()));
    harness.run_steps(1);
}

#[test]
fn keys_1_to_5_rate_the_selection_and_the_gallery_filters_by_stars() {
    use pictor::library::Query;
    let world = world(3);
    let mut harness = harness(&world);
    let records: Vec<_> = harness.state().gallery_records().to_vec();
    // Select the first image and press 4.
    harness.get_by_label(&records[0].meta.prompt).click();
    step_until(&mut harness, "viewer", |app| app.viewer_image().is_some());
    harness.key_press(egui::Key::Num4);
    step_until(&mut harness, "rated in the library", |_| {
        world.library.get(&records[0].id).unwrap().unwrap().rating == 4
    });
    // 0 clears.
    harness.key_press(egui::Key::Num0);
    step_until(&mut harness, "cleared", |_| {
        world.library.get(&records[0].id).unwrap().unwrap().rating == 0
    });
    harness.key_press(egui::Key::Num2);
    step_until(&mut harness, "rated 2", |_| {
        world.library.get(&records[0].id).unwrap().unwrap().rating == 2
    });
    let at_least = |stars| Query {
        min_rating: Some(stars),
        ..Query::default()
    };
    assert_eq!(world.library.count(&at_least(2)).unwrap(), 1);
    // Back in the gallery, 5 rates the whole selection.
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness.key_press(egui::Key::Num5);
    step_until(&mut harness, "all rated 5", |_| {
        world.library.count(&at_least(5)).unwrap() == 3
    });
    assert!(harness.state().gallery_records().iter().all(|r| r.rating == 5));
}

#[test]
fn the_viewer_marks_what_the_service_rewrote_and_the_revised_prompt_can_be_used() {
    let world = world(0);
    let meta = pictor::metadata::ImageMeta {
        prompt: "a lighthouse in the fog".into(),
        revised_prompt: Some("a lighthouse in the fog, soft natural light, fine detail".into()),
        model: "qwen-image-plus".into(),
        size: "1328*1328".into(),
        provider: "demo".into(),
        created_ms: pictor::metadata::ImageMeta::now_ms(),
        ..Default::default()
    };
    pictor::generate::store_blocking(&world.library, &support::sample_png(40, 30, 8), &meta).unwrap();
    let mut harness = harness(&world);
    step_until(&mut harness, "gallery", |app| app.gallery_records().len() == 1);
    harness.get_by_label("a lighthouse in the fog").click();
    step_until(&mut harness, "viewer", |app| app.viewer_image().is_some());
    harness.run_steps(2);
    // The revised prompt is shown whole (its added words marked), with the action.
    harness.get_by_label("a lighthouse in the fog, soft natural light, fine detail");
    harness.get_by_label("Use the revised prompt").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().form_params().prompt,
        "a lighthouse in the fog, soft natural light, fine detail"
    );
}
