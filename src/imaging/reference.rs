//! A gallery image made ready to send as a reference (contract §2): a `data:` URI of a
//! PNG, JPEG or WebP of at most 10 MB with each side within 384–3072 px. An image
//! outside that is scaled (and re-encoded) first, and the caller is told what changed;
//! the service is never sent a file it would refuse.

use base64::Engine;
use image::DynamicImage;
use image::imageops::FilterType;

use super::{DecodeLimits, ImageFormat, decode, encode_as, sniff};
use crate::error::{Error, Result};

/// Largest reference the services accept, in bytes.
pub const MAX_REFERENCE_BYTES: usize = 10 * 1024 * 1024;
/// Shortest side the services recommend, in pixels.
pub const MIN_REFERENCE_SIDE: u32 = 384;
/// Longest side the services recommend, in pixels.
pub const MAX_REFERENCE_SIDE: u32 = 3072;

/// A reference image as it will be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedReference {
    /// `data:<mime>;base64,…`.
    pub data_uri: String,
    /// What was changed to make it acceptable (for the user), or `None` when sent as is.
    pub adjusted: Option<String>,
}

/// Makes `bytes` (a stored image) ready to send as a reference.
pub fn prepare_reference(bytes: &[u8]) -> Result<PreparedReference> {
    let format = sniff(bytes).ok_or_else(|| Error::image("the reference is not a PNG, JPEG or WebP image"))?;
    let image = decode(bytes, &DecodeLimits::default())?;
    let (width, height) = (image.width(), image.height());
    let target = fitted_size(width, height).ok_or_else(|| {
        Error::invalid(format!(
            "the reference is {width}×{height}: the service takes {MIN_REFERENCE_SIDE}–{MAX_REFERENCE_SIDE} px per side, \
             so an image longer than 8:1 cannot be sent; crop it first"
        ))
    })?;
    if target == (width, height) && bytes.len() <= MAX_REFERENCE_BYTES {
        return Ok(PreparedReference {
            data_uri: data_uri(format, bytes),
            adjusted: None,
        });
    }
    let scaled = if target == (width, height) {
        image
    } else {
        image.resize_exact(target.0, target.1, FilterType::Lanczos3)
    };
    let (format, encoded) = encode_within_limit(&scaled)?;
    let adjusted = if target == (width, height) {
        format!(
            "re-encoded as {} ({} MB was over the 10 MB the service takes)",
            format.extension().to_ascii_uppercase(),
            bytes.len().div_ceil(1024 * 1024)
        )
    } else {
        format!(
            "scaled from {width}×{height} to {}×{} (the service takes {MIN_REFERENCE_SIDE}–{MAX_REFERENCE_SIDE} px per side)",
            target.0, target.1
        )
    };
    Ok(PreparedReference {
        data_uri: data_uri(format, &encoded),
        adjusted: Some(adjusted),
    })
}

/// The size within 384–3072 px per side that keeps the aspect ratio, or the size itself
/// when it already fits; `None` for an aspect beyond 8:1, which cannot fit both bounds.
fn fitted_size(width: u32, height: u32) -> Option<(u32, u32)> {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let long = w.max(h);
    let short = w.min(h);
    let scale = if long > f64::from(MAX_REFERENCE_SIDE) {
        f64::from(MAX_REFERENCE_SIDE) / long
    } else if short < f64::from(MIN_REFERENCE_SIDE) {
        (f64::from(MIN_REFERENCE_SIDE) / short).min(f64::from(MAX_REFERENCE_SIDE) / long)
    } else {
        return Some((width, height));
    };
    let side = |v: f64| (v * scale).round().clamp(1.0, f64::from(MAX_REFERENCE_SIDE)) as u32;
    let fitted = (side(w), side(h));
    (fitted.0.min(fitted.1) >= MIN_REFERENCE_SIDE).then_some(fitted)
}

/// PNG when the image has transparency, else JPEG; the JPEG quality drops until the
/// bytes fit the service's limit.
fn encode_within_limit(image: &DynamicImage) -> Result<(ImageFormat, Vec<u8>)> {
    if image.color().has_alpha() {
        let png = encode_as(image, ImageFormat::Png, 100)?;
        if png.len() <= MAX_REFERENCE_BYTES {
            return Ok((ImageFormat::Png, png));
        }
    }
    for quality in [92, 80, 65, 50] {
        let jpeg = encode_as(image, ImageFormat::Jpeg, quality)?;
        if jpeg.len() <= MAX_REFERENCE_BYTES {
            return Ok((ImageFormat::Jpeg, jpeg));
        }
    }
    Err(Error::image("the reference image cannot be made smaller than 10 MB"))
}

fn data_uri(format: ImageFormat, bytes: &[u8]) -> String {
    format!(
        "data:{};base64,{}",
        format.mime(),
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 99]));
        encode_as(&DynamicImage::ImageRgb8(image), ImageFormat::Png, 100).unwrap()
    }

    #[test]
    fn an_acceptable_image_is_sent_as_it_is() {
        let bytes = png(512, 400);
        let prepared = prepare_reference(&bytes).unwrap();
        assert_eq!(prepared.adjusted, None);
        let encoded = prepared.data_uri.strip_prefix("data:image/png;base64,").unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(encoded).unwrap(),
            bytes
        );
    }

    #[test]
    fn too_small_and_too_large_sides_are_scaled_and_said() {
        assert_eq!(fitted_size(4000, 3000), Some((3072, 2304)));
        assert_eq!(fitted_size(200, 100), Some((768, 384)));
        assert_eq!(fitted_size(1000, 1000), Some((1000, 1000)));
        assert_eq!(fitted_size(3072, 384), Some((3072, 384)), "8:1 just fits");
        assert_eq!(fitted_size(6000, 300), None, "beyond 8:1 nothing fits both bounds");
        let prepared = prepare_reference(&png(300, 200)).unwrap();
        assert!(
            prepared.adjusted.as_deref().unwrap().contains("576×384"),
            "{:?}",
            prepared.adjusted
        );
        assert!(prepared.data_uri.starts_with("data:image/jpeg;base64,"));
    }

    #[test]
    fn a_reference_beyond_8_to_1_is_refused_with_its_size() {
        let err = prepare_reference(&png(4000, 200)).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidRequest);
        assert!(
            err.message.contains("4000×200") && err.message.contains("8:1"),
            "{}",
            err.message
        );
    }

    #[test]
    fn what_is_not_an_image_is_refused() {
        assert!(prepare_reference(b"GIF89a....").is_err());
    }
}
