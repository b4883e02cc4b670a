//! Bytes <-> pixels: sniff, decode with limits, thumbnail, encode, PNG text metadata.
//!
//! [`ingest`] is the one entry point for images arriving from the service or an import:
//! it checks the bytes, makes the gallery thumbnail and, for PNG, embeds Pictor's
//! metadata as `iTXt` chunks without re-encoding the pixels.

mod a1111;
mod codec;
mod exif;
mod format;
mod png_text;
mod reference;
mod thumbnail;
mod tools;

pub use a1111::{parse_a1111, to_a1111};
pub use codec::{DecodeLimits, decode, encode_as};
pub use format::{ImageFormat, sniff};
pub use png_text::{MAX_TEXT_BYTES, embed_png_text, read_png_text};
pub use reference::{
    MAX_REFERENCE_BYTES, MAX_REFERENCE_SIDE, MIN_REFERENCE_SIDE, PreparedReference, prepare_reference,
};
pub use thumbnail::{THUMBNAIL_SIDE, decode_thumbnail, encode_thumbnail, fit_within, thumbnail};
pub use tools::{ToolReading, raw_texts, read_comfyui_graph, read_tool_metadata};

use crate::error::{Error, Result};
use crate::metadata::ImageMeta;

/// `iTXt` keyword of the JSON-serialised [`ImageMeta`].
pub const PICTOR_TEXT_KEY: &str = "pictor";

/// `iTXt` keyword of the AUTOMATIC1111-style parameters text, for other tools.
pub const A1111_TEXT_KEY: &str = "parameters";

/// An image checked and prepared for the library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// The bytes to store: for PNG the original with Pictor's `iTXt` chunks added,
    /// otherwise the original bytes unchanged.
    pub bytes: Vec<u8>,
    /// The format found from the magic bytes.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded gallery thumbnail (JPEG, longest side [`THUMBNAIL_SIDE`]).
    pub thumbnail: Vec<u8>,
}

/// An image ready to be stored, before any pixel was decoded: see [`prepare`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    /// The bytes to store (for PNG with Pictor's `iTXt` chunks added).
    pub bytes: Vec<u8>,
    /// The format found from the magic bytes.
    pub format: ImageFormat,
    /// Width in pixels, from the header.
    pub width: u32,
    /// Height in pixels, from the header.
    pub height: u32,
}

/// The cheap half of [`ingest`]: sniff, read the size from the header (refusing sizes
/// over `limits`) and embed `meta` for PNG. The pixels are checked by
/// [`decoded_thumbnail`], which can run at the same time on another thread.
pub fn prepare(bytes: &[u8], meta: &ImageMeta, limits: &DecodeLimits) -> Result<Prepared> {
    let format = sniff(bytes).ok_or_else(|| Error::image("not a PNG, JPEG or WebP image"))?;
    let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(bytes), format.to_image_format())
        .into_dimensions()
        .map_err(|err| Error::image(format!("unreadable {} header: {err}", format.extension())))?;
    if width == 0 || height == 0 {
        return Err(Error::image(format!("the {} image has no pixels", format.extension())));
    }
    if width > limits.max_width || height > limits.max_height {
        return Err(Error::image(format!(
            "the {} image is too large: {width}×{height} pixels (at most {}×{})",
            format.extension(),
            limits.max_width,
            limits.max_height
        )));
    }
    let bytes = match format {
        ImageFormat::Png => embed_meta(bytes, meta)?,
        ImageFormat::Jpeg | ImageFormat::WebP => bytes.to_vec(),
    };
    Ok(Prepared {
        bytes,
        format,
        width,
        height,
    })
}

/// The expensive half of [`ingest`]: decodes every pixel within `limits` (so a corrupt
/// image is refused) and returns the encoded gallery thumbnail and the [`pixel_hash`].
pub fn decoded_thumbnail(bytes: &[u8], limits: &DecodeLimits) -> Result<(Vec<u8>, String)> {
    let image = decode(bytes, limits)?;
    let hash = pixel_hash(&image);
    Ok((encode_thumbnail(&thumbnail(&image, THUMBNAIL_SIDE)?)?, hash))
}

