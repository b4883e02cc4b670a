//! Stealth pnginfo (the sd-webui-stealth-pnginfo extension): A1111 parameters hidden
//! in the least significant bits of a PNG's pixels, so they survive sites that strip
//! text chunks.
//!
//! The bits are read column by column (x outer, y inner), in "alpha" mode one per
//! pixel from the alpha channel, in "rgb" mode three per pixel from red, green and
//! blue. They hold the signature (`stealth_pnginfo` / `stealth_pngcomp` in alpha mode,
//! `stealth_rgbinfo` / `stealth_rgbcomp` in rgb mode; `comp` means gzip), then the data
//! length in bits as a 32-bit big-endian number, then the data: UTF-8 parameters text.
//! NovelAI hides its metadata the same way, as JSON; that is read as NovelAI's.

use std::io::Read;

use image::{DynamicImage, GenericImageView};

use super::sources::Texts;
use super::{ToolReading, a1111, json, novelai};
use crate::imaging::{DecodeLimits, MAX_TEXT_BYTES, decode};
use crate::metadata::SourceTool;

/// Length of every signature, in bytes.
const SIGNATURE_BYTES: usize = 15;

/// Bits before the data: the signature and the 32-bit length.
const HEADER_BITS: u64 = SIGNATURE_BYTES as u64 * 8 + 32;

/// Which bits of each pixel carry the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The least significant bit of alpha.
    Alpha,
    /// The least significant bits of red, green and blue, in that order.
    Rgb,
}

impl Mode {
    fn bits_per_pixel(self) -> u64 {
        match self {
            Self::Alpha => 1,
            Self::Rgb => 3,
        }
    }

    /// The mode and compression a signature stands for.
    fn of_signature(signature: &[u8]) -> Option<(Self, bool)> {
        match signature {
            b"stealth_pnginfo" => Some((Self::Alpha, false)),
            b"stealth_pngcomp" => Some((Self::Alpha, true)),
            b"stealth_rgbinfo" => Some((Self::Rgb, false)),
            b"stealth_rgbcomp" => Some((Self::Rgb, true)),
            _ => None,
        }
    }
}

/// The bit stream of one mode over an image's pixels.
struct Bits<'a> {
    image: &'a DynamicImage,
    mode: Mode,
}

impl Bits<'_> {
    /// How many bits the image holds in this mode.
    fn capacity(&self) -> u64 {
        u64::from(self.image.width()) * u64::from(self.image.height()) * self.mode.bits_per_pixel()
    }

    /// Bit `index` (column by column, x outer), or `None` past the last pixel.
    fn bit(&self, index: u64) -> Option<u8> {
        let per_pixel = self.mode.bits_per_pixel();
        let pixel = index / per_pixel;
        let height = u64::from(self.image.height());
        let x = u32::try_from(pixel / height).ok()?;
        let y = u32::try_from(pixel % height).ok()?;
        if x >= self.image.width() {
            return None;
        }
        let channels = self.image.get_pixel(x, y).0;
        let channel = match self.mode {
            Mode::Alpha => 3,
            Mode::Rgb => usize::try_from(index % per_pixel).ok()?,
        };
        Some(channels[channel] & 1)
    }

    /// `count` bytes (eight bits each, most significant first) from bit `start`.
    fn bytes(&self, start: u64, count: usize) -> Option<Vec<u8>> {
        (0..count as u64)
            .map(|byte| (0..8).try_fold(0u8, |value, bit| Some(value << 1 | self.bit(start + byte * 8 + bit)?)))
            .collect()
    }
}

/// The metadata hidden in the pixels of `png`: `None` when no stealth signature is
/// found (or the pixels do not decode within [`DecodeLimits::default`]), else the
/// A1111 reading of the text, with notes when the hidden data is damaged.
pub(super) fn read(png: &[u8]) -> Option<ToolReading> {
    let image = decode(png, &DecodeLimits::default()).ok()?;
    let modes: &[Mode] = if image.color().has_alpha() {
        &[Mode::Alpha, Mode::Rgb]
    } else {
        &[Mode::Rgb]
    };
    modes.iter().find_map(|&mode| read_mode(&Bits { image: &image, mode }))
}

