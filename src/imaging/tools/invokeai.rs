//! InvokeAI, in the three shapes it has written over the years:
//! - `invokeai_metadata` (3.x and later): JSON with `positive_prompt`,
//!   `negative_prompt`, `seed`, `model` (`{model_name}` or `{name}`), `width`,
//!   `height`, `steps`, `cfg_scale`, `scheduler`…;
//! - `sd-metadata` (2.x): JSON `{"model_weights", "image": {"prompt": [{"prompt",
//!   "weight"}] or a text, "seed", "width", "height", "sampler", "steps", "cfg_scale"}}`;
//! - `Dream` (the oldest): `"a prompt [negative words]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`.
//!
//! Before 3.x the negative prompt was written inside the prompt, in square brackets.

use serde_json::{Map, Value};

use super::sources::Texts;
use super::{ToolReading, first_readable, json};
use crate::metadata::SourceTool;

/// Details of `invokeai_metadata`: JSON key and label.
const METADATA_DETAILS: [(&str, &str); 9] = [
    ("steps", "Steps"),
    ("cfg_scale", "CFG scale"),
    ("cfg_rescale_multiplier", "CFG rescale"),
    ("scheduler", "Scheduler"),
    ("clip_skip", "CLIP skip"),
    ("strength", "Strength"),
    ("generation_mode", "Generation mode"),
    ("positive_style_prompt", "Style prompt"),
    ("negative_style_prompt", "Negative style prompt"),
];

/// Details of `sd-metadata`'s `image`: JSON key and label.
const SD_METADATA_DETAILS: [(&str, &str); 5] = [
    ("steps", "Steps"),
    ("cfg_scale", "CFG scale"),
    ("sampler", "Sampler"),
    ("strength", "Strength"),
    ("type", "Generation mode"),
];

/// `Dream` switches: the switch and its label (`-S`, `-W` and `-H` are read apart).
const DREAM_SWITCHES: [(&str, &str); 6] = [
    ("-s", "Steps"),
    ("-C", "CFG scale"),
    ("-A", "Sampler"),
    ("-f", "Strength"),
    ("-I", "Init image"),
    ("-G", "Face restoration"),
];

