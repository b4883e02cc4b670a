//! PNG text chunks (`tEXt`, `zTXt`, `iTXt`): read them without decoding pixels, and
//! splice new `iTXt` chunks into a PNG without touching its image data.

use std::io::Cursor;

use crate::error::{Error, Result};

/// The eight bytes every PNG starts with.
pub(crate) const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Longest text (after decompression) accepted in one text chunk, read or written.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// Largest chunk length the PNG specification allows (2^31 − 1).
const MAX_CHUNK_LEN: usize = 0x7FFF_FFFF;

/// Longest keyword the PNG specification allows, in bytes.
const MAX_KEYWORD_LEN: usize = 79;

const IHDR: [u8; 4] = *b"IHDR";
const IEND: [u8; 4] = *b"IEND";
const TEXT: [u8; 4] = *b"tEXt";
const ZTXT: [u8; 4] = *b"zTXt";
const ITXT: [u8; 4] = *b"iTXt";

/// One chunk of a PNG, borrowed from the file's bytes.
#[derive(Clone, Copy, Debug)]
struct Chunk<'a> {
    /// The four-letter chunk type.
    kind: [u8; 4],
    /// The chunk's payload.
    data: &'a [u8],
    /// The whole chunk as stored: length, type, payload and CRC.
    raw: &'a [u8],
}

impl Chunk<'_> {
    fn is_text(&self) -> bool {
        matches!(self.kind, TEXT | ZTXT | ITXT)
    }

    /// The keyword of a text chunk (the bytes before the first NUL).
    fn keyword(&self) -> &[u8] {
        split_at_nul(self.data).map_or(self.data, |(keyword, _)| keyword)
    }
}

/// The chunks of `png` from `IHDR` up to and including `IEND` (or the end of the data
/// when `IEND` is missing). Fails when the signature is wrong, the first chunk is not
/// `IHDR`, or a chunk is cut short.
fn chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>> {
    let body = png
        .strip_prefix(PNG_SIGNATURE.as_slice())
        .ok_or_else(|| Error::image("not a PNG image (wrong signature)"))?;
    let mut chunks = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let offset = png.len() - rest.len();
        let (chunk, tail) = next_chunk(rest)
            .ok_or_else(|| Error::image(format!("the PNG is truncated or damaged (chunk at byte {offset})")))?;
        if chunks.is_empty() && chunk.kind != IHDR {
            return Err(Error::image("the PNG does not start with an IHDR chunk"));
        }
        let is_end = chunk.kind == IEND;
        chunks.push(chunk);
        if is_end {
            break;
        }
        rest = tail;
    }
    if chunks.is_empty() {
        return Err(Error::image("the PNG has no chunks"));
    }
    Ok(chunks)
}

/// Splits the first chunk off `bytes`, or `None` when it is cut short or oversized.
fn next_chunk(bytes: &[u8]) -> Option<(Chunk<'_>, &[u8])> {
    let length_bytes: [u8; 4] = bytes.get(0..4)?.try_into().ok()?;
    let length = usize::try_from(u32::from_be_bytes(length_bytes)).ok()?;
    if length > MAX_CHUNK_LEN {
        return None;
    }
    let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let total = length.checked_add(12)?;
    let raw = bytes.get(..total)?;
    let data = raw.get(8..8 + length)?;
    let tail = bytes.get(total..)?;
    Some((Chunk { kind, data, raw }, tail))
}

/// Appends one chunk (length, type, payload, CRC) to `out`.
fn write_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) -> Result<()> {
    let length = u32::try_from(data.len())
        .ok()
        .filter(|&len| len as usize <= MAX_CHUNK_LEN)
        .ok_or_else(|| Error::invalid("PNG chunk is too large"))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&kind);
    crc.update(data);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    Ok(())
}

/// Checks that `keyword` is a valid PNG text keyword made of printable ASCII.
fn validate_keyword(keyword: &str) -> Result<()> {
    let printable = keyword.bytes().all(|b| (0x20..=0x7E).contains(&b));
    let trimmed = !keyword.starts_with(' ') && !keyword.ends_with(' ');
    if keyword.is_empty() || keyword.len() > MAX_KEYWORD_LEN || !printable || !trimmed {
        return Err(Error::invalid(format!(
            "“{keyword}” is not a valid PNG text keyword (1–79 printable ASCII characters)"
        )));
    }
    Ok(())
}

/// The payload of an uncompressed `iTXt` chunk: keyword, no language, UTF-8 text.
fn itxt_payload(keyword: &str, text: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(keyword.len() + text.len() + 5);
    data.extend_from_slice(keyword.as_bytes());
    // NUL, compression flag 0, compression method 0, empty language tag + NUL,
    // empty translated keyword + NUL.
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(text.as_bytes());
    data
}

