//! Adding, reading, filtering and deleting images; pending downloads.
#![allow(clippy::unwrap_used)]

mod library_support;
mod mount_support;

use std::fs;

use library_support::*;
use pictor::ErrorKind;
use pictor::library::{Library, LibraryPaths, NewImage, PendingDownload, Query};
use pictor::metadata::ImageMeta;

const DAY_MS: i64 = 86_400_000;

#[test]
fn insert_get_and_query_round_trip_with_chinese() {
    let (dir, library) = open_library();
    let meta = ImageMeta {
        negative_prompt: "模糊, 低质量".into(),
        revised_prompt: Some("一幅宁静的中国传统山水画，远山含黛".into()),
        seed: Some(2_147_483_647),
        prompt_extend: true,
        watermark: true,
        request_id: Some("req-山水".into()),
        ..meta("一幅传统的中国山水画", "qwen-image-plus", MAY_2024_MS)
    };
    let record = insert_meta(&library, &meta);

    assert_eq!(record.meta, meta);
    assert_eq!((record.width, record.height), (64, 48));
    assert!(!record.favorite && !record.missing && record.deleted_ms.is_none());
    assert_eq!(record.id.len(), 26, "a ULID");
    let expected_file = std::path::Path::new("images/2024/05").join(format!("{}.png", record.id));
    assert_eq!(record.file, expected_file);
    assert_eq!(library.image_path(&record), dir.path().join(&expected_file));
    assert_eq!(fs::read(library.image_path(&record)).unwrap(), png_bytes(64, 48));
    assert_eq!(fs::read(library.thumbnail_path(&record.id)).unwrap(), THUMBNAIL);

    assert_eq!(library.get(&record.id).unwrap(), Some(record.clone()));
    assert_eq!(library.get("01NOTANID").unwrap(), None);
    assert_eq!(library.query(&Query::default()).unwrap(), vec![record]);
    assert!(temp_files(dir.path()).is_empty());

    // A second handle on the same folder sees the same row.
    let reopened = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    assert_eq!(reopened.query(&Query::default()).unwrap().len(), 1);
    assert_eq!(reopened.recovery_report().unwrap(), library.recovery_report().unwrap());
}

#[test]
fn query_lists_newest_first_with_paging() {
    let (_dir, library) = open_library();
    let old = insert_prompt(&library, "old", 0);
    let newest = insert_prompt(&library, "newest", 2_000);
    let middle = insert_prompt(&library, "middle", 1_000);
    let ids = |query: &Query| -> Vec<String> { library.query(query).unwrap().into_iter().map(|r| r.id).collect() };
    assert_eq!(
        ids(&Query::default()),
        vec![newest.id.clone(), middle.id.clone(), old.id.clone()]
    );
    assert_eq!(
        ids(&Query {
            limit: Some(2),
            ..Query::default()
        }),
        vec![newest.id, middle.id.clone()]
    );
    assert_eq!(
        ids(&Query {
            limit: Some(1),
            offset: 1,
            ..Query::default()
        }),
        vec![middle.id]
    );
    assert_eq!(
        library
            .count(&Query {
                limit: Some(1),
                ..Query::default()
            })
            .unwrap(),
        3
    );
}

#[test]
fn favorites_filter() {
    let (_dir, library) = open_library();
    let a = insert_prompt(&library, "a", 0);
    let b = insert_prompt(&library, "b", 1);
    let _c = insert_prompt(&library, "c", 2);
    let favorites = Query {
        favorites_only: true,
        ..Query::default()
    };
    assert_eq!(library.count(&favorites).unwrap(), 0);

    assert_eq!(
        library
            .set_favorite(&[a.id.clone(), b.id.clone(), "nope".into()], true)
            .unwrap(),
        2
    );
    let found = library.query(&favorites).unwrap();
    assert_eq!(
        found.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec![b.id.as_str(), a.id.as_str()]
    );
    assert!(found.iter().all(|r| r.favorite));

    assert_eq!(library.set_favorite(std::slice::from_ref(&a.id), false).unwrap(), 1);
    assert_eq!(library.count(&favorites).unwrap(), 1);
    assert!(!library.get(&a.id).unwrap().unwrap().favorite);
}

