//! Every text an image file carries, gathered once for all the readers: PNG text
//! chunks; for JPEG and WebP the EXIF comments and descriptions; the XMP packet.

use exif::{Context, In, Tag, Value};
use img_parts::Bytes;

use crate::imaging::exif::{read_exif, undefined_bytes, user_comment_text};
use crate::imaging::format::{ImageFormat, sniff};
use crate::imaging::png_text::read_well_formed_png_text;

/// The key under which the XMP packet is listed, whatever the container.
pub(super) const XMP_KEY: &str = "XMP";

/// The PNG `iTXt` keyword of an XMP packet.
const PNG_XMP_KEYWORD: &str = "XML:com.adobe.xmp";

/// What starts an XMP packet in a JPEG `APP1` segment.
const JPEG_XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Windows' `XPComment` tag (UTF-16LE in a `BYTE` array).
const XP_COMMENT: Tag = Tag(Context::Tiff, 0x9C9C);

/// The texts of one file as (key, text) pairs in file order.
#[derive(Debug, Default)]
pub(super) struct Texts {
    entries: Vec<(String, String)>,
}

impl Texts {
    /// The texts of `entries`, in that order.
    pub(super) fn new(entries: Vec<(String, String)>) -> Self {
        Self { entries }
    }

    /// The first text stored under `key`.
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, text)| text.as_str())
    }

    /// The pairs, for listing.
    pub(super) fn into_entries(self) -> Vec<(String, String)> {
        self.entries
    }
}

/// The texts of `bytes`: for PNG the well-formed text chunks (an XMP packet listed as
/// [`XMP_KEY`]); for JPEG and WebP the EXIF `UserComment`, `ImageDescription` and
/// `XPComment`, ComfyUI's `prompt:`/`workflow:` texts in `Model`/`Make`, then the XMP
/// packet. Empty for anything else.
pub(super) fn texts(bytes: &[u8]) -> Texts {
    let entries = match sniff(bytes) {
        Some(ImageFormat::Png) => png_texts(bytes),
        Some(format @ (ImageFormat::Jpeg | ImageFormat::WebP)) => {
            let mut entries = exif_texts(bytes);
            entries.extend(container_xmp(bytes, format).map(|xmp| (XMP_KEY.to_owned(), xmp)));
            entries
        }
        None => Vec::new(),
    };
    Texts::new(entries)
}

/// The text chunks of a PNG, `tEXt` written as UTF-8 repaired (see [`utf8_in_latin1`]).
fn png_texts(png: &[u8]) -> Vec<(String, String)> {
    read_well_formed_png_text(png)
        .unwrap_or_default()
        .into_iter()
        .map(|(keyword, text)| {
            let keyword = if keyword == PNG_XMP_KEYWORD {
                XMP_KEY.to_owned()
            } else {
                keyword
            };
            (keyword, utf8_in_latin1(text))
        })
        .collect()
}

/// `tEXt` is Latin-1 by the standard, but several tools write UTF-8 into it: text whose
/// characters are all below U+0100 and whose bytes form valid UTF-8 with a multi-byte
/// sequence is read as UTF-8 (Latin-1 prose almost never forms such sequences).
fn utf8_in_latin1(text: String) -> String {
    if text.is_ascii() || text.chars().any(|c| u32::from(c) > 0xFF) {
        return text;
    }
    let bytes: Vec<u8> = text.chars().filter_map(|c| u8::try_from(u32::from(c)).ok()).collect();
    String::from_utf8(bytes).unwrap_or(text)
}

/// The EXIF texts of a JPEG or WebP.
fn exif_texts(bytes: &[u8]) -> Vec<(String, String)> {
    let Some(exif) = read_exif(bytes) else {
        return Vec::new();
    };
    let field = |tag: Tag| exif.get_field(tag, In::PRIMARY).map(|field| &field.value);
    let mut entries = Vec::new();
    // Fooocus (through PIL) writes its JSON into UserComment without a character code.
    if let Some(text) = field(Tag::UserComment).and_then(undefined_bytes).and_then(|raw| {
        user_comment_text(raw).or_else(|| raw.starts_with(b"{").then(|| String::from_utf8_lossy(raw).into_owned()))
    }) {
        entries.push(("UserComment".to_owned(), text));
    }
    if let Some(text) = field(Tag::ImageDescription).and_then(ascii_text) {
        entries.push(("ImageDescription".to_owned(), text));
    }
    if let Some(text) = field(XP_COMMENT).and_then(undefined_bytes).map(utf16le_text) {
        entries.push(("XPComment".to_owned(), text));
    }
    // ComfyUI's WebP and JPEG savers write "prompt:{json}" into Model and
    // "workflow:{json}" into Make.
    for tag in [Tag::Model, Tag::Make] {
        let Some(text) = field(tag).and_then(ascii_text) else {
            continue;
        };
        for key in ["prompt", "workflow"] {
            if let Some(json) = text.strip_prefix(key).and_then(|rest| rest.strip_prefix(':')) {
                entries.push((key.to_owned(), json.to_owned()));
            }
        }
    }
    entries.retain(|(_, text)| !text.is_empty());
    entries
}

