//! The request model: what the user asks for ([`GenerationParams`]), validated once into
//! a [`GenerationRequest`] that serializes exactly as the wire contract says.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::catalogue::{BodyShape, Catalogue, CountRange, ModelSpec, Parameter, SizeRule};
use crate::error::{Error, Result};

/// Longest negative prompt of a model the catalogue does not know, in Unicode scalar values.
pub const NEGATIVE_PROMPT_LIMIT: usize = 500;
/// Longest prompt sent for a model the catalogue does not know (a sanity bound: such a
/// model has no local rule).
pub const UNKNOWN_MODEL_PROMPT_LIMIT: usize = 10_000;
/// Most images one request asks of a model the catalogue does not know: no local rule.
pub const UNKNOWN_MODEL_N_MAX: u32 = u32::MAX;
/// Most reference images sent to a model the catalogue does not know.
pub const UNKNOWN_MODEL_REFERENCES_MAX: u32 = 3;
/// Largest seed the services accept.
pub const MAX_SEED: u32 = 2_147_483_647;
/// The size sent to a model the catalogue does not know when none was chosen.
pub const FALLBACK_SIZE: Size = Size::new(1328, 1328);

/// The default model.
pub const DEFAULT_MODEL: &str = "qwen-image-plus";

/// How `count` images are asked of a model that makes at most `n_max` per request: as
/// few requests as possible, the first ones full (`7` at most `6` → `[6, 1]`).
pub fn split_count(count: u32, n_max: u32) -> Vec<u32> {
    let n_max = n_max.max(1);
    let mut left = count;
    let mut requests = Vec::new();
    while left > 0 {
        let n = left.min(n_max);
        requests.push(n);
        left -= n;
    }
    requests
}

/// How many reference images a request to `model` must and may carry.
pub fn references_range(model: &str) -> CountRange {
    spec_for(model).map_or(
        CountRange {
            min: 0,
            max: UNKNOWN_MODEL_REFERENCES_MAX,
        },
        |spec| spec.references,
    )
}

/// Most images one request may ask of `model`.
pub fn n_max(model: &str) -> u32 {
    spec_for(model).map_or(UNKNOWN_MODEL_N_MAX, |spec| spec.n.max)
}

/// The catalogue's entry for `model`, if it knows it.
pub fn spec_for(model: &str) -> Option<&'static ModelSpec> {
    Catalogue::get().spec_for(model)
}

/// Longest prompt `model` takes, in Unicode scalar values.
pub fn prompt_limit(model: &str) -> usize {
    spec_for(model).map_or(UNKNOWN_MODEL_PROMPT_LIMIT, |spec| spec.prompt_limit)
}

/// The size used for `model` when the user chose none.
pub fn default_size(model: &str) -> Size {
    spec_for(model)
        .and_then(ModelSpec::default_size)
        .unwrap_or(FALLBACK_SIZE)
}

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
    /// Images asked for in one request (`n`).
    pub n: u32,
    /// Library ids of the reference images, in the order the prompt calls them
    /// ("image 1 / 图1", …); empty for plain generation.
    pub references: Vec<String>,
    /// With references: send no size and let the service take the reference's (what
    /// the edit models do by default); `size` is then ignored.
    pub size_from_reference: bool,
    /// For a model the catalogue does not know: send no size, so the service uses its
    /// own default (the command line without `--size`); `size` is then ignored.
    pub leave_size_to_service: bool,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.to_owned(),
            prompt: String::new(),
            negative_prompt: String::new(),
            size: default_size(DEFAULT_MODEL),
            seed: None,
            prompt_extend: true,
            watermark: false,
            n: 1,
            references: Vec::new(),
            size_from_reference: false,
            leave_size_to_service: false,
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
    /// The reference images as `data:` URIs, in `params.references` order, attached
    /// right before sending ([`Self::with_reference_images`]); never persisted.
    #[serde(skip)]
    reference_images: Vec<String>,
    /// The run this request belongs to (variations, a prompt matrix): its images carry
    /// it as [`crate::metadata::ImageMeta::batch`]. Not sent to the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

impl TryFrom<&GenerationParams> for GenerationRequest {
    type Error = Error;