#[test]
fn model_and_date_filters() {
    let (_dir, library) = open_library();
    let day1 = insert_meta(&library, &meta("one", "qwen-image-plus", MAY_2024_MS));
    let day2 = insert_meta(&library, &meta("two", "wan2.2-t2i-flash", MAY_2024_MS + DAY_MS));
    let day3 = insert_meta(&library, &meta("three", "qwen-image-plus", MAY_2024_MS + 2 * DAY_MS));
    let ids = |query: Query| -> Vec<String> { library.query(&query).unwrap().into_iter().map(|r| r.id).collect() };

    let qwen = Query {
        model: Some("qwen-image-plus".into()),
        ..Query::default()
    };
    assert_eq!(ids(qwen.clone()), vec![day3.id.clone(), day1.id.clone()]);
    assert_eq!(
        ids(Query {
            model: Some("wan2.2-t2i-flash".into()),
            ..Query::default()
        }),
        vec![day2.id.clone()]
    );
    assert!(
        ids(Query {
            model: Some("unknown".into()),
            ..Query::default()
        })
        .is_empty()
    );
    assert_eq!(
        ids(Query {
            model: Some(" ".into()),
            ..Query::default()
        })
        .len(),
        3
    );

    // since is inclusive, until exclusive.
    let from_day2 = Query {
        since_ms: Some(MAY_2024_MS + DAY_MS),
        ..Query::default()
    };
    assert_eq!(ids(from_day2), vec![day3.id.clone(), day2.id.clone()]);
    let before_day3 = Query {
        until_ms: Some(MAY_2024_MS + 2 * DAY_MS),
        ..Query::default()
    };
    assert_eq!(ids(before_day3), vec![day2.id.clone(), day1.id.clone()]);
    let qwen_day1_only = Query {
        until_ms: Some(MAY_2024_MS + DAY_MS),
        ..qwen
    };
    assert_eq!(ids(qwen_day1_only), vec![day1.id]);

    assert_eq!(library.models().unwrap(), vec!["qwen-image-plus", "wan2.2-t2i-flash"]);
}

#[test]
fn trash_restore_and_empty_trash_removes_files() {
    let (dir, library) = open_library();
    let keep = insert_prompt(&library, "keep", 0);
    let restored = insert_prompt(&library, "restored", 1);
    let doomed = insert_prompt(&library, "doomed", 2);
    let trash_view = Query {
        trash: true,
        ..Query::default()
    };

    assert_eq!(library.trash(&[restored.id.clone(), doomed.id.clone()]).unwrap(), 2);
    assert_eq!(
        library.trash(std::slice::from_ref(&doomed.id)).unwrap(),
        0,
        "already in the trash"
    );
    assert_eq!(library.count(&Query::default()).unwrap(), 1);
    assert_eq!(library.count(&trash_view).unwrap(), 2);
    assert!(library.get(&doomed.id).unwrap().unwrap().deleted_ms.is_some());

    assert_eq!(library.restore(std::slice::from_ref(&restored.id)).unwrap(), 1);
    assert_eq!(
        library.restore(std::slice::from_ref(&keep.id)).unwrap(),
        0,
        "not in the trash"
    );
    assert_eq!(library.get(&restored.id).unwrap().unwrap().deleted_ms, None);
    assert!(library.image_path(&doomed).is_file(), "trash keeps the file");

    assert_eq!(library.empty_trash().unwrap(), 1);
    assert_eq!(library.get(&doomed.id).unwrap(), None);
    assert!(!library.image_path(&doomed).exists());
    assert!(!library.thumbnail_path(&doomed.id).exists());
    assert!(library.image_path(&keep).is_file() && library.image_path(&restored).is_file());
    assert!(library.thumbnail_path(&keep.id).is_file());
    assert_eq!(library.count(&trash_view).unwrap(), 0);
    assert_eq!(library.count(&Query::default()).unwrap(), 2);
    assert_eq!(library.empty_trash().unwrap(), 0);

    // The deleted image does not come back as an orphan.
    let reopened = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    assert_eq!(reopened.recovery_report().unwrap().orphans_restored, 0);
    assert_eq!(reopened.count(&Query::default()).unwrap(), 2);
}