/// Returns `png` with one uncompressed UTF-8 `iTXt` chunk per entry right after `IHDR`.
///
/// Existing `tEXt`/`zTXt`/`iTXt` chunks with one of the entries' keywords are dropped,
/// every other chunk is copied byte for byte (the pixels are not re-encoded), and an
/// `IEND` is added when the input lacks one; bytes after `IEND` are dropped. Keywords must be 1–79 printable ASCII
/// characters and each text at most [`MAX_TEXT_BYTES`].
pub fn embed_png_text(png: &[u8], entries: &[(&str, &str)]) -> Result<Vec<u8>> {
    for (keyword, text) in entries {
        validate_keyword(keyword)?;
        if text.len() > MAX_TEXT_BYTES {
            return Err(Error::invalid(format!("the text for “{keyword}” is larger than 1 MiB")));
        }
    }
    let chunks = chunks(png)?;
    let replaced =
        |chunk: &Chunk<'_>| chunk.is_text() && entries.iter().any(|(keyword, _)| chunk.keyword() == keyword.as_bytes());
    let added: usize = entries.iter().map(|(k, t)| k.len() + t.len() + 17).sum();
    let mut out = Vec::with_capacity(png.len() + added);
    out.extend_from_slice(&PNG_SIGNATURE);
    let mut has_end = false;
    for (index, chunk) in chunks.iter().enumerate() {
        if !replaced(chunk) {
            out.extend_from_slice(chunk.raw);
        }
        has_end |= chunk.kind == IEND;
        if index == 0 {
            for (keyword, text) in entries {
                write_chunk(&mut out, ITXT, &itxt_payload(keyword, text))?;
            }
        }
    }
    if !has_end {
        write_chunk(&mut out, IEND, &[])?;
    }
    Ok(out)
}

/// The keyword and text of every `tEXt`, `zTXt` and `iTXt` chunk of `png`, in file order.
///
/// Walks the chunks without decoding pixels. `tEXt`/`zTXt` are Latin-1, `iTXt` UTF-8;
/// compressed text is inflated with a bound. Fails with [`crate::ErrorKind::Image`] when
/// the file is not a well-formed PNG, a text chunk is malformed, or a text is larger
/// than [`MAX_TEXT_BYTES`].
pub fn read_png_text(png: &[u8]) -> Result<Vec<(String, String)>> {
    chunks(png)?
        .iter()
        .filter(|chunk| chunk.is_text())
        .map(read_text_chunk)
        .collect()
}

/// Like [`read_png_text`], but skips text chunks that are malformed (another tool's
/// broken chunk must not hide Pictor's own); fails only when the file is not a
/// well-formed PNG.
pub(crate) fn read_well_formed_png_text(png: &[u8]) -> Result<Vec<(String, String)>> {
    Ok(chunks(png)?
        .iter()
        .filter(|chunk| chunk.is_text())
        .filter_map(|chunk| read_text_chunk(chunk).ok())
        .collect())
}

/// Keyword and text of one text chunk.
fn read_text_chunk(chunk: &Chunk<'_>) -> Result<(String, String)> {
    let kind = String::from_utf8_lossy(&chunk.kind).into_owned();
    let malformed = || Error::image(format!("the PNG has a malformed {kind} chunk"));
    let (keyword, value) = split_at_nul(chunk.data).ok_or_else(malformed)?;
    if keyword.is_empty() || keyword.len() > MAX_KEYWORD_LEN {
        return Err(malformed());
    }
    let keyword_text = latin1(keyword);
    let too_large = || Error::image(format!("the PNG text “{keyword_text}” is larger than 1 MiB"));
    let compressed = match chunk.kind {
        TEXT => false,
        ZTXT => true,
        _ => itxt_is_compressed(value).ok_or_else(malformed)?,
    };
    let text = if compressed {
        inflate_text(chunk)
            .ok_or_else(|| Error::image(format!("the PNG text “{keyword_text}” is damaged or larger than 1 MiB")))?
    } else if chunk.kind == TEXT {
        if value.len() > MAX_TEXT_BYTES {
            return Err(too_large());
        }
        latin1(value)
    } else {
        let text = itxt_uncompressed_text(value).ok_or_else(malformed)?;
        if text.len() > MAX_TEXT_BYTES {
            return Err(too_large());
        }
        std::str::from_utf8(text).map_err(|_| malformed())?.to_owned()
    };
    Ok((keyword_text, text))
}

