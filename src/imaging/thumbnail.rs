//! Gallery thumbnails: a fast SIMD downscale, stored as small JPEGs.

use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, RgbaImage};

use super::codec::{DecodeLimits, decode, flatten_rgba};
use crate::error::{Error, Result};

/// Longest side of a gallery thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;

/// JPEG quality of stored thumbnails.
const THUMBNAIL_QUALITY: u8 = 85;

/// Largest thumbnail file [`decode_thumbnail`] accepts, per side.
const MAX_THUMBNAIL_DECODE_SIDE: u32 = 4096;

/// `image` scaled so its longer side is at most `max_side`, keeping the aspect ratio.
/// Never upscales: an image that already fits is only converted to RGBA.
///
/// Uses `fast_image_resize` (SIMD) with a bilinear convolution that widens with the
/// scale factor, so downscaling averages every source pixel without Lanczos' cost.
pub fn thumbnail(image: &DynamicImage, max_side: u32) -> Result<RgbaImage> {
    if max_side == 0 {
        return Err(Error::invalid("a thumbnail needs a side of at least one pixel"));
    }
    let (width, height) = (image.width(), image.height());
    if width == 0 || height == 0 {
        return Err(Error::image("cannot make a thumbnail of an empty image"));
    }
    let (thumb_width, thumb_height) = fit_within(width, height, max_side);
    if (thumb_width, thumb_height) == (width, height) {
        return Ok(image.to_rgba8());
    }
    match resize_native(image, thumb_width, thumb_height) {
        Some(resized) => Ok(resized.into_rgba8()),
        None => resize_rgba(image.to_rgba8(), thumb_width, thumb_height),
    }
}

/// The size of a `width` × `height` image scaled down to fit `max_side` (at least 1×1):
/// the size [`thumbnail`] makes.
pub fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max_side {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let scaled = (u64::from(side) * u64::from(max_side) + u64::from(longest) / 2) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(max_side).clamp(1, max_side)
    };
    (scale(width), scale(height))
}

/// The resize options used for thumbnails.
fn resize_options() -> ResizeOptions {
    ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
}

/// Resizes in the image's own pixel type (no full-size conversion), or `None` when
/// `fast_image_resize` does not support that type.
fn resize_native(image: &DynamicImage, width: u32, height: u32) -> Option<DynamicImage> {
    let mut resized = DynamicImage::new(width, height, image.color());
    Resizer::new().resize(image, &mut resized, &resize_options()).ok()?;
    Some(resized)
}

/// Resizes an RGBA copy of the image.
fn resize_rgba(source: RgbaImage, width: u32, height: u32) -> Result<RgbaImage> {
    let source = DynamicImage::ImageRgba8(source);
    let mut resized = DynamicImage::new(width, height, image::ColorType::Rgba8);
    Resizer::new()
        .resize(&source, &mut resized, &resize_options())
        .map_err(|err| Error::image("could not resize the image").with_details(err.to_string()))?;
    Ok(resized.into_rgba8())
}

/// Encodes a thumbnail as a JPEG of quality 85, transparency composited onto light grey.
pub fn encode_thumbnail(thumb: &RgbaImage) -> Result<Vec<u8>> {
    let rgb = flatten_rgba(thumb);
    let mut out = Vec::new();
    rgb.write_with_encoder(JpegEncoder::new_with_quality(Cursor::new(&mut out), THUMBNAIL_QUALITY))
        .map_err(|err| Error::image("could not encode the thumbnail").with_details(err.to_string()))?;
    Ok(out)
}