#[test]
fn resolve_id_by_unique_prefix() {
    let (_dir, library) = open_library();
    let first = insert_prompt(&library, "first", 0);
    let second = insert_prompt(&library, "second", 1);

    assert_eq!(library.resolve_id(&first.id).unwrap(), first.id);
    assert_eq!(library.resolve_id(&first.id.to_lowercase()).unwrap(), first.id);
    // The random part of a ULID starts at character 10: 14 characters tell the two apart.
    let prefix = |id: &str| id.get(..20).unwrap().to_owned();
    assert_eq!(
        library.resolve_id(&prefix(&second.id).to_lowercase()).unwrap(),
        second.id
    );

    let ambiguous = library.resolve_id("0").unwrap_err();
    assert_eq!(ambiguous.kind, ErrorKind::InvalidRequest);
    assert!(ambiguous.message.contains("several"), "{}", ambiguous.message);

    for unknown in ["ZZZZ", "", "  ", "%", "0_", "0'"] {
        let err = library.resolve_id(unknown).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{unknown:?}");
    }
    assert!(library.resolve_id("ZZZZ").unwrap_err().message.contains("ZZZZ"));

    // Trashed images can still be named (to restore them).
    library.trash(std::slice::from_ref(&first.id)).unwrap();
    assert_eq!(library.resolve_id(&first.id).unwrap(), first.id);
}

#[test]
fn unwritable_image_folder_is_a_storage_error_and_leaves_nothing() {
    let (dir, library) = open_library();
    // A file where the year folder should be: creating the folder fails, even for root.
    let blocker = dir.path().join("images/2024");
    fs::write(&blocker, b"not a folder").unwrap();

    let meta = meta("blocked", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(8, 8);
    let image = NewImage {
        meta: &meta,
        bytes: &bytes,
        extension: "png",
        width: 8,
        height: 8,
        thumbnail_jpeg: THUMBNAIL,
    };
    let err = library.insert(image).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Storage);
    assert!(err.message.contains("2024"), "names the path: {}", err.message);

    assert_eq!(library.count(&Query::default()).unwrap(), 0);
    assert!(temp_files(dir.path()).is_empty());
    assert!(all_files(&dir.path().join("thumbs")).is_empty());
}

#[cfg(target_os = "linux")]
#[test]
fn read_only_data_dir_is_a_storage_error_and_leaves_nothing() {
    let (dir, library) = open_library();
    let images = dir.path().join("images");
    // A read-only mount refuses writes even to root, which chmod does not (CI runs as root).
    let Some(read_only) = mount_support::or_skip(mount_support::Mount::read_only(&images), "read-only images folder")
    else {
        return;
    };
    let meta = meta("read only", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(8, 8);
    let image = NewImage {
        meta: &meta,
        bytes: &bytes,
        extension: "png",
        width: 8,
        height: 8,
        thumbnail_jpeg: THUMBNAIL,
    };
    let err = library.insert(image).unwrap_err();
    drop(read_only);
    assert_eq!(err.kind, ErrorKind::Storage);
    assert!(err.message.contains("images"), "{}", err.message);
    assert!(err.message.to_lowercase().contains("read-only"), "{}", err.message);
    assert_eq!(library.count(&Query::default()).unwrap(), 0);
    assert!(temp_files(dir.path()).is_empty());
    assert!(all_files(&dir.path().join("thumbs")).is_empty());
    assert!(all_files(&images).is_empty());
}

#[test]
fn failed_row_insert_removes_the_written_files() {
    let (dir, library) = open_library();
    // Make the database refuse the row after the file and thumbnail were written.
    let raw = rusqlite::Connection::open(dir.path().join("library.sqlite3")).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON images BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
    )
    .unwrap();

    let meta = meta("refused", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(8, 8);
    let image = NewImage {
        meta: &meta,
        bytes: &bytes,
        extension: "png",
        width: 8,
        height: 8,
        thumbnail_jpeg: THUMBNAIL,
    };
    let err = library.insert(image).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Storage);
    assert!(err.message.contains("images"), "names the file: {}", err.message);
    assert!(err.message.contains("refused by test"), "{}", err.message);

    let leftovers: Vec<_> = all_files(dir.path())
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("library.sqlite3"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    raw.execute_batch("DROP TRIGGER refuse;").unwrap();
    assert_eq!(library.count(&Query::default()).unwrap(), 0);
}

#[test]
fn failed_thumbnail_does_not_fail_the_insert() {
    let (dir, library) = open_library();
    let thumbs = dir.path().join("thumbs");
    fs::remove_dir(&thumbs).unwrap();
    fs::write(&thumbs, b"not a folder").unwrap();

    let record = insert_prompt(&library, "no thumbnail", 0);
    assert!(library.image_path(&record).is_file());
    assert!(!library.thumbnail_path(&record.id).exists());
    assert_eq!(library.count(&Query::default()).unwrap(), 1);
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn bad_extension_or_empty_bytes_are_refused() {
    let (dir, library) = open_library();
    let meta = meta("x", "m", MAY_2024_MS);
    let bytes = png_bytes(1, 1);
    let gif = NewImage {
        meta: &meta,
        bytes: &bytes,
        extension: "gif",
        width: 1,
        height: 1,
        thumbnail_jpeg: &[],
    };
    assert_eq!(library.insert(gif).unwrap_err().kind, ErrorKind::InvalidRequest);
    let empty = NewImage {
        meta: &meta,
        bytes: &[],
        extension: "png",
        width: 1,
        height: 1,
        thumbnail_jpeg: &[],
    };
    assert_eq!(library.insert(empty).unwrap_err().kind, ErrorKind::Image);
    assert_eq!(library.count(&Query::default()).unwrap(), 0);
    assert!(all_files(&dir.path().join("images")).is_empty());

    let jpeg = NewImage {
        meta: &meta,
        bytes: &bytes,
        extension: "JPEG",
        width: 1,
        height: 1,
        thumbnail_jpeg: &[],
    };
    let record = library.insert(jpeg).unwrap();
    assert!(record.file.to_string_lossy().ends_with(".jpg"));
    assert!(
        !library.thumbnail_path(&record.id).exists(),
        "no thumbnail given, none written"
    );
}

fn pending(url: &str, deadline_ms: i64) -> PendingDownload {
    PendingDownload {
        id: 0,
        url: url.into(),
        meta: meta("待下载的山水画", "qwen-image-plus", MAY_2024_MS),
        deadline_ms,
        attempts: 0,
    }
}

#[test]
fn pending_downloads_add_list_expire_and_remove() {
    let (dir, library) = open_library();
    let now = ImageMeta::now_ms();
    library
        .add_pending(&pending("https://oss.example.com/b.png?sig=2", now + 2 * DAY_MS))
        .unwrap();
    library
        .add_pending(&pending("https://oss.example.com/a.png?sig=1", now + DAY_MS))
        .unwrap();
    library
        .add_pending(&pending("https://oss.example.com/old.png", now - 1))
        .unwrap();

    let listed = library.pending().unwrap();
    let urls: Vec<&str> = listed.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "https://oss.example.com/a.png?sig=1",
            "https://oss.example.com/b.png?sig=2"
        ]
    );
    assert!(listed.iter().all(|p| p.id != 0));
    assert_eq!(listed[0].meta.prompt, "待下载的山水画");

    // Another attempt replaces the entry with the same id.
    let retried = PendingDownload {
        attempts: 3,
        ..listed[0].clone()
    };
    library.add_pending(&retried).unwrap();
    let listed = library.pending().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], retried);

    library.remove_pending(retried.id).unwrap();
    library.remove_pending(retried.id).unwrap();
    let listed = library.pending().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, "https://oss.example.com/b.png?sig=2");

    // The expired entry is gone for good, also for another process.
    let other = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    assert_eq!(other.pending().unwrap(), listed);

    let err = library.add_pending(&pending("not a url", now + DAY_MS)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
}

