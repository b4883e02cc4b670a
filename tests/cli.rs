//! The command line end to end: the real binary, the demo provider, a temp library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn pictor(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pictor"))
        .args(args)
        .env("PICTOR_DATA_DIR", data_dir)
        .env("PICTOR_DEMO_LATENCY_MS", "20")
        .env_remove("PICTOR_API_KEY")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn generate_with_the_demo_stores_a_png_carrying_the_prompt_and_list_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = pictor(
        dir.path(),
        &[
            "generate",
            "一幅传统的中国山水画",
            "--provider",
            "demo",
            "--json",
            "--size",
            "1328x1328",
            "--seed",
            "41",
            "--count",
            "2",
        ],
    );
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for (line, seed) in lines.iter().zip([41, 42]) {
        for field in [
            "id",
            "path",
            "prompt",
            "negative_prompt",
            "revised_prompt",
            "model",
            "size",
            "seed",
            "width",
            "height",
            "created",
            "provider",
            "favorite",
        ] {
            assert!(line.get(field).is_some(), "missing {field} in {line}");
        }
        assert_eq!(line["seed"], seed);
        assert_eq!(line["size"], "1328*1328");
        assert_eq!(line["width"], 1328);
        assert_eq!(line["provider"], "demo");
        let bytes = std::fs::read(line["path"].as_str().unwrap()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let texts = pictor::imaging::read_png_text(&bytes).unwrap();
        let ours = texts
            .iter()
            .find(|(k, _)| k == pictor::imaging::PICTOR_TEXT_KEY)
            .unwrap();
        assert!(ours.1.contains("一幅传统的中国山水画"), "iTXt: {}", ours.1);
    }
    let listed = json_lines(&pictor(dir.path(), &["list", "--search", "山水", "--json"]));
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["prompt"], "一幅传统的中国山水画");
    assert!(json_lines(&pictor(dir.path(), &["list", "--search", "没有这个词", "--json"])).is_empty());
}

#[test]
fn a_failure_prints_a_json_error_line_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = pictor(
        dir.path(),
        &["generate", "x", "--provider", "openai-compatible", "--json"],
    );
    assert!(!out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines[0]["error"]["kind"], "config");
    assert!(lines[0]["error"]["message"].as_str().unwrap().contains("base URL"));

    let out = pictor(
        dir.path(),
        &["generate", &"山".repeat(801), "--provider", "demo", "--json"],
    );
    assert!(!out.status.success());
    assert_eq!(json_lines(&out)[0]["error"]["kind"], "invalid_request");

    let out = pictor(dir.path(), &["generate", "x", "--provider", "apple-router", "--json"]);
    assert!(!out.status.success());
    assert_eq!(json_lines(&out)[0]["error"]["kind"], "auth");
}

#[test]
fn key_set_without_a_keyring_says_so_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pictor"))
        .args(["key", "set"])
        .env("PICTOR_DATA_DIR", dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sk-never-on-disk-4242\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("keyring"), "{stderr}");
    assert!(!stderr.contains("sk-never-on-disk-4242"));
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(!bytes.windows(8).any(|w| w == b"sk-never"));
        }
    }
}

