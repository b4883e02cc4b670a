//! Opening files with Pictor (`pictor FILE…`, the desktop's "Open with"): the window
//! imports them, or finds them when their pixels are already in the library, and shows
//! the first in the viewer; a later launch hands its files to the running window.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::path::PathBuf;

use egui_kittest::kittest::Queryable;
use pictor::instance::{Claim, claim};
use pictor::library::Query;
use support::window::{Launch, launched, step_until, studio};

const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

fn live_ids(studio: &support::window::Studio) -> HashSet<String> {
    studio
        .library
        .query(&Query::default())
        .unwrap()
        .into_iter()
        .map(|record| record.id)
        .collect()
}

/// A PNG whose pixels are in no library yet, written to `dir/name`.
fn new_png(dir: &std::path::Path, name: &str, seed: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, support::sample_png(40, 30, 1000 + seed)).unwrap();
    path
}

#[test]
fn files_given_at_launch_are_imported_and_the_first_is_shown() {
    let studio = studio(3);
    let before = live_ids(&studio);
    let files = tempfile::tempdir().unwrap();
    let first = new_png(files.path(), "first.png", 1);
    let second = new_png(files.path(), "second.png", 2);

    let mut harness = launched(
        &studio,
        WINDOW,
        Launch {
            open_files: vec![first, second],
            handed_files: None,
        },
    );
    step_until(&mut harness, "the first file in the viewer", |app| app.viewer_loaded());

    let after = live_ids(&studio);
    assert_eq!(after.len(), before.len() + 2, "both files were imported");
    let shown = harness.state().viewer_image().unwrap().to_owned();
    assert!(!before.contains(&shown), "the viewer shows a new image");
    let record = studio.library.get(&shown).unwrap().unwrap();
    assert_eq!(
        record.meta.source.as_ref().map(|source| source.file_name.as_str()),
        Some("first.png"),
        "the viewer shows the first file given"
    );
}

/// A file already in the library is found, not stored twice, and shown even when the
/// gallery's search would hide it.
#[test]
fn a_file_already_in_the_library_is_found_and_shown_past_the_search() {
    let studio = studio(3);
    let before = live_ids(&studio);
    let existing = studio.library.query(&Query::default()).unwrap().remove(0);
    let files = tempfile::tempdir().unwrap();
    let copy = files.path().join("copy.png");
    std::fs::copy(studio.library.image_path(&existing), &copy).unwrap();

    let mut harness = launched(&studio, WINDOW, Launch::default());
    step_until(&mut harness, "gallery loaded", |app| !app.gallery_loading());
    harness.get_by_label("Search").focus();
    harness.step();
    harness.get_by_label("Search").type_text("no image has these words");
    harness.step();
    step_until(&mut harness, "the search hides every image", |app| {
        !app.gallery_loading() && app.gallery_records().is_empty()
    });

    assert_eq!(
        harness.get_by_label("Search").value().unwrap_or_default(),
        "no image has these words"
    );
    harness.state_mut().open_files(vec![copy]);
    step_until(&mut harness, "the found image in the viewer", |app| app.viewer_loaded());

    assert_eq!(live_ids(&studio), before, "nothing was stored again");
    // Every image of the generated library has the same pixels: any of them is right.
    let shown = harness.state().viewer_image().unwrap();
    assert!(
        before.contains(shown),
        "the viewer shows an image that has these pixels"
    );
    // Back in the gallery (Escape), the search box is empty.
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "the viewer closed", |app| app.viewer_image().is_none());
    assert_eq!(
        harness.get_by_label("Search").value().unwrap_or_default(),
        "",
        "the search was cleared"
    );
}

/// A second launch while the window runs: its files go through the socket to this
/// window, which imports them and shows the first.
#[test]
fn a_later_launch_hands_its_files_to_the_running_window() {
    let studio = studio(2);
    let socket = studio.dir.path().join("instance.sock");
    let Claim::First(listener) = claim(&socket, &[]) else {
        panic!("no window ran yet: this one is the first");
    };
    let (sender, handed_files) = std::sync::mpsc::channel();
    listener.serve(move |files| sender.send(files).is_ok()).unwrap();
    let mut harness = launched(
        &studio,
        WINDOW,
        Launch {
            open_files: Vec::new(),
            handed_files: Some(handed_files),
        },
    );
    step_until(&mut harness, "gallery loaded", |app| !app.gallery_loading());
    let before = live_ids(&studio);

    let files = tempfile::tempdir().unwrap();
    let handed = new_png(files.path(), "handed.png", 3);
    assert!(
        matches!(claim(&socket, &[handed]), Claim::HandedOver),
        "the running window took the file"
    );
    step_until(&mut harness, "the handed file in the viewer", |app| app.viewer_loaded());

    let shown = harness.state().viewer_image().unwrap().to_owned();
    assert!(!before.contains(&shown));
    assert_eq!(live_ids(&studio).len(), before.len() + 1);
}