/// An `ASCII` value as text (UTF-8 in practice; invalid bytes replaced), NULs trimmed.
fn ascii_text(value: &Value) -> Option<String> {
    match value {
        Value::Ascii(parts) => {
            let joined = parts.join(&b'\n');
            Some(String::from_utf8_lossy(&joined).trim_end_matches('\0').to_owned())
        }
        _ => None,
    }
}

/// UTF-16LE bytes (Windows' `XP…` tags) as text, NULs trimmed.
fn utf16le_text(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units).trim_end_matches('\0').to_owned()
}

/// The XMP packet of a JPEG (`APP1` segment) or WebP (`XMP ` chunk). The bytes may be
/// hostile: a parser panic counts as "no XMP".
fn container_xmp(bytes: &[u8], format: ImageFormat) -> Option<String> {
    let packet = std::panic::catch_unwind(|| match format {
        ImageFormat::Jpeg => img_parts::jpeg::Jpeg::from_bytes(Bytes::copy_from_slice(bytes))
            .ok()?
            .segments_by_marker(img_parts::jpeg::markers::APP1)
            .find_map(|segment| segment.contents().strip_prefix(JPEG_XMP_PREFIX).map(<[u8]>::to_vec)),
        ImageFormat::WebP => img_parts::webp::WebP::from_bytes(Bytes::copy_from_slice(bytes))
            .ok()?
            .chunk_by_id(*b"XMP ")
            .and_then(|chunk| chunk.content().data())
            .map(|data| data.to_vec()),
        ImageFormat::Png => None,
    })
    .ok()
    .flatten()?;
    let text = String::from_utf8_lossy(&packet).trim_end_matches('\0').to_owned();
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::test_files::{
        exif_ascii, jpeg_with_exif, jpeg_with_xmp, png_with_raw_text, png_with_texts, user_comment, webp_with_exif,
        xp_comment,
    };
    use super::*;

    #[test]
    fn jpeg_and_webp_exif_texts_are_listed() {
        let fields = [
            user_comment("a fox\nSeed: 1"),
            exif_ascii(Tag::ImageDescription, "一只狐狸"),
            xp_comment("windows comment"),
            exif_ascii(Tag::Model, "prompt:{\"1\": {}}"),
            exif_ascii(Tag::Make, "workflow:{\"nodes\": []}"),
        ];
        for bytes in [jpeg_with_exif(&fields), webp_with_exif(&fields)] {
            let listed = texts(&bytes).into_entries();
            let expected = [
                ("UserComment", "a fox\nSeed: 1"),
                ("ImageDescription", "一只狐狸"),
                ("XPComment", "windows comment"),
                ("prompt", "{\"1\": {}}"),
                ("workflow", "{\"nodes\": []}"),
            ];
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(listed, expected);
        }
    }

    #[test]
    fn a_json_user_comment_without_a_character_code_is_read() {
        let raw = exif::Field {
            tag: Tag::UserComment,
            ifd_num: In::PRIMARY,
            value: Value::Undefined(b"{\"prompt\": \"a\"}".to_vec(), 0),
        };
        assert_eq!(
            texts(&jpeg_with_exif(&[raw])).get("UserComment"),
            Some("{\"prompt\": \"a\"}")
        );
    }

    #[test]
    fn the_xmp_packet_is_listed_as_xmp() {
        let packet = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"></x:xmpmeta>";
        let jpeg = jpeg_with_xmp(&jpeg_with_exif(&[]), packet);
        assert_eq!(texts(&jpeg).get(XMP_KEY), Some(packet));
        let png = png_with_texts(&[(PNG_XMP_KEYWORD, packet)]);
        assert_eq!(texts(&png).get(XMP_KEY), Some(packet));
    }

    #[test]
    fn utf8_written_into_text_chunks_is_repaired() {
        let mojibake: String = "山水, café".bytes().map(char::from).collect();
        assert_eq!(utf8_in_latin1(mojibake), "山水, café");
        // Real Latin-1 stays as it is.
        assert_eq!(utf8_in_latin1("café".to_owned()), "café");
        assert_eq!(utf8_in_latin1("plain".to_owned()), "plain");
        let png = png_with_raw_text("Description", "山水".as_bytes());
        assert_eq!(texts(&png).get("Description"), Some("山水"));
    }
}
