//! Crash recovery on open, and several processes (here: handles) writing at once.
#![allow(clippy::unwrap_used)]

mod library_support;

use std::fs;
use std::sync::Arc;
use std::thread;

use library_support::*;
use pictor::library::{Library, LibraryPaths, Query, RecoveryReport};
use pictor::metadata::ImageMeta;

fn reopen(dir: &std::path::Path) -> Library {
    Library::open(LibraryPaths::in_dir(dir)).unwrap()
}

#[test]
fn leftover_temp_files_are_removed() {
    let (dir, library) = open_library();
    let kept = insert_prompt(&library, "kept", 0);
    drop(library);
    let month = dir.path().join("images/2024/05");
    let half_image = month.join(format!(".{}.png.tmp", ulid::Ulid::new()));
    let half_thumb = dir
        .path()
        .join("thumbs")
        .join(format!(".{}.jpg.tmp", ulid::Ulid::new()));
    fs::write(&half_image, b"half an image").unwrap();
    fs::write(&half_thumb, b"half a thumbnail").unwrap();
    let not_ours = month.join("notes.txt");
    fs::write(&not_ours, b"user file").unwrap();

    let library = reopen(dir.path());
    assert_eq!(
        library.recovery_report().unwrap(),
        RecoveryReport {
            temp_files_removed: 2,
            orphans_restored: 0,
            unreadable_moved: 0,
            missing_files: 0
        }
    );
    assert!(!half_image.exists() && !half_thumb.exists());
    assert!(not_ours.exists(), "files that are not ours are left alone");
    assert!(library.image_path(&kept).is_file());
    assert_eq!(library.count(&Query::default()).unwrap(), 1);
}

#[test]
fn orphan_file_is_restored_with_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    drop(reopen(dir.path()));
    // A crash after the rename and before the row: the file is there, the row is not.
    let id = ulid::Ulid::new().to_string();
    let relative = format!("images/2024/05/{id}.png");
    fs::create_dir_all(dir.path().join("images/2024/05")).unwrap();
    fs::write(dir.path().join(&relative), png_bytes(1328, 928)).unwrap();

    let embedded = ImageMeta {
        negative_prompt: "模糊".into(),
        seed: Some(7),
        ..meta("一幅传统的中国山水画", "qwen-image-max", MAY_2024_MS)
    };
    let reader = |bytes: &[u8]| -> Option<(ImageMeta, u32, u32)> {
        assert_eq!(
            bytes,
            png_bytes(1328, 928).as_slice(),
            "the reader gets the file's bytes"
        );
        Some((embedded.clone(), 1328, 928))
    };
    let library = Library::open_with(LibraryPaths::in_dir(dir.path()), &reader).unwrap();
    assert_eq!(library.recovery_report().unwrap().orphans_restored, 1);

    let record = library.get(&id).unwrap().unwrap();
    assert_eq!(record.meta, embedded);
    assert_eq!((record.width, record.height), (1328, 928));
    assert_eq!(record.file, std::path::PathBuf::from(&relative));
    assert!(!record.missing && record.deleted_ms.is_none());
    let search = Query {
        search: "山水".into(),
        ..Query::default()
    };
    assert_eq!(library.count(&search).unwrap(), 1);

    // Restored once: the next open finds nothing to do.
    drop(library);
    assert_eq!(reopen(dir.path()).recovery_report().unwrap(), RecoveryReport::default());
}

#[test]
fn default_open_restores_orphans_with_their_png_size() {
    let (dir, library) = open_library();
    let record = insert_prompt(&library, "lost row", 0);
    drop(library);
    // Simulate the crash by deleting the row behind the library's back.
    let raw = rusqlite::Connection::open(dir.path().join("library.sqlite3")).unwrap();
    raw.execute("DELETE FROM images", []).unwrap();
    drop(raw);

    let library = reopen(dir.path());
    assert_eq!(library.recovery_report().unwrap().orphans_restored, 1);
    let restored = library.get(&record.id).unwrap().unwrap();
    assert_eq!((restored.width, restored.height), (64, 48));
    assert_eq!(
        restored.meta.prompt, "",
        "the default reader does not read embedded metadata"
    );
    let id_time = i64::try_from(ulid::Ulid::from_string(&record.id).unwrap().timestamp_ms()).unwrap();
    assert_eq!(restored.meta.created_ms, id_time, "creation time taken from the ULID");
    assert_eq!(restored.file, record.file);
}

#[test]
fn files_not_named_like_library_images_are_not_restored() {
    let dir = tempfile::tempdir().unwrap();
    drop(reopen(dir.path()));
    let month = dir.path().join("images/2024/05");
    fs::create_dir_all(&month).unwrap();
    fs::write(month.join("holiday.png"), png_bytes(1, 1)).unwrap();
    fs::write(month.join(format!("{}.gif", ulid::Ulid::new())), b"GIF89a").unwrap();
    let library = reopen(dir.path());
    assert_eq!(library.recovery_report().unwrap().orphans_restored, 0);
    assert_eq!(library.count(&Query::default()).unwrap(), 0);
    assert!(month.join("holiday.png").exists());
}

