//! The AUTOMATIC1111 "parameters" text that other image tools read and write:
//!
//! ```text
//! <prompt, possibly several lines>
//! Negative prompt: <negative prompt, possibly several lines>
//! Steps: 20, Sampler: Euler a, Seed: 42, Size: 1328x1328, Model: qwen-image-plus
//! ```

use crate::api::request::Size;
use crate::metadata::ImageMeta;

/// Starts the negative prompt section.
const NEGATIVE_PREFIX: &str = "Negative prompt:";

/// Keys that mark a last line as the parameter line even when it has few pairs.
const KNOWN_KEYS: [&str; 7] = ["Steps", "Sampler", "CFG scale", "Seed", "Size", "Model", "Model hash"];

/// Provider recorded for metadata parsed from another tool's text.
const IMPORT_PROVIDER: &str = "import";

/// A1111-style text for `meta`: the prompt, a `Negative prompt:` line when there is one,
/// then `Seed: …, Size: WxH, Model: …` (each pair only when known).
///
/// What [`parse_a1111`] made reads back the same: for any text `t`,
/// `parse_a1111(&to_a1111(&parse_a1111(t))) == parse_a1111(t)`. For that, a later line of
/// the negative prompt that starts with `Negative prompt:` gets that marker once more (the
/// parser strips one from every such line, as A1111 does), and when no pair is written but
/// the last line would read as a parameter line, an empty `Negative prompt:` line follows
/// it. The format has no escapes, so a prompt typed with a line that starts with
/// `Negative prompt:` cannot come back as it was: that line and the rest become the
/// negative prompt.
pub fn to_a1111(meta: &ImageMeta) -> String {
    let mut text = meta.prompt.clone();
    if !meta.negative_prompt.is_empty() {
        for (index, line) in meta.negative_prompt.split('\n').enumerate() {
            if index == 0 || line.starts_with(NEGATIVE_PREFIX) {
                text.push('\n');
                text.push_str(NEGATIVE_PREFIX);
                text.push(' ');
            } else {
                text.push('\n');
            }
            text.push_str(line);
        }
    }
    let mut pairs = Vec::new();
    if let Some(seed) = meta.seed {
        pairs.push(format!("Seed: {seed}"));
    }
    if !meta.size.is_empty() {
        let size = Size::parse(&meta.size)
            .map_or_else(|_| meta.size.clone(), |size| format!("{}x{}", size.width, size.height));
        pairs.push(format!("Size: {}", quote_if_needed(&size)));
    }
    if !meta.model.is_empty() {
        pairs.push(format!("Model: {}", quote_if_needed(&meta.model)));
    }
    if !pairs.is_empty() {
        text.push('\n');
        text.push_str(&pairs.join(", "));
    } else if lines_of(&text)
        .last()
        .is_some_and(|line| parameter_line(line).is_some())
    {
        // The parser would take that line for the parameters: an empty negative prompt
        // line after it keeps it where it was (its own empty line is trimmed away).
        text.push('\n');
        text.push_str(NEGATIVE_PREFIX);
    }
    text
}

/// The lines of `text` as [`parse_a1111`] reads them: the whole text trimmed, split at
/// `\n`, each line without its trailing `\r`s.
fn lines_of(text: &str) -> Vec<&str> {
    text.trim()
        .split('\n')
        .map(|line| line.trim_end_matches('\r'))
        .collect()
}

/// Wraps `value` in double quotes (escaping `"` and `\`) when it would break the pair list.
fn quote_if_needed(value: &str) -> String {
    if value.contains([',', '"', '\n']) || value.trim() != value {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " ");
        format!("\"{escaped}\"")
    } else {
        value.to_owned()
    }
}

/// Parses A1111-style text leniently: the prompt (any number of lines), the negative
/// prompt after `Negative prompt:` (any number of lines; like A1111, every line that
/// starts with `Negative prompt:` loses that marker once), and from a final
/// `Key: value, …` line the `Seed`, `Size` (`WxH`, stored as `W*H`) and `Model`.
/// The provider is `import`. Never panics; text it cannot make sense of becomes the prompt.
pub fn parse_a1111(text: &str) -> ImageMeta {
    let mut lines = lines_of(text);
    let pairs = match lines.last().and_then(|line| parameter_line(line)) {
        Some(pairs) => {
            lines.pop();
            pairs
        }
        None => Vec::new(),
    };
    let mut meta = ImageMeta {
        provider: IMPORT_PROVIDER.to_owned(),
        ..ImageMeta::default()
    };
    let mut prompt_lines = Vec::new();
    let mut negative_lines = Vec::new();
    for line in lines {
        if let Some(negative) = line.strip_prefix(NEGATIVE_PREFIX) {
            negative_lines.push(negative.trim_start());
        } else if negative_lines.is_empty() {
            prompt_lines.push(line);
        } else {
            negative_lines.push(line);
        }
    }
    meta.prompt = prompt_lines.join("\n").trim().to_owned();
    meta.negative_prompt = negative_lines.join("\n").trim().to_owned();
    for (key, value) in pairs {
        apply_pair(&mut meta, &key, &value);
    }
    meta
}