/// A hash of an image's decoded pixels (SHA-256 over the colour type, the size and the
/// samples, hex): the same picture gives the same hash whatever the file around it
/// (other metadata chunks, another PNG compression), so an image already in the library
/// is found again. A lossy re-encode (JPEG) changes the pixels and so the hash.
pub fn pixel_hash(image: &image::DynamicImage) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(format!("{:?} {}x{}\n", image.color(), image.width(), image.height()).as_bytes());
    hasher.update(image.as_bytes());
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks `bytes` (sniff, then a full decode within `limits`), makes the thumbnail and,
/// for PNG, embeds `meta` as JSON ([`PICTOR_TEXT_KEY`]) and as A1111 text
/// ([`A1111_TEXT_KEY`]). The pixels are never re-encoded.
pub fn ingest(bytes: &[u8], meta: &ImageMeta, limits: &DecodeLimits) -> Result<Ingested> {
    let format = sniff(bytes).ok_or_else(|| Error::image("not a PNG, JPEG or WebP image"))?;
    let image = decode(bytes, limits)?;
    let thumbnail = encode_thumbnail(&thumbnail(&image, THUMBNAIL_SIDE)?)?;
    let bytes = match format {
        ImageFormat::Png => embed_meta(bytes, meta)?,
        ImageFormat::Jpeg | ImageFormat::WebP => bytes.to_vec(),
    };
    Ok(Ingested {
        bytes,
        format,
        width: image.width(),
        height: image.height(),
        thumbnail,
    })
}

/// `bytes` with `meta` embedded, the pixels untouched: PNG as `iTXt` chunks (see
/// [`ingest`]), JPEG and WebP as EXIF (`UserComment` with A1111 text, `MakerNote` with
/// Pictor's JSON). [`read_metadata`] reads all three back.
pub fn embed_metadata(bytes: &[u8], meta: &ImageMeta) -> Result<Vec<u8>> {
    match sniff(bytes) {
        Some(ImageFormat::Png) => embed_meta(bytes, meta),
        Some(ImageFormat::Jpeg | ImageFormat::WebP) => exif::embed_exif(bytes, meta),
        None => Err(Error::image("not a PNG, JPEG or WebP image")),
    }
}

/// Whether a JPEG or WebP file carries an EXIF block (false for PNG and anything else).
pub fn has_exif(bytes: &[u8]) -> bool {
    exif::has_exif(bytes)
}

/// `png` with `meta` embedded under both text keywords.
///
/// A `parameters` chunk another tool wrote (A1111's text, Fooocus's JSON) is kept as it
/// is: nothing a tool wrote is lost, and Pictor's own JSON carries the rest.
fn embed_meta(png: &[u8], meta: &ImageMeta) -> Result<Vec<u8>> {
    let json = serde_json::to_string(meta)
        .map_err(|err| Error::image("could not serialise the image metadata").with_details(err.to_string()))?;
    // One pass over the chunks: a `parameters` beside Pictor's own JSON is Pictor's too.
    let keywords: Vec<String> = png_text::read_png_text(png)
        .map(|texts| texts.into_iter().map(|(keyword, _)| keyword).collect())
        .unwrap_or_default();
    let has = |key: &str| keywords.iter().any(|keyword| keyword == key);
    if has(A1111_TEXT_KEY) && !has(PICTOR_TEXT_KEY) {
        return embed_png_text(png, &[(PICTOR_TEXT_KEY, &json)]);
    }
    let a1111 = to_a1111(meta);
    embed_png_text(png, &[(PICTOR_TEXT_KEY, &json), (A1111_TEXT_KEY, &a1111)])
}

/// The metadata embedded in an image file: Pictor's JSON when present and valid, else
/// the A1111 `parameters` text; from PNG text chunks or JPEG/WebP EXIF (see
/// [`embed_metadata`]). `None` when there is none. Malformed text chunks written by
/// other tools are skipped.
pub fn read_metadata(bytes: &[u8]) -> Option<ImageMeta> {
    match sniff(bytes)? {
        ImageFormat::Png => {}
        ImageFormat::Jpeg | ImageFormat::WebP => return exif::read_exif_meta(bytes),
    }
    let texts = png_text::read_well_formed_png_text(bytes).ok()?;
    let text_of = |key: &str| {
        texts
            .iter()
            .find(|(keyword, _)| keyword == key)
            .map(|(_, text)| text.as_str())
    };
    text_of(PICTOR_TEXT_KEY)
        .and_then(|json| serde_json::from_str::<ImageMeta>(json).ok())
        .or_else(|| text_of(A1111_TEXT_KEY).map(parse_a1111))
}