#[test]
fn vanished_file_is_flagged_missing_and_can_be_removed() {
    let (dir, library) = open_library();
    let kept = insert_prompt(&library, "kept", 0);
    let gone = insert_prompt(&library, "gone", 1);
    let back = insert_prompt(&library, "comes back", 2);
    let back_bytes = fs::read(library.image_path(&back)).unwrap();
    fs::remove_file(library.image_path(&gone)).unwrap();
    fs::remove_file(library.image_path(&back)).unwrap();
    drop(library);

    let library = reopen(dir.path());
    assert_eq!(library.recovery_report().unwrap().missing_files, 2);
    assert!(library.get(&gone.id).unwrap().unwrap().missing);
    assert!(!library.get(&kept.id).unwrap().unwrap().missing);
    assert_eq!(library.count(&Query::default()).unwrap(), 3, "missing rows stay listed");

    // A file that reappears is no longer missing on the next open.
    fs::write(library.image_path(&back), back_bytes).unwrap();
    drop(library);
    let library = reopen(dir.path());
    assert_eq!(library.recovery_report().unwrap().missing_files, 1);
    assert!(!library.get(&back.id).unwrap().unwrap().missing);

    assert_eq!(library.remove_missing().unwrap(), 1);
    assert_eq!(library.get(&gone.id).unwrap(), None);
    assert!(!library.thumbnail_path(&gone.id).exists());
    assert_eq!(library.count(&Query::default()).unwrap(), 2);
    assert_eq!(library.remove_missing().unwrap(), 0);
}

#[test]
fn concurrent_writers_lose_nothing() {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let root = Arc::new(dir.path().to_path_buf());

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let root = Arc::clone(&root);
            thread::Builder::new()
                .name(format!("writer-{writer}"))
                .spawn(move || {
                    // Each thread is its own "process": its own handle and connections.
                    let library = Library::open(LibraryPaths::in_dir(&root)).unwrap();
                    (0..PER_WRITER)
                        .map(|n| {
                            let offset = i64::try_from(writer * PER_WRITER + n).unwrap();
                            insert_prompt(&library, &format!("writer {writer} image {n} 山水"), offset).id
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap()
        })
        .collect();
    // Meanwhile another "process" keeps opening the library, running recovery each time:
    // it must never take an insert in progress for crash debris.
    let opener = {
        let root = Arc::clone(&root);
        thread::Builder::new()
            .name("opener".into())
            .spawn(move || {
                (0..10)
                    .map(|_| {
                        Library::open(LibraryPaths::in_dir(&root))
                            .unwrap()
                            .recovery_report()
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap()
    };

    let mut ids: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    let reports = opener.join().unwrap();
    assert!(
        reports
            .iter()
            .all(|r| r.orphans_restored == 0 && r.temp_files_removed == 0),
        "{reports:?}"
    );

    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), WRITERS * PER_WRITER);
    let library = reopen(&root);
    assert_eq!(library.recovery_report().unwrap(), RecoveryReport::default());
    assert_eq!(library.count(&Query::default()).unwrap(), WRITERS * PER_WRITER);
    let search = Query {
        search: "山水".into(),
        ..Query::default()
    };
    assert_eq!(library.count(&search).unwrap(), WRITERS * PER_WRITER);
    let records = library.query(&Query::default()).unwrap();
    assert!(records.iter().all(|r| library.image_path(r).is_file()));
    assert!(temp_files(&root).is_empty());
}

#[test]
fn one_handle_shared_between_threads() {
    let (_dir, library) = open_library();
    let library = Arc::new(library);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let library = Arc::clone(&library);
            thread::Builder::new()
                .name(format!("thread-{t}"))
                .spawn(move || {
                    for n in 0..10 {
                        insert_prompt(&library, &format!("thread {t} image {n}"), n);
                        library.count(&Query::default()).unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(library.count(&Query::default()).unwrap(), 40);
}

#[test]
fn an_orphan_whose_pixels_do_not_decode_is_moved_aside_not_restored() {
    let dir = tempfile::tempdir().unwrap();
    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
    drop(library);
    let month = dir.path().join("images/2024/05");
    fs::create_dir_all(&month).unwrap();
    // A valid header and metadata, the pixel data cut short: what a crash leaves of an
    // image that was still being checked when the process died.
    let mut real_png = Vec::new();
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 90]))
        .write_to(&mut std::io::Cursor::new(&mut real_png), image::ImageFormat::Png)
        .unwrap();
    let whole = pictor::imaging::embed_metadata(
        &real_png,
        &meta("corrupt after its header", "qwen-image-plus", MAY_2024_MS),
    )
    .unwrap();
    let idat = whole.windows(4).position(|w| w == b"IDAT").unwrap();
    let corrupt = month.join(format!("{}.png", ulid::Ulid::new()));
    fs::write(&corrupt, &whole[..idat + 10]).unwrap();
    let sound = month.join(format!("{}.png", ulid::Ulid::new()));
    fs::write(&sound, &whole).unwrap();

    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
    let report = library.recovery_report().unwrap();
    assert_eq!((report.orphans_restored, report.unreadable_moved), (1, 1), "{report:?}");
    assert!(!corrupt.exists(), "the unreadable orphan left images/");
    let aside = dir.path().join("unreadable").join(corrupt.file_name().unwrap());
    assert_eq!(
        fs::read(&aside).unwrap(),
        &whole[..idat + 10],
        "moved aside whole, not deleted"
    );
    let rows = library.query(&Query::default()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].meta.prompt, "corrupt after its header");
    assert_eq!(library.image_path(&rows[0]), sound);
}
