//! The model catalogue: what each model family takes (body shape, references, sizes,
//! images per request, prompt limit, parameters), read from the data file
//! `assets/models.json` rather than written in code. Validation, the window's model
//! picker and size control, the demo and `pictor models` all read it.
//!
//! A model that matches no entry passes through with the messages body and no local size
//! or `n` rule: the user may be ahead of the catalogue.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::api::request::Size;

/// The catalogue as shipped.
const CATALOGUE_JSON: &str = include_str!("../../assets/models.json");

/// The request body layout a family uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyShape {
    /// `input.messages[0].content` = reference images, then one text item.
    Messages,
    /// The older Wan text-to-image body: `input.prompt` / `input.negative_prompt`.
    Prompt,
}

/// How the families are grouped in the model picker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelGroup {
    /// Qwen-Image 2.0: generation and editing in one model.
    #[serde(rename = "qwen-image-2.0")]
    QwenImage2,
    /// Qwen-Image text to image.
    #[serde(rename = "qwen-image")]
    QwenImage,
    /// The edit family.
    #[serde(rename = "edit")]
    Edit,
    /// Wan.
    #[serde(rename = "wan")]
    Wan,
}

/// A text in English and Simplified Chinese.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalText {
    /// English.
    pub en: String,
    /// Simplified Chinese.
    pub zh: String,
}

impl LocalText {
    /// The text for `locale` (`"zh-CN"` or anything else for English).
    pub fn get(&self, locale: &str) -> &str {
        if locale.starts_with("zh") { &self.zh } else { &self.en }
    }
}

/// An inclusive count range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRange {
    /// Fewest.
    pub min: u32,
    /// Most.
    pub max: u32,
}

/// A size written `W*H` in the data file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WireSize(pub Size);

impl TryFrom<String> for WireSize {
    type Error = crate::Error;

    fn try_from(text: String) -> crate::Result<Self> {
        Size::parse(&text).map(Self)
    }
}

impl From<WireSize> for String {
    fn from(size: WireSize) -> Self {
        size.0.wire()
    }
}

/// A labelled size offered as a chip (`("16:9", 1664*928)`).
pub type Preset = (String, WireSize);

/// The sizes a family accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SizeRule {
    /// Only these sizes; `legacy` sizes are mapped to current ones.
    Presets {
        /// The sizes, with their aspect label.
        presets: Vec<Preset>,
        /// Used when none is chosen.
        default: WireSize,
        /// Older sizes and the current size each maps to.
        #[serde(default)]
        legacy: Vec<(WireSize, WireSize)>,
    },
    /// Any `W*H` within the bounds.
    Range {
        /// Shortest side in pixels.
        min_side: u32,
        /// Longest side in pixels.
        max_side: u32,
        /// Fewest pixels in all.
        min_pixels: u64,
        /// Most pixels in all.
        max_pixels: u64,
        /// Narrowest width / height.
        min_aspect: f64,
        /// Widest width / height.
        max_aspect: f64,
        /// Used when none is chosen; `None` = the service decides (from the references).
        default: Option<WireSize>,
        /// Suggested sizes, with their aspect label.
        presets: Vec<Preset>,
    },
    /// The model takes no size (it keeps the reference's).
    None,
}

/// What a family takes besides prompt and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    /// `negative_prompt`.
    NegativePrompt,
    /// `prompt_extend`.
    PromptExtend,
    /// `watermark`.
    Watermark,
    /// `seed`.
    Seed,
}

/// Images per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesPerRequest {
    /// Most images one request may ask for.
    pub max: u32,
    /// Send `n` even for one image: the service's default is more (and bills them).
    pub always_send: bool,
}

/// One model family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The family's name.
    pub family: String,
    /// The picker group.
    pub group: ModelGroup,
    /// The family's name for people.
    pub label: LocalText,
    /// One line on what it takes.
    pub summary: LocalText,
    /// Model names: exact (and their dated snapshots), or a prefix ending in `*`.
    pub models: Vec<String>,
    /// The body layout.
    pub body: BodyShape,
    /// How many reference images a request must and may carry.
    pub references: CountRange,
    /// The sizes it accepts.
    pub size: SizeRule,
    /// Images per request.
    pub n: ImagesPerRequest,
    /// Longest prompt, in Unicode scalar values.
    pub prompt_limit: usize,
    /// Past this many characters the prompt is shown as long (the limit is in tokens and
    /// only approximately known), without refusing it.
    #[serde(default)]
    pub prompt_warn: Option<usize>,
    /// Longest negative prompt, in Unicode scalar values.
    pub negative_limit: usize,
    /// The optional parameters it takes.
    pub takes: Vec<Parameter>,
    /// On DashScope directly it runs only as an asynchronous task.
    pub dashscope_task: bool,
}

