//! Generation parameters inside JPEG and WebP files, as EXIF.
//!
//! Two fields carry them, both in the EXIF sub-directory:
//! - `UserComment`: the AUTOMATIC1111 `parameters` text in UTF-16 (`UNICODE` character
//!   code), where A1111, Civitai and most image tools look for it;
//! - `MakerNote`: `Pictor\0` followed by the [`ImageMeta`] JSON, so a file exported by
//!   Pictor re-imports with everything (revised prompt, provider, request id, time).
//!
//! The TIFF structure is written and read by `kamadak-exif`; `img-parts` places it in
//! the JPEG `APP1` segment or the WebP `EXIF` chunk without touching the pixels.

use std::io::Cursor;

use exif::{Field, In, Reader, Tag, Value};
use img_parts::{Bytes, DynImage, ImageEXIF};

use super::a1111::{looks_like_a1111, parse_a1111, to_a1111};
use super::format::{ImageFormat, sniff};
use crate::error::{Error, Result};
use crate::metadata::ImageMeta;

/// `UserComment` character-code prefix for UTF-16 text (EXIF 2.3, table 9).
const UNICODE_PREFIX: &[u8; 8] = b"UNICODE\0";

/// `UserComment` character-code prefix for ASCII text.
const ASCII_PREFIX: &[u8; 8] = b"ASCII\0\0\0";

/// What starts Pictor's `MakerNote`; the JSON follows.
const MAKER_NOTE_PREFIX: &[u8; 7] = b"Pictor\0";

/// Largest EXIF block a JPEG `APP1` segment holds (65535 minus the length and `Exif\0\0`).
const MAX_JPEG_EXIF_BYTES: usize = 65_527;

/// The EXIF block (a big-endian TIFF structure, as A1111 writes it) for `meta`.
pub(crate) fn exif_for(meta: &ImageMeta) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(meta)
        .map_err(|err| Error::image("could not serialise the image metadata").with_details(err.to_string()))?;
    let mut maker_note = MAKER_NOTE_PREFIX.to_vec();
    maker_note.extend_from_slice(&json);
    let mut comment = UNICODE_PREFIX.to_vec();
    comment.extend(to_a1111(meta).encode_utf16().flat_map(u16::to_be_bytes));
    let software = format!("Pictor {}", env!("CARGO_PKG_VERSION")).into_bytes();

    let fields = [
        Field {
            tag: Tag::Software,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![software]),
        },
        Field {
            tag: Tag::UserComment,
            ifd_num: In::PRIMARY,
            value: Value::Undefined(comment, 0),
        },
        Field {
            tag: Tag::MakerNote,
            ifd_num: In::PRIMARY,
            value: Value::Undefined(maker_note, 0),
        },
    ];
    let mut writer = exif::experimental::Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut out = Cursor::new(Vec::new());
    writer
        .write(&mut out, false)
        .map_err(|err| Error::image("could not write the EXIF metadata").with_details(err.to_string()))?;
    Ok(out.into_inner())
}

/// `bytes` (a JPEG or WebP file) with its EXIF replaced by `meta`'s. The pixels are
/// not re-encoded. Fails for other formats and for metadata a JPEG cannot hold.
pub(crate) fn embed_exif(bytes: &[u8], meta: &ImageMeta) -> Result<Vec<u8>> {
    let format = sniff(bytes);
    let exif = exif_for(meta)?;
    if format == Some(ImageFormat::Jpeg) && exif.len() > MAX_JPEG_EXIF_BYTES {
        return Err(Error::image(format!(
            "the parameters are too long for a JPEG ({} bytes of EXIF, at most {MAX_JPEG_EXIF_BYTES})",
            exif.len()
        )));
    }
    if !matches!(format, Some(ImageFormat::Jpeg | ImageFormat::WebP)) {
        return Err(Error::image(
            "EXIF parameters are only written into JPEG and WebP files",
        ));
    }
    // The file may have come from the network: a parser panic is an error, not a crash.
    let rewritten = std::panic::catch_unwind(|| {
        let mut image = DynImage::from_bytes(Bytes::copy_from_slice(bytes))
            .map_err(|err| err.to_string())?
            .ok_or_else(|| "not a JPEG or WebP container".to_owned())?;
        image.set_exif(Some(Bytes::from(exif)));
        Ok::<_, String>(image.encoder().bytes().to_vec())
    });
    match rewritten {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(details)) => Err(Error::image("could not add the parameters to the image").with_details(details)),
        Err(_) => Err(Error::image("could not add the parameters to the image")),
    }
}

