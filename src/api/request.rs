//! The request model: what the user asks for ([`GenerationParams`]), validated once into
//! a [`GenerationRequest`] that serializes exactly as the wire contract says.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Longest prompt the qwen-image family accepts, in Unicode scalar values.
pub const QWEN_PROMPT_LIMIT: usize = 800;
/// Longest prompt Wan text-to-image models accept, in Unicode scalar values.
pub const WAN_PROMPT_LIMIT: usize = 800;
/// Longest negative prompt, in Unicode scalar values.
pub const NEGATIVE_PROMPT_LIMIT: usize = 500;
/// Largest seed the services accept.
pub const MAX_SEED: u32 = 2_147_483_647;
/// Smallest side of a Wan image, in pixels.
pub const WAN_MIN_SIDE: u32 = 512;
/// Largest side of a Wan image, in pixels.
pub const WAN_MAX_SIDE: u32 = 1440;

/// The models offered in the model picker; any other name is accepted too.
pub const MODEL_CATALOGUE: [&str; 6] = [
    "qwen-image-plus",
    "qwen-image",
    "qwen-image-max",
    "wan2.2-t2i-flash",
    "wan2.2-t2i-plus",
    "wanx2.1-t2i-turbo",
];

/// The default model.
pub const DEFAULT_MODEL: &str = "qwen-image-plus";

/// Which body layout and which size rules a model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFamily {
    /// `qwen-image*` and any unknown model: messages body, five fixed sizes, `n` = 1.
    QwenImage,
    /// Wan text-to-image (`wan2.*-t2i-*`, `wanx*-t2i-*`): prompt body, free sizes 512–1440.
    Wan,
}

impl ModelFamily {
    /// The family of a model name. Unknown names use the qwen-image body.
    pub fn of(model: &str) -> Self {
        let model = model.trim().to_ascii_lowercase();
        let wan = (model.starts_with("wan2.") || model.starts_with("wanx")) && model.contains("-t2i-");
        if wan { Self::Wan } else { Self::QwenImage }
    }

    /// Longest prompt for this family, in Unicode scalar values.
    pub fn prompt_limit(self) -> usize {
        match self {
            Self::QwenImage => QWEN_PROMPT_LIMIT,
            Self::Wan => WAN_PROMPT_LIMIT,
        }
    }

    /// The sizes offered as aspect chips, with their aspect label.
    pub fn preset_sizes(self) -> &'static [(&'static str, Size)] {
        match self {
            Self::QwenImage => &QWEN_SIZES,
            Self::Wan => &WAN_SIZES,
        }
    }

    /// The size used when the user picked none.
    pub fn default_size(self) -> Size {
        match self {
            Self::QwenImage => Size::new(1664, 928),
            Self::Wan => Size::new(1024, 1024),
        }
    }
}

/// The five current qwen-image sizes with their aspect ratio.
pub const QWEN_SIZES: [(&str, Size); 5] = [
    ("16:9", Size::new(1664, 928)),
    ("4:3", Size::new(1472, 1104)),
    ("1:1", Size::new(1328, 1328)),
    ("3:4", Size::new(1104, 1472)),
    ("9:16", Size::new(928, 1664)),
];

/// Suggested Wan sizes (any W×H within 512–1440 is allowed).
pub const WAN_SIZES: [(&str, Size); 5] = [
    ("16:9", Size::new(1440, 810)),
    ("4:3", Size::new(1280, 960)),
    ("1:1", Size::new(1024, 1024)),
    ("3:4", Size::new(960, 1280)),
    ("9:16", Size::new(810, 1440)),
];

/// An image size in pixels, written `W*H` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Size {
    /// A size of `width` × `height` pixels.
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Parses `1328*1328`, `1328x1328`, `1328X1328` or `1328×1328` (spaces allowed).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "“{text}” is not a size; write it as width*height, for example 1328*1328"
            ))
        };
        let (w, h) = text.trim().split_once(['*', 'x', 'X', '×']).ok_or_else(bad)?;
        let width = w.trim().parse::<u32>().map_err(|_| bad())?;
        let height = h.trim().parse::<u32>().map_err(|_| bad())?;
        Ok(Self::new(width, height))
    }

    /// The wire form, `W*H`.
    pub fn wire(self) -> String {
        format!("{}*{}", self.width, self.height)
    }

    /// Checks the size against the family's rules, mapping legacy qwen-image sizes to current ones.
    pub fn validated_for(self, family: ModelFamily) -> Result<Self> {
        match family {
            ModelFamily::QwenImage => {
                let mapped = match (self.width, self.height) {
                    (1472, 1140) => Self::new(1472, 1104),
                    (1140, 1472) => Self::new(1104, 1472),
                    _ => self,
                };
                if QWEN_SIZES.iter().any(|(_, s)| *s == mapped) {
                    Ok(mapped)
                } else {
                    let allowed: Vec<String> = QWEN_SIZES.iter().map(|(_, s)| s.wire()).collect();
                    Err(Error::invalid(format!(
                        "size {} is not offered by qwen-image; choose one of {}",
                        self.wire(),
                        allowed.join(", ")
                    )))
                }
            }
            ModelFamily::Wan => {
                let side_ok = |v: u32| (WAN_MIN_SIDE..=WAN_MAX_SIDE).contains(&v);
                if side_ok(self.width) && side_ok(self.height) {
                    Ok(self)
                } else {
                    Err(Error::invalid(format!(
                        "size {} is outside what Wan models accept: each side {WAN_MIN_SIDE}–{WAN_MAX_SIDE} px",
                        self.wire()
                    )))
                }
            }
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}", self.width, self.height)
    }
}

