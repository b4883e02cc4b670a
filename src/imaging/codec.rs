//! Decoding with limits and encoding for export.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageError, ImageReader, RgbImage};

use super::format::{ImageFormat, sniff};
use crate::error::{Error, Result};

/// The widest and tallest image WebP can hold.
const MAX_WEBP_SIDE: u32 = 16_383;

/// Background that transparent pixels are composited onto for formats without alpha.
pub(crate) const FLATTEN_BACKGROUND: [u8; 3] = [204, 204, 204];

/// The largest image [`decode`] accepts. Checked against the header before any pixel
/// buffer is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Widest accepted image, in pixels.
    pub max_width: u32,
    /// Tallest accepted image, in pixels.
    pub max_height: u32,
    /// Most bytes the decoder may allocate, the decoded image included.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    /// 16384 × 16384 pixels and 512 MiB.
    fn default() -> Self {
        Self {
            max_width: 16384,
            max_height: 16384,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

impl DecodeLimits {
    fn to_image_limits(self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.max_alloc);
        limits
    }
}

/// Decodes a PNG, JPEG or WebP image, refusing (from the header alone) images larger
/// than `limits`. Every failure is an [`crate::ErrorKind::Image`] error.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage> {
    let format = sniff(bytes).ok_or_else(|| Error::image("not a PNG, JPEG or WebP image"))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
    reader.limits(limits.to_image_limits());
    // The bytes come from the network: a decoder bug must not take the worker down.
    let image = std::panic::catch_unwind(move || reader.decode())
        .map_err(|_| Error::image(format!("the {} decoder failed on this image", format_name(format))))?
        .map_err(|err| decode_error(format, limits, &err))?;
    if image.width() == 0 || image.height() == 0 {
        return Err(Error::image(format!("the {} image is empty", format_name(format))));
    }
    Ok(image)
}

/// A short message for a decoding failure, with the decoder's own words as details.
fn decode_error(format: ImageFormat, limits: &DecodeLimits, err: &ImageError) -> Error {
    let name = format_name(format);
    let message = match err {
        ImageError::Limits(_) => format!(
            "the {name} image is too large (at most {}×{} pixels and {} MiB)",
            limits.max_width,
            limits.max_height,
            limits.max_alloc / (1024 * 1024)
        ),
        ImageError::Unsupported(_) => format!("this kind of {name} image is not supported"),
        ImageError::IoError(_) => format!("the {name} image is truncated"),
        _ => format!("the {name} image is damaged"),
    };
    Error::image(message).with_details(err.to_string())
}

/// The format's name for messages.
fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::WebP => "WebP",
    }
}

/// Encodes `image` as `format` for export.
///
/// PNG keeps the colour type (8 or 16 bits, alpha kept). JPEG uses `quality` (clamped to
/// 1–100) and composites transparency onto a light grey. WebP is lossy at `quality`
/// (clamped to 1–100, libwebp's scale) and keeps transparency.
pub fn encode_as(image: &DynamicImage, format: ImageFormat, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let result = match format {
        ImageFormat::Png => match image {
            DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
                DynamicImage::ImageRgba16(image.to_rgba16()).write_with_encoder(PngEncoder::new(&mut out))
            }
            _ => image.write_with_encoder(PngEncoder::new(&mut out)),
        },
        ImageFormat::Jpeg => {
            flatten(image).write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100)))
        }
        ImageFormat::WebP => return encode_lossy_webp(image, quality),
    };
    result.map_err(|err| {
        Error::image(format!("could not encode the image as {}", format_name(format))).with_details(err.to_string())
    })?;
    Ok(out)
}

/// `image` as lossy WebP at `quality` (1–100). WebP holds at most 16383 × 16383 pixels.
fn encode_lossy_webp(image: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let (width, height) = (image.width(), image.height());
    if width > MAX_WEBP_SIDE || height > MAX_WEBP_SIDE {
        return Err(Error::image(format!(
            "a {width}×{height} image is too large for WebP (at most {MAX_WEBP_SIDE}×{MAX_WEBP_SIDE} pixels); \
             save it as PNG or JPEG"
        )));
    }
    let quality = f32::from(quality.clamp(1, 100));
    let encoded = if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        webp::Encoder::from_rgba(&rgba, width, height).encode_simple(false, quality)
    } else {
        let rgb = image.to_rgb8();
        webp::Encoder::from_rgb(&rgb, width, height).encode_simple(false, quality)
    };
    encoded
        .map(|memory| memory.to_vec())
        .map_err(|err| Error::image("could not encode the image as WebP").with_details(format!("libwebp: {err:?}")))
}

/// `image` as 8-bit RGB, with any transparency composited onto [`FLATTEN_BACKGROUND`].
pub(crate) fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    flatten_rgba(&image.to_rgba8())
}

