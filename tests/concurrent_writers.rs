//! Several `pictor generate` processes and one in-process writer (standing in for the
//! window) store into one new library at the same time: no row is lost, and nobody
//! reports "database is locked".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use pictor::library::{LibraryPaths, Query};
use pictor::metadata::ImageMeta;

/// CLI processes.
const PROCESSES: usize = 4;
/// Images per process.
const PER_PROCESS: u32 = 25;
/// Images the in-process writer stores.
const IN_PROCESS: usize = 40;

#[test]
fn processes_and_the_window_write_together_without_losing_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // All start against a library that does not exist yet: creation races too.
    let children: Vec<_> = (0..PROCESSES)
        .map(|k| {
            support::pictor_command(dir.path())
                .args(support::demo_generate_args(
                    &format!("writer {k} 一幅山水画"),
                    PER_PROCESS,
                ))
                .env("PICTOR_LOG", "debug")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let window = {
        let path = dir.path().to_path_buf();
        std::thread::Builder::new()
            .name("window".into())
            .spawn(move || {
                let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(&path)).unwrap());
                for i in 0..IN_PROCESS {
                    let meta = ImageMeta {
                        prompt: format!("window image {i}"),
                        provider: "demo".into(),
                        created_ms: ImageMeta::now_ms(),
                        ..ImageMeta::default()
                    };
                    let png = support::sample_png(256, 256, i as u32);
                    pictor::generate::store_blocking(&library, &png, &meta).unwrap();
                }
            })
            .unwrap()
    };
    let mut reported = 0;
    let mut ids = std::collections::HashSet::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "a writer failed: {stdout}\n{stderr}");
        for text in [&stdout, &stderr] {
            let lower = text.to_lowercase();
            assert!(!lower.contains("database is locked"), "{text}");
            assert!(!lower.contains("database is busy"), "{text}");
        }
        let lines = support::complete_json_lines(&output.stdout);
        assert_eq!(lines.len(), PER_PROCESS as usize, "{stdout}");
        for line in lines {
            assert!(line.get("error").is_none(), "{line}");
            ids.insert(line["id"].as_str().unwrap().to_owned());
            reported += 1;
        }
    }
    window.join().unwrap();
    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
    let expected = PROCESSES * PER_PROCESS as usize + IN_PROCESS;
    assert_eq!(reported, PROCESSES * PER_PROCESS as usize);
    assert_eq!(ids.len(), reported, "two images got the same id");
    assert_eq!(library.count(&Query::default()).unwrap(), expected, "rows were lost");
    assert_eq!(
        library.recovery_report().unwrap(),
        Default::default(),
        "a clean run left debris"
    );
    for id in &ids {
        assert!(library.get(id).unwrap().is_some(), "reported image {id} has no row");
    }
    println!(
        "concurrent writers: {PROCESSES} processes × {PER_PROCESS} + {IN_PROCESS} in-process = {expected} rows in {:.1} s",
        started.elapsed().as_secs_f32()
    );
}
