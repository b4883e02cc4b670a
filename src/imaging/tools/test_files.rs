//! Test files built as the tools write them: PNG text chunks the way PIL adds them
//! (`tEXt` when the text is Latin-1, else `iTXt`), JPEG and WebP with EXIF fields
//! (kamadak-exif's writer placed by img-parts) and XMP.

use std::io::Cursor;

use exif::{Context, Field, In, Tag, Value};
use img_parts::{Bytes, DynImage, ImageEXIF};

use crate::imaging::{ImageFormat, encode_as};

/// An 8×6 RGB image with varied pixels.
fn picture() -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(8, 6, |x, y| {
        image::Rgb([(x * 30) as u8, (y * 40) as u8, 90])
    }))
}

/// A PNG of `image` carrying one text chunk per entry (raw `tEXt` payloads for
/// `raw_text`), written with the `png` crate.
fn png_of(image: &image::DynamicImage, entries: &[(&str, &str)], raw_text: &[(&str, &[u8])]) -> Vec<u8> {
    let (color_type, pixels) = if image.color().has_alpha() {
        (png::ColorType::Rgba, image.to_rgba8().into_raw())
    } else {
        (png::ColorType::Rgb, image.to_rgb8().into_raw())
    };
    let mut info = png::Info::with_size(image.width(), image.height());
    info.color_type = color_type;
    info.bit_depth = png::BitDepth::Eight;
    for (keyword, text) in entries {
        if text.chars().all(|c| u32::from(c) <= 0xFF) {
            info.uncompressed_latin1_text
                .push(png::text_metadata::TEXtChunk::new(*keyword, *text));
        } else {
            info.utf8_text.push(png::text_metadata::ITXtChunk::new(*keyword, *text));
        }
    }
    let mut out = Vec::new();
    {
        let encoder = png::Encoder::with_info(&mut out, info).unwrap();
        let mut writer = encoder.write_header().unwrap();
        for (keyword, bytes) in raw_text {
            let data = [keyword.as_bytes(), &[0], bytes].concat();
            writer.write_chunk(png::chunk::tEXt, &data).unwrap();
        }
        writer.write_image_data(&pixels).unwrap();
    }
    out
}

/// A small PNG carrying the given text chunks, as PIL's `PngInfo.add_text` writes them.
pub(super) fn png_with_texts(entries: &[(&str, &str)]) -> Vec<u8> {
    png_of(&picture(), entries, &[])
}

/// A small PNG with one `tEXt` chunk holding `bytes` as they are (e.g. UTF-8).
pub(super) fn png_with_raw_text(keyword: &str, bytes: &[u8]) -> Vec<u8> {
    png_of(&picture(), &[], &[(keyword, bytes)])
}

/// `UserComment` as A1111 (piexif) writes it: `UNICODE\0` and big-endian UTF-16.
pub(super) fn user_comment(text: &str) -> Field {
    let mut value = b"UNICODE\0".to_vec();
    value.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    Field {
        tag: Tag::UserComment,
        ifd_num: In::PRIMARY,
        value: Value::Undefined(value, 0),
    }
}

/// An `ASCII` field (`ImageDescription`, `Make`, `Model`) holding UTF-8 text, as PIL writes it.
pub(super) fn exif_ascii(tag: Tag, text: &str) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.as_bytes().to_vec()]),
    }
}

/// Windows' `XPComment`: UTF-16LE bytes ending with a NUL.
pub(super) fn xp_comment(text: &str) -> Field {
    let mut bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.extend([0, 0]);
    Field {
        tag: Tag(Context::Tiff, 0x9C9C),
        ifd_num: In::PRIMARY,
        value: Value::Byte(bytes),
    }
}

/// `image_bytes` (JPEG or WebP) with an EXIF block holding `fields` (none: no EXIF).
fn with_exif(image_bytes: &[u8], fields: &[Field]) -> Vec<u8> {
    if fields.is_empty() {
        return image_bytes.to_vec();
    }
    let mut writer = exif::experimental::Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut image = DynImage::from_bytes(Bytes::copy_from_slice(image_bytes))
        .unwrap()
        .unwrap();
    image.set_exif(Some(Bytes::from(tiff.into_inner())));
    image.encoder().bytes().to_vec()
}

/// A small JPEG carrying `fields` as EXIF.
pub(super) fn jpeg_with_exif(fields: &[Field]) -> Vec<u8> {
    with_exif(&encode_as(&picture(), ImageFormat::Jpeg, 80).unwrap(), fields)
}

/// A small lossy WebP carrying `fields` as EXIF.
pub(super) fn webp_with_exif(fields: &[Field]) -> Vec<u8> {
    with_exif(&encode_as(&picture(), ImageFormat::WebP, 80).unwrap(), fields)
}

/// `jpeg` with an XMP `APP1` segment holding `packet`, right after the SOI marker.
pub(super) fn jpeg_with_xmp(jpeg: &[u8], packet: &str) -> Vec<u8> {
    let mut contents = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    contents.extend_from_slice(packet.as_bytes());
    let mut parsed = img_parts::jpeg::Jpeg::from_bytes(Bytes::copy_from_slice(jpeg)).unwrap();
    let segment =
        img_parts::jpeg::JpegSegment::new_with_contents(img_parts::jpeg::markers::APP1, Bytes::from(contents));
    parsed.segments_mut().insert(0, segment);
    parsed.encoder().bytes().to_vec()
}

/// A PNG of `image` (RGB or RGBA, 8 bits) with no text chunks.
pub(super) fn png_of_pixels(image: &image::DynamicImage) -> Vec<u8> {
    png_of(image, &[], &[])
}