/// An RGBA image composited onto [`FLATTEN_BACKGROUND`].
pub(crate) fn flatten_rgba(rgba: &image::RgbaImage) -> RgbImage {
    let [bg_r, bg_g, bg_b] = FLATTEN_BACKGROUND;
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, pixel) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = pixel.0;
        let blend = |channel: u8, background: u8| -> u8 {
            let alpha = u16::from(a);
            let mixed = u16::from(channel) * alpha + u16::from(background) * (255 - alpha);
            u8::try_from((mixed + 127) / 255).unwrap_or(u8::MAX)
        };
        *out = image::Rgb([blend(r, bg_r), blend(g, bg_g), blend(b, bg_b)]);
    }
    rgb
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {

    use super::*;
    use crate::ErrorKind;
    use image::GenericImageView;

    fn sample() -> DynamicImage {
        DynamicImage::ImageRgba8(image::RgbaImage::from_fn(40, 30, |x, y| {
            image::Rgba([x as u8 * 6, y as u8 * 8, 100, if x < 20 { 255 } else { 128 }])
        }))
    }

    /// A PNG made of a signature, an IHDR claiming `width` × `height` RGB pixels, a tiny
    /// IDAT and IEND, all with valid CRCs.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            let mut crc = crc32fast::Hasher::new();
            crc.update(kind);
            crc.update(data);
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
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
    fn refuses_a_huge_ihdr_quickly_without_allocating() {
        // Not timed: the decoder's own words say it was the dimension check, which reads
        // the header only, that refused it (not the allocation limit, nor running out).
        let err = decode(&png_claiming(60_000, 60_000), &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Image);
        assert!(err.message.contains("too large"), "{}", err.message);
        assert_eq!(err.details, "Image size exceeds limit");
    }

    #[test]
    fn refuses_images_beyond_custom_limits() {
        let png = encode_as(&sample(), ImageFormat::Png, 0).unwrap();
        let narrow = DecodeLimits {
            max_width: 39,
            ..DecodeLimits::default()
        };
        assert_eq!(decode(&png, &narrow).unwrap_err().kind, ErrorKind::Image);
        let tiny_memory = DecodeLimits {
            max_alloc: 1000,
            ..DecodeLimits::default()
        };
        assert_eq!(decode(&png, &tiny_memory).unwrap_err().kind, ErrorKind::Image);
        assert_eq!(decode(&png, &DecodeLimits::default()).unwrap().dimensions(), (40, 30));
    }

    #[test]
    fn unknown_bytes_are_an_image_error() {
        let err = decode(b"GIF89a....", &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Image);
        assert_eq!(err.message, "not a PNG, JPEG or WebP image");
        let truncated_jpeg = decode(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", &DecodeLimits::default());
        assert_eq!(truncated_jpeg.unwrap_err().kind, ErrorKind::Image);
        let truncated_webp = decode(b"RIFF\x24\0\0\0WEBPVP8 \0\0", &DecodeLimits::default());
        assert_eq!(truncated_webp.unwrap_err().kind, ErrorKind::Image);
    }

    #[test]
    fn png_export_is_lossless() {
        let image = sample();
        let bytes = encode_as(&image, ImageFormat::Png, 90).unwrap();
        assert_eq!(sniff(&bytes), Some(ImageFormat::Png));
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.to_rgba8(), image.to_rgba8());
    }

    /// Mean absolute difference per channel between two images of one size.
    fn mean_error(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
        let total: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        total as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn webp_export_is_lossy_at_the_chosen_quality() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(256, 192, |x, y| {
            image::Rgb([(x * y % 256) as u8, (x ^ y) as u8, (x + 3 * y) as u8])
        }));
        let low = encode_as(&image, ImageFormat::WebP, 10).unwrap();
        let high = encode_as(&image, ImageFormat::WebP, 95).unwrap();
        for bytes in [&low, &high] {
            assert_eq!(sniff(bytes), Some(ImageFormat::WebP));
            assert_eq!(&bytes[12..16], b"VP8 ", "a lossy bitstream, not VP8L");
        }
        assert!(low.len() < high.len(), "{} vs {}", low.len(), high.len());
        let low_pixels = decode(&low, &DecodeLimits::default()).unwrap().to_rgb8();
        let high_pixels = decode(&high, &DecodeLimits::default()).unwrap().to_rgb8();
        assert_eq!(high_pixels.dimensions(), (256, 192));
        let original = image.to_rgb8();
        assert!(mean_error(&original, &high_pixels) < mean_error(&original, &low_pixels));
    }

    #[test]
    fn webp_export_keeps_transparency() {
        let bytes = encode_as(&sample(), ImageFormat::WebP, 80).unwrap();
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert!(decoded.color().has_alpha());
        assert_eq!(decoded.dimensions(), sample().dimensions());
    }

    #[test]
    fn webp_beyond_its_size_limit_is_an_error() {
        let wide = DynamicImage::ImageRgb8(image::RgbImage::new(16_384, 1));
        let err = encode_as(&wide, ImageFormat::WebP, 80).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Image);
        assert!(
            err.message.contains("16384×1 image is too large for WebP"),
            "{}",
            err.message
        );
    }

    #[test]
    fn jpeg_export_honours_quality_and_drops_alpha() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(200, 200, |x, y| {
            image::Rgb([(x * y % 256) as u8, (x ^ y) as u8, (x + 3 * y) as u8])
        }));
        let low = encode_as(&image, ImageFormat::Jpeg, 10).unwrap();
        let high = encode_as(&image, ImageFormat::Jpeg, 95).unwrap();
        assert_eq!(sniff(&low), Some(ImageFormat::Jpeg));
        assert!(low.len() < high.len(), "{} vs {}", low.len(), high.len());
        let with_alpha = encode_as(&sample(), ImageFormat::Jpeg, 0).unwrap();
        let decoded = decode(&with_alpha, &DecodeLimits::default()).unwrap();
        assert!(!decoded.color().has_alpha());
    }

    #[test]
    fn png_export_keeps_sixteen_bits() {
        let deep = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(4, 4, |x, _| {
            image::Rgb([x as u16 * 10_000 + 1, 2, 3])
        }));
        let bytes = encode_as(&deep, ImageFormat::Png, 0).unwrap();
        assert_eq!(decode(&bytes, &DecodeLimits::default()).unwrap(), deep);
    }
}