/// Whether `text` is A1111 parameters rather than any other comment: it has a
/// `Negative prompt:` line or ends with a parameter line (`Seed: …, Size: …`).
pub(crate) fn looks_like_a1111(text: &str) -> bool {
    let text = text.trim();
    text.lines().any(|line| line.starts_with(NEGATIVE_PREFIX))
        || text.lines().next_back().and_then(parameter_line).is_some()
}

/// Stores one `Key: value` pair that Pictor understands; others are ignored.
fn apply_pair(meta: &mut ImageMeta, key: &str, value: &str) {
    match key {
        "Seed" => meta.seed = value.trim().parse::<u32>().ok(),
        "Size" => {
            if let Ok(size) = Size::parse(value) {
                meta.size = format!("{}*{}", size.width, size.height);
            }
        }
        "Model" => meta.model = value.trim().to_owned(),
        _ => {}
    }
}

/// The pairs of `line` when it is a parameter line: it must split completely into
/// `Key: value` pairs, with at least three pairs or one well-known key.
pub(crate) fn parameter_line(line: &str) -> Option<Vec<(String, String)>> {
    let pairs = split_pairs(line)?;
    let known = pairs.iter().any(|(key, _)| KNOWN_KEYS.contains(&key.as_str()));
    (pairs.len() >= 3 || known).then_some(pairs)
}

/// Splits `Key: value, Key: "quoted, value", …` into pairs, or `None` when any part is
/// not such a pair.
fn split_pairs(line: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let (key, after_key) = rest.split_once(':')?;
        let key = key.trim();
        if !is_key(key) {
            return None;
        }
        let after_key = after_key.trim_start();
        let (value, tail) = if let Some(quoted) = after_key.strip_prefix('"') {
            read_quoted(quoted)?
        } else {
            let end = after_key.find(',').unwrap_or(after_key.len());
            let (value, tail) = after_key.split_at(end);
            (value.trim().to_owned(), tail)
        };
        pairs.push((key.to_owned(), value));
        let tail = tail.trim_start();
        rest = match tail.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if tail.is_empty() => tail,
            None => return None,
        };
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// Whether `key` looks like an A1111 parameter name (`CFG scale`, `Model hash`, `Lora hashes`).
fn is_key(key: &str) -> bool {
    key.chars().next().is_some_and(char::is_alphabetic)
        && key.len() <= 40
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '/' | '.'))
}