/// A new image as `insert_meta` makes it, for `insert_checked`.
fn new_image<'a>(meta: &'a ImageMeta, bytes: &'a [u8]) -> NewImage<'a> {
    NewImage {
        meta,
        bytes,
        extension: "png",
        width: 64,
        height: 48,
        thumbnail_jpeg: &[],
    }
}

#[test]
fn the_row_appears_only_after_the_check_succeeded() {
    let (dir, library) = open_library();
    let meta = meta("checked", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(64, 48);
    let record = library
        .insert_checked(new_image(&meta, &bytes), || {
            // The file is written, the check still runs: nobody sees a row yet.
            assert_eq!(library.count(&Query::default()).unwrap(), 0);
            assert_eq!(all_files(&dir.path().join("images")).len(), 1);
            Ok(pictor::library::Checked {
                thumbnail_jpeg: THUMBNAIL.to_vec(),
                pixel_hash: None,
            })
        })
        .unwrap();
    assert_eq!(library.query(&Query::default()).unwrap(), vec![record.clone()]);
    assert_eq!(fs::read(library.thumbnail_path(&record.id)).unwrap(), THUMBNAIL);
}

#[test]
fn the_same_pixels_are_stored_once_and_the_second_import_names_the_first() {
    use pictor::library::{Checked, Insertion};
    let (dir, library) = open_library();
    let meta = meta("once", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(64, 48);
    let checked = || {
        Ok(Checked {
            thumbnail_jpeg: THUMBNAIL.to_vec(),
            pixel_hash: Some("same-pixels".into()),
        })
    };
    let Insertion::Stored(first) = library
        .insert_unless_present(new_image(&meta, &bytes), checked)
        .unwrap()
    else {
        panic!("the first is stored");
    };
    let again = library
        .insert_unless_present(new_image(&meta, &bytes), checked)
        .unwrap();
    assert_eq!(again, Insertion::AlreadyThere(first.clone()));
    assert_eq!(library.count(&Query::default()).unwrap(), 1, "no second row");
    assert_eq!(all_files(&dir.path().join("images")).len(), 1, "no second file");
    // Generated images keep their hash but are never refused.
    library.insert_checked(new_image(&meta, &bytes), checked).unwrap();
    assert_eq!(library.count(&Query::default()).unwrap(), 2);
    // A copy in the trash does not count: the live (generated) one is named instead.
    library.trash(std::slice::from_ref(&first.id)).unwrap();
    let after_trash = library
        .insert_unless_present(new_image(&meta, &bytes), checked)
        .unwrap();
    assert!(matches!(after_trash, Insertion::AlreadyThere(ref other) if other.id != first.id));
}

#[test]
fn a_failed_check_leaves_no_row_and_no_file_even_for_a_recovery_waiting_on_the_lock() {
    let (dir, library) = open_library();
    let meta = meta("corrupt after its header", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(64, 48);
    let mut waiting = None;
    let err = library
        .insert_checked(new_image(&meta, &bytes), || {
            // Another process opens the library meanwhile: its recovery waits for the lock.
            let paths = LibraryPaths::in_dir(dir.path());
            waiting = Some(
                std::thread::Builder::new()
                    .name("second-process".into())
                    .spawn(move || Library::open(paths).unwrap().recovery_report().unwrap())
                    .unwrap(),
            );
            std::thread::sleep(std::time::Duration::from_millis(300));
            Err(pictor::Error::image("the pixels do not decode"))
        })
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Image);
    let report = waiting.unwrap().join().unwrap();
    assert_eq!(
        report.orphans_restored, 0,
        "the failed image came back as an orphan: {report:?}"
    );
    assert_eq!(report.unreadable_moved, 0, "{report:?}");
    assert_eq!(library.count(&Query::default()).unwrap(), 0);
    assert!(all_files(&dir.path().join("images")).is_empty());
    assert!(all_files(&dir.path().join("thumbs")).is_empty());
    let reopened = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    assert_eq!(reopened.count(&Query::default()).unwrap(), 0);
}

#[test]
fn a_panicking_check_leaves_the_library_usable_and_nothing_behind() {
    let (dir, library) = open_library();
    let meta = meta("the decoder panics", "qwen-image-plus", MAY_2024_MS);
    let bytes = png_bytes(64, 48);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        library.insert_checked(new_image(&meta, &bytes), || panic!("decoder bug"))
    }));
    assert!(caught.is_err());
    assert!(
        all_files(&dir.path().join("images")).is_empty(),
        "the file was left behind"
    );
    // The next writes work (no transaction left open), and so does another process.
    insert_prompt(&library, "after the panic", 0);
    let other = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    assert_eq!(other.count(&Query::default()).unwrap(), 1);
    assert_eq!(other.recovery_report().unwrap().orphans_restored, 0);
}