/// What the user asked for, before validation: the compose form and the command line fill this.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationParams {
    /// Model name; any string is accepted.
    pub model: String,
    /// The prompt.
    pub prompt: String,
    /// What to avoid; empty means none.
    pub negative_prompt: String,
    /// Requested size.
    pub size: Size,
    /// Fixed seed, or `None` for a random one chosen by the service.
    pub seed: Option<u32>,
    /// Let the service rewrite the prompt (adds a few seconds).
    pub prompt_extend: bool,
    /// Ask the service to add its watermark.
    pub watermark: bool,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.to_owned(),
            prompt: String::new(),
            negative_prompt: String::new(),
            size: ModelFamily::QwenImage.default_size(),
            seed: None,
            prompt_extend: true,
            watermark: false,
        }
    }
}

/// Counts characters the way the service does: Unicode scalar values (a CJK character is 1).
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// A request that passed validation; it serializes exactly as the wire contract says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerationRequest {
    /// The validated parameters (size already mapped, text trimmed).
    pub params: GenerationParams,
}

impl TryFrom<&GenerationParams> for GenerationRequest {
    type Error = Error;

    fn try_from(params: &GenerationParams) -> Result<Self> {
        let model = params.model.trim();
        if model.is_empty() {
            return Err(Error::invalid("choose a model"));
        }
        let family = ModelFamily::of(model);
        let prompt = params.prompt.trim();
        if prompt.is_empty() {
            return Err(Error::invalid("the prompt is empty"));
        }
        let length = char_count(prompt);
        let limit = family.prompt_limit();
        if length > limit {
            return Err(Error::invalid(format!(
                "the prompt has {length} characters; {model} accepts at most {limit} and would silently cut the rest"
            )));
        }
        let negative = params.negative_prompt.trim();
        let negative_length = char_count(negative);
        if negative_length > NEGATIVE_PROMPT_LIMIT {
            return Err(Error::invalid(format!(
                "the negative prompt has {negative_length} characters; at most {NEGATIVE_PROMPT_LIMIT} are accepted"
            )));
        }
        if let Some(seed) = params.seed
            && seed > MAX_SEED
        {
            return Err(Error::invalid(format!("seed {seed} is outside 0..={MAX_SEED}")));
        }
        let size = params.size.validated_for(family)?;
        Ok(Self {
            params: GenerationParams {
                model: model.to_owned(),
                prompt: prompt.to_owned(),
                negative_prompt: negative.to_owned(),
                size,
                seed: params.seed,
                prompt_extend: params.prompt_extend,
                watermark: params.watermark,
            },
        })
    }
}

impl GenerationRequest {
    /// The model's family.
    pub fn family(&self) -> ModelFamily {
        ModelFamily::of(&self.params.model)
    }

    /// The same request with another seed (used for `--count N --seed S`: S, S+1, …).
    #[must_use]
    pub fn with_seed(&self, seed: Option<u32>) -> Self {
        let mut next = self.clone();
        next.params.seed = seed;
        next
    }

