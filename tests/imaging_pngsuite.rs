//! PngSuite (`../shared/testdata/pngsuite`) through `imaging`: every valid file decodes and
//! ingests with its metadata intact and its pixels unchanged; every broken file (`x*.png`)
//! is refused with an image error, never a panic.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use pictor::ErrorKind;
use pictor::imaging::{DecodeLimits, ImageFormat, decode, decode_thumbnail, ingest, read_metadata};
use pictor::metadata::ImageMeta;

fn suite_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/pngsuite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("PngSuite missing at {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "png"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn is_broken(path: &Path) -> bool {
    file_name(path).starts_with('x')
}

fn meta_for(name: &str) -> ImageMeta {
    ImageMeta {
        prompt: format!("一幅传统的中国山水画 — {name}"),
        negative_prompt: "模糊\n低质量".to_owned(),
        model: "qwen-image-plus".to_owned(),
        size: "1328*1328".to_owned(),
        seed: Some(42),
        provider: "apple-router".to_owned(),
        created_ms: 1_700_000_000_000,
        ..ImageMeta::default()
    }
}

#[test]
fn valid_files_decode_and_ingest_with_metadata() {
    let limits = DecodeLimits::default();
    let mut checked = 0;
    for path in suite_files().iter().filter(|path| !is_broken(path)) {
        let name = file_name(path);
        let bytes = std::fs::read(path).unwrap();
        let original = decode(&bytes, &limits).unwrap_or_else(|err| panic!("{name}: {err:?}"));
        let meta = meta_for(&name);
        let ingested = ingest(&bytes, &meta, &limits).unwrap_or_else(|err| panic!("{name}: {err:?}"));
        assert_eq!(ingested.format, ImageFormat::Png, "{name}");
        assert_eq!(
            (ingested.width, ingested.height),
            (original.width(), original.height()),
            "{name}"
        );
        assert_eq!(read_metadata(&ingested.bytes), Some(meta), "{name}");
        let stored = decode(&ingested.bytes, &limits).unwrap_or_else(|err| panic!("{name}: {err:?}"));
        assert_eq!(stored, original, "{name}: pixels changed");
        let thumb = decode_thumbnail(&ingested.thumbnail).unwrap();
        assert_eq!(
            (thumb.width(), thumb.height()),
            (original.width(), original.height()),
            "{name}"
        );
        checked += 1;
    }
    assert!(checked > 100, "only {checked} valid PngSuite files found");
}

#[test]
fn broken_files_are_refused_with_an_image_error() {
    let limits = DecodeLimits::default();
    let meta = meta_for("broken");
    let mut refused = 0;
    for path in suite_files().iter().filter(|path| is_broken(path)) {
        let name = file_name(path);
        let bytes = std::fs::read(path).unwrap();
        let decoded = decode(&bytes, &limits);
        assert_eq!(
            decoded.err().map(|err| err.kind),
            Some(ErrorKind::Image),
            "{name}: decode"
        );
        let ingested = ingest(&bytes, &meta, &limits);
        assert_eq!(
            ingested.err().map(|err| err.kind),
            Some(ErrorKind::Image),
            "{name}: ingest"
        );
        refused += 1;
    }
    assert!(refused >= 14, "only {refused} broken PngSuite files found");
}

/// A PNG whose IHDR claims `width` × `height` RGB pixels, with valid CRCs.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn a_huge_ihdr_is_refused_quickly() {
    // Not timed: "quickly" means refused from the header's dimensions, before a pixel
    // buffer exists, and the decoder's own words in the details say so.
    let png = png_claiming(60_000, 60_000);
    let decoded = decode(&png, &DecodeLimits::default()).unwrap_err();
    let ingested = ingest(&png, &ImageMeta::default(), &DecodeLimits::default()).unwrap_err();
    for err in [decoded, ingested] {
        assert_eq!(err.kind, ErrorKind::Image);
        assert!(err.message.contains("too large"), "{}", err.message);
        assert_eq!(err.details, "Image size exceeds limit");
    }
}