    /// Checks the parameters against the model's catalogue entry (or, for a model the
    /// catalogue does not know, only what every model needs).
    fn try_from(params: &GenerationParams) -> Result<Self> {
        let model = params.model.trim();
        if model.is_empty() {
            return Err(Error::invalid("choose a model"));
        }
        let spec = spec_for(model);
        let references = u32::try_from(params.references.len()).unwrap_or(u32::MAX);
        let allowed = references_range(model);
        if references < allowed.min || references > allowed.max {
            return Err(Error::invalid(match (spec, allowed.max) {
                (Some(_), 0) => format!("{model} takes no reference images; choose an edit model to edit"),
                _ => format!(
                    "{model} needs {} reference image(s); {references} were given",
                    references_text(allowed)
                ),
            }));
        }
        let prompt = params.prompt.trim();
        if prompt.is_empty() {
            return Err(Error::invalid("the prompt is empty"));
        }
        let length = char_count(prompt);
        let limit = prompt_limit(model);
        if length > limit {
            return Err(Error::invalid(format!(
                "the prompt has {length} characters; {model} accepts at most {limit} and would silently cut the rest"
            )));
        }
        let negative = params.negative_prompt.trim();
        let negative_length = char_count(negative);
        let negative_limit = spec.map_or(NEGATIVE_PROMPT_LIMIT, |spec| spec.negative_limit);
        if negative_length > negative_limit {
            return Err(Error::invalid(format!(
                "the negative prompt has {negative_length} characters; at most {negative_limit} are accepted"
            )));
        }
        if let Some(seed) = params.seed
            && seed > MAX_SEED
        {
            return Err(Error::invalid(format!("seed {seed} is outside 0..={MAX_SEED}")));
        }
        let n_max = spec.map_or(UNKNOWN_MODEL_N_MAX, |spec| spec.n.max);
        if !(1..=n_max).contains(&params.n) {
            return Err(Error::invalid(format!(
                "{model} makes 1–{n_max} images per request; {} were asked for",
                params.n
            )));
        }
        if params.size.width == 0 || params.size.height == 0 {
            return Err(Error::invalid(format!(
                "size {} has a side of 0 pixels",
                params.size.wire()
            )));
        }
        let size = match spec {
            Some(spec) if sends_size(params, Some(spec)) => spec.check_size(model, params.size)?,
            _ => params.size,
        };
        Ok(Self {
            params: GenerationParams {
                model: model.to_owned(),
                prompt: prompt.to_owned(),
                negative_prompt: negative.to_owned(),
                size,
                n: params.n,
                ..params.clone()
            },
            reference_images: Vec::new(),
            batch: None,
        })
    }
}

/// Whether a request with `params` to a model with `spec` carries a size.
fn sends_size(params: &GenerationParams, spec: Option<&ModelSpec>) -> bool {
    let from_references = !params.references.is_empty() && params.size_from_reference;
    match spec {
        Some(spec) => !from_references && spec.size != SizeRule::None,
        None => !from_references && !params.leave_size_to_service,
    }
}

/// "1–3", or "1" when the range is one number.
fn references_text(CountRange { min, max }: CountRange) -> String {
    if min == max {
        min.to_string()
    } else {
        format!("{min}–{max}")
    }
}

