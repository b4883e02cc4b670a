//! Fooocus: the PNG `parameters` text (JPEG/WebP: EXIF `UserComment`) is JSON when the
//! `fooocus_scheme` chunk says `fooocus`, or A1111 text when it says `a1111`. Without
//! the chunk, JSON with Fooocus's keys is recognised. Current Fooocus writes
//! `prompt`, `negative_prompt`, `seed` (a text), `base_model`, `resolution`
//! ("(1152, 896)")…; older versions wrote "Prompt", "Negative Prompt", "Seed",
//! "Base Model": both spellings are read.

use serde_json::{Map, Value};

use super::sources::Texts;
use super::{ToolReading, a1111, json};
use crate::metadata::SourceTool;

/// Keys (as normalised by [`normalised`]) only Fooocus writes beside `prompt`.
const FOOOCUS_KEYS: [&str; 6] = [
    "base_model",
    "base_model_name",
    "performance",
    "sharpness",
    "adm_guidance",
    "refiner_model",
];

/// Details: normalised key and label.
const DETAILS: [(&str, &str); 13] = [
    ("performance", "Performance"),
    ("steps", "Steps"),
    ("sampler", "Sampler"),
    ("scheduler", "Scheduler"),
    ("guidance_scale", "CFG scale"),
    ("sharpness", "Sharpness"),
    ("adm_guidance", "ADM guidance"),
    ("styles", "Styles"),
    ("refiner_model", "Refiner model"),
    ("refiner_switch", "Refiner switch"),
    ("vae", "VAE"),
    ("clip_skip", "CLIP skip"),
    ("version", "Version"),
];

/// The Fooocus reading of `texts`, when they hold Fooocus's parameters.
pub(super) fn read(texts: &Texts) -> Option<ToolReading> {
    let text = texts
        .get(crate::imaging::A1111_TEXT_KEY)
        .or_else(|| texts.get("UserComment"))?;
    match texts.get("fooocus_scheme").map(str::trim) {
        Some("a1111") => Some(ToolReading {
            tool: Some(SourceTool::Fooocus),
            ..a1111::read_text(text)
        }),
        Some("fooocus") => Some(match json::object(text, "The Fooocus parameters") {
            Ok(map) => read_map(&normalised(map)),
            Err(note) => ToolReading {
                notes: vec![note],
                ..ToolReading::of(SourceTool::Fooocus)
            },
        }),
        _ => {
            let map = normalised(json::object(text, "").ok()?);
            (map.contains_key("prompt") && FOOOCUS_KEYS.iter().any(|key| map.contains_key(*key)))
                .then(|| read_map(&map))
        }
    }
}

/// `map` with its keys lower-cased and spaces made underscores ("Negative Prompt" →
/// "negative_prompt").
fn normalised(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| (key.trim().to_lowercase().replace(' ', "_"), value))
        .collect()
}

/// Reads Fooocus's parameters (keys normalised).
fn read_map(map: &Map<String, Value>) -> ToolReading {
    let mut reading = ToolReading::of(SourceTool::Fooocus);
    match json::str_at(map, "prompt") {
        Some(prompt) => reading.prompt = prompt.trim().to_owned(),
        None => reading
            .notes
            .push("The Fooocus parameters have no prompt text.".to_owned()),
    }
    reading.negative_prompt = json::str_at(map, "negative_prompt")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if let Some(seed) = map.get("seed") {
        match json::seed(seed, "The Fooocus seed") {
            Ok(seed) => reading.seed = Some(seed),
            Err(note) => reading.notes.push(note),
        }
    }
    reading.model = json::str_at(map, "base_model")
        .or_else(|| json::str_at(map, "base_model_name"))
        .unwrap_or_default()
        .to_owned();
    reading.size = map.get("resolution").map(resolution).unwrap_or_default();
    json::labelled_details(map, &DETAILS, &mut reading);
    for (key, value) in map {
        // "lora_combined_1" (current) or "lora_1" (older): "name : weight".
        let lora = json::shown(value);
        if key.starts_with("lora") && lora != "None" {
            reading.detail("LoRA", lora);
        }
    }
    reading
}