    /// The JSON body for one image (`n` = 1), per the wire contract.
    pub fn body(&self) -> Value {
        let p = &self.params;
        let mut parameters = serde_json::Map::new();
        if !p.negative_prompt.is_empty() && self.family() == ModelFamily::QwenImage {
            parameters.insert("negative_prompt".into(), json!(p.negative_prompt));
        }
        parameters.insert("prompt_extend".into(), json!(p.prompt_extend));
        parameters.insert("watermark".into(), json!(p.watermark));
        parameters.insert("size".into(), json!(p.size.wire()));
        parameters.insert("n".into(), json!(1));
        if let Some(seed) = p.seed {
            parameters.insert("seed".into(), json!(seed));
        }
        let input = match self.family() {
            ModelFamily::QwenImage => json!({
                "messages": [{"role": "user", "content": [{"text": p.prompt}]}]
            }),
            ModelFamily::Wan => {
                let mut input = serde_json::Map::new();
                input.insert("prompt".into(), json!(p.prompt));
                if !p.negative_prompt.is_empty() {
                    input.insert("negative_prompt".into(), json!(p.negative_prompt));
                }
                Value::Object(input)
            }
        };
        json!({"model": p.model, "input": input, "parameters": parameters})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn params(prompt: &str) -> GenerationParams {
        GenerationParams {
            prompt: prompt.into(),
            ..GenerationParams::default()
        }
    }

    #[test]
    fn qwen_body_matches_the_contract() {
        let mut p = params("A traditional Chinese painting of mountains and rivers");
        p.negative_prompt = "blurry".into();
        p.size = Size::new(1328, 1328);
        p.seed = Some(42);
        let request = GenerationRequest::try_from(&p).unwrap();
        let expected = json!({"model": "qwen-image-plus",
            "input": {"messages": [{"role": "user", "content": [{"text": "A traditional Chinese painting of mountains and rivers"}]}]},
            "parameters": {"negative_prompt": "blurry", "prompt_extend": true, "watermark": false,
                           "size": "1328*1328", "n": 1, "seed": 42}});
        assert_eq!(request.body(), expected);
    }

    #[test]
    fn empty_negative_and_unset_seed_are_omitted() {
        let request = GenerationRequest::try_from(&params("cat")).unwrap();
        let body = request.body();
        assert!(body["parameters"].get("negative_prompt").is_none());
        assert!(body["parameters"].get("seed").is_none());
        assert_eq!(body["parameters"]["size"], "1664*928");
        assert_eq!(body["parameters"]["n"], 1);
    }

    #[test]
    fn wan_body_uses_prompt_and_always_sends_n() {
        let mut p = params("a fox");
        p.model = "wan2.2-t2i-flash".into();
        p.negative_prompt = "text".into();
        p.size = Size::new(1024, 768);
        let body = GenerationRequest::try_from(&p).unwrap().body();
        assert_eq!(body["input"], json!({"prompt": "a fox", "negative_prompt": "text"}));
        assert_eq!(body["parameters"]["n"], 1);
        assert!(body["parameters"].get("negative_prompt").is_none());
        assert_eq!(ModelFamily::of("wanx2.1-t2i-turbo"), ModelFamily::Wan);
        assert_eq!(ModelFamily::of("my-custom-model"), ModelFamily::QwenImage);
    }

    #[test]
    fn prompt_limit_counts_scalar_values() {
        let ok = "山".repeat(800);
        assert!(GenerationRequest::try_from(&params(&ok)).is_ok());
        let err = GenerationRequest::try_from(&params(&"山".repeat(801))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert!(
            err.message.contains("801") && err.message.contains("800"),
            "{}",
            err.message
        );
    }

    #[test]
    fn validation_names_each_problem() {
        assert!(
            GenerationRequest::try_from(&params("  "))
                .unwrap_err()
                .message
                .contains("empty")
        );
        let mut p = params("x");
        p.negative_prompt = "n".repeat(501);
        assert!(GenerationRequest::try_from(&p).unwrap_err().message.contains("501"));
        let mut p = params("x");
        p.seed = Some(MAX_SEED + 1);
        assert!(GenerationRequest::try_from(&p).unwrap_err().message.contains("seed"));
        let mut p = params("x");
        p.size = Size::new(1024, 1024);
        assert!(
            GenerationRequest::try_from(&p)
                .unwrap_err()
                .message
                .contains("1328*1328")
        );
        let mut p = params("x");
        p.model = "wan2.2-t2i-plus".into();
        p.size = Size::new(2000, 1000);
        assert!(GenerationRequest::try_from(&p).unwrap_err().message.contains("512"));
    }

    #[test]
    fn sizes_parse_every_separator_and_map_legacy_values() {
        for text in ["1472*1140", "1472x1140", "1472 × 1140", "1472X1140"] {
            let size = Size::parse(text).unwrap();
            assert_eq!(
                size.validated_for(ModelFamily::QwenImage).unwrap(),
                Size::new(1472, 1104)
            );
        }
        assert_eq!(
            Size::parse("1140*1472")
                .unwrap()
                .validated_for(ModelFamily::QwenImage)
                .unwrap(),
            Size::new(1104, 1472)
        );
        assert!(Size::parse("big").is_err());
        assert!(Size::parse("10*").is_err());
    }
}