/// A text chunk's keyword and the reader of its text.
type ShapeReader = (&'static str, fn(&str) -> ToolReading);

/// InvokeAI's shapes, newest first.
const SHAPES: [ShapeReader; 3] = [
    ("invokeai_metadata", read_metadata),
    ("sd-metadata", read_sd_metadata),
    ("Dream", read_dream),
];

/// The InvokeAI reading of `texts`: the newest shape present that gives a prompt.
pub(super) fn read(texts: &Texts) -> Option<ToolReading> {
    first_readable(SHAPES.into_iter().filter_map(|(key, read)| texts.get(key).map(read)))
}

/// Reads `invokeai_metadata` (InvokeAI 3.x and later).
fn read_metadata(text: &str) -> ToolReading {
    let mut reading = ToolReading::of(SourceTool::InvokeAi);
    let map = match json::object(text, "The InvokeAI metadata") {
        Ok(map) => map,
        Err(note) => {
            reading.notes.push(note);
            return reading;
        }
    };
    match json::str_at(&map, "positive_prompt") {
        Some(prompt) => reading.prompt = prompt.trim().to_owned(),
        None => reading
            .notes
            .push("The InvokeAI metadata has no positive_prompt text.".to_owned()),
    }
    reading.negative_prompt = json::str_at(&map, "negative_prompt")
        .unwrap_or_default()
        .trim()
        .to_owned();
    read_seed(&map, "The InvokeAI seed", &mut reading);
    reading.model = model_name(map.get("model"));
    reading.size = json::size(map.get("width"), map.get("height"));
    json::labelled_details(&map, &METADATA_DETAILS, &mut reading);
    reading.detail("VAE", model_name(map.get("vae")));
    for lora in map.get("loras").and_then(Value::as_array).into_iter().flatten() {
        // 3.x: {"lora": {"model_name"}, "weight"}; 4.x and later: {"model": {"name"}, "weight"}.
        let name = model_name(lora.get("lora").or_else(|| lora.get("model")));
        let weight = lora.get("weight").map(json::shown).unwrap_or_default();
        reading.detail(
            "LoRA",
            if weight.is_empty() {
                name
            } else {
                format!("{name} ({weight})")
            },
        );
    }
    reading.detail("Version", json::str_at(&map, "app_version").unwrap_or_default());
    reading
}

/// A model's name: `model_name` (3.x) or `name` (4.x and later) of an object, or a text.
fn model_name(model: Option<&Value>) -> String {
    match model {
        Some(Value::Object(model)) => json::str_at(model, "model_name")
            .or_else(|| json::str_at(model, "name"))
            .unwrap_or_default()
            .to_owned(),
        Some(Value::String(name)) => name.clone(),
        _ => String::new(),
    }
}

/// Reads `sd-metadata` (InvokeAI 2.x).
fn read_sd_metadata(text: &str) -> ToolReading {
    let mut reading = ToolReading::of(SourceTool::InvokeAi);
    let map = match json::object(text, "The InvokeAI sd-metadata") {
        Ok(map) => map,
        Err(note) => {
            reading.notes.push(note);
            return reading;
        }
    };
    reading.model = json::str_at(&map, "model_weights").unwrap_or_default().to_owned();
    reading.detail("Version", json::str_at(&map, "app_version").unwrap_or_default());
    let Some(image) = map.get("image").and_then(Value::as_object) else {
        reading
            .notes
            .push("The InvokeAI sd-metadata has no image object.".to_owned());
        return reading;
    };
    match weighted_prompt(image.get("prompt")) {
        Some(prompt) => (reading.prompt, reading.negative_prompt) = split_negative(&prompt),
        None => reading
            .notes
            .push("The InvokeAI sd-metadata has no prompt text.".to_owned()),
    }
    read_seed(image, "The InvokeAI seed", &mut reading);
    reading.size = json::size(image.get("width"), image.get("height"));
    json::labelled_details(image, &SD_METADATA_DETAILS, &mut reading);
    reading
}

/// The prompt of `sd-metadata`: a text, or weighted parts `[{"prompt", "weight"}]`
/// (one part: its text; several: `text:weight` each, space-separated).
fn weighted_prompt(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(prompt) => Some(prompt.clone()),
        Value::Array(parts) => {
            let parts: Vec<(&str, Option<&Value>)> = parts
                .iter()
                .filter_map(|part| Some((part.get("prompt")?.as_str()?, part.get("weight"))))
                .collect();
            match parts.as_slice() {
                [] => None,
                [(prompt, _)] => Some((*prompt).to_owned()),
                many => Some(
                    many.iter()
                        .map(|(prompt, weight)| match weight {
                            Some(weight) => format!("{prompt}:{}", json::shown(weight)),
                            None => (*prompt).to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            }
        }
        _ => None,
    }
}

/// Reads the `seed` of `map` into `reading`, or a note naming `what`.
fn read_seed(map: &Map<String, Value>, what: &str, reading: &mut ToolReading) {
    if let Some(seed) = map.get("seed") {
        match json::seed(seed, what) {
            Ok(seed) => reading.seed = Some(seed),
            Err(note) => reading.notes.push(note),
        }
    }
}

/// Reads a `Dream` command line: the prompt in double quotes (`\"` inside it is a
/// quote), then switches.
fn read_dream(text: &str) -> ToolReading {
    let mut reading = ToolReading::of(SourceTool::InvokeAi);
    let text = text.trim();
    let (prompt, switches) = match text.strip_prefix('"') {
        Some(quoted) => match closing_quote(quoted) {
            Some(split) => split,
            None => {
                reading
                    .notes
                    .push("The InvokeAI Dream text has no closing quote after its prompt.".to_owned());
                return reading;
            }
        },
        // Unquoted: everything before the first switch.
        None => {
            let end = text.find(" -").unwrap_or(text.len());
            (text[..end].to_owned(), &text[end..])
        }
    };
    (reading.prompt, reading.negative_prompt) = split_negative(&prompt);
    let (mut width, mut height) = (None, None);
    for (switch, value) in dream_switches(switches) {
        match switch {
            "-S" => match value.parse::<u64>() {
                Ok(seed) => reading.seed = Some(seed),
                Err(_) => reading
                    .notes
                    .push(format!("The InvokeAI Dream seed “{value}” is not a whole number.")),
            },
            "-W" => width = Some(Value::from(value)),
            "-H" => height = Some(Value::from(value)),
            _ => {
                let label = DREAM_SWITCHES
                    .iter()
                    .find(|(known, _)| *known == switch)
                    .map_or(switch, |(_, label)| *label);
                reading.detail(label, value);
            }
        }
    }
    reading.size = json::size(width.as_ref(), height.as_ref());
    if reading.prompt.is_empty() {
        reading.notes.push("The InvokeAI Dream text has no prompt.".to_owned());
    }
    reading
}

/// The quoted text (escapes resolved) and what follows its closing quote.
fn closing_quote(quoted: &str) -> Option<(String, &str)> {
    let mut prompt = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => prompt.push(chars.next().map_or('\\', |(_, escaped)| escaped)),
            '"' => return Some((prompt, &quoted[index + 1..])),
            _ => prompt.push(c),
        }
    }
    None
}

/// The `-X value` switches of a Dream line (also `-Xvalue`); a switch followed by
/// another switch has an empty value.
fn dream_switches(text: &str) -> Vec<(&str, &str)> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let is_switch = |token: &str| token.starts_with('-') && token.chars().nth(1).is_some_and(char::is_alphabetic);
    let mut switches = Vec::new();
    let mut index = 0;
    while let Some(token) = tokens.get(index) {
        index += 1;
        if !is_switch(token) {
            continue;
        }
        // A one-letter switch may carry its value: "-s50".
        let split = token.char_indices().nth(2).map_or(token.len(), |(at, _)| at);
        let (switch, attached) = token.split_at(split);
        if !attached.is_empty() && !token.starts_with("--") {
            switches.push((switch, attached));
        } else if let Some(value) = tokens.get(index).filter(|next| !is_switch(next)) {
            switches.push((*token, *value));
            index += 1;
        } else {
            switches.push((*token, ""));
        }
    }
    switches
}