impl GenerationRequest {
    /// The model's catalogue entry, when the catalogue knows it.
    pub fn spec(&self) -> Option<&'static ModelSpec> {
        spec_for(&self.params.model)
    }

    /// Whether the body carries a size: not for a model that takes none, nor when the
    /// size is to come from the references.
    pub fn sends_size(&self) -> bool {
        sends_size(&self.params, self.spec())
    }

    /// Whether the reference images still have to be attached before sending.
    pub fn needs_reference_images(&self) -> bool {
        self.reference_images.len() != self.params.references.len()
    }

    /// The same request with its reference images attached as `data:` URIs, one per
    /// reference in order.
    #[must_use]
    pub fn with_reference_images(&self, data_uris: Vec<String>) -> Self {
        let mut next = self.clone();
        next.reference_images = data_uris;
        next
    }

    /// The message content: the reference images in order, then the one text item.
    fn content(&self) -> Vec<Value> {
        self.reference_images
            .iter()
            .map(|uri| json!({"image": uri}))
            .chain([json!({"text": self.params.prompt})])
            .collect()
    }

    /// The JSON body, per the wire contract: the family's body layout, and only the
    /// parameters the family takes.
    pub fn body(&self) -> Value {
        let p = &self.params;
        let spec = self.spec();
        let takes = |parameter: Parameter| spec.is_none_or(|spec| spec.takes(parameter));
        let shape = spec.map_or(BodyShape::Messages, |spec| spec.body);
        let mut parameters = serde_json::Map::new();
        if !p.negative_prompt.is_empty() && shape == BodyShape::Messages && takes(Parameter::NegativePrompt) {
            parameters.insert("negative_prompt".into(), json!(p.negative_prompt));
        }
        if takes(Parameter::PromptExtend) {
            parameters.insert("prompt_extend".into(), json!(p.prompt_extend));
        }
        if takes(Parameter::Watermark) {
            parameters.insert("watermark".into(), json!(p.watermark));
        }
        if self.sends_size() {
            parameters.insert("size".into(), json!(p.size.wire()));
        }
        parameters.insert("n".into(), json!(p.n));
        if let Some(seed) = p.seed
            && takes(Parameter::Seed)
        {
            parameters.insert("seed".into(), json!(seed));
        }
        let input = match shape {
            BodyShape::Messages => json!({
                "messages": [{"role": "user", "content": self.content()}]
            }),
            BodyShape::Prompt => {
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
    }

    #[test]
    fn a_model_the_catalogue_does_not_know_passes_with_the_messages_body_and_no_size_rule() {
        let mut p = params("a fox");
        p.model = "my-custom-model".into();
        p.size = Size::new(777, 333);
        p.n = 7;
        let body = GenerationRequest::try_from(&p).unwrap().body();
        assert_eq!(body["input"]["messages"][0]["content"][0]["text"], "a fox");
        assert_eq!(body["parameters"]["size"], "777*333");
        assert_eq!(body["parameters"]["n"], 7);
        // No size chosen: the service's default, not one of ours.
        p.leave_size_to_service = true;
        let request = GenerationRequest::try_from(&p).unwrap();
        assert!(request.body()["parameters"].get("size").is_none());
        assert!(!request.sends_size());
        // A model the catalogue knows always gets a size it accepts.
        p.model = "qwen-image-plus".into();
        p.size = Size::new(1328, 1328);
        p.n = 1;
        assert_eq!(
            GenerationRequest::try_from(&p).unwrap().body()["parameters"]["size"],
            "1328*1328"
        );
    }

    #[test]
    fn todays_models_take_their_sizes_and_n() {
        let mut p = params("雪山");
        p.model = "qwen-image-2.0-pro".into();
        p.size = Size::new(1024, 1536);
        p.n = 3;
        let body = GenerationRequest::try_from(&p).unwrap().body();
        assert_eq!(body["parameters"]["size"], "1024*1536");
        assert_eq!(body["parameters"]["n"], 3);
        p.n = 7;
        let err = GenerationRequest::try_from(&p).unwrap_err();
        assert!(err.message.contains("1–6"), "{}", err.message);
        let mut p = params("a city");
        p.model = "wan2.6-t2i".into();
        p.size = Size::new(1280, 1280);
        let body = GenerationRequest::try_from(&p).unwrap().body();
        assert_eq!(body["input"]["messages"][0]["content"][0]["text"], "a city");
        assert_eq!(body["parameters"]["n"], 1, "Wan always sends n");
        p.n = 4;
        assert!(GenerationRequest::try_from(&p).is_ok());
        p.n = 5;
        assert!(GenerationRequest::try_from(&p).is_err());
        let mut p = params("x");
        p.model = "qwen-image-plus".into();
        p.n = 2;
        assert!(GenerationRequest::try_from(&p).unwrap_err().message.contains("1–1"));
    }

    #[test]
    fn an_edit_model_without_references_is_refused_naming_its_range() {
        let mut p = params("把背景换成雪山");
        p.model = "qwen-image-edit-plus".into();
        let err = GenerationRequest::try_from(&p).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert!(
            err.message.contains("qwen-image-edit-plus") && err.message.contains("1–3"),
            "{}",
            err.message
        );
        p.model = "qwen-image-edit".into();
        let err = GenerationRequest::try_from(&p).unwrap_err();
        assert!(err.message.contains("needs 1 reference"), "{}", err.message);
    }

    #[test]
    fn a_count_becomes_as_few_requests_as_the_model_allows() {
        assert_eq!(split_count(3, 6), vec![3]);
        assert_eq!(split_count(7, 6), vec![6, 1]);
        assert_eq!(split_count(3, 1), vec![1, 1, 1]);
        assert_eq!(split_count(0, 4), Vec::<u32>::new());
        assert_eq!(split_count(2, 0), vec![1, 1]);
        assert_eq!(n_max("qwen-image-2.0-pro"), 6);
        assert_eq!(n_max("qwen-image-plus"), 1);
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
        let qwen = spec_for("qwen-image-plus").unwrap();
        for text in ["1472*1140", "1472x1140", "1472 × 1140", "1472X1140"] {
            let size = Size::parse(text).unwrap();
            assert_eq!(qwen.check_size("qwen-image-plus", size).unwrap(), Size::new(1472, 1104));
        }
        assert_eq!(
            qwen.check_size("qwen-image-plus", Size::parse("1140*1472").unwrap())
                .unwrap(),
            Size::new(1104, 1472)
        );
        assert!(Size::parse("big").is_err());
        assert!(Size::parse("10*").is_err());
    }
}