/// Decodes a stored thumbnail (any format [`decode`] reads) to RGBA for the gallery.
pub fn decode_thumbnail(bytes: &[u8]) -> Result<RgbaImage> {
    let limits = DecodeLimits {
        max_width: MAX_THUMBNAIL_DECODE_SIDE,
        max_height: MAX_THUMBNAIL_DECODE_SIDE,
        ..DecodeLimits::default()
    };
    Ok(decode(bytes, &limits)?.to_rgba8())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {

    use super::*;

    fn gradient(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }))
    }

    #[test]
    fn keeps_the_aspect_ratio() {
        let wide = thumbnail(&gradient(1664, 928), THUMBNAIL_SIDE).unwrap();
        assert_eq!(wide.dimensions(), (320, 178));
        let tall = thumbnail(&gradient(928, 1664), THUMBNAIL_SIDE).unwrap();
        assert_eq!(tall.dimensions(), (178, 320));
        let square = thumbnail(&gradient(1328, 1328), THUMBNAIL_SIDE).unwrap();
        assert_eq!(square.dimensions(), (320, 320));
        let sliver = thumbnail(&gradient(5000, 3), THUMBNAIL_SIDE).unwrap();
        assert_eq!(sliver.dimensions(), (320, 1));
    }

    #[test]
    fn never_upscales() {
        let small = gradient(100, 40);
        let thumb = thumbnail(&small, THUMBNAIL_SIDE).unwrap();
        assert_eq!(thumb, small.to_rgba8());
        assert_eq!(thumbnail(&gradient(320, 10), 320).unwrap().dimensions(), (320, 10));
    }

    #[test]
    fn averages_instead_of_sampling() {
        // A 1-pixel checkerboard must come out mid-grey, not black or white.
        let board = DynamicImage::ImageLuma8(image::GrayImage::from_fn(640, 640, |x, y| {
            image::Luma([if (x + y) % 2 == 0 { 0 } else { 255 }])
        }));
        let thumb = thumbnail(&board, 160).unwrap();
        for pixel in thumb.pixels() {
            assert!((100..=155).contains(&pixel.0[0]), "{pixel:?}");
            assert_eq!(pixel.0[3], 255);
        }
    }

    #[test]
    fn handles_every_colour_type() {
        let base = gradient(400, 200);
        let variants = [
            DynamicImage::ImageLuma8(base.to_luma8()),
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            DynamicImage::ImageRgba8(base.to_rgba8()),
            DynamicImage::ImageLuma16(base.to_luma16()),
            DynamicImage::ImageLumaA16(base.to_luma_alpha16()),
            DynamicImage::ImageRgb16(base.to_rgb16()),
            DynamicImage::ImageRgba16(base.to_rgba16()),
            DynamicImage::ImageRgb32F(base.to_rgb32f()),
            DynamicImage::ImageRgba32F(base.to_rgba32f()),
        ];
        for image in variants {
            let thumb = thumbnail(&image, 100).unwrap();
            assert_eq!(thumb.dimensions(), (100, 50), "{:?}", image.color());
        }
    }

    #[test]
    fn refuses_a_zero_side() {
        assert!(thumbnail(&gradient(10, 10), 0).is_err());
    }

    #[test]
    fn encoded_thumbnail_is_a_small_jpeg_that_decodes() {
        let mut rgba = thumbnail(&gradient(1328, 1328), THUMBNAIL_SIDE).unwrap();
        rgba.put_pixel(0, 0, image::Rgba([255, 0, 0, 0]));
        let jpeg = encode_thumbnail(&rgba).unwrap();
        assert_eq!(super::super::sniff(&jpeg), Some(super::super::ImageFormat::Jpeg));
        assert!(jpeg.len() < 60_000, "{} bytes", jpeg.len());
        let decoded = decode_thumbnail(&jpeg).unwrap();
        assert_eq!(decoded.dimensions(), (320, 320));
        // The transparent pixel became the light grey background, not red.
        let [r, g, b, _] = decoded.get_pixel(0, 0).0;
        assert!(r.abs_diff(204) < 40 && g.abs_diff(204) < 40 && b.abs_diff(204) < 40);
        assert_eq!(decode_thumbnail(b"nope").unwrap_err().kind, crate::ErrorKind::Image);
    }
}