/// Whether a JPEG or WebP file carries any EXIF block (a camera's, another tool's, ours).
pub(crate) fn has_exif(bytes: &[u8]) -> bool {
    raw_exif(bytes).is_some()
}

/// The raw EXIF (TIFF) block of a JPEG or WebP file. The bytes may be hostile: a parser
/// panic counts as "no EXIF".
fn raw_exif(bytes: &[u8]) -> Option<Vec<u8>> {
    match sniff(bytes)? {
        ImageFormat::Jpeg => exif::get_exif_attr_from_jpeg(&mut Cursor::new(bytes)).ok(),
        // img-parts also accepts the `Exif\0\0` prefix some writers put in the chunk.
        ImageFormat::WebP => std::panic::catch_unwind(|| {
            img_parts::webp::WebP::from_bytes(Bytes::copy_from_slice(bytes))
                .ok()?
                .exif()
                .map(|exif| exif.to_vec())
        })
        .ok()
        .flatten(),
        ImageFormat::Png => None,
    }
}

/// The parameters in a JPEG's or WebP's EXIF: Pictor's `MakerNote` JSON when present,
/// else A1111 text in `UserComment`. `None` when there is neither (or no readable EXIF).
/// A damaged directory elsewhere in the block (common in camera files) is skipped.
pub(crate) fn read_exif_meta(bytes: &[u8]) -> Option<ImageMeta> {
    let exif = read_exif(bytes)?;
    own_meta(&exif).or_else(|| {
        let comment = exif.get_field(Tag::UserComment, In::PRIMARY)?;
        let text = user_comment_text(undefined_bytes(&comment.value)?)?;
        // A camera's or phone's comment is not a prompt.
        looks_like_a1111(&text).then(|| parse_a1111(&text))
    })
}

/// The EXIF fields of a JPEG or WebP file; a damaged directory elsewhere in the block
/// (common in camera files) is skipped. `None` when there is no readable EXIF.
/// Pictor's own JSON from a JPEG's or WebP's EXIF `MakerNote`, when present and valid.
pub(crate) fn read_exif_own_meta(bytes: &[u8]) -> Option<ImageMeta> {
    own_meta(&read_exif(bytes)?)
}

fn own_meta(exif: &exif::Exif) -> Option<ImageMeta> {
    exif.get_field(Tag::MakerNote, In::PRIMARY)
        .and_then(|field| undefined_bytes(&field.value))
        .and_then(|note| note.strip_prefix(MAKER_NOTE_PREFIX.as_slice()))
        .and_then(|json| serde_json::from_slice::<ImageMeta>(json).ok())
}

pub(crate) fn read_exif(bytes: &[u8]) -> Option<exif::Exif> {
    match Reader::new().continue_on_error(true).read_raw(raw_exif(bytes)?) {
        Ok(exif) => Some(exif),
        Err(exif::Error::PartialResult(partial)) => Some(partial.into_inner().0),
        Err(_) => None,
    }
}

/// The bytes of an `UNDEFINED` value (some writers use `BYTE`).
pub(crate) fn undefined_bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::Undefined(bytes, _) | Value::Byte(bytes) => Some(bytes),
        _ => None,
    }
}

