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

use super::a1111::{parse_a1111, to_a1111};
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
    let unreadable =
        |err: img_parts::Error| Error::image("could not add the parameters to the image").with_details(err.to_string());
    let mut image = match format {
        Some(ImageFormat::Jpeg | ImageFormat::WebP) => DynImage::from_bytes(Bytes::copy_from_slice(bytes))
            .map_err(unreadable)?
            .ok_or_else(|| Error::image("could not add the parameters to the image"))?,
        _ => {
            return Err(Error::image(
                "EXIF parameters are only written into JPEG and WebP files",
            ));
        }
    };
    image.set_exif(Some(Bytes::from(exif)));
    Ok(image.encoder().bytes().to_vec())
}

/// The parameters in a JPEG's or WebP's EXIF: Pictor's `MakerNote` JSON when present,
/// else A1111 text in `UserComment`. `None` when there is neither (or no readable EXIF).
pub(crate) fn read_exif_meta(bytes: &[u8]) -> Option<ImageMeta> {
    let exif = Reader::new().read_from_container(&mut Cursor::new(bytes)).ok()?;
    let own = exif
        .get_field(Tag::MakerNote, In::PRIMARY)
        .and_then(|field| undefined_bytes(&field.value))
        .and_then(|note| note.strip_prefix(MAKER_NOTE_PREFIX.as_slice()))
        .and_then(|json| serde_json::from_slice::<ImageMeta>(json).ok());
    own.or_else(|| {
        let comment = exif.get_field(Tag::UserComment, In::PRIMARY)?;
        let text = user_comment_text(undefined_bytes(&comment.value)?, exif.little_endian())?;
        (!text.trim().is_empty()).then(|| parse_a1111(&text))
    })
}

/// The bytes of an `UNDEFINED` value (some writers use `BYTE`).
fn undefined_bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::Undefined(bytes, _) | Value::Byte(bytes) => Some(bytes),
        _ => None,
    }
}

/// Decodes a `UserComment`: UTF-16 after `UNICODE\0` (in the file's byte order, with a
/// byte-order mark winning), ASCII/UTF-8 after `ASCII` or an all-zero code.
fn user_comment_text(raw: &[u8], little_endian: bool) -> Option<String> {
    let (code, body) = raw.split_at_checked(8)?;
    if code == UNICODE_PREFIX {
        let (little_endian, body) = match body {
            [0xFF, 0xFE, rest @ ..] => (true, rest),
            [0xFE, 0xFF, rest @ ..] => (false, rest),
            _ => (little_endian, body),
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
        ImageMeta {
            prompt: "一幅传统的中国山水画, misty".to_owned(),
            negative_prompt: "模糊".to_owned(),
            revised_prompt: Some("A traditional Chinese landscape".to_owned()),
            model: "qwen-image-plus".to_owned(),
            size: "1328*1328".to_owned(),
            seed: Some(42),
            prompt_extend: true,
            watermark: false,
            provider: "apple-router".to_owned(),
            request_id: Some("req-1".to_owned()),
            created_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn the_exif_block_carries_a1111_text_and_pictor_json() {
        let exif = Reader::new().read_raw(exif_for(&meta()).unwrap()).unwrap();
        assert!(!exif.little_endian());
        let comment = exif.get_field(Tag::UserComment, In::PRIMARY).unwrap();
        let text = user_comment_text(undefined_bytes(&comment.value).unwrap(), false).unwrap();
        assert_eq!(text, to_a1111(&meta()));
        let note = exif.get_field(Tag::MakerNote, In::PRIMARY).unwrap();
        assert!(undefined_bytes(&note.value).unwrap().starts_with(b"Pictor\0{"));
    }

    #[test]
    fn user_comments_in_every_encoding_decode() {
        let mut le = UNICODE_PREFIX.to_vec();
        le.extend("山水 Seed: 7".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(user_comment_text(&le, true).unwrap(), "山水 Seed: 7");
        let mut bom = UNICODE_PREFIX.to_vec();
        bom.extend([0xFF, 0xFE]);
        bom.extend("山".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(user_comment_text(&bom, false).unwrap(), "山");
        let ascii = [ASCII_PREFIX.as_slice(), b"a cat\0"].concat();
        assert_eq!(user_comment_text(&ascii, false).unwrap(), "a cat");
        assert_eq!(user_comment_text(b"JIS\0\0\0\0\0xx", false), None);
        assert_eq!(user_comment_text(b"short", false), None);
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
