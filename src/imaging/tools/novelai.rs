//! NovelAI: PNG text chunks `Software` = "NovelAI", `Description` = the prompt,
//! `Source` = the model ("Stable Diffusion XL C1E1DE52", "NovelAI Diffusion V4 …"),
//! `Comment` = JSON with `prompt`, `uc` (the negative prompt), `seed`, `steps`,
//! `scale`, `sampler`, `width`, `height`…; V4 adds `v4_prompt` with character prompts.

use serde_json::Value;

use super::sources::Texts;
use super::{ToolReading, json};
use crate::metadata::SourceTool;

/// Details of `Comment`: JSON key and label.
const DETAILS: [(&str, &str); 8] = [
    ("steps", "Steps"),
    ("scale", "CFG scale"),
    ("sampler", "Sampler"),
    ("noise_schedule", "Scheduler"),
    ("cfg_rescale", "CFG rescale"),
    ("strength", "Strength"),
    ("noise", "Noise"),
    ("request_type", "Request type"),
];

/// The NovelAI reading of `texts`, when `Software` names NovelAI.
pub(super) fn read(texts: &Texts) -> Option<ToolReading> {
    if !texts.get("Software")?.trim().starts_with("NovelAI") {
        return None;
    }
    let mut reading = ToolReading::of(SourceTool::NovelAi);
    reading.prompt = texts.get("Description").unwrap_or_default().trim().to_owned();
    reading.model = texts.get("Source").unwrap_or_default().trim().to_owned();
    match texts
        .get("Comment")
        .map(|text| json::object(text, "The NovelAI Comment"))
    {
        Some(Ok(comment)) => {
            if let Some(prompt) = json::str_at(&comment, "prompt").filter(|prompt| !prompt.trim().is_empty()) {
                reading.prompt = prompt.trim().to_owned();
            }
            reading.negative_prompt = json::str_at(&comment, "uc").unwrap_or_default().trim().to_owned();
            if let Some(seed) = comment.get("seed") {
                match json::seed(seed, "The NovelAI seed") {
                    Ok(seed) => reading.seed = Some(seed),
                    Err(note) => reading.notes.push(note),
                }
            }
            reading.size = json::size(comment.get("width"), comment.get("height"));
            json::labelled_details(&comment, &DETAILS, &mut reading);
            character_prompts(&comment, &mut reading);
        }
        Some(Err(note)) => reading.notes.push(note),
        None => {}
    }
    if reading.prompt.is_empty() {
        reading
            .notes
            .push("The NovelAI image has no prompt in its Description or Comment.".to_owned());
    }
    Some(reading)
}

/// V4's character prompts (`v4_prompt.caption.char_captions[].char_caption`, the same
/// in `v4_negative_prompt`) as details "character N prompt" / "character N negative prompt".
fn character_prompts(comment: &serde_json::Map<String, Value>, reading: &mut ToolReading) {
    for (key, label) in [("v4_prompt", "prompt"), ("v4_negative_prompt", "negative prompt")] {
        let captions = comment
            .get(key)
            .and_then(|prompt| prompt.pointer("/caption/char_captions"))
            .and_then(Value::as_array);
        for (index, caption) in captions.into_iter().flatten().enumerate() {
            let text = caption.get("char_caption").and_then(Value::as_str).unwrap_or_default();
            reading.detail(&format!("character {} {label}", index + 1), text.trim());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read_tool_metadata;
    use super::super::test_files::png_with_texts;
    use super::*;

    /// The `Comment` of a NovelAI Diffusion V4 image (trimmed of its signature fields).
    const COMMENT: &str = r#"{"prompt": "1girl, reading a book, library, masterpiece", "steps": 28,
        "height": 1216, "width": 832, "scale": 5.0, "uncond_scale": 0.0, "cfg_rescale": 0.0,
        "seed": 3129558925, "n_samples": 1, "noise_schedule": "karras", "legacy_v3_extend": false,
        "reference_information_extracted_multiple": [], "reference_strength_multiple": [],
        "sampler": "k_euler_ancestral", "controlnet_strength": 1.0, "controlnet_model": null,
        "dynamic_thresholding": false, "dynamic_thresholding_percentile": 0.999,
        "dynamic_thresholding_mimic_scale": 10.0, "sm": false, "sm_dyn": false, "skip_cfg_above_sigma": null,
        "skip_cfg_below_sigma": 0.0, "lora_unet_weights": null, "lora_clip_weights": null,
        "deliberate_euler_ancestral_bug": false, "prefer_brownian": true, "cfg_sched_eligibility": "enable_for_post_summer_samplers",
        "explike_fine_detail": false, "minimize_sigma_inf": false, "uncond_per_vibe": true, "wonky_vibe_correlation": true,
        "version": 1, "uc": "lowres, bad anatomy", "request_type": "PromptGenerateRequest",
        "v4_prompt": {"caption": {"base_caption": "1girl, reading a book, library, masterpiece",
          "char_captions": [{"char_caption": "girl, glasses", "centers": [{"x": 0.5, "y": 0.5}]}]},
          "use_coords": false, "use_order": true},
        "v4_negative_prompt": {"caption": {"base_caption": "lowres, bad anatomy", "char_captions": []}}}"#;

    fn novelai_png(comment: &str) -> Vec<u8> {
        png_with_texts(&[
            ("Title", "NovelAI generated image"),
            ("Description", "1girl, reading a book, library, masterpiece"),
            ("Software", "NovelAI"),
            ("Source", "NovelAI Diffusion V4 F6302A9D"),
            ("Generation time", "6.5"),
            ("Comment", comment),
        ])
    }

    #[test]
    fn a_novelai_png_reads() {
        let reading = read_tool_metadata(&novelai_png(COMMENT));
        assert_eq!(reading.tool, Some(SourceTool::NovelAi));
        assert_eq!(reading.prompt, "1girl, reading a book, library, masterpiece");
        assert_eq!(reading.negative_prompt, "lowres, bad anatomy");
        assert_eq!(reading.seed, Some(3_129_558_925));
        assert_eq!(reading.model, "NovelAI Diffusion V4 F6302A9D");
        assert_eq!(reading.size, "832*1216");
        let details: Vec<(&str, &str)> = reading.details.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert!(details.contains(&("Sampler", "k_euler_ancestral")), "{details:?}");
        assert!(details.contains(&("CFG scale", "5.0")), "{details:?}");
        assert!(
            details.contains(&("character 1 prompt", "girl, glasses")),
            "{details:?}"
        );
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn a_broken_comment_keeps_the_description_and_says_why() {
        let reading = read_tool_metadata(&novelai_png(&COMMENT[..200]));
        assert_eq!(reading.tool, Some(SourceTool::NovelAi));
        assert_eq!(reading.prompt, "1girl, reading a book, library, masterpiece");
        assert_eq!(reading.seed, None);
        assert!(
            reading.notes[0].starts_with("The NovelAI Comment is not valid JSON"),
            "{:?}",
            reading.notes
        );
        let bare = read_tool_metadata(&png_with_texts(&[
            ("Software", "NovelAI"),
            ("Comment", "{\"seed\": -4}"),
        ]));
        assert!(bare.prompt.is_empty());
        assert_eq!(bare.notes.len(), 2, "{:?}", bare.notes);
    }
}
