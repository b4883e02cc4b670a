//! AUTOMATIC1111 / Forge / SD.Next: the `parameters` text of a PNG, or the EXIF
//! `UserComment` of a JPEG or WebP. The text is parsed by [`parse_a1111`]; the seed is
//! read again here as a `u64` and the other `Key: value` pairs become details.

use super::ToolReading;
use super::sources::Texts;
use crate::imaging::A1111_TEXT_KEY;
use crate::imaging::a1111::{looks_like_a1111, parameter_line, parse_a1111};
use crate::metadata::SourceTool;

/// The A1111 reading of `texts`: the PNG `parameters` text, else an EXIF `UserComment`
/// that reads as A1111 text (a camera's or phone's comment is not a prompt). A
/// `parameters` text is Fooocus's when a `fooocus_scheme` text is present, and a JSON
/// object is never A1111 text.
pub(super) fn read(texts: &Texts) -> Option<ToolReading> {
    if let Some(text) = texts.get(A1111_TEXT_KEY) {
        let foreign = texts.get("fooocus_scheme").is_some()
            || serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).is_ok();
        return (!foreign).then(|| read_text(text));
    }
    let comment = texts.get("UserComment")?;
    looks_like_a1111(comment).then(|| read_text(comment))
}

/// Reads one A1111 parameters text: prompt, negative prompt, size and model as
/// [`parse_a1111`] finds them, the seed as a `u64`, and every other pair of the
/// parameter line (`Steps`, `Sampler`, `CFG scale`, `Model hash`…) as a detail.
pub(super) fn read_text(text: &str) -> ToolReading {
    let meta = parse_a1111(text);
    let mut reading = ToolReading {
        prompt: meta.prompt,
        negative_prompt: meta.negative_prompt,
        model: meta.model,
        size: meta.size,
        ..ToolReading::of(SourceTool::A1111)
    };
    // The same last line parse_a1111 reads its pairs from.
    let last_line = text
        .trim()
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    for (key, value) in parameter_line(last_line).unwrap_or_default() {
        match key.as_str() {
            "Seed" => match value.trim().parse::<u64>() {
                Ok(seed) => reading.seed = Some(seed),
                Err(_) => reading
                    .notes
                    .push(format!("The A1111 seed “{value}” is not a whole number.")),
            },
            "Size" if !reading.size.is_empty() => {}
            "Model" if !reading.model.is_empty() => {}
            _ => reading.detail(&key, value),
        }
    }
    if reading.prompt.is_empty() {
        reading
            .notes
            .push("The A1111 parameters text has no prompt.".to_owned());
    }
    reading
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read_tool_metadata;
    use super::super::test_files::{jpeg_with_exif, png_with_texts, user_comment, webp_with_exif};
    use super::*;

    const FORGE: &str = "masterpiece, a castle on a hill\nNegative prompt: blurry, lowres\n\
Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1125899906842624, \
Size: 832x1216, Model hash: 6ce0161689, Model: sdxl_base, Lora hashes: \"detail: 1a2b, style: 3c4d\", Version: f2.0.1";

    fn detail<'a>(reading: &'a ToolReading, label: &str) -> Option<&'a str> {
        reading
            .details
            .iter()
            .find(|(key, _)| key == label)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn a_forge_png_reads_with_a_seed_beyond_u32_and_its_details() {
        let reading = read_tool_metadata(&png_with_texts(&[("parameters", FORGE)]));
        assert_eq!(reading.tool, Some(SourceTool::A1111));
        assert_eq!(reading.prompt, "masterpiece, a castle on a hill");
        assert_eq!(reading.negative_prompt, "blurry, lowres");
        assert_eq!(reading.seed, Some(1_125_899_906_842_624));
        assert_eq!(
            (reading.model.as_str(), reading.size.as_str()),
            ("sdxl_base", "832*1216")
        );
        assert_eq!(detail(&reading, "Steps"), Some("28"));
        assert_eq!(detail(&reading, "Sampler"), Some("DPM++ 2M"));
        assert_eq!(detail(&reading, "CFG scale"), Some("7"));
        assert_eq!(detail(&reading, "Model hash"), Some("6ce0161689"));
        assert_eq!(detail(&reading, "Lora hashes"), Some("detail: 1a2b, style: 3c4d"));
        assert_eq!(detail(&reading, "Seed"), None);
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn jpeg_and_webp_user_comments_read_and_a_u64_max_seed_survives() {
        let text = format!("山水画\nNegative prompt: 模糊\nSteps: 20, Seed: {}", u64::MAX);
        for file in [
            jpeg_with_exif(&[user_comment(&text)]),
            webp_with_exif(&[user_comment(&text)]),
        ] {
            let reading = read_tool_metadata(&file);
            assert_eq!(reading.tool, Some(SourceTool::A1111));
            assert_eq!(
                (reading.prompt.as_str(), reading.negative_prompt.as_str()),
                ("山水画", "模糊")
            );
            assert_eq!(reading.seed, Some(u64::MAX));
        }
    }

    #[test]
    fn parameters_that_belong_to_fooocus_or_are_json_are_not_a1111() {
        let scheme = png_with_texts(&[("parameters", "{\"prompt\": \"cut"), ("fooocus_scheme", "fooocus")]);
        assert_eq!(read(&super::super::sources::texts(&scheme)), None);
        let json = png_with_texts(&[("parameters", "{\"some\": \"tool\"}")]);
        assert_eq!(read_tool_metadata(&json), ToolReading::default());
    }

    #[test]
    fn a_bad_seed_or_an_empty_text_gives_a_note() {
        let reading = read_text("a fox\nSteps: 20, Seed: 99999999999999999999999");
        assert_eq!((reading.prompt.as_str(), reading.seed), ("a fox", None));
        assert!(reading.notes[0].contains("not a whole number"), "{:?}", reading.notes);
        let empty = read_text("");
        assert!(empty.prompt.is_empty());
        assert_eq!(empty.notes.len(), 1);
    }
}