/// The reading of one mode's bit stream, `None` when its signature is absent.
fn read_mode(bits: &Bits<'_>) -> Option<ToolReading> {
    let signature = bits.bytes(0, SIGNATURE_BYTES)?;
    let (mode, compressed) = Mode::of_signature(&signature)?;
    let signature = String::from_utf8_lossy(&signature).into_owned();
    let failed = |note: String| ToolReading {
        notes: vec![note],
        ..ToolReading::of(SourceTool::A1111)
    };
    let Some(length) = bits.bytes(SIGNATURE_BYTES as u64 * 8, 4) else {
        return Some(failed(format!(
            "The image has a {signature} signature but no room for the length after it."
        )));
    };
    let length_bits = u64::from(u32::from_be_bytes([length[0], length[1], length[2], length[3]]));
    let available = bits.capacity().saturating_sub(HEADER_BITS);
    let max_bits = MAX_TEXT_BYTES as u64 * 8;
    if length_bits > available || length_bits > max_bits || length_bits == 0 {
        return Some(failed(format!(
            "The {signature} data in the pixels declares {length_bits} bits, but the image holds {available} \
             after the header (at most {max_bits} are read); it was not read."
        )));
    }
    // Whole bytes only; the length is in bits and a partial last byte carries nothing.
    let data = bits
        .bytes(HEADER_BITS, usize::try_from(length_bits / 8).ok()?)
        .unwrap_or_default();
    let text = if compressed {
        match gunzip(&data) {
            Ok(text) => text,
            Err(note) => return Some(failed(note)),
        }
    } else {
        String::from_utf8_lossy(&data).into_owned()
    };
    let mut reading = novelai_json(&text).unwrap_or_else(|| a1111::read_text(&text));
    let mode_name = match mode {
        Mode::Alpha => "alpha",
        Mode::Rgb => "rgb",
    };
    reading.detail("Hidden in", format!("pixels ({signature}, {mode_name} mode)"));
    Some(reading)
}