impl ModelSpec {
    /// Whether this family takes `parameter`.
    pub fn takes(&self, parameter: Parameter) -> bool {
        self.takes.contains(&parameter)
    }

    /// The model names offered in the picker (the exact ones, not the patterns).
    pub fn named_models(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(String::as_str).filter(|m| !m.ends_with('*'))
    }

    /// Whether `model` (lower case, trimmed) belongs to this family.
    fn matches(&self, model: &str) -> bool {
        self.models.iter().any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => model.starts_with(prefix),
            None => model == pattern || model.strip_prefix(pattern.as_str()).is_some_and(is_dated_suffix),
        })
    }

    /// The size used when the user chose none (`None`: send no size).
    pub fn default_size(&self) -> Option<Size> {
        match &self.size {
            SizeRule::Presets { default, .. } => Some(default.0),
            SizeRule::Range { default, .. } => default.map(|d| d.0),
            SizeRule::None => None,
        }
    }

    /// The labelled sizes offered as chips.
    pub fn presets(&self) -> &[Preset] {
        match &self.size {
            SizeRule::Presets { presets, .. } | SizeRule::Range { presets, .. } => presets,
            SizeRule::None => &[],
        }
    }

    /// `size` as the service takes it (a legacy preset mapped to its current one), or
    /// an error that says what this family accepts.
    pub fn check_size(&self, model: &str, size: Size) -> crate::Result<Size> {
        match &self.size {
            SizeRule::Presets { presets, legacy, .. } => {
                let mapped = legacy
                    .iter()
                    .find(|(old, _)| old.0 == size)
                    .map_or(size, |(_, new)| new.0);
                if presets.iter().any(|(_, preset)| preset.0 == mapped) {
                    return Ok(mapped);
                }
                let allowed: Vec<String> = presets.iter().map(|(_, preset)| preset.0.wire()).collect();
                Err(crate::Error::invalid(format!(
                    "size {} is not offered by {model}; choose one of {}",
                    size.wire(),
                    allowed.join(", ")
                )))
            }
            SizeRule::Range {
                min_side,
                max_side,
                min_pixels,
                max_pixels,
                min_aspect,
                max_aspect,
                ..
            } => {
                let sides =
                    (*min_side..=*max_side).contains(&size.width) && (*min_side..=*max_side).contains(&size.height);
                let pixels = u64::from(size.width) * u64::from(size.height);
                let aspect = f64::from(size.width) / f64::from(size.height.max(1));
                if sides
                    && (*min_pixels..=*max_pixels).contains(&pixels)
                    && (*min_aspect..=*max_aspect).contains(&aspect)
                {
                    return Ok(size);
                }
                Err(crate::Error::invalid(format!(
                    "size {} is outside what {model} accepts: each side {min_side}–{max_side} px, {}–{} pixels in all, \
                     aspect between {} and {}",
                    size.wire(),
                    group_digits(*min_pixels),
                    group_digits(*max_pixels),
                    aspect_text(*min_aspect),
                    aspect_text(*max_aspect),
                )))
            }
            SizeRule::None => Err(crate::Error::invalid(format!(
                "{model} takes no size: it keeps the reference image's"
            ))),
        }
    }
}

/// `-YYYY-MM-DD`: the tail of a dated snapshot's name.
fn is_dated_suffix(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.len() == 11
        && bytes[0] == b'-'
        && bytes[5] == b'-'
        && bytes[8] == b'-'
        && [1..5, 6..8, 9..11]
            .into_iter()
            .all(|range| bytes[range].iter().all(u8::is_ascii_digit))
}

fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn aspect_text(ratio: f64) -> String {
    if ratio < 1.0 {
        format!("1:{}", (1.0 / ratio).round())
    } else {
        format!("{}:1", ratio.round())
    }
}

/// Every family Pictor knows.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Catalogue {
    /// The families, in picker order.
    pub families: Vec<ModelSpec>,
}