#[test]
fn import_export_delete_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let good = dir.path().join("castle.png");
    let a1111 = "a castle\nNegative prompt: fog\nSeed: 99, Size: 1328x1328, Model: qwen-image";
    let png = pictor::imaging::embed_png_text(&sample_png(), &[("parameters", a1111)]).unwrap();
    std::fs::write(&good, png).unwrap();
    let bad = dir.path().join("broken.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nnot really").unwrap();

    let out = pictor(
        &library,
        &["import", good.to_str().unwrap(), bad.to_str().unwrap(), "--json"],
    );
    assert!(!out.status.success(), "a failed file makes the exit code non-zero");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["prompt"], "a castle");
    assert_eq!(lines[0]["negative_prompt"], "fog");
    assert_eq!(lines[0]["seed"], 99);
    assert_eq!(lines[1]["error"]["kind"], "image");
    assert!(lines[1]["error"]["file"].as_str().unwrap().ends_with("broken.png"));
    let id = lines[0]["id"].as_str().unwrap().to_owned();

    let exports = dir.path().join("out");
    let out = pictor(
        &library,
        &[
            "export",
            &id[..10],
            "--to",
            exports.to_str().unwrap(),
            "--format",
            "jpeg",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = json_lines(&out)[0]["path"].as_str().unwrap().to_owned();
    assert!(path.ends_with(".jpg"));
    assert_eq!(&std::fs::read(&path).unwrap()[..3], b"\xff\xd8\xff");

    assert!(pictor(&library, &["delete", &id]).status.success());
    assert!(json_lines(&pictor(&library, &["list", "--json"])).is_empty());
    let trash = json_lines(&pictor(&library, &["list", "--trash", "--json"]));
    assert_eq!(trash.len(), 1);
    assert!(pictor(&library, &["restore", &id]).status.success());
    assert_eq!(json_lines(&pictor(&library, &["list", "--json"])).len(), 1);
}

fn sample_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 9, y as u8 * 13, 100]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn webp_and_jpeg_exports_follow_the_quality_and_carry_the_parameters_back_in() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let out = pictor(
        &library,
        &[
            "generate",
            "一幅传统的中国山水画",
            "--negative",
            "模糊",
            "--provider",
            "demo",
            "--seed",
            "7",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let generated = json_lines(&out).remove(0);
    let id = generated["id"].as_str().unwrap().to_owned();

    let export = |format: &str, quality: &str| {
        let to = dir.path().join(format!("{format}-{quality}"));
        let out = pictor(
            &library,
            &[
                "export",
                &id,
                "--to",
                to.to_str().unwrap(),
                "--format",
                format,
                "--quality",
                quality,
                "--json",
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::path::PathBuf::from(json_lines(&out)[0]["path"].as_str().unwrap())
    };
    let low = std::fs::read(export("webp", "20")).unwrap();
    let high_path = export("webp", "95");
    let high = std::fs::read(&high_path).unwrap();
    assert_eq!(&low[8..12], b"WEBP");
    assert!(low.windows(4).any(|w| w == b"VP8 "), "lossy VP8 bitstream");
    assert!(!low.windows(4).any(|w| w == b"VP8L"), "not lossless");
    assert!(
        low.len() < high.len(),
        "quality 20: {} bytes, 95: {}",
        low.len(),
        high.len()
    );
    let jpeg_path = export("jpeg", "80");

    let second = dir.path().join("second");
    let out = pictor(
        &second,
        &[
            "import",
            high_path.to_str().unwrap(),
            jpeg_path.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for imported in json_lines(&out) {
        for field in [
            "prompt",
            "negative_prompt",
            "model",
            "size",
            "seed",
            "provider",
            "created",
        ] {
            assert_eq!(imported[field], generated[field], "{field} of {}", imported["path"]);
        }
    }
}

#[test]
fn a_bare_jpeg_gets_its_parameters_on_export_and_one_with_exif_is_copied_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let image = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let bare = dir.path().join("harbour at dawn.jpg");
    std::fs::write(&bare, jpeg.get_ref()).unwrap();
    assert!(!pictor::imaging::has_exif(jpeg.get_ref()));
    let own_meta = pictor::metadata::ImageMeta {
        prompt: "from another tool".to_owned(),
        provider: "elsewhere".to_owned(),
        created_ms: 1_600_000_000_000,
        ..Default::default()
    };
    // Other pixels: the same pixels would be found as already in the library.
    let other = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([y as u8 * 8, x as u8 * 6, 30]));
    let mut other_jpeg = std::io::Cursor::new(Vec::new());
    other.write_to(&mut other_jpeg, image::ImageFormat::Jpeg).unwrap();
    let tagged_bytes = pictor::imaging::embed_metadata(other_jpeg.get_ref(), &own_meta).unwrap();
    let tagged = dir.path().join("tagged.jpg");
    std::fs::write(&tagged, &tagged_bytes).unwrap();

    let out = pictor(
        &library,
        &["import", bare.to_str().unwrap(), tagged.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ids: Vec<String> = json_lines(&out)
        .iter()
        .map(|line| line["id"].as_str().unwrap().to_owned())
        .collect();
    let to = dir.path().join("out");
    let out = pictor(
        &library,
        &[
            "export",
            &ids[0],
            &ids[1],
            "--to",
            to.to_str().unwrap(),
            "--format",
            "jpeg",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let paths: Vec<String> = json_lines(&out)
        .iter()
        .map(|line| line["path"].as_str().unwrap().to_owned())
        .collect();
    let bare_export = std::fs::read(&paths[0]).unwrap();
    let meta = pictor::imaging::read_metadata(&bare_export).unwrap();
    assert_eq!(meta.prompt, "harbour at dawn");
    assert_eq!(meta.provider, "import");
    assert_eq!(
        image::load_from_memory(&bare_export).unwrap().to_rgb8(),
        image::load_from_memory(jpeg.get_ref()).unwrap().to_rgb8(),
        "the pixels were not re-encoded"
    );
    assert_eq!(
        std::fs::read(&paths[1]).unwrap(),
        tagged_bytes,
        "a file with EXIF is copied as is"
    );
}