/// The gzip-compressed `data` as text, at most [`MAX_TEXT_BYTES`]; a note otherwise.
fn gunzip(data: &[u8]) -> Result<String, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(MAX_TEXT_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|err| format!("The compressed stealth pnginfo data is damaged ({err})."))?;
    if out.len() > MAX_TEXT_BYTES {
        return Err(
            "The compressed stealth pnginfo data is larger than 1 MiB once inflated; it was not read.".to_owned(),
        );
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// NovelAI's hidden JSON (`{"Software": "NovelAI", "Description", "Comment", …}`) read
/// as its text chunks would be; `None` for anything else.
fn novelai_json(text: &str) -> Option<ToolReading> {
    let map = json::object(text, "").ok()?;
    let entries = map
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
        .collect();
    novelai::read(&Texts::new(entries))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    use super::super::read_tool_metadata;
    use super::super::test_files::{png_of_pixels, png_with_texts};
    use super::*;

    const PARAMETERS: &str =
        "a hidden fox\nNegative prompt: blur\nSteps: 20, Sampler: Euler a, Seed: 5000000000, Size: 64x48";

    /// The bit string the extension writes: signature, 32-bit length, data (gzip
    /// when the signature ends in `comp`).
    fn payload(signature: &str, text: &str, declared_bits: Option<u32>) -> Vec<u8> {
        let data = if signature.ends_with("comp") {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.finish().unwrap()
        } else {
            text.as_bytes().to_vec()
        };
        let bits = declared_bits.unwrap_or(u32::try_from(data.len() * 8).unwrap());
        let mut bytes = signature.as_bytes().to_vec();
        bytes.extend(bits.to_be_bytes());
        bytes.extend(data);
        bytes
            .iter()
            .flat_map(|byte| (0..8).rev().map(move |bit| byte >> bit & 1))
            .collect()
    }

    /// A noisy picture with the bits written as the extension writes them: alpha mode
    /// sets every alpha to 255 first, then each pixel's LSB in column-major order.
    fn stealth_png(signature: &str, text: &str, declared_bits: Option<u32>) -> Vec<u8> {
        let bits = payload(signature, text, declared_bits);
        let (width, height) = (64, 48);
        let noise = |x: u32, y: u32, k: u32| ((x * 31 + y * 17 + k * 7) % 256) as u8;
        let mut index = 0;
        if signature.starts_with("stealth_png") {
            let mut image = RgbaImage::from_fn(width, height, |x, y| {
                Rgba([noise(x, y, 0), noise(x, y, 1), noise(x, y, 2), 255])
            });
            'columns: for x in 0..width {
                for y in 0..height {
                    let Some(bit) = bits.get(index) else { break 'columns };
                    image.get_pixel_mut(x, y).0[3] = 0xFE | bit;
                    index += 1;
                }
            }
            png_of_pixels(&DynamicImage::ImageRgba8(image))
        } else {
            let mut image = RgbImage::from_fn(width, height, |x, y| {
                Rgb([noise(x, y, 0), noise(x, y, 1), noise(x, y, 2)])
            });
            'columns: for x in 0..width {
                for y in 0..height {
                    if index >= bits.len() {
                        break 'columns;
                    }
                    let pixel = image.get_pixel_mut(x, y);
                    for channel in 0..3 {
                        if let Some(bit) = bits.get(index + channel) {
                            pixel.0[channel] = (pixel.0[channel] & !1) | bit;
                        }
                    }
                    index += 3;
                }
            }
            png_of_pixels(&DynamicImage::ImageRgb8(image))
        }
    }

    #[test]
    fn every_signature_reads_back() {
        for signature in [
            "stealth_pnginfo",
            "stealth_pngcomp",
            "stealth_rgbinfo",
            "stealth_rgbcomp",
        ] {
            let reading = read_tool_metadata(&stealth_png(signature, PARAMETERS, None));
            assert_eq!(reading.tool, Some(SourceTool::A1111), "{signature}");
            assert_eq!(reading.prompt, "a hidden fox", "{signature}");
            assert_eq!(reading.negative_prompt, "blur");
            assert_eq!(reading.seed, Some(5_000_000_000));
            assert!(
                reading
                    .details
                    .iter()
                    .any(|(k, v)| k == "Hidden in" && v.contains(signature))
            );
            assert!(reading.notes.is_empty(), "{signature}: {:?}", reading.notes);
        }
    }

    #[test]
    fn text_metadata_wins_and_plain_pngs_have_nothing_hidden() {
        let hidden = stealth_png("stealth_pnginfo", PARAMETERS, None);
        let with_text = crate::imaging::embed_png_text(&hidden, &[("parameters", "visible\nSeed: 1")]).unwrap();
        assert_eq!(read_tool_metadata(&with_text).prompt, "visible");
        let plain = png_with_texts(&[]);
        assert_eq!(read_tool_metadata(&plain), ToolReading::default());
    }

    #[test]
    fn a_wrong_length_is_a_note() {
        for declared in [u32::MAX, 64 * 48 * 3, 0] {
            let reading = read_tool_metadata(&stealth_png("stealth_pnginfo", PARAMETERS, Some(declared)));
            assert_eq!(reading.tool, Some(SourceTool::A1111));
            assert!(reading.prompt.is_empty());
            assert_eq!(reading.notes.len(), 1, "{:?}", reading.notes);
            assert!(
                reading.notes[0].contains(&format!("declares {declared} bits")),
                "{:?}",
                reading.notes
            );
        }
        // Too short for gzip to finish: damaged data.
        let cut = read_tool_metadata(&stealth_png("stealth_rgbcomp", PARAMETERS, Some(80)));
        assert!(cut.prompt.is_empty());
        assert!(cut.notes[0].contains("damaged"), "{:?}", cut.notes);
    }

    #[test]
    fn novelai_hidden_json_reads_as_novelai() {
        let json = r#"{"Title": "NovelAI generated image", "Description": "1girl, hidden", "Software": "NovelAI",
            "Source": "Stable Diffusion XL C1E1DE52", "Comment": "{\"uc\": \"lowres\", \"seed\": 77}"}"#;
        let reading = read_tool_metadata(&stealth_png("stealth_pngcomp", json, None));
        assert_eq!(reading.tool, Some(SourceTool::NovelAi));
        assert_eq!(
            (reading.prompt.as_str(), reading.negative_prompt.as_str()),
            ("1girl, hidden", "lowres")
        );
        assert_eq!(reading.seed, Some(77));
    }
}
