//! "Copy diagnostics": what a bug report needs, as plain text. It never holds a key;
//! prompts only when the user asks for them. Reads the library and a system file:
//! build it off the UI thread.

use std::fmt::Write as _;

use crate::error::Result;
use crate::library::{Library, Query};

/// Prompts listed when the user includes them.
const PROMPTS_SHOWN: usize = 5;

/// What the caller knows that this module cannot find out.
#[derive(Clone, Debug, Default)]
pub struct DiagnosticsContext {
    /// How the window draws (e.g. "OpenGL (glow), X11").
    pub renderer: String,
    /// List the last prompts (the user ticked it).
    pub include_prompts: bool,
}

/// The diagnostics text: version, OS, renderer, library size and folders, the last
/// warnings and errors of this run (redacted, as in the log), and the last prompts only
/// with `include_prompts`.
///
/// A library that cannot be read (the report is most needed then) is named as such and
/// the rest is still written.
pub fn diagnostics_text(library: &Library, context: &DiagnosticsContext) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(text, "Pictor {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(
        text,
        "OS: {} ({} {})",
        os_name().unwrap_or_else(|| "unknown".to_owned()),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let _ = writeln!(text, "Renderer: {}", context.renderer);
    match library_size(library) {
        Ok((live, trashed)) => {
            let noun = if live == 1 { "image" } else { "images" };
            let _ = writeln!(text, "Library: {live} {noun}, {trashed} in the trash");
        }
        Err(err) => {
            let _ = writeln!(text, "Library: unavailable ({}: {})", err.kind, err.message);
        }
    }
    let _ = writeln!(text, "Library folder: {}", library.paths().data_dir.display());
    match crate::logging::log_dir() {
        Some(dir) => {
            let _ = writeln!(text, "Log folder: {}", dir.display());
        }
        None => text.push_str("Log folder: none\n"),
    }
    let problems = crate::logging::recent_problems();
    if problems.is_empty() {
        text.push_str("Warnings and errors this run: none\n");
    } else {
        let _ = writeln!(text, "Warnings and errors this run (last {}):", problems.len());
        for problem in problems {
            let _ = writeln!(text, "  {problem}");
        }
    }
    if context.include_prompts {
        let recent = library.query(&Query {
            limit: Some(PROMPTS_SHOWN),
            ..Query::default()
        });
        match recent {
            Ok(recent) => {
                let _ = writeln!(text, "Last {} prompts:", recent.len());
                for record in recent {
                    let _ = writeln!(text, "  [{}] {}", record.meta.model, record.meta.prompt);
                }
            }
            Err(err) => {
                let _ = writeln!(text, "Last prompts: unavailable ({})", err.message);
            }
        }
    }
    text
}

/// Live and trashed images.
fn library_size(library: &Library) -> Result<(usize, usize)> {
    let live = library.count(&Query::default())?;
    let trashed = library.count(&Query {
        trash: true,
        ..Query::default()
    })?;
    Ok((live, trashed))
}

/// The system's name for itself (`PRETTY_NAME` of os-release on Linux).
fn os_name() -> Option<String> {
    let release = std::fs::read_to_string("/etc/os-release").ok()?;
    release.lines().find_map(|line| {
        line.strip_prefix("PRETTY_NAME=")
            .map(|value| value.trim_matches('"').to_owned())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::library::LibraryPaths;

    fn library_with_prompt(prompt: &str) -> (tempfile::TempDir, Library) {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        let png = {
            let mut out = std::io::Cursor::new(Vec::new());
            image::RgbImage::from_pixel(8, 8, image::Rgb([9, 99, 199]))
                .write_to(&mut out, image::ImageFormat::Png)
                .unwrap();
            out.into_inner()
        };
        let meta = crate::metadata::ImageMeta {
            prompt: prompt.to_owned(),
            model: "qwen-image-plus".into(),
            ..Default::default()
        };
        crate::generate::store_blocking(&library, &png, &meta).unwrap();
        (dir, library)
    }

    #[test]
    fn a_library_that_cannot_open_is_named_and_the_rest_still_written() {
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("not-a-folder");
        std::fs::write(&blocked, b"a file where the library folder should be").unwrap();
        let library = crate::generate::open_library_in_background(LibraryPaths::in_dir(&blocked));
        let text = diagnostics_text(&library, &DiagnosticsContext::default());
        assert!(text.contains("Library: unavailable ("), "{text}");
        assert!(text.contains("Log folder:"), "{text}");
    }

    #[test]
    fn prompts_appear_only_when_asked_for() {
        let (_dir, library) = library_with_prompt("a very private lantern");
        let without = diagnostics_text(&library, &DiagnosticsContext::default());
        assert!(without.contains("Library: 1 image, 0 in the trash"), "{without}");
        assert!(without.starts_with(&format!("Pictor {}", env!("CARGO_PKG_VERSION"))));
        assert!(!without.contains("private lantern"), "{without}");
        let with = diagnostics_text(
            &library,
            &DiagnosticsContext {
                renderer: "test".into(),
                include_prompts: true,
            },
        );
        assert!(with.contains("[qwen-image-plus] a very private lantern"), "{with}");
        assert!(with.contains("Renderer: test"), "{with}");
    }
}
