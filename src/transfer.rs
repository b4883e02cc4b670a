//! Getting images out of the library: export copies that carry the parameters. A copy in
//! the stored format is not re-encoded; another format is, and gets the parameters
//! embedded again (PNG `iTXt`, JPEG/WebP EXIF). Imports are in [`crate::import`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::imaging::{self, DecodeLimits, ImageFormat};
use crate::library::{Durability, ImageRecord, Library, write_atomically};
use crate::settings::ExportFormat;

/// Fills a file-name template: `{date}`, `{time}`, `{model}`, `{seed}`, `{id}`,
/// `{prompt}` / `{prompt:N}` (first N characters). The result is safe on every OS.
pub fn file_name(template: &str, record: &ImageRecord, format: ExportFormat) -> String {
    let meta = &record.meta;
    let created = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(meta.created_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let date = format!(
        "{:04}-{:02}-{:02}",
        created.year(),
        u8::from(created.month()),
        created.day()
    );
    let clock = format!("{:02}{:02}{:02}", created.hour(), created.minute(), created.second());
    let seed = meta.seed.map(|s| s.to_string()).unwrap_or_else(|| "noseed".into());
    let mut name = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        name.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            name.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let field = &rest[open + 1..open + close];
        let (key, arg) = field.split_once(':').unwrap_or((field, ""));
        match key {
            "date" => name.push_str(&date),
            "time" => name.push_str(&clock),
            "model" => name.push_str(&meta.model),
            "seed" => name.push_str(&seed),
            "id" => name.push_str(&record.id),
            "prompt" => {
                let limit = arg.parse::<usize>().unwrap_or(48);
                let words: String = meta.prompt.split_whitespace().collect::<Vec<_>>().join("-");
                let cut: String = words.chars().take(limit).collect();
                // A cut in the middle of "street market" must not leave "street-".
                name.push_str(cut.trim_end_matches(['-', ',', '.', ';', '，', '。', '、', '；']));
            }
            _ => name.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    name.push_str(rest);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let safe = safe.trim().trim_matches('.').to_owned();
    let stem = if safe.is_empty() { record.id.clone() } else { safe };
    format!("{stem}.{}", extension(format))
}

/// The file extension of an export format.
pub fn extension(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Png => "png",
        ExportFormat::Jpeg => "jpg",
        ExportFormat::WebP => "webp",
    }
}

/// The bytes of `record` in `format`. A file already in `format` is not re-encoded: a
/// PNG (parameters embedded at ingest) or a file with EXIF of its own is copied as is, a
/// bare JPEG/WebP gets the parameters as EXIF. Anything else is decoded, encoded (JPEG
/// and WebP at `quality`) and gets `record`'s parameters embedded.
pub fn encoded(library: &Library, record: &ImageRecord, format: ExportFormat, quality: u8) -> Result<Vec<u8>> {
    let source = library.image_path(record);
    let bytes =
        std::fs::read(&source).map_err(|err| Error::storage(format!("cannot read {}", source.display()), err))?;
    let wanted = match format {
        ExportFormat::Png => ImageFormat::Png,
        ExportFormat::Jpeg => ImageFormat::Jpeg,
        ExportFormat::WebP => ImageFormat::WebP,
    };
    if imaging::sniff(&bytes) == Some(wanted) {
        // A JPEG or WebP as the service sent it has no parameters yet: add them, unless
        // the file has EXIF of its own (an imported photo's), which is kept untouched.
        let bare = wanted != ImageFormat::Png && !imaging::has_exif(&bytes);
        return if bare {
            imaging::embed_metadata(&bytes, &record.meta)
        } else {
            Ok(bytes)
        };
    }
    let image = imaging::decode(&bytes, &DecodeLimits::default())?;
    let encoded = imaging::encode_as(&image, wanted, quality)?;
    imaging::embed_metadata(&encoded, &record.meta)
}

/// Writes `record` to `target` in `format`, atomically (never a half-written file).
pub fn save_as(
    library: &Library,
    record: &ImageRecord,
    format: ExportFormat,
    quality: u8,
    target: &Path,
) -> Result<PathBuf> {
    let bytes = encoded(library, record, format, quality)?;
    write_atomically(target, &bytes, Durability::Durable)?;
    Ok(target.to_owned())
}

/// Exports `records` into `dir` with names from `template`; never overwrites (adds `-2`, `-3`, …).
/// One result per record; an `Err` outside means the folder itself could not be made.
pub fn export_many(
    library: &Library,
    records: &[ImageRecord],
    dir: &Path,
    format: ExportFormat,
    quality: u8,
    template: &str,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<Result<PathBuf>>> {
    std::fs::create_dir_all(dir).map_err(|err| Error::storage(format!("cannot create {}", dir.display()), err))?;
    let mut results = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let target = unique_path(&dir.join(file_name(template, record, format)));
        results.push(save_as(library, record, format, quality, &target));
        progress(index + 1, records.len());
    }
    Ok(results)
}

/// `path`, or `stem-2.ext`, `stem-3.ext`, … when it exists.
pub fn unique_path(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    (2..)
        .map(|n| path.with_file_name(format!("{stem}-{n}.{ext}")))
        .find(|candidate| !candidate.exists())
        .unwrap_or_else(|| path.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::metadata::ImageMeta;

    fn record(prompt: &str, seed: Option<u32>) -> ImageRecord {
        let meta = ImageMeta {
            prompt: prompt.to_owned(),
            model: "qwen-image-plus".to_owned(),
            seed,
            created_ms: 1_700_000_000_000,
            ..ImageMeta::default()
        };
        ImageRecord::for_tests("01HZY", meta)
    }

    #[test]
    fn the_template_fills_every_field_and_cuts_the_prompt_cleanly() {
        let template = "{date}_{time}_{model}_{seed}_{prompt:24}_{id}";
        let name = file_name(
            template,
            &record("cyberpunk street market in the rain", Some(7)),
            ExportFormat::WebP,
        );
        assert_eq!(
            name,
            "2023-11-14_221320_qwen-image-plus_7_cyberpunk-street-market_01HZY.webp"
        );
        let chinese = file_name(
            "{prompt:6}",
            &record("一幅传统的，中国山水画", None),
            ExportFormat::Jpeg,
        );
        assert_eq!(chinese, "一幅传统的.jpg");
        assert_eq!(file_name("{seed}", &record("x", None), ExportFormat::Png), "noseed.png");
    }

    #[test]
    fn names_are_safe_on_every_os() {
        let name = file_name(
            "{prompt}",
            &record("a/b\\c:d*e?f\"g<h>i|j\u{7}", None),
            ExportFormat::Png,
        );
        assert_eq!(name, "a_b_c_d_e_f_g_h_i_j_.png");
        assert_eq!(
            file_name("{prompt}", &record("...", None), ExportFormat::Png),
            "01HZY.png"
        );
        assert_eq!(
            file_name("{unknown}", &record("x", None), ExportFormat::Png),
            "{unknown}.png"
        );
    }
}