/// Whether an `iTXt` value (everything after the keyword's NUL) holds compressed text.
fn itxt_is_compressed(value: &[u8]) -> Option<bool> {
    match value.first()? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// The text of an uncompressed `iTXt` value: skips the flags, language tag and
/// translated keyword.
fn itxt_uncompressed_text(value: &[u8]) -> Option<&[u8]> {
    let after_flags = value.get(2..)?;
    let (_language, rest) = split_at_nul(after_flags)?;
    let (_translated, text) = split_at_nul(rest)?;
    Some(text)
}

/// Inflates a compressed `zTXt` or `iTXt` chunk with the `png` crate, at most
/// [`MAX_TEXT_BYTES`]. The chunk is placed in a minimal 1×1 PNG so the crate's own
/// parser (which stops before any pixel data) reads it.
fn inflate_text(chunk: &Chunk<'_>) -> Option<String> {
    let png = minimal_png_with(chunk).ok()?;
    let mut decoder = png::Decoder::new(Cursor::new(png));
    decoder.set_ignore_text_chunk(false);
    let reader = decoder.read_info().ok()?;
    let info = reader.info();
    if chunk.kind == ZTXT {
        let mut text = info.compressed_latin1_text.first()?.clone();
        text.decompress_text_with_limit(MAX_TEXT_BYTES).ok()?;
        text.get_text().ok()
    } else {
        let mut text = info.utf8_text.first()?.clone();
        text.decompress_text_with_limit(MAX_TEXT_BYTES).ok()?;
        text.get_text().ok()
    }
}

/// A valid 1×1 greyscale PNG holding `chunk` between `IHDR` and `IDAT`.
fn minimal_png_with(chunk: &Chunk<'_>) -> Result<Vec<u8>> {
    // Width 1, height 1, bit depth 8, greyscale, deflate, filter 0, no interlace.
    const IHDR_1X1: [u8; 13] = [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0];
    // zlib stream (stored block) of one scanline: filter byte 0 and one black pixel.
    const IDAT_1X1: [u8; 13] = [
        0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
    ];
    let mut png = Vec::with_capacity(chunk.data.len() + 80);
    png.extend_from_slice(&PNG_SIGNATURE);
    write_chunk(&mut png, IHDR, &IHDR_1X1)?;
    write_chunk(&mut png, chunk.kind, chunk.data)?;
    write_chunk(&mut png, *b"IDAT", &IDAT_1X1)?;
    write_chunk(&mut png, IEND, &[])?;
    Ok(png)
}

/// Splits `bytes` at its first NUL byte (the NUL itself is dropped).
fn split_at_nul(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    Some((bytes.get(..nul)?, bytes.get(nul + 1..)?))
}

/// Decodes ISO 8859-1 bytes (every byte is the code point of the same value).
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A small valid RGB PNG made with the `image` crate.
    fn sample_png() -> Vec<u8> {
        let image = image::RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8 * 40, y as u8 * 90, 7]));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    fn texts_of(png: &[u8]) -> Vec<(String, String)> {
        read_png_text(png).unwrap()
    }

    #[test]
    fn itxt_round_trips_chinese_text() {
        let png = embed_png_text(&sample_png(), &[("pictor", "一幅传统的中国山水画"), ("other", "ascii")]).unwrap();
        assert_eq!(
            texts_of(&png),
            vec![
                ("pictor".to_owned(), "一幅传统的中国山水画".to_owned()),
                ("other".to_owned(), "ascii".to_owned())
            ]
        );
    }

    #[test]
    fn embedding_keeps_the_pixels() {
        let original = sample_png();
        let png = embed_png_text(&original, &[("pictor", "{}")]).unwrap();
        let before = image::load_from_memory(&original).unwrap().to_rgba8();
        let after = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(before, after);
        // The new chunk sits right after IHDR, which is 8 + 25 bytes in.
        assert_eq!(&png[33 + 4..33 + 8], b"iTXt");
    }

    #[test]
    fn embed_replaces_existing_chunks_with_the_same_keyword() {
        let first = embed_png_text(&sample_png(), &[("pictor", "old"), ("keep", "me")]).unwrap();
        let second = embed_png_text(&first, &[("pictor", "new")]).unwrap();
        assert_eq!(
            texts_of(&second),
            vec![
                ("pictor".to_owned(), "new".to_owned()),
                ("keep".to_owned(), "me".to_owned())
            ]
        );
    }

    #[test]
    fn embed_replaces_a_text_chunk_written_by_another_tool() {
        let mut png = sample_png();
        let iend_start = png.len() - 12;
        let mut chunk = Vec::new();
        write_chunk(&mut chunk, TEXT, b"parameters\0from A1111").unwrap();
        png.splice(iend_start..iend_start, chunk);
        assert_eq!(texts_of(&png), vec![("parameters".to_owned(), "from A1111".to_owned())]);
        let replaced = embed_png_text(&png, &[("parameters", "from Pictor")]).unwrap();
        assert_eq!(
            texts_of(&replaced),
            vec![("parameters".to_owned(), "from Pictor".to_owned())]
        );
    }

    #[test]
    fn embed_refuses_bad_keywords_and_huge_text() {
        let png = sample_png();
        for keyword in ["", " lead", "a\u{0}b", "中文", &"k".repeat(80)] {
            let err = embed_png_text(&png, &[(keyword, "x")]).unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::InvalidRequest, "{keyword:?}");
        }
        let huge = "x".repeat(MAX_TEXT_BYTES + 1);
        assert!(embed_png_text(&png, &[("k", &huge)]).is_err());
    }

    #[test]
    fn embed_adds_a_missing_iend() {
        let png = sample_png();
        let without_end = &png[..png.len() - 12];
        let fixed = embed_png_text(without_end, &[("k", "v")]).unwrap();
        assert!(fixed.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]));
    }

    /// A 1×1 grey PNG carrying the given text chunks, written by the `png` crate.
    fn png_with_text(ztxt: Vec<png::text_metadata::ZTXtChunk>, itxt: Vec<png::text_metadata::ITXtChunk>) -> Vec<u8> {
        let mut info = png::Info::with_size(1, 1);
        info.color_type = png::ColorType::Grayscale;
        info.bit_depth = png::BitDepth::Eight;
        info.compressed_latin1_text = ztxt;
        info.utf8_text = itxt;
        let mut out = Vec::new();
        {
            let encoder = png::Encoder::with_info(&mut out, info).unwrap();
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&[0]).unwrap();
        }
        out
    }

    #[test]
    fn reads_compressed_ztxt_and_itxt() {
        let ztxt = png::text_metadata::ZTXtChunk::new("Comment", "caf\u{e9} ".repeat(100));
        let mut itxt = png::text_metadata::ITXtChunk::new("pictor", "山水".repeat(200));
        itxt.compressed = true;
        itxt.compress_text().unwrap();
        let png = png_with_text(vec![ztxt], vec![itxt]);
        let texts = texts_of(&png);
        assert_eq!(texts.len(), 2);
        assert!(texts.contains(&("Comment".to_owned(), "caf\u{e9} ".repeat(100))));
        assert!(texts.contains(&("pictor".to_owned(), "山水".repeat(200))));
    }

    #[test]
    fn refuses_compressed_text_larger_than_the_limit() {
        let bomb = png::text_metadata::ZTXtChunk::new("bomb", "a".repeat(MAX_TEXT_BYTES + 10));
        let png = png_with_text(vec![bomb], Vec::new());
        assert!(png.len() < MAX_TEXT_BYTES / 10, "the text should compress well");
        let err = read_png_text(&png).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Image);
        assert!(err.message.contains("1 MiB"), "{}", err.message);
    }

    #[test]
    fn reads_text_chunks_of_pngsuite_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/pngsuite");
        let ztxt = read_png_text(&std::fs::read(dir.join("ctzn0g04.png")).unwrap()).unwrap();
        assert!(ztxt.iter().any(|(k, t)| k == "Title" && t == "PngSuite"), "{ztxt:?}");
        let japanese = read_png_text(&std::fs::read(dir.join("ctjn0g04.png")).unwrap()).unwrap();
        assert!(japanese.len() >= 3, "{japanese:?}");
        assert!(japanese.iter().any(|(_, t)| !t.is_ascii()), "{japanese:?}");
    }

    #[test]
    fn garbage_and_truncated_input_is_an_error_not_a_panic() {
        let png = embed_png_text(&sample_png(), &[("pictor", "一幅")]).unwrap();
        for cut in 0..png.len() - 12 {
            let result = read_png_text(&png[..cut]);
            if cut < 8 + 25 {
                assert!(result.is_err(), "cut at {cut}");
            }
            // Cut at a chunk boundary is fine (missing IEND); anything else must fail.
            if let Ok(texts) = result {
                assert!(texts.len() <= 1);
            }
        }
        for garbage in [
            &b""[..],
            b"hello",
            &PNG_SIGNATURE,
            b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIHDR",
        ] {
            let err = read_png_text(garbage).unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::Image);
        }
    }

    #[test]
    fn malformed_text_chunk_is_an_error() {
        let mut png = sample_png();
        let iend_start = png.len() - 12;
        let mut chunk = Vec::new();
        write_chunk(&mut chunk, ITXT, b"key\0\x07\0\0\0text").unwrap();
        png.splice(iend_start..iend_start, chunk);
        assert_eq!(read_png_text(&png).unwrap_err().kind, crate::ErrorKind::Image);
    }
}