/// Reads a quoted value (the opening quote already consumed) with `\` escapes; returns
/// the value and what follows the closing quote.
fn read_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, text.get(index + 1..)?)),
            _ => value.push(c),
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const A1111_SAMPLE: &str = "masterpiece, a castle on a hill,\nsunset, dramatic clouds\n\
Negative prompt: blurry, lowres,\nbad hands\n\
Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 12345, Size: 512x768, Model hash: abc123, Model: sd15, Lora hashes: \"detail: 1a2b, style: 3c4d\"";

    #[test]
    fn parses_a_real_a1111_sample() {
        let meta = parse_a1111(A1111_SAMPLE);
        assert_eq!(meta.prompt, "masterpiece, a castle on a hill,\nsunset, dramatic clouds");
        assert_eq!(meta.negative_prompt, "blurry, lowres,\nbad hands");
        assert_eq!(meta.seed, Some(12345));
        assert_eq!(meta.size, "512*768");
        assert_eq!(meta.model, "sd15");
        assert_eq!(meta.provider, "import");
    }

    #[test]
    fn parses_windows_line_endings() {
        let meta = parse_a1111("a cat\r\nNegative prompt: dog\r\nSteps: 4, Seed: 9, Size: 64x32");
        assert_eq!((meta.prompt.as_str(), meta.negative_prompt.as_str()), ("a cat", "dog"));
        assert_eq!((meta.seed, meta.size.as_str()), (Some(9), "64*32"));
    }

    #[test]
    fn text_without_parameter_line_is_all_prompt() {
        let meta = parse_a1111("just a prompt\nStyle: cinematic");
        assert_eq!(meta.prompt, "just a prompt\nStyle: cinematic");
        assert_eq!(meta.seed, None);
        assert!(meta.model.is_empty());
    }

    #[test]
    fn writes_the_a1111_layout() {
        let meta = ImageMeta {
            prompt: "一幅传统的中国山水画".to_owned(),
            negative_prompt: "模糊".to_owned(),
            model: "qwen-image-plus".to_owned(),
            size: "1328*1328".to_owned(),
            seed: Some(42),
            ..ImageMeta::default()
        };
        assert_eq!(
            to_a1111(&meta),
            "一幅传统的中国山水画\nNegative prompt: 模糊\nSeed: 42, Size: 1328x1328, Model: qwen-image-plus"
        );
        let without_extras = ImageMeta {
            negative_prompt: String::new(),
            seed: None,
            ..meta.clone()
        };
        assert_eq!(
            to_a1111(&without_extras),
            "一幅传统的中国山水画\nSize: 1328x1328, Model: qwen-image-plus"
        );
    }

    #[test]
    fn written_text_parses_back() {
        let meta = ImageMeta {
            prompt: "line one\nline two".to_owned(),
            negative_prompt: "no, thanks\nreally".to_owned(),
            model: "odd, \"model\"".to_owned(),
            size: "928*1664".to_owned(),
            seed: Some(u32::MAX),
            provider: "import".to_owned(),
            ..ImageMeta::default()
        };
        assert_eq!(parse_a1111(&to_a1111(&meta)), meta);
    }

    /// What the writer makes of parsed text parses back to the same metadata.
    fn assert_round_trip(text: &str) {
        let meta = parse_a1111(text);
        let written = to_a1111(&meta);
        assert_eq!(parse_a1111(&written), meta, "{text:?} was written as {written:?}");
    }

    #[test]
    fn parsed_text_round_trips_through_the_writer() {
        let nasty = [
            // Nothing written after a prompt whose last line reads as parameters.
            "a\nSeed: 1\nSteps: 2",
            "Seed: 5\nNegative prompt:",
            "p\nNegative prompt: x\nSeed: q\nSteps: 2",
            "p\nNegative prompt: a, b: c, d: e\nSteps: 1",
            // The marker inside the negative prompt.
            "Negative prompt: a\nNegative prompt:Negative prompt: z",
            "Negative prompt:\n  Negative prompt: z",
            "Negative prompt: Negative prompt: Negative prompt:",
            "a\nNegative prompt: b\nNegative prompt: \nNegative prompt: c\nSeed: 3",
            // Carriage returns, quotes, odd values.
            "a\r\r\nb\r\nNegative prompt: c\r\r",
            "Model: \"a, \\\"b\\\"\", Seed: +7, Size: 64 x 32",
            "x\nModel: \"  padded \", Seed: 1",
            "line\nSize: 9x9, Size: bad",
            "Negative prompt:\nSeed: x",
            "\u{3000}山水\u{3000}\nNegative prompt: 模糊\u{3000}\nSeed: 42, Model: qwen",
            A1111_SAMPLE,
        ];
        for text in nasty {
            assert_round_trip(text);
        }
    }

    #[test]
    fn random_token_soup_round_trips_through_the_writer() {
        const TOKENS: [&str; 22] = [
            "Negative prompt:",
            "Negative prompt: ",
            "Seed: 1",
            "Seed: x",
            "Steps: 2",
            "Size: 64x32",
            "Model: m",
            "Model: \"q, r\"",
            ", ",
            ": ",
            "\n",
            "\n",
            "\r",
            "\r\n",
            " ",
            "\"",
            "\\",
            "a",
            "b: c",
            "中",
            "\u{3000}",
            "CFG scale: 7",
        ];
        // A fixed xorshift sequence: the same texts on every run.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let length = next() % 14;
            let text: String = (0..length)
                .map(|_| TOKENS[usize::try_from(next() % TOKENS.len() as u64).unwrap()])
                .collect();
            assert_round_trip(&text);
        }
    }

    #[test]
    fn garbage_never_panics() {
        let long = "a".repeat(10_000);
        let inputs = [
            "",
            "\n\n\n",
            "Negative prompt:",
            "Negative prompt:\nSeed: x",
            "Seed: 99999999999999999999, Size: 9x, Model: \"unterminated",
            ":::, ,,, : ,",
            "Key: \"\\",
            "\u{0}\u{ffff}é中文\r",
            long.as_str(),
        ];
        for input in inputs {
            let meta = parse_a1111(input);
            assert_eq!(meta.provider, "import");
        }
        assert_eq!(parse_a1111("Seed: 99999999999999999999, Size: 9x, Model: m").seed, None);
    }
}
