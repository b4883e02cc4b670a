//! A full disk and an unwritable data folder, through the real binary: each failure is a
//! clear `storage` error, leaves no row and no half-written file.
//!
//! Tests run as root here, so `chmod` cannot make a folder read-only. Instead:
//! - a file-size limit (`RLIMIT_FSIZE` via `prlimit`, with SIGXFSZ ignored) makes writes
//!   fail with EFBIG exactly like a full disk does with ENOSPC, on any Linux machine;
//! - a small tmpfs really fills up, and a read-only tmpfs really refuses writes (mounting
//!   needs root: where it is refused, these two tests fail, unless `PICTOR_ALLOW_SKIP=1`
//!   outside CI; see `mount_support`);
//! - a file where the data folder should be cannot be written below, even by root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mount_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mount_support::Mount;
use pictor::library::{LibraryPaths, Query};
use serde_json::Value;

/// Image files, thumbnails and temp files (everything but the database and its journals).
fn written_files(root: &Path) -> Vec<PathBuf> {
    support::files_below(root)
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("library.sqlite3"))
        .collect()
}

/// The one JSON error line of a failed `--json` run.
fn json_error(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "expected a failure: {stdout}");
    let lines = support::complete_json_lines(&output.stdout);
    let error = lines
        .iter()
        .find_map(|l| l.get("error"))
        .unwrap_or_else(|| panic!("no error line: {stdout} / {}", String::from_utf8_lossy(&output.stderr)))
        .clone();
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    error
}

fn rows(dir: &Path) -> usize {
    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir)).unwrap();
    library.count(&Query::default()).unwrap()
}

