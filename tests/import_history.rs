//! Bringing history in through the real binary: whole folders (recursive), each file
//! with what it knew, and never the same pixels twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::Value;

fn pictor(data_dir: &Path, args: &[&str]) -> std::process::Output {
    support::pictor_command(data_dir).args(args).output().unwrap()
}

fn lines(output: &std::process::Output) -> Vec<Value> {
    support::complete_json_lines(&output.stdout)
}

/// A PNG of `width` × `height` whose pixels depend on `seed`, with these text chunks.
fn png_with_text(width: u32, height: u32, seed: u32, texts: &[(&str, &str)]) -> Vec<u8> {
    pictor::imaging::embed_png_text(&support::sample_png(width, height, seed), texts).unwrap()
}

#[test]
fn a_folder_is_imported_recursively_and_a_second_time_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let folder = dir.path().join("outputs");
    std::fs::create_dir_all(folder.join("2024/deep")).unwrap();
    let a1111 = "a lighthouse at dusk\nNegative prompt: blurry\nSteps: 20, Seed: 4294967296, Size: 40x30, Model: sdxl";
    std::fs::write(folder.join("a.png"), png_with_text(40, 30, 1, &[("parameters", a1111)])).unwrap();
    std::fs::write(folder.join("2024/plain.png"), support::sample_png(32, 32, 2)).unwrap();
    // The same pixels as plain.png in another file (other chunks): one image, not two.
    let same_pixels = png_with_text(32, 32, 2, &[("Comment", "copied")]);
    std::fs::write(folder.join("2024/deep/copy.png"), same_pixels).unwrap();
    std::fs::write(folder.join("2024/broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    std::fs::write(folder.join("notes.txt"), b"not an image").unwrap();

    let first = pictor(&library, &["import", folder.to_str().unwrap(), "--json"]);
    assert!(!first.status.success(), "a failed file makes the exit code non-zero");
    let first = lines(&first);
    let stored: Vec<&Value> = first.iter().filter(|line| line.get("id").is_some()).collect();
    let skipped: Vec<&Value> = first.iter().filter_map(|line| line.get("skipped")).collect();
    let errors: Vec<&Value> = first.iter().filter_map(|line| line.get("error")).collect();
    assert_eq!(stored.len(), 2, "{first:?}");
    assert_eq!(skipped.len(), 1, "{first:?}");
    assert_eq!(errors.len(), 1, "{first:?}");
    assert!(errors[0]["file"].as_str().unwrap().ends_with("broken.png"));
    // In name order deep/copy.png comes before plain.png: the copy is stored, plain skipped.
    assert!(skipped[0]["file"].as_str().unwrap().ends_with("plain.png"));
    let copy = stored.iter().find(|line| line["prompt"] == "copy").unwrap();
    assert_eq!(
        skipped[0]["existing"], copy["id"],
        "names the image that has those pixels"
    );
    let lighthouse = stored
        .iter()
        .find(|line| line["prompt"] == "a lighthouse at dusk")
        .unwrap();
    assert_eq!(lighthouse["negative_prompt"], "blurry");
    assert_eq!(lighthouse["seed"], 4_294_967_296u64, "a seed past 2³² is kept whole");
    assert_eq!(lighthouse["source"]["tool"], "a1111");

    // The whole folder again: nothing new, every image named.
    let second = pictor(&library, &["import", folder.to_str().unwrap(), "--json"]);
    let second = lines(&second);
    assert_eq!(second.iter().filter(|line| line.get("skipped").is_some()).count(), 3);
    assert_eq!(second.iter().filter(|line| line.get("id").is_some()).count(), 0);
    assert_eq!(lines(&pictor(&library, &["list", "--json"])).len(), 2);

    // Without --json the summary says so.
    let third = pictor(&library, &["import", folder.join("2024").to_str().unwrap()]);
    let summary = String::from_utf8_lossy(&third.stderr);
    assert!(
        summary.contains("0 imported, 2 already in the library, 1 failed"),
        "{summary}"
    );
}

#[test]
fn a_png_export_imported_again_finds_its_original() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let made = support::pictor_command(&library)
        .args(support::demo_generate_args("雪山", 1))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let original = lines(&made)[0]["id"].as_str().unwrap().to_owned();
    let exports = dir.path().join("exports");
    let exported = pictor(
        &library,
        &[
            "export",
            &original,
            "--to",
            exports.to_str().unwrap(),
            "--format",
            "png",
        ],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let again = lines(&pictor(&library, &["import", exports.to_str().unwrap(), "--json"]));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["skipped"]["existing"], original.as_str());
}

#[test]
fn an_image_stored_before_pixel_hashes_existed_is_still_found() {
    use pictor::library::{Insertion, Library, LibraryPaths, NewImage};
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    let png = support::sample_png(48, 32, 7);
    let meta = pictor::metadata::ImageMeta {
        prompt: "from an older Pictor".into(),
        created_ms: 1_700_000_000_000,
        ..Default::default()
    };
    // `insert` records no pixel hash, as rows written before schema 4 have none.
    let old = library
        .insert(NewImage {
            meta: &meta,
            bytes: &png,
            extension: "png",
            width: 48,
            height: 32,
            thumbnail_jpeg: &[],
        })
        .unwrap();
    let file = dir.path().join("again.png");
    std::fs::write(&file, png_with_text(48, 32, 7, &[("Comment", "re-saved elsewhere")])).unwrap();
    let found = pictor::import::import_file(&library, &file).unwrap();
    assert_eq!(found, Insertion::AlreadyThere(old));
}

