//! Getting images into the library: files and whole folders from any tool, and pasted
//! pixels. Each file keeps what it knew (the tool's prompt, negative prompt, seed and
//! settings, its file name and modification time), and a file whose pixels are already
//! in the library is reported as such and not stored again.

use std::path::{Path, PathBuf};

use crate::api::request::MAX_SEED;
use crate::error::{Error, Result};
use crate::imaging;
use crate::library::{ImageRecord, Insertion, Library};
use crate::metadata::{ImageMeta, ImportSource, SourceTool};

/// Largest file accepted for import.
pub const MAX_IMPORT_BYTES: u64 = 128 * 1024 * 1024;
/// The prompt recorded for a pasted image.
pub const PASTED_PROMPT: &str = "pasted image";
/// The provider name of imported images.
pub const IMPORT_PROVIDER: &str = "import";
/// File extensions a folder import looks at (any case).
const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

/// Imports one PNG, JPEG or WebP file, unless its pixels are already in the library
/// ([`Insertion::AlreadyThere`]). Errors name the file.
pub fn import_file(library: &Library, path: &Path) -> Result<Insertion> {
    let named = |err: Error| Error {
        message: format!("{}: {}", path.display(), err.message),
        ..err
    };
    let info = std::fs::metadata(path).map_err(|err| Error::storage(format!("cannot read {}", path.display()), err))?;
    if !info.is_file() {
        // A device or a pipe could be endless or never answer.
        return Err(Error::image(format!("{} is not a regular file", path.display())));
    }
    if info.len() > MAX_IMPORT_BYTES {
        return Err(too_large(path));
    }
    let bytes = read_at_most(path)?;
    if imaging::sniff(&bytes).is_none() {
        return Err(Error::image(format!(
            "{} is not a PNG, JPEG or WebP image",
            path.display()
        )));
    }
    let modified_ms = info
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|since| i64::try_from(since.as_millis()).ok());
    let meta = meta_of_file(&bytes, path, modified_ms);
    crate::generate::import_blocking(library, &bytes, &meta).map_err(named)
}

/// The file's bytes, refused when it grew past [`MAX_IMPORT_BYTES`] since it was measured.
fn read_at_most(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let cannot_read = |err| Error::storage(format!("cannot read {}", path.display()), err);
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_IMPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

/// The error for a file over [`MAX_IMPORT_BYTES`].
fn too_large(path: &Path) -> Error {
    Error::image(format!(
        "{} is larger than {} MiB",
        path.display(),
        MAX_IMPORT_BYTES / (1024 * 1024)
    ))
}

/// What the library records of an imported file: Pictor's own parameters when the file
/// carries them (an export coming back), else what another tool wrote (the file name as
/// the prompt when nothing is readable, with the notes saying why), plus the file's name
/// and modification time.
fn meta_of_file(bytes: &[u8], path: &Path, modified_ms: Option<i64>) -> ImageMeta {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(mut meta) = imaging::read_pictor_metadata(bytes) {
        let known = meta.source.take().unwrap_or_default();
        meta.source = Some(ImportSource {
            tool: known.tool.or(Some(SourceTool::Pictor)),
            file_name,
            modified_ms,
            ..known
        });
        if meta.created_ms <= 0 {
            meta.created_ms = ImageMeta::now_ms();
        }
        return meta;
    }
    let reading = imaging::read_tool_metadata(bytes);
    let prompt = if reading.prompt.trim().is_empty() {
        path.file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        reading.prompt
    };
    ImageMeta {
        prompt,
        negative_prompt: reading.negative_prompt,
        model: reading.model,
        size: reading.size,
        // Pictor's own seed field holds what the Qwen services take; the tool's seed,
        // whatever its size, is kept whole in the source.
        seed: reading
            .seed
            .and_then(|seed| u32::try_from(seed).ok())
            .filter(|seed| *seed <= MAX_SEED),
        provider: IMPORT_PROVIDER.to_owned(),
        created_ms: ImageMeta::now_ms(),
        source: Some(ImportSource {
            tool: reading.tool,
            seed: reading.seed,
            file_name,
            modified_ms,
            details: reading.details,
            notes: reading.notes,
        }),
        ..ImageMeta::default()
    }
}

/// Stores an image pasted from the clipboard (pixels without a file) as a PNG, with
/// [`PASTED_PROMPT`] as its prompt, so it can be a reference like any library image.
/// The same pixels pasted again find the image already stored.
pub fn import_pasted(library: &Library, image: image::RgbaImage) -> Result<ImageRecord> {
    let bytes = imaging::encode_as(&image::DynamicImage::ImageRgba8(image), imaging::ImageFormat::Png, 100)?;
    let meta = ImageMeta {
        prompt: PASTED_PROMPT.to_owned(),
        provider: "paste".to_owned(),
        created_ms: ImageMeta::now_ms(),
        ..ImageMeta::default()
    };
    match crate::generate::import_blocking(library, &bytes, &meta)? {
        Insertion::Stored(record) | Insertion::AlreadyThere(record) => Ok(record),
    }
}

/// The files an import of `paths` covers: each file as given, and every PNG, JPEG or
/// WebP file below each folder (recursively, symbolic links not followed, in name
/// order). Folders that cannot be read are returned with their error.
pub fn files_to_import(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, Error)>) {
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            match entry {
                Ok(entry) if entry.file_type().is_file() && is_image_name(entry.path()) => {
                    files.push(entry.into_path());
                }
                Ok(_) => {}
                Err(err) => {
                    let at = err.path().unwrap_or(path).to_path_buf();
                    let message = format!("cannot read {}", at.display());
                    unreadable.push((at, Error::storage(message, err)));
                }
            }
        }
    }
    (files, unreadable)
}

/// Whether `path` has an image file's extension (hidden files, e.g. a tool's temp files, are skipped).
pub(crate) fn is_image_name(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with('.'));
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
    !hidden && extension.is_some_and(|extension| IMAGE_EXTENSIONS.contains(&extension.as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_device_or_a_pipe_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(crate::library::LibraryPaths::in_dir(&dir.path().join("library"))).unwrap();
        for endless in ["/dev/zero", "/dev/null"] {
            let err = import_file(&library, Path::new(endless)).unwrap_err();
            assert!(err.message.contains("is not a regular file"), "{endless}: {err:?}");
        }
    }

    #[test]
    fn a_folder_is_walked_for_images_only_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("b").join("deeper");
        std::fs::create_dir_all(&nested).unwrap();
        for name in [
            "a.PNG",
            "b/x.jpeg",
            "b/deeper/y.webp",
            "notes.txt",
            ".hidden.png",
            "b/z.gif",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let loose = dir.path().join("notes.txt");
        let (files, unreadable) = files_to_import(&[dir.path().to_path_buf(), loose.clone()]);
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().to_string_lossy().replace('\\', "/"))
            .collect();
        assert_eq!(names, ["a.PNG", "b/deeper/y.webp", "b/x.jpeg", "notes.txt"]);
        assert!(unreadable.is_empty());
        assert_eq!(files.last(), Some(&loose), "a file named on its own is always tried");
    }
}