impl Catalogue {
    /// The shipped catalogue (parsed once). A data file that does not parse is a build
    /// defect caught by the tests; should it happen anyway, the catalogue is empty and
    /// every model passes through unchecked.
    pub fn get() -> &'static Self {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            serde_json::from_str(CATALOGUE_JSON).unwrap_or_else(|err| {
                tracing::error!(%err, "the model catalogue does not parse; models are not checked");
                Self::default()
            })
        })
    }

    /// The family of `model`, when the catalogue knows it.
    pub fn spec_for(&self, model: &str) -> Option<&ModelSpec> {
        let model = model.trim().to_ascii_lowercase();
        self.families.iter().find(|spec| spec.matches(&model))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_parses_and_every_default_and_preset_passes_its_own_rule() {
        let catalogue: Catalogue = serde_json::from_str(CATALOGUE_JSON).unwrap();
        assert!(catalogue.families.len() >= 7);
        for spec in &catalogue.families {
            for (label, preset) in spec.presets() {
                assert_eq!(
                    spec.check_size(&spec.family, preset.0).unwrap(),
                    preset.0,
                    "{} {label}",
                    spec.family
                );
            }
            if let Some(size) = spec.default_size() {
                assert!(spec.check_size(&spec.family, size).is_ok(), "{}", spec.family);
            }
            assert!(spec.references.min <= spec.references.max, "{}", spec.family);
            assert!(spec.n.max >= 1, "{}", spec.family);
            for model in spec.named_models() {
                assert_eq!(Catalogue::get().spec_for(model).unwrap().family, spec.family, "{model}");
            }
        }
    }

    #[test]
    fn names_snapshots_and_patterns_find_their_family() {
        let catalogue = Catalogue::get();
        let family = |model: &str| catalogue.spec_for(model).map(|s| s.family.as_str());
        assert_eq!(family("qwen-image-2.0-pro"), Some("qwen-image-2.0"));
        assert_eq!(family("qwen-image-2.0-pro-2026-03-03"), Some("qwen-image-2.0"));
        assert_eq!(family(" Qwen-Image-Plus "), Some("qwen-image"));
        assert_eq!(family("qwen-image-max-2025-12-30"), Some("qwen-image"));
        assert_eq!(family("qwen-image-edit-plus-2025-12-15"), Some("qwen-image-edit-plus"));
        assert_eq!(family("qwen-image-edit"), Some("qwen-image-edit"));
        assert_eq!(family("wan2.6-t2i"), Some("wan2.6-t2i"));
        assert_eq!(family("wan2.7-t2i-preview"), Some("wan2.6-t2i"));
        assert_eq!(family("wan2.6-image"), Some("wan2.6-image"));
        assert_eq!(family("wan2.2-t2i-flash"), Some("wan-t2i-classic"));
        assert_eq!(family("wanx2.1-t2i-turbo"), Some("wan-t2i-classic"));
        // Not a date: not a snapshot of qwen-image.
        assert_eq!(family("qwen-image-plus-beta"), None);
        assert_eq!(family("flux-schnell"), None);
    }

    #[test]
    fn sizes_follow_each_familys_rule() {
        let catalogue = Catalogue::get();
        let check = |model: &str, w: u32, h: u32| catalogue.spec_for(model).unwrap().check_size(model, Size::new(w, h));
        assert!(check("qwen-image-2.0-pro", 2048, 2048).is_ok());
        assert!(check("qwen-image-2.0-pro", 1024, 1536).is_ok());
        assert!(check("qwen-image-2.0-pro", 2049, 1024).is_err());
        assert!(check("qwen-image-2.0-pro", 511, 1024).is_err());
        assert!(check("wan2.6-t2i", 1280, 1280).is_ok());
        assert!(check("wan2.6-t2i", 1024, 1024).is_err(), "too few pixels");
        assert!(check("wan2.6-t2i", 1440, 1440).is_ok());
        assert!(check("wan2.6-t2i", 1500, 1500).is_err(), "too many pixels");
        assert_eq!(
            check("qwen-image-plus", 1472, 1140).unwrap(),
            Size::new(1472, 1104),
            "legacy 4:3"
        );
        let err = check("qwen-image-plus", 2048, 2048).unwrap_err();
        assert!(err.message.contains("1664*928"), "{}", err.message);
        let err = check("wan2.6-t2i", 1024, 1024).unwrap_err();
        assert!(err.message.contains("1,600,000"), "{}", err.message);
        assert!(check("qwen-image-edit", 1024, 1024).is_err());
    }
}
