//! Readers for the metadata other image tools write into their files, so an imported
//! image arrives with its prompt, negative prompt and seed.
//!
//! Each tool has its own file. [`read_tool_metadata`] gathers the file's texts once
//! ([`sources`]) and asks the readers in order of precedence: ComfyUI, InvokeAI,
//! Fooocus, NovelAI, AUTOMATIC1111 (text, then pixels: stealth pnginfo), description.
//! Every reader is a pure function of the texts; none panics on hostile input.

mod a1111;
mod comfyui;
mod description;
mod fooocus;
mod invokeai;
mod json;
mod novelai;
mod sources;
mod stealth;
#[cfg(test)]
mod test_files;

pub use comfyui::read_comfyui_graph;

use super::format::{ImageFormat, sniff};
use crate::metadata::SourceTool;
use sources::Texts;

/// Longest text [`raw_texts`] returns, in bytes (longer ones are cut and end with "…").
const MAX_RAW_TEXT_BYTES: usize = 64 * 1024;

/// What one tool's metadata says about an image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolReading {
    /// The tool whose metadata was read; `None` only when nothing was recognised.
    pub tool: Option<SourceTool>,
    /// The prompt; empty when the tool's data was unreadable (see `notes`).
    pub prompt: String,
    /// The negative prompt, empty when there is none.
    pub negative_prompt: String,
    /// The seed (ComfyUI seeds go up to `u64::MAX`).
    pub seed: Option<u64>,
    /// The checkpoint or base model name, empty when unknown.
    pub model: String,
    /// `W*H` when the tool recorded the size, else empty.
    pub size: String,
    /// Everything else worth showing, labelled: sampler, steps, CFG scale, scheduler,
    /// the prompts of further samplers ("sampler 2 prompt"), the software version…
    pub details: Vec<(String, String)>,
    /// English sentences about what was malformed in the tool's data.
    pub notes: Vec<String>,
}

impl ToolReading {
    /// An empty reading of `tool`'s data, to be filled in by its reader.
    fn of(tool: SourceTool) -> Self {
        Self {
            tool: Some(tool),
            ..Self::default()
        }
    }

    /// Adds a labelled detail unless `value` is empty.
    fn detail(&mut self, label: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.details.push((label.to_owned(), value));
        }
    }
}

/// The text readers, in order of precedence. Each answers `None` when the texts hold
/// nothing of its tool.
const READERS: [fn(&Texts) -> Option<ToolReading>; 6] = [
    comfyui::read,
    invokeai::read,
    fooocus::read,
    novelai::read,
    a1111::read,
    description::read,
];

/// Reads the metadata of `bytes` (PNG, JPEG or WebP) written by another tool.
///
/// The first tool in order of precedence (ComfyUI `prompt` > InvokeAI > Fooocus >
/// NovelAI > A1111 > description) whose data gives a prompt wins; a tool whose data
/// was recognised but unreadable leaves its notes on the answer, and is the answer
/// when no other tool gives a prompt. Stealth pnginfo (parameters hidden in a PNG's
/// pixels) is looked for only when no text was recognised. Never panics, never loops
/// forever, and bounds its work on hostile input. Returns `ToolReading::default()`
/// (tool `None`) when nothing is recognised. Pictor's own JSON is not read here.
pub fn read_tool_metadata(bytes: &[u8]) -> ToolReading {
    let texts = sources::texts(bytes);
    if let Some(reading) = first_readable(READERS.iter().filter_map(|read| read(&texts))) {
        return reading;
    }
    if sniff(bytes) == Some(ImageFormat::Png) {
        return stealth::read(bytes).unwrap_or_default();
    }
    ToolReading::default()
}

/// The first of `readings` (taken lazily, in order of precedence) that has a prompt,
/// carrying the notes of the unreadable ones before it; else the first one, with the
/// notes of all. `None` when there is no reading.
fn first_readable(readings: impl Iterator<Item = ToolReading>) -> Option<ToolReading> {
    let mut unreadable: Option<ToolReading> = None;
    for mut reading in readings {
        if reading.prompt.is_empty() {
            match &mut unreadable {
                None => unreadable = Some(reading),
                Some(first) => first.notes.append(&mut reading.notes),
            }
            continue;
        }
        if let Some(mut first) = unreadable {
            first.notes.append(&mut reading.notes);
            reading.notes = first.notes;
        }
        return Some(reading);
    }
    unreadable
}