/// `pictor ARGS` with writes limited to `max_file_bytes` per file (EFBIG beyond).
fn pictor_with_file_limit(dir: &Path, max_file_bytes: u64, args: &[String]) -> Output {
    let pictor = support::pictor_command(dir);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        // An ignored signal stays ignored across exec: writes past the limit fail with
        // EFBIG instead of killing the process with SIGXFSZ.
        .arg(r#"trap "" XFSZ; exec prlimit --fsize="$0" -- "$@""#)
        .arg(max_file_bytes.to_string())
        .arg(pictor.get_program())
        .args(args);
    for (key, value) in pictor.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.stdin(std::process::Stdio::null()).output().unwrap()
}

fn qwen_args(prompt: &str, count: u32) -> Vec<String> {
    [
        "generate",
        prompt,
        "--provider",
        "demo",
        "--json",
        "--count",
        &count.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn a_file_size_limit_fails_the_image_write_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // A library with one image: the database and its journal exist and are small.
    let first = support::pictor_command(dir.path())
        .args(qwen_args("first", 1))
        .output()
        .unwrap();
    assert!(first.status.success());
    let image_bytes = support::files_below(&dir.path().join("images"))
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .max()
        .unwrap();
    let database_bytes = support::files_below(dir.path())
        .iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("library.sqlite3"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .max()
        .unwrap();
    // Room for the database to grow a little, not for another image.
    let limit = database_bytes + 64 * 1024;
    assert!(
        limit < image_bytes / 2,
        "database {database_bytes} B, image {image_bytes} B"
    );
    let before = written_files(dir.path());

    let output = pictor_with_file_limit(dir.path(), limit, &qwen_args("second 山水", 2));
    let error = json_error(&output);
    assert_eq!(error["kind"], "storage", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("File too large") || message.contains("too large"),
        "{message}"
    );
    assert!(message.contains(".png"), "the message names the file: {message}");
    assert_eq!(
        support::complete_json_lines(&output.stdout)
            .iter()
            .filter(|l| l.get("error").is_some())
            .count(),
        2,
        "each of the two images fails on its own"
    );
    assert_eq!(
        written_files(dir.path()),
        before,
        "something half-written was left behind"
    );
    assert_eq!(rows(dir.path()), 1);

    // The same limit for an import.
    let big = dir.path().join("big.png");
    std::fs::write(&big, support::sample_png(700, 700, 3)).unwrap();
    let import = ["import".to_owned(), big.display().to_string(), "--json".to_owned()];
    let output = pictor_with_file_limit(dir.path(), limit, &import);
    let error = json_error(&output);
    assert_eq!(error["kind"], "storage", "{error}");
    assert!(error["file"].as_str().unwrap().ends_with("big.png"));
    std::fs::remove_file(&big).unwrap();
    assert_eq!(written_files(dir.path()), before);
    assert_eq!(rows(dir.path()), 1);
}

#[test]
fn a_file_where_the_data_folder_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("library");
    std::fs::write(&blocker, b"not a folder").unwrap();
    for args in [qwen_args("x", 1), vec!["list".into(), "--json".into()]] {
        let output = support::pictor_command(&blocker).args(&args).output().unwrap();
        let error = json_error(&output);
        assert_eq!(error["kind"], "storage", "{args:?}: {error}");
        assert!(error["message"].as_str().unwrap().contains("library"), "{error}");
    }
    assert_eq!(std::fs::read(&blocker).unwrap(), b"not a folder");
    assert_eq!(support::files_below(dir.path()), vec![blocker]);
}

#[test]
fn a_file_where_the_images_folder_should_be() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        support::pictor_command(dir.path())
            .args(["list"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let images = dir.path().join("images");
    std::fs::remove_dir_all(&images).unwrap();
    std::fs::write(&images, b"").unwrap();
    let output = support::pictor_command(dir.path())
        .args(qwen_args("x", 1))
        .output()
        .unwrap();
    assert_eq!(json_error(&output)["kind"], "storage");
    std::fs::remove_file(&images).unwrap();
    assert_eq!(rows(dir.path()), 0);
}

#[test]
fn a_really_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let Some(_mount) = mount_support::or_skip(Mount::tmpfs(&full, "size=1m"), "full disk (a 1 MiB tmpfs)") else {
        return;
    };
    let output = support::pictor_command(&full)
        .args(qwen_args("fill the disk", 6))
        .output()
        .unwrap();
    let lines = support::complete_json_lines(&output.stdout);
    let stored: Vec<&Value> = lines.iter().filter(|l| l.get("id").is_some()).collect();
    let errors: Vec<&Value> = lines.iter().filter_map(|l| l.get("error")).collect();
    assert!(!errors.is_empty(), "1 MiB cannot hold six images: {lines:?}");
    for error in &errors {
        assert_eq!(error["kind"], "storage", "{error}");
        let message = error["message"].as_str().unwrap().to_lowercase();
        assert!(message.contains("no space") || message.contains("full"), "{message}");
    }
    // Whatever was stored is whole; nothing else was left.
    let images = support::files_below(&full.join("images"));
    assert_eq!(images.len(), stored.len(), "{images:?}");
    for path in &images {
        pictor::imaging::decode(&std::fs::read(path).unwrap(), &Default::default()).unwrap();
    }
    assert!(
        !support::files_below(&full)
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".tmp"))
    );
    println!(
        "full disk: {} stored, {} refused with a storage error",
        stored.len(),
        errors.len()
    );
}

#[test]
fn a_read_only_disk() {
    let dir = tempfile::tempdir().unwrap();
    let read_only = dir.path().join("ro");
    std::fs::create_dir(&read_only).unwrap();
    let Some(_mount) = mount_support::or_skip(
        Mount::tmpfs(&read_only, "ro,size=1m"),
        "read-only disk (a read-only tmpfs)",
    ) else {
        return;
    };
    let output = support::pictor_command(&read_only.join("lib"))
        .args(qwen_args("x", 1))
        .output()
        .unwrap();
    let error = json_error(&output);
    assert_eq!(error["kind"], "storage", "{error}");
    assert!(
        error["message"].as_str().unwrap().to_lowercase().contains("read-only"),
        "{error}"
    );
    assert!(support::files_below(&read_only).is_empty());
}
