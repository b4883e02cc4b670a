//! The three image formats Pictor handles, recognised by their magic bytes.

use super::png_text::PNG_SIGNATURE;

/// An image file format Pictor reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// Portable Network Graphics.
    Png,
    /// JPEG (JFIF/Exif).
    Jpeg,
    /// WebP (lossy or lossless).
    WebP,
}

impl ImageFormat {
    /// The usual file extension, without the dot: `png`, `jpg` or `webp`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::WebP => "webp",
        }
    }

    /// The MIME type: `image/png`, `image/jpeg` or `image/webp`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::WebP => "image/webp",
        }
    }

    /// The matching format of the `image` crate.
    pub(crate) fn to_image_format(self) -> image::ImageFormat {
        match self {
            Self::Png => image::ImageFormat::Png,
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::WebP => image::ImageFormat::WebP,
        }
    }
}

/// The format of `bytes` from its magic bytes alone (never a file name or content type),
/// or `None` when it is not a PNG, JPEG or WebP file.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&PNG_SIGNATURE) {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ImageFormat::Png));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageFormat::WebP));
        for garbage in [
            &b""[..],
            b"\x89PNG",
            b"RIFF\0\0\0\0WAVEfmt ",
            b"GIF89a",
            b"<html>",
            b"\xFF\xD8",
        ] {
            assert_eq!(sniff(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn names_extensions_and_mime_types() {
        let all = [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP];
        let names: Vec<_> = all.iter().map(|f| (f.extension(), f.mime())).collect();
        assert_eq!(
            names,
            [("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp")]
        );
    }
}