/// Every text the file carries, for a "details" view so nothing a tool wrote is lost:
/// PNG `tEXt`/`zTXt`/`iTXt` keyword and text (the XMP packet as "XMP"); for JPEG and
/// WebP the EXIF `UserComment`, `ImageDescription` and `XPComment` (and ComfyUI's
/// `prompt:`/`workflow:` in `Model`/`Make`), then the XMP packet as "XMP". Each text
/// is cut at 64 KiB (on a character boundary) and then ends with "…".
pub fn raw_texts(bytes: &[u8]) -> Vec<(String, String)> {
    sources::texts(bytes)
        .into_entries()
        .into_iter()
        .map(|(key, text)| (key, capped(text, MAX_RAW_TEXT_BYTES)))
        .collect()
}

/// `text` cut to at most `max` bytes on a character boundary, with "…" when cut.
fn capped(mut text: String, max: usize) -> String {
    if text.len() > max {
        text.truncate(text.floor_char_boundary(max));
        text.push('…');
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::test_files::{jpeg_with_exif, png_with_texts, user_comment};
    use super::*;

    #[test]
    fn precedence_comfyui_over_a1111_and_description() {
        let graph = r#"{"3":{"class_type":"KSampler","inputs":{"seed":5,"positive":["6",0],"negative":["7",0]}},
            "6":{"class_type":"CLIPTextEncode","inputs":{"text":"from comfy"}},
            "7":{"class_type":"CLIPTextEncode","inputs":{"text":"bad"}}}"#;
        let png = png_with_texts(&[
            ("parameters", "from a1111\nSteps: 20, Seed: 1"),
            ("prompt", graph),
            ("Description", "from description"),
        ]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::ComfyUi));
        assert_eq!(reading.prompt, "from comfy");
        assert_eq!(reading.seed, Some(5));
    }

    #[test]
    fn an_unreadable_tool_gives_way_to_a_readable_one_and_keeps_its_note() {
        let png = png_with_texts(&[("prompt", "{\"3\": {"), ("parameters", "a fox\nSteps: 20, Seed: 9")]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::A1111));
        assert_eq!((reading.prompt.as_str(), reading.seed), ("a fox", Some(9)));
        assert!(
            reading.notes.iter().any(|note| note.contains("ComfyUI")),
            "{:?}",
            reading.notes
        );
        // Alone, the broken graph is the answer: the tool, no prompt, a note.
        let alone = read_tool_metadata(&png_with_texts(&[("prompt", "{\"3\": {")]));
        assert_eq!(alone.tool, Some(SourceTool::ComfyUi));
        assert!(alone.prompt.is_empty());
        assert_eq!(alone.notes.len(), 1, "{:?}", alone.notes);
    }

    #[test]
    fn nothing_recognised_is_the_default() {
        assert_eq!(read_tool_metadata(b""), ToolReading::default());
        assert_eq!(read_tool_metadata(b"not an image"), ToolReading::default());
        let plain = png_with_texts(&[("Software", "GIMP 2.10")]);
        assert_eq!(read_tool_metadata(&plain), ToolReading::default());
        let camera = jpeg_with_exif(&[user_comment("Shot on a phone at dusk")]);
        assert_eq!(read_tool_metadata(&camera), ToolReading::default());
    }

    #[test]
    fn raw_texts_lists_every_text_and_caps_long_ones() {
        let long = "山".repeat(30_000); // 90,000 bytes
        let png = png_with_texts(&[("workflow", "{\"nodes\": []}"), ("parameters", &long)]);
        let texts = raw_texts(&png);
        assert_eq!(texts[0], ("workflow".to_owned(), "{\"nodes\": []}".to_owned()));
        assert_eq!(texts[1].0, "parameters");
        let capped = &texts[1].1;
        assert!(capped.ends_with('…'));
        assert!(capped.len() <= MAX_RAW_TEXT_BYTES + '…'.len_utf8());
        assert!(capped.len() > MAX_RAW_TEXT_BYTES - 3);
        assert!(capped.trim_end_matches('…').chars().all(|c| c == '山'));
    }

    #[test]
    fn capped_cuts_on_a_character_boundary() {
        assert_eq!(capped("abc".to_owned(), 3), "abc");
        assert_eq!(capped("abcd".to_owned(), 3), "abc…");
        assert_eq!(capped("a山".to_owned(), 2), "a…");
    }
}
