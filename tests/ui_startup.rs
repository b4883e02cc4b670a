//! The window's first frames never wait for the library: it opens on its own thread,
//! the gallery shows placeholders until its rows arrive, and a library that cannot be
//! opened is explained in the window instead of keeping it from appearing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use egui_kittest::kittest::Queryable;
use pictor::library::{Library, LibraryPaths};
use support::window::{first_frames, step_until, studio, wait_for_label};

const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

/// Another process holds the library's write lock while the window starts (the open's
/// recovery needs it): the window draws frame after frame with placeholders, and the
/// images appear once the lock is released.
#[test]
fn the_window_draws_while_the_library_is_still_opening() {
    let mut studio = studio(3);
    let paths = studio.library.paths().clone();
    let holder = rusqlite::Connection::open(paths.database_file()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    studio.library = Arc::new(pictor::generate::open_library_in_background(paths));

    let mut harness = first_frames(&studio, WINDOW);
    for _ in 0..5 {
        harness.step();
    }
    assert!(
        studio.library.is_opening(),
        "the frames above ran while the library was opening"
    );
    harness.get_by_label("Loading the library…");
    assert!(harness.query_by_label("Your studio is ready").is_none());
    // The compose panel works meanwhile.
    harness.get_by_label("Prompt").type_text("a lantern");
    harness.step();

    holder.execute_batch("COMMIT").unwrap();
    step_until(&mut harness, "three images", |app| app.gallery_records().len() == 3);
    assert!(harness.query_by_label("Loading the library…").is_none());
}

#[test]
fn a_library_that_cannot_be_opened_is_explained_in_the_window() {
    let mut studio = studio(0);
    let blocker = studio.dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"").unwrap();
    studio.library = Arc::new(Library::open_in_background(
        LibraryPaths::in_dir(&blocker),
        &|_: &[u8]| None,
    ));

    let mut harness = first_frames(&studio, WINDOW);
    wait_for_label(&mut harness, "Pictor could not open your library");
    harness.get_by_label(&blocker.display().to_string());
    assert!(harness.query_by_label("Your studio is ready").is_none());
    assert!(harness.query_by_label("Loading the library…").is_none());
}