#[test]
fn imports_keep_the_file_name_and_date_and_the_gallery_sorts_and_filters_by_them() {
    use pictor::library::{Insertion, Library, LibraryPaths, Order, Query};
    use pictor::metadata::SourceTool;
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(LibraryPaths::in_dir(&dir.path().join("library"))).unwrap();
    let day = std::time::Duration::from_secs(86_400);
    let now = std::time::SystemTime::now();
    let mut imported = Vec::new();
    // The recent file is imported first: the library's order and the files' differ.
    for (name, days_old, texts) in [
        ("new.png", 1, vec![]),
        ("old.png", 30, vec![("parameters", "an old castle\nSteps: 20, Seed: 5")]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, png_with_text(20, 20, days_old, &texts)).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(now - day * days_old).unwrap();
        drop(file);
        let Insertion::Stored(record) = pictor::import::import_file(&library, &path).unwrap() else {
            panic!("{name} is new");
        };
        imported.push(record);
    }
    let (new, old) = (&imported[0], &imported[1]);
    let source = old.meta.source.as_ref().unwrap();
    assert_eq!(source.file_name, "old.png");
    assert_eq!(source.tool, Some(SourceTool::A1111));
    let expected_ms = i64::try_from(
        (now - day * 30)
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    assert!((source.modified_ms.unwrap() - expected_ms).abs() < 2_000);
    assert_eq!(new.meta.source.as_ref().unwrap().tool, None, "no metadata: no tool");

    // Newest in the library first: old.png, imported last…
    let ids = |query: &Query| -> Vec<String> { library.query(query).unwrap().into_iter().map(|r| r.id).collect() };
    assert_eq!(ids(&Query::default()), vec![old.id.clone(), new.id.clone()]);
    // …by file date, new.png (the more recent file) first.
    let by_file = Query {
        order: Order::FileDate,
        ..Query::default()
    };
    assert_eq!(ids(&by_file), vec![new.id.clone(), old.id.clone()]);
    let a1111 = Query {
        source_tool: Some(SourceTool::A1111),
        ..Query::default()
    };
    assert_eq!(ids(&a1111), vec![old.id.clone()]);
}

#[test]
fn images_from_five_tools_arrive_with_prompt_negative_prompt_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let folder = dir.path().join("history");
    let expected = support::tools::five_tools(&folder);
    let out = pictor(&library, &["import", folder.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let imported = lines(&out);
    assert_eq!(imported.len(), expected.len(), "{imported:?}");
    for want in &expected {
        let line = imported
            .iter()
            .find(|line| line["source"]["file_name"] == want.file)
            .unwrap_or_else(|| panic!("{} missing in {imported:?}", want.file));
        assert_eq!(line["source"]["tool"], want.tool, "{}", want.file);
        assert_eq!(line["prompt"], want.prompt, "{}", want.file);
        assert_eq!(line["negative_prompt"], want.negative, "{}", want.file);
        assert_eq!(line["seed"], want.seed, "{}: seeds are kept whole", want.file);
    }
    // The stored files keep every text the tools wrote, untouched.
    let stored_texts = |file: &str| {
        let line = imported
            .iter()
            .find(|line| line["source"]["file_name"] == file)
            .unwrap();
        pictor::imaging::raw_texts(&std::fs::read(line["path"].as_str().unwrap()).unwrap())
    };
    let a1111 = stored_texts("00001-3735928559.png");
    assert!(
        a1111
            .iter()
            .any(|(key, text)| key == "parameters" && text.contains("Model hash: 31e35c80fc")),
        "A1111's own text survives: {a1111:?}"
    );
    let fooocus = stored_texts("2024-11-30_18-02-11_1234.png");
    assert!(
        fooocus
            .iter()
            .any(|(key, text)| key == "parameters" && text.contains("Fooocus v2.5.5")),
        "Fooocus's JSON survives: {fooocus:?}"
    );
    let comfy = stored_texts("ComfyUI_00001_.png");
    assert!(comfy.iter().any(|(key, _)| key == "workflow"), "{comfy:?}");
    // Listed the same way later, and searchable by the tool's prompt.
    let found = lines(&pictor(&library, &["list", "--search", "fox", "--json"]));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["seed"], 1_125_899_906_842_624u64);
    let again = lines(&pictor(&library, &["import", folder.to_str().unwrap(), "--json"]));
    assert!(again.iter().all(|line| line.get("skipped").is_some()), "{again:?}");
}

#[test]
fn malformed_tool_metadata_imports_with_the_file_name_and_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let folder = dir.path().join("broken tools");
    std::fs::create_dir_all(&folder).unwrap();
    let truncated_graph = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 5, "positive": ["6", 0"#;
    let cyclic = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 1, "positive": ["8", 0], "negative": ["8", 0]}},
                     "8": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["8", 0]}}}"#;
    let files = [
        ("truncated_graph.png", vec![("prompt", truncated_graph)]),
        ("cyclic_graph.png", vec![("prompt", cyclic)]),
        (
            "bad_invoke.png",
            vec![("invokeai_metadata", "{\"positive_prompt\": \"half")],
        ),
    ];
    for (seed, (name, texts)) in (20..).zip(&files) {
        std::fs::write(folder.join(name), support::tools::png_with_texts(24, 24, seed, texts)).unwrap();
    }
    let out = pictor(&library, &["import", folder.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let imported = lines(&out);
    assert_eq!(imported.len(), 3, "{imported:?}");
    for line in &imported {
        let file = line["source"]["file_name"].as_str().unwrap();
        assert_eq!(
            line["prompt"],
            file.trim_end_matches(".png"),
            "the file name is the prompt"
        );
        let notes = line["source"]["notes"].as_array().unwrap();
        assert!(!notes.is_empty(), "{file}: a note says what was wrong");
    }
}