/// Pictor's own parameters embedded in a file (PNG `iTXt` JSON, JPEG/WebP EXIF), when
/// present and valid; other tools' metadata is read by [`read_tool_metadata`].
pub fn read_pictor_metadata(bytes: &[u8]) -> Option<ImageMeta> {
    match sniff(bytes)? {
        ImageFormat::Png => png_text::read_well_formed_png_text(bytes)
            .ok()?
            .into_iter()
            .find(|(keyword, _)| keyword == PICTOR_TEXT_KEY)
            .and_then(|(_, json)| serde_json::from_str(&json).ok()),
        ImageFormat::Jpeg | ImageFormat::WebP => exif::read_exif_own_meta(bytes),
    }
}

/// The embedded metadata (or empty metadata) and the pixel size of a stored file, read
/// from its header without decoding pixels. Used to re-catalogue files after a crash.
pub fn read_meta_and_size(bytes: &[u8]) -> Option<(ImageMeta, u32, u32)> {
    let (width, height) = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()?;
    Some((read_metadata(bytes).unwrap_or_default(), width, height))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Cursor;

    use image::{DynamicImage, RgbImage};

    use super::*;
    use crate::ErrorKind;

    /// Metadata with every field set, Chinese text included (also used by `exif`).
    pub(super) fn chinese_meta() -> ImageMeta {
        ImageMeta {
            prompt: "一幅传统的中国山水画".to_owned(),
            negative_prompt: "模糊, 低质量".to_owned(),
            revised_prompt: Some("一幅水墨山水画，远山含黛".to_owned()),
            model: "qwen-image-plus".to_owned(),
            size: "1328*1328".to_owned(),
            seed: Some(42),
            prompt_extend: true,
            watermark: false,
            provider: "apple-router".to_owned(),
            request_id: Some("req-1".to_owned()),
            created_ms: 1_700_000_000_000,
            parents: Vec::new(),
            source: Some(crate::metadata::ImportSource {
                tool: Some(crate::metadata::SourceTool::ComfyUi),
                seed: Some(1_125_899_906_842_624),
                file_name: "山水_00001_.png".to_owned(),
                modified_ms: Some(1_600_000_000_000),
                details: vec![("steps".to_owned(), "20".to_owned())],
                notes: Vec::new(),
            }),
            batch: Some("01JBATCH".to_owned()),
        }
    }

    fn picture(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 3 % 256) as u8, (y * 5 % 256) as u8, ((x ^ y) % 256) as u8])
        }))
    }

    fn encoded(image: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    #[test]
    fn png_ingest_embeds_metadata_and_keeps_pixels() {
        let original = encoded(&picture(640, 360), image::ImageFormat::Png);
        let meta = chinese_meta();
        let ingested = ingest(&original, &meta, &DecodeLimits::default()).unwrap();
        assert_eq!(ingested.format, ImageFormat::Png);
        assert_eq!((ingested.width, ingested.height), (640, 360));
        assert_eq!(read_metadata(&ingested.bytes), Some(meta.clone()));
        let stored = decode(&ingested.bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(stored, decode(&original, &DecodeLimits::default()).unwrap());
        let texts = read_png_text(&ingested.bytes).unwrap();
        let a1111 = texts.iter().find(|(k, _)| k == A1111_TEXT_KEY).unwrap();
        assert_eq!(a1111.1, to_a1111(&meta));
        let thumb = decode_thumbnail(&ingested.thumbnail).unwrap();
        assert_eq!(thumb.dimensions(), (320, 180));
    }

    #[test]
    fn ingesting_twice_keeps_one_copy_of_each_chunk() {
        let original = encoded(&picture(20, 10), image::ImageFormat::Png);
        let first = ingest(&original, &chinese_meta(), &DecodeLimits::default()).unwrap();
        let newer = ImageMeta {
            seed: Some(7),
            ..chinese_meta()
        };
        let second = ingest(&first.bytes, &newer, &DecodeLimits::default()).unwrap();
        assert_eq!(read_png_text(&second.bytes).unwrap().len(), 2);
        assert_eq!(read_metadata(&second.bytes), Some(newer));
    }

    #[test]
    fn jpeg_and_webp_are_stored_unchanged() {
        let image = picture(500, 700);
        for (format, ours) in [
            (image::ImageFormat::Jpeg, ImageFormat::Jpeg),
            (image::ImageFormat::WebP, ImageFormat::WebP),
        ] {
            let original = encoded(&image, format);
            let ingested = ingest(&original, &chinese_meta(), &DecodeLimits::default()).unwrap();
            assert_eq!(ingested.format, ours);
            assert_eq!(ingested.bytes, original);
            assert_eq!((ingested.width, ingested.height), (500, 700));
            assert_eq!(decode_thumbnail(&ingested.thumbnail).unwrap().dimensions(), (229, 320));
            assert_eq!(read_metadata(&ingested.bytes), None);
        }
    }

    #[test]
    fn ingest_refuses_garbage_and_oversized_images() {
        let meta = chinese_meta();
        let err = ingest(b"<html>not an image</html>", &meta, &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Image);
        let png = encoded(&picture(64, 64), image::ImageFormat::Png);
        let small = DecodeLimits {
            max_width: 32,
            max_height: 32,
            ..DecodeLimits::default()
        };
        assert_eq!(ingest(&png, &meta, &small).unwrap_err().kind, ErrorKind::Image);
        let truncated = &png[..png.len() / 2];
        assert_eq!(
            ingest(truncated, &meta, &DecodeLimits::default()).unwrap_err().kind,
            ErrorKind::Image
        );
    }

    #[test]
    fn metadata_falls_back_to_a1111_text() {
        let png = encoded(&picture(8, 8), image::ImageFormat::Png);
        let only_a1111 = embed_png_text(
            &png,
            &[(
                A1111_TEXT_KEY,
                "a red fox\nNegative prompt: cartoon\nSteps: 20, Seed: 5, Size: 8x8, Model: sd15",
            )],
        )
        .unwrap();
        let meta = read_metadata(&only_a1111).unwrap();
        assert_eq!(
            (
                meta.prompt.as_str(),
                meta.seed,
                meta.model.as_str(),
                meta.provider.as_str()
            ),
            ("a red fox", Some(5), "sd15", "import")
        );
        // Broken Pictor JSON falls back too.
        let broken_json = embed_png_text(&only_a1111, &[(PICTOR_TEXT_KEY, "{not json")]).unwrap();
        assert_eq!(read_metadata(&broken_json), Some(meta));
        assert_eq!(read_metadata(&png), None);
        assert_eq!(read_metadata(b"garbage"), None);
    }

    /// Found by fuzzing: a PNG carrying another tool's iTXt chunk with invalid UTF-8 (and a
    /// valid CRC) decodes, so it is ingested; its Pictor metadata must still read back.
    #[test]
    fn a_foreign_malformed_text_chunk_does_not_hide_our_metadata() {
        let png = encoded(&picture(8, 8), image::ImageFormat::Png);
        // Insert `iTXt "Disclaimer" … "F\xff\xff\xffare."` right after IHDR (8 + 25 bytes).
        let mut data = b"Disclaimer\0\0\0en\0Disclaimer\0".to_vec();
        data.extend_from_slice(b"F\xff\xff\xffare.");
        let mut crc = crc32fast::Hasher::new();
        crc.update(b"iTXt");
        crc.update(&data);
        let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(b"iTXt");
        chunk.extend_from_slice(&data);
        chunk.extend_from_slice(&crc.finalize().to_be_bytes());
        let mut foreign = png[..33].to_vec();
        foreign.extend_from_slice(&chunk);
        foreign.extend_from_slice(&png[33..]);
        assert!(read_png_text(&foreign).is_err(), "the strict reader refuses the chunk");
        let ingested = ingest(&foreign, &chinese_meta(), &DecodeLimits::default()).unwrap();
        assert_eq!(read_metadata(&ingested.bytes), Some(chinese_meta()));
        let (meta, width, height) = read_meta_and_size(&ingested.bytes).unwrap();
        assert_eq!((meta, width, height), (chinese_meta(), 8, 8));
    }

    /// Flips bytes of valid files with a fixed pseudo-random sequence: every function
    /// must answer with a value or an error, never a panic.
    #[test]
    fn corrupted_files_never_panic() {
        let image = picture(48, 40);
        let png = ingest(
            &encoded(&image, image::ImageFormat::Png),
            &chinese_meta(),
            &DecodeLimits::default(),
        )
        .unwrap()
        .bytes;
        let files = [
            png,
            encoded(&image, image::ImageFormat::Jpeg),
            encoded(&image, image::ImageFormat::WebP),
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for file in &files {
            for _ in 0..150 {
                let mut bytes = file.clone();
                for _ in 0..1 + next() % 4 {
                    let index = (next() % bytes.len() as u64) as usize;
                    bytes[index] = next() as u8;
                }
                if next() % 3 == 0 {
                    bytes.truncate((next() % bytes.len() as u64) as usize);
                }
                let _ = decode(&bytes, &DecodeLimits::default());
                let _ = ingest(&bytes, &chinese_meta(), &DecodeLimits::default());
                let _ = read_png_text(&bytes);
                let _ = read_metadata(&bytes);
                let _ = embed_png_text(&bytes, &[(PICTOR_TEXT_KEY, "x")]);
            }
        }
    }
}