/// Decodes a `UserComment`: UTF-16 after `UNICODE\0`, ASCII/UTF-8 after `ASCII` or an
/// all-zero code. Writers disagree on the UTF-16 byte order (A1111 and piexif always use
/// big-endian, whatever the TIFF's order), so a byte-order mark decides, else where the
/// zero bytes of Latin text fall, else big-endian.
pub(crate) fn user_comment_text(raw: &[u8]) -> Option<String> {
    let (code, body) = raw.split_at_checked(8)?;
    if code == UNICODE_PREFIX {
        let (little_endian, body) = match body {
            [0xFF, 0xFE, rest @ ..] => (true, rest),
            [0xFE, 0xFF, rest @ ..] => (false, rest),
            _ => {
                let zeros_at = |parity: usize| body.iter().skip(parity).step_by(2).filter(|b| **b == 0).count();
                (zeros_at(1) > zeros_at(0), body)
            }
        };
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|pair| {
                let pair = [pair[0], pair[1]];
                if little_endian {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        Some(String::from_utf16_lossy(&units).trim_end_matches('\0').to_owned())
    } else if code == ASCII_PREFIX || code == [0u8; 8] {
        Some(String::from_utf8_lossy(body).trim_end_matches('\0').to_owned())
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn meta() -> ImageMeta {
        crate::imaging::tests::chinese_meta()
    }

    #[test]
    fn the_exif_block_carries_a1111_text_and_pictor_json() {
        let exif = Reader::new().read_raw(exif_for(&meta()).unwrap()).unwrap();
        assert!(!exif.little_endian());
        let comment = exif.get_field(Tag::UserComment, In::PRIMARY).unwrap();
        let text = user_comment_text(undefined_bytes(&comment.value).unwrap()).unwrap();
        assert_eq!(text, to_a1111(&meta()));
        let note = exif.get_field(Tag::MakerNote, In::PRIMARY).unwrap();
        assert!(undefined_bytes(&note.value).unwrap().starts_with(b"Pictor\0{"));
    }

    #[test]
    fn user_comments_in_every_encoding_decode() {
        let text = "山水 Seed: 7";
        let mut le = UNICODE_PREFIX.to_vec();
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(user_comment_text(&le).unwrap(), text);
        let mut be = UNICODE_PREFIX.to_vec();
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(user_comment_text(&be).unwrap(), text);
        let mut bom = UNICODE_PREFIX.to_vec();
        bom.extend([0xFF, 0xFE]);
        bom.extend("山".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(user_comment_text(&bom).unwrap(), "山");
        let ascii = [ASCII_PREFIX.as_slice(), b"a cat\0"].concat();
        assert_eq!(user_comment_text(&ascii).unwrap(), "a cat");
        assert_eq!(user_comment_text(b"JIS\0\0\0\0\0xx"), None);
        assert_eq!(user_comment_text(b"short"), None);
    }

    /// A small photograph-like image as `format` at quality 80, with alpha when asked.
    fn encoded(format: ImageFormat, alpha: bool) -> Vec<u8> {
        let rgba = image::RgbaImage::from_fn(48, 32, |x, y| {
            image::Rgba([
                (x * 5) as u8,
                (y * 7) as u8,
                (x ^ y) as u8,
                if alpha { (x * 5) as u8 } else { 255 },
            ])
        });
        let image = if alpha {
            image::DynamicImage::ImageRgba8(rgba)
        } else {
            image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(rgba).to_rgb8())
        };
        crate::imaging::encode_as(&image, format, 80).unwrap()
    }

    /// `bytes` with an EXIF block holding only `comment` as a `UserComment`, as A1111 writes it.
    fn with_user_comment(bytes: &[u8], comment: &str) -> Vec<u8> {
        let mut value = UNICODE_PREFIX.to_vec();
        value.extend(comment.encode_utf16().flat_map(u16::to_be_bytes));
        let field = Field {
            tag: Tag::UserComment,
            ifd_num: In::PRIMARY,
            value: Value::Undefined(value, 0),
        };
        let mut writer = exif::experimental::Writer::new();
        writer.push_field(&field);
        let mut tiff = Cursor::new(Vec::new());
        writer.write(&mut tiff, false).unwrap();
        let mut image = DynImage::from_bytes(Bytes::copy_from_slice(bytes)).unwrap().unwrap();
        image.set_exif(Some(Bytes::from(tiff.into_inner())));
        image.encoder().bytes().to_vec()
    }

    #[test]
    fn jpeg_and_webp_round_trip_with_and_without_transparency() {
        for (format, alpha) in [
            (ImageFormat::Jpeg, false),
            (ImageFormat::WebP, false),
            (ImageFormat::WebP, true),
        ] {
            let plain = encoded(format, alpha);
            assert!(!has_exif(&plain));
            let tagged = embed_exif(&plain, &meta()).unwrap();
            assert!(has_exif(&tagged));
            assert_eq!(read_exif_meta(&tagged), Some(meta()), "{format:?} alpha {alpha}");
            let decoded = crate::imaging::decode(&tagged, &crate::imaging::DecodeLimits::default()).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (48, 32));
            assert_eq!(decoded.color().has_alpha(), alpha, "{format:?}");
        }
    }

    #[test]
    fn a1111_user_comments_are_read_and_other_comments_are_not() {
        for format in [ImageFormat::Jpeg, ImageFormat::WebP] {
            let a1111 = with_user_comment(
                &encoded(format, false),
                "a red fox\nNegative prompt: blur\nSteps: 20, Seed: 99, Size: 512x768",
            );
            let meta = read_exif_meta(&a1111).unwrap();
            assert_eq!(meta.prompt, "a red fox");
            assert_eq!(meta.negative_prompt, "blur");
            assert_eq!(meta.seed, Some(99));
            assert_eq!(meta.size, "512*768");
            assert_eq!(meta.provider, "import");
            let camera = with_user_comment(&encoded(format, false), "Shot on a phone at dusk");
            assert!(has_exif(&camera));
            assert_eq!(read_exif_meta(&camera), None, "{format:?}");
        }
    }

    #[test]
    fn a_webp_exif_chunk_with_the_exif_prefix_is_read() {
        let tagged = embed_exif(&encoded(ImageFormat::WebP, false), &meta()).unwrap();
        let mut webp = img_parts::webp::WebP::from_bytes(Bytes::from(tagged)).unwrap();
        let tiff = webp.exif().unwrap();
        let prefixed = [b"Exif\0\0".as_slice(), &tiff].concat();
        webp.remove_chunks_by_id(*b"EXIF");
        webp.chunks_mut().push(img_parts::riff::RiffChunk::new(
            *b"EXIF",
            img_parts::riff::RiffContent::Data(Bytes::from(prefixed)),
        ));
        assert_eq!(read_exif_meta(&webp.encoder().bytes()), Some(meta()));
    }

    #[test]
    fn damaged_files_with_exif_never_panic() {
        let mut seed = 0x2545_F491_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        for format in [ImageFormat::Jpeg, ImageFormat::WebP] {
            let tagged = embed_exif(&encoded(format, false), &meta()).unwrap();
            for _ in 0..400 {
                let mut bytes = tagged.clone();
                for _ in 0..1 + next() % 8 {
                    let at = next() % bytes.len();
                    bytes[at] = next() as u8;
                }
                bytes.truncate(bytes.len() - next() % 64);
                let _ = read_exif_meta(&bytes);
                let _ = has_exif(&bytes);
                let _ = embed_exif(&bytes, &meta());
            }
        }
    }

    #[test]
    fn other_files_and_garbage_give_no_metadata() {
        assert_eq!(read_exif_meta(b""), None);
        assert_eq!(read_exif_meta(b"\xFF\xD8\xFF\xE1\x00\x10Exif\0\0MM\0*garbage"), None);
        assert!(embed_exif(b"not an image", &meta()).is_err());
        assert!(embed_exif(b"\x89PNG\r\n\x1a\n", &meta()).is_err());
    }

    #[test]
    fn oversized_parameters_are_refused_for_jpeg() {
        let long = ImageMeta {
            prompt: "山".repeat(40_000),
            ..meta()
        };
        let jpeg = b"\xFF\xD8\xFF\xD9";
        let err = embed_exif(jpeg, &long).unwrap_err();
        assert!(err.message.contains("too long for a JPEG"), "{}", err.message);
    }
}