#[test]
fn a_family_is_the_image_its_ancestors_and_its_descendants() {
    let (_dir, library) = open_library();
    let with_parents = |prompt: &str, parents: &[&str]| {
        let meta = ImageMeta {
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            ..meta(prompt, "qwen-image-edit-plus", MAY_2024_MS)
        };
        insert_meta(&library, &meta).id
    };
    let root = with_parents("root", &[]);
    let other = with_parents("other", &[]);
    let edit = with_parents("edit", &[&root]);
    let fusion = with_parents("fusion", &[&edit, &other]);
    let unrelated = with_parents("unrelated", &[]);
    let family = |id: &str| {
        let mut prompts: Vec<String> = library
            .query(&Query {
                family_of: Some(id.to_owned()),
                ..Query::default()
            })
            .unwrap()
            .into_iter()
            .map(|r| r.meta.prompt)
            .collect();
        prompts.sort();
        prompts
    };
    // A sibling parent of a descendant ("other") is not of this family.
    assert_eq!(family(&edit), vec!["edit", "fusion", "root"]);
    assert_eq!(family(&root), vec!["edit", "fusion", "root"]);
    assert_eq!(family(&fusion), vec!["edit", "fusion", "other", "root"]);
    assert_eq!(family(&unrelated), vec!["unrelated"]);
    assert_eq!(library.children(&root).unwrap(), vec![edit.clone()]);
    assert_eq!(library.children(&other).unwrap(), vec![fusion]);
}