/// Splits InvokeAI's `prompt [negative words]` into the prompt and the negative prompt:
/// every `[…]` (up to the first `]`) is negative, like InvokeAI's own `\[(.*?)\]`; an
/// unmatched `[` stays in the prompt.
fn split_negative(text: &str) -> (String, String) {
    let mut positive = String::new();
    let mut negatives = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        positive.push_str(&rest[..open]);
        negatives.push(rest[open + 1..open + close].trim());
        rest = &rest[open + close + 1..];
    }
    positive.push_str(rest);
    let positive = positive
        .lines()
        .map(|line| {
            line.split(' ')
                .filter(|word| !word.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    negatives.retain(|negative| !negative.is_empty());
    (positive.trim().to_owned(), negatives.join(", "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read_tool_metadata;
    use super::super::test_files::png_with_texts;
    use super::*;

    fn detail<'a>(reading: &'a ToolReading, label: &str) -> Option<&'a str> {
        reading
            .details
            .iter()
            .find(|(key, _)| key == label)
            .map(|(_, value)| value.as_str())
    }

    /// `invokeai_metadata` as InvokeAI 4 writes it (with the graph beside it).
    const INVOKE_4: &str = r#"{"generation_mode": "sdxl_txt2img", "positive_prompt": "a lighthouse at dusk",
        "negative_prompt": "fog", "width": 1024, "height": 768, "seed": 1125899906842624, "rand_device": "cpu",
        "cfg_scale": 6.5, "cfg_rescale_multiplier": 0, "steps": 30, "scheduler": "dpmpp_2m_k",
        "model": {"key": "a1b2", "hash": "blake3:ff", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
        "loras": [{"model": {"key": "c3", "name": "add-detail", "base": "sdxl", "type": "lora"}, "weight": 0.75}],
        "app_version": "4.2.9"}"#;

    #[test]
    fn invokeai_metadata_reads() {
        let png = png_with_texts(&[("invokeai_metadata", INVOKE_4), ("invokeai_graph", "{}")]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::InvokeAi));
        assert_eq!(
            (reading.prompt.as_str(), reading.negative_prompt.as_str()),
            ("a lighthouse at dusk", "fog")
        );
        assert_eq!(reading.seed, Some(1_125_899_906_842_624));
        assert_eq!(
            (reading.model.as_str(), reading.size.as_str()),
            ("Juggernaut XL v9", "1024*768")
        );
        assert_eq!(detail(&reading, "Steps"), Some("30"));
        assert_eq!(detail(&reading, "CFG scale"), Some("6.5"));
        assert_eq!(detail(&reading, "Scheduler"), Some("dpmpp_2m_k"));
        assert_eq!(detail(&reading, "LoRA"), Some("add-detail (0.75)"));
        assert_eq!(detail(&reading, "Version"), Some("4.2.9"));
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
        // InvokeAI 3 names the model `model_name`.
        let v3 = INVOKE_4.replace("\"name\": \"Juggernaut XL v9\"", "\"model_name\": \"sd-1.5\"");
        assert_eq!(read_metadata(&v3).model, "sd-1.5");
    }

    /// `sd-metadata` and `Dream` as InvokeAI 2.2 writes them, side by side.
    const SD_METADATA: &str = r#"{"model": "stable diffusion", "model_id": "stable-diffusion-1.5",
        "model_hash": "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516",
        "app_id": "invoke-ai/InvokeAI", "app_version": "2.2.4", "model_weights": "stable-diffusion-1.5",
        "image": {"prompt": [{"prompt": "a tabby cat [blurry, lowres]", "weight": 1.0}], "steps": 50,
        "cfg_scale": 7.5, "threshold": 0, "perlin": 0, "height": 512, "width": 512, "seed": 4242,
        "seamless": false, "hires_fix": false, "type": "txt2img", "postprocessing": null,
        "sampler": "k_lms", "variations": []}}"#;

    const DREAM: &str = r#""a tabby cat [blurry, lowres]" -s 50 -S 4242 -W 512 -H 512 -C 7.5 -A k_lms"#;

    #[test]
    fn sd_metadata_reads_with_the_negative_in_brackets() {
        let png = png_with_texts(&[("Dream", DREAM), ("sd-metadata", SD_METADATA)]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::InvokeAi));
        assert_eq!(
            (reading.prompt.as_str(), reading.negative_prompt.as_str()),
            ("a tabby cat", "blurry, lowres")
        );
        assert_eq!(reading.seed, Some(4242));
        assert_eq!(
            (reading.model.as_str(), reading.size.as_str()),
            ("stable-diffusion-1.5", "512*512")
        );
        assert_eq!(detail(&reading, "Sampler"), Some("k_lms"));
        assert_eq!(detail(&reading, "Version"), Some("2.2.4"));
        let weighted = SD_METADATA.replace(
            r#"[{"prompt": "a tabby cat [blurry, lowres]", "weight": 1.0}]"#,
            r#"[{"prompt": "a cat", "weight": 0.7}, {"prompt": "a dog", "weight": 0.3}]"#,
        );
        assert_eq!(read_sd_metadata(&weighted).prompt, "a cat:0.7 a dog:0.3");
    }

    #[test]
    fn a_dream_string_reads() {
        let reading = read_tool_metadata(&png_with_texts(&[("Dream", DREAM)]));
        assert_eq!(reading.tool, Some(SourceTool::InvokeAi));
        assert_eq!(
            (reading.prompt.as_str(), reading.negative_prompt.as_str()),
            ("a tabby cat", "blurry, lowres")
        );
        assert_eq!((reading.seed, reading.size.as_str()), (Some(4242), "512*512"));
        assert_eq!(detail(&reading, "Steps"), Some("50"));
        assert_eq!(detail(&reading, "CFG scale"), Some("7.5"));
        assert_eq!(detail(&reading, "Sampler"), Some("k_lms"));
        let attached = read_dream(r#""say \"hi\"" -s50 -S7 -F"#);
        assert_eq!((attached.prompt.as_str(), attached.seed), ("say \"hi\"", Some(7)));
        assert_eq!(detail(&attached, "Steps"), Some("50"));
    }

    #[test]
    fn malformed_invokeai_data_gives_notes_and_no_prompt() {
        let unclosed = read_tool_metadata(&png_with_texts(&[("Dream", "\"a cat [ugly] -s 50 -S 42")]));
        assert_eq!(unclosed.tool, Some(SourceTool::InvokeAi));
        assert!(unclosed.prompt.is_empty());
        assert_eq!(
            unclosed.notes,
            ["The InvokeAI Dream text has no closing quote after its prompt."]
        );
        let truncated = read_tool_metadata(&png_with_texts(&[("invokeai_metadata", &INVOKE_4[..80])]));
        assert!(truncated.prompt.is_empty());
        assert!(truncated.notes[0].contains("not valid JSON"), "{:?}", truncated.notes);
        // A broken newer shape gives way to an older one, and its note stays.
        let both = read_tool_metadata(&png_with_texts(&[("invokeai_metadata", "{"), ("Dream", DREAM)]));
        assert_eq!(both.prompt, "a tabby cat");
        assert_eq!(both.notes.len(), 1);
        let bad_seed = read_metadata(r#"{"positive_prompt": "p", "seed": "many"}"#);
        assert_eq!((bad_seed.prompt.as_str(), bad_seed.seed), ("p", None));
        assert!(bad_seed.notes[0].contains("The InvokeAI seed"));
        assert!(read_sd_metadata("{\"image\": {\"prompt\": 5}}").notes[0].contains("no prompt"));
        assert!(read_dream("\"\" -S x").notes.len() == 2);
    }

    #[test]
    fn negative_words_in_brackets_split_like_invokeai() {
        assert_eq!(
            split_negative("a cat [ugly] on a mat [blurry]"),
            ("a cat on a mat".to_owned(), "ugly, blurry".to_owned())
        );
        assert_eq!(
            split_negative("unclosed [bracket"),
            ("unclosed [bracket".to_owned(), String::new())
        );
        assert_eq!(
            split_negative("[only negative]"),
            (String::new(), "only negative".to_owned())
        );
        assert_eq!(split_negative("a ] b [c]"), ("a ] b".to_owned(), "c".to_owned()));
    }
}