/// `W*H` from Fooocus's resolution: "(1152, 896)", "1152×896" or `[1152, 896]`.
fn resolution(value: &Value) -> String {
    let text = json::shown(value);
    let numbers: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .collect();
    match numbers.as_slice() {
        [width, height] => format!("{width}*{height}"),
        _ => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read_tool_metadata;
    use super::super::test_files::{jpeg_with_exif, png_with_texts, user_comment};
    use super::*;

    /// The `parameters` JSON Fooocus 2.5 writes with the `fooocus` scheme (sorted keys).
    const FOOOCUS: &str = r#"{"adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion",
        "base_model_hash": "aeb7e9e689", "clip_skip": 2, "full_negative_prompt": ["unrealistic"],
        "full_prompt": ["a dragon, cinematic"], "guidance_scale": 4, "lora_combined_1": "sd_xl_offset_example-lora_1.0 : 0.1",
        "loras": [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128"]], "metadata_scheme": "fooocus",
        "negative_prompt": "unrealistic", "performance": "Speed", "prompt": "a dragon",
        "prompt_expansion": "a dragon, cinematic", "refiner_model": "None", "refiner_switch": 0.5,
        "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
        "seed": "8917266530916548212", "sharpness": 2, "steps": 30, "styles": "['Fooocus V2', 'Fooocus Enhance']",
        "vae": "Default (model)", "version": "Fooocus v2.5.5"}"#;

    fn detail<'a>(reading: &'a ToolReading, label: &str) -> Option<&'a str> {
        reading
            .details
            .iter()
            .find(|(key, _)| key == label)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn fooocus_json_with_its_scheme_chunk_reads() {
        let png = png_with_texts(&[("parameters", FOOOCUS), ("fooocus_scheme", "fooocus")]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::Fooocus));
        assert_eq!(
            (reading.prompt.as_str(), reading.negative_prompt.as_str()),
            ("a dragon", "unrealistic")
        );
        assert_eq!(reading.seed, Some(8_917_266_530_916_548_212));
        assert_eq!(reading.model, "juggernautXL_v8Rundiffusion");
        assert_eq!(reading.size, "1152*896");
        assert_eq!(detail(&reading, "Sampler"), Some("dpmpp_2m_sde_gpu"));
        assert_eq!(detail(&reading, "Steps"), Some("30"));
        assert_eq!(detail(&reading, "CFG scale"), Some("4"));
        assert_eq!(detail(&reading, "Version"), Some("Fooocus v2.5.5"));
        assert_eq!(detail(&reading, "LoRA"), Some("sd_xl_offset_example-lora_1.0 : 0.1"));
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn older_fooocus_json_without_a_scheme_chunk_reads() {
        let old = r#"{"Prompt": "a forest", "Negative Prompt": "people", "Fooocus V2 Expansion": "a forest, lush",
            "Styles": "['Fooocus V2']", "Performance": "Quality", "Resolution": "(1024, 1024)", "Sharpness": 2,
            "Guidance Scale": 7, "ADM Guidance": "(1.5, 0.8, 0.3)", "Base Model": "sd_xl_base_1.0_0.9vae.safetensors",
            "Refiner Model": "None", "Sampler": "dpmpp_2m_sde_gpu", "Scheduler": "karras", "Seed": 1234,
            "Version": "v2.1.824"}"#;
        let reading = read_tool_metadata(&png_with_texts(&[("parameters", old)]));
        assert_eq!(reading.tool, Some(SourceTool::Fooocus));
        assert_eq!(
            (reading.prompt.as_str(), reading.negative_prompt.as_str()),
            ("a forest", "people")
        );
        assert_eq!((reading.seed, reading.size.as_str()), (Some(1234), "1024*1024"));
        assert_eq!(reading.model, "sd_xl_base_1.0_0.9vae.safetensors");
        // In a JPEG: the same JSON in UserComment.
        let jpeg = read_tool_metadata(&jpeg_with_exif(&[user_comment(old)]));
        assert_eq!((jpeg.tool, jpeg.seed), (Some(SourceTool::Fooocus), Some(1234)));
    }

    #[test]
    fn the_a1111_scheme_is_read_as_a1111_text_by_fooocus() {
        let text = "a dragon\nNegative prompt: unrealistic\nSteps: 30, Seed: 77, Version: Fooocus v2.5.5";
        let png = png_with_texts(&[("parameters", text), ("fooocus_scheme", "a1111")]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::Fooocus));
        assert_eq!((reading.prompt.as_str(), reading.seed), ("a dragon", Some(77)));
    }

    #[test]
    fn malformed_fooocus_parameters_give_notes() {
        let bad_seed = FOOOCUS.replace("\"8917266530916548212\"", "\"random\"");
        let reading = read_tool_metadata(&png_with_texts(&[
            ("parameters", &bad_seed),
            ("fooocus_scheme", "fooocus"),
        ]));
        assert_eq!((reading.prompt.as_str(), reading.seed), ("a dragon", None));
        assert_eq!(reading.notes.len(), 1);
        assert!(
            reading.notes[0].starts_with("The Fooocus seed is not a whole number"),
            "{:?}",
            reading.notes
        );
        let truncated = &FOOOCUS[..FOOOCUS.len() / 2];
        let reading = read_tool_metadata(&png_with_texts(&[
            ("parameters", truncated),
            ("fooocus_scheme", "fooocus"),
        ]));
        assert_eq!(reading.tool, Some(SourceTool::Fooocus));
        assert!(reading.prompt.is_empty());
        assert!(reading.notes[0].contains("not valid JSON"), "{:?}", reading.notes);
        let no_prompt = read_map(&normalised(json::object(r#"{"seed": 1}"#, "").unwrap()));
        assert!(no_prompt.prompt.is_empty());
        assert_eq!(no_prompt.notes, ["The Fooocus parameters have no prompt text."]);
    }

    #[test]
    fn resolutions_in_every_shape() {
        assert_eq!(resolution(&Value::from("(1152, 896)")), "1152*896");
        assert_eq!(resolution(&Value::from("1152×896")), "1152*896");
        assert_eq!(resolution(&serde_json::json!([1152, 896])), "1152*896");
        assert_eq!(resolution(&Value::from("big")), "");
    }
}
