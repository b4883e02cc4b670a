//! What Pictor knows about one image: the generation parameters and where it came from.
//!
//! The same struct is the library row's content and the JSON embedded in the PNG's
//! `iTXt` chunk, so a file alone is enough to rebuild its row.

use serde::{Deserialize, Serialize};

/// Generation parameters and provenance of one image. Never contains a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageMeta {
    /// The prompt as sent.
    pub prompt: String,
    /// The negative prompt as sent (empty = none).
    pub negative_prompt: String,
    /// The prompt as rewritten by the service (prompt extend), when it said so.
    pub revised_prompt: Option<String>,
    /// Model name.
    pub model: String,
    /// Requested size on the wire form `W*H` (empty for imported images without one).
    pub size: String,
    /// Seed sent with the request, if any.
    pub seed: Option<u32>,
    /// Whether prompt extend was on.
    pub prompt_extend: bool,
    /// Whether a watermark was requested.
    pub watermark: bool,
    /// Provider name (`apple-router`, `dashscope`, `demo`, `import`, …).
    pub provider: String,
    /// The service's request id, when it sent one.
    pub request_id: Option<String>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// The library ids of the reference images it was made from, in the order the
    /// prompt calls them (image 1, image 2, …); empty for a plain generation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// For an imported image: the file it came from and what its tool recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ImportSource>,
    /// The run it was made in, shared by every image of one variations or prompt-matrix
    /// run (the gallery shows them as one group); `None` for a single request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// Where an imported image came from: its file, and what the tool that made it wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportSource {
    /// The tool whose metadata the file carried (`None`: none was recognised).
    pub tool: Option<SourceTool>,
    /// The seed as the tool wrote it; other tools' seeds can exceed 2³² (kept whole).
    pub seed: Option<u64>,
    /// The file's name when imported.
    pub file_name: String,
    /// The file's modification time when imported (ms since the epoch).
    pub modified_ms: Option<i64>,
    /// Everything else the tool recorded that is worth showing (sampler, steps, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<(String, String)>,
    /// What was wrong with the metadata, in words (it is imported regardless).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The tool whose metadata an imported image carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceTool {
    /// Pictor itself (its own JSON).
    Pictor,
    /// AUTOMATIC1111 / Forge / SD.Next (`parameters`, EXIF `UserComment`, stealth alpha).
    A1111,
    /// ComfyUI (`prompt` graph, `workflow`).
    ComfyUi,
    /// InvokeAI (`invokeai_metadata`, `sd-metadata`, `Dream`).
    InvokeAi,
    /// Fooocus (`parameters` as JSON).
    Fooocus,
    /// NovelAI (`Description`, `Comment`).
    NovelAi,
    /// A description only (XMP / EXIF `ImageDescription`): Midjourney and other downloads.
    Description,
}

impl SourceTool {
    /// Every tool, in the order filters list them.
    pub const ALL: [Self; 7] = [
        Self::Pictor,
        Self::A1111,
        Self::ComfyUi,
        Self::InvokeAi,
        Self::Fooocus,
        Self::NovelAi,
        Self::Description,
    ];

    /// The stable name used in JSON output, the database and translation keys.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pictor => "pictor",
            Self::A1111 => "a1111",
            Self::ComfyUi => "comfy_ui",
            Self::InvokeAi => "invoke_ai",
            Self::Fooocus => "fooocus",
            Self::NovelAi => "novel_ai",
            Self::Description => "description",
        }
    }

    /// The tool's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pictor => "Pictor",
            Self::A1111 => "AUTOMATIC1111",
            Self::ComfyUi => "ComfyUI",
            Self::InvokeAi => "InvokeAI",
            Self::Fooocus => "Fooocus",
            Self::NovelAi => "NovelAI",
            Self::Description => "Description",
        }
    }
}

impl ImageMeta {
    /// The current time in milliseconds since the Unix epoch.
    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// `ms` (milliseconds since the Unix epoch) as RFC 3339 in UTC; empty when out of range.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
