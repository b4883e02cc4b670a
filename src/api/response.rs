//! Parsing every response and error shape of the wire contract.
//!
//! [`parse_response`] takes one complete HTTP answer (status, `Retry-After`, body) and
//! returns either the images it carries or one [`Error`] of the right kind. The body is
//! always read, whatever the status: HTTP 200 can carry an error object, and error
//! statuses can carry HTML from a proxy. No input makes it panic, and no error it
//! returns has a tag in its message.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::classify::{GATEWAY_STATUSES, request_id_in_message, user_facing_message};
pub use super::classify::{classify, strip_request_id};
use crate::error::{Error, ErrorKind, Result};

/// How much of a raw JSON or text body is kept in [`Error::details`].
const DETAILS_LIMIT: usize = 8 * 1024;
/// How much of a raw HTML body is kept in [`Error::details`].
const HTML_DETAILS_LIMIT: usize = 4 * 1024;
/// Longest short message, in characters; the full text stays in the details.
const MESSAGE_LIMIT: usize = 400;

/// Which answer layout a provider uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseShape {
    /// OpenAI images shape (`data[].url` / `data[].b64_json`), sent by AppleRouter and other routers.
    #[default]
    #[serde(rename = "openai")]
    OpenAi,
    /// DashScope's native shape (`output.choices[].message.content[].image`).
    #[serde(rename = "native")]
    Native,
}

/// Where one returned image's bytes are.
#[derive(Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A pre-signed http(s) link; a secret-bearing URL to download at once, without auth.
    Url(String),
    /// The image bytes, already decoded from base64.
    Bytes(Vec<u8>),
}

impl fmt::Debug for ImageSource {
    /// Never prints the URL's query string (the signature) nor the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(url) => write!(f, "Url({})", redact_url(url)),
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

/// A successful generation answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenerationResponse {
    /// The returned images; never empty when parsing succeeded.
    pub images: Vec<ImageSource>,
    /// The prompt as the service rewrote it (first non-empty one), when it says so.
    pub revised_prompt: Option<String>,
    /// The service's request id, for support and the library's provenance.
    pub request_id: Option<String>,
    /// Unix time at which the service created the answer.
    pub created: Option<i64>,
    /// Width of the images in pixels, when the answer reports it.
    pub width: Option<u32>,
    /// Height of the images in pixels, when the answer reports it.
    pub height: Option<u32>,
    /// Images of the request that the service reports as failed (`task_metric.FAILED`):
    /// a partial success delivers the others.
    pub failed: u32,
    /// How many images the service billed (`usage.image_count`), when it says.
    pub billed: Option<u32>,
}

/// Parses a complete HTTP answer.
///
/// `retry_after` is the parsed `Retry-After` header, passed through into a
/// [`ErrorKind::RateLimited`] error. An error's message never holds a tag, whatever the
/// service wrote into its JSON or its page; the raw body stays in the details.
pub fn parse_response(
    shape: ResponseShape,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<GenerationResponse> {
    let answer = Answer {
        status,
        retry_after,
        body,
    };
    let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let parsed = match serde_json::from_slice::<Value>(json) {
        Ok(value) => answer.parse_json(shape, &value),
        Err(err) => Err(answer.non_json_error(&err)),
    };
    parsed.map_err(|mut err| {
        err.message = without_tags(&err.message);
        err
    })
}

/// Parses a `Retry-After` header value given in delta seconds (fractions tolerated).
/// An HTTP date, a negative or an unreadable value gives `None`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let seconds = value.parse::<f64>().ok()?;
    if seconds.is_sign_negative() {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// A URL with its query string, fragment and user info replaced by `…`, safe for logs.
pub fn redact_url(url: &str) -> String {
    let (base, had_query) = match url.find(['?', '#']) {
        Some(at) => (url.get(..at).unwrap_or_default(), true),
        None => (url, false),
    };
    let base = redact_user_info(base);
    if had_query { format!("{base}?…") } else { base }
}

/// Replaces `user:password@` in a URL's authority with `…@`.
fn redact_user_info(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let authority_end = url
        .get(scheme_end..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |at| scheme_end + at);
    let authority = url.get(scheme_end..authority_end).unwrap_or_default();
    match authority.rfind('@') {
        Some(at) => format!(
            "{}…{}{}",
            url.get(..scheme_end).unwrap_or_default(),
            authority.get(at..).unwrap_or_default(),
            url.get(authority_end..).unwrap_or_default()
        ),
        None => url.to_owned(),
    }
}

/// One HTTP answer being parsed.
struct Answer<'a> {
    status: u16,
    retry_after: Option<Duration>,
    body: &'a [u8],
}

/// An error the service reported in a JSON body.
struct ServiceError {
    /// Upstream code and type, joined (either may be empty).
    code: String,
    /// The service's message, raw.
    message: String,
    /// What to call it when neither code, message nor status say more (HTTP 200).
    fallback: ErrorKind,
}

impl Answer<'_> {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A JSON body: an error in any of its shapes, or a success of `shape`.
    fn parse_json(&self, shape: ResponseShape, root: &Value) -> Result<GenerationResponse> {
        if let Some(service_error) = find_service_error(root) {
            return Err(self.service_error(root, service_error));
        }
        if !self.is_success() {
            let message = loose_message(root).unwrap_or_default();
            let service_error = ServiceError {
                code: String::new(),
                message,
                fallback: ErrorKind::BadResponse,
            };
            return Err(self.service_error(root, service_error));
        }
        let parsed = match shape {
            ResponseShape::OpenAi => parse_openai_success(root),
            ResponseShape::Native => parse_native_success(root),
        };
        parsed.map_err(|err| {
            let request_id = find_request_id(root, "");
            err.with_status(self.status)
                .with_details(self.details(request_id.as_deref(), DETAILS_LIMIT))
        })
    }

    /// The [`Error`] for an error the service reported in JSON.
    fn service_error(&self, root: &Value, service_error: ServiceError) -> Error {
        let ServiceError {
            code,
            message,
            fallback,
        } = service_error;
        let mut kind = classify(self.status, &code, &message);
        if kind == ErrorKind::BadResponse {
            kind = fallback;
        }
        let request_id = find_request_id(root, &message);
        let mut short = short_message(&user_facing_message(&code, &message));
        if short.is_empty() && !self.is_success() {
            short = format!("HTTP {}", self.status);
        }
        self.error(kind, short, request_id.as_deref(), DETAILS_LIMIT)
    }

    /// The [`Error`] for a body that is not JSON: HTML from a proxy, plain text, garbage.
    fn non_json_error(&self, parse_error: &serde_json::Error) -> Error {
        let text = text_of_possibly_truncated(self.body);
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            let kind = if self.is_success() {
                ErrorKind::BadResponse
            } else {
                classify(self.status, "", "")
            };
            let message = format!("the service answered HTTP {} with an empty body", self.status);
            return self.error(kind, message, None, DETAILS_LIMIT);
        }
        if looks_like_markup(text) {
            return self.markup_error(text);
        }
        if self.is_success() {
            let message = format!("the service's answer is not valid JSON ({parse_error})");
            return self.error(ErrorKind::BadResponse, message, None, DETAILS_LIMIT);
        }
        let readable = is_readable_text(text);
        let kind = classify(self.status, "", if readable { text } else { "" });
        let message = if readable {
            short_message(&strip_request_id(text))
        } else {
            format!("the service answered HTTP {} with an unreadable body", self.status)
        };
        let request_id = request_id_in_message(text);
        self.error(kind, message, request_id.as_deref(), DETAILS_LIMIT)
    }

    /// The [`Error`] for an HTML (or XML) page: the title as message, never markup.
    fn markup_error(&self, text: &str) -> Error {
        let title = element_text(text, "title").or_else(|| element_text(text, "message"));
        let kind = if GATEWAY_STATUSES.contains(&self.status) {
            ErrorKind::Gateway
        } else if self.is_success() {
            ErrorKind::BadResponse
        } else {
            classify(self.status, "", title.as_deref().unwrap_or_default())
        };
        let message = match title {
            Some(title) => short_message(&title),
            None if kind == ErrorKind::Gateway => format!(
                "the gateway answered HTTP {} with a web page instead of the service's answer",
                self.status
            ),
            None => format!(
                "the service answered HTTP {} with a web page instead of JSON",
                self.status
            ),
        };
        self.error(kind, message, None, HTML_DETAILS_LIMIT)
    }

    /// An [`Error`] with the status, the details and, when rate limited, `Retry-After`.
    fn error(&self, kind: ErrorKind, message: String, request_id: Option<&str>, limit: usize) -> Error {
        let error = Error::new(kind, message)
            .with_status(self.status)
            .with_details(self.details(request_id, limit));
        if kind == ErrorKind::RateLimited {
            error.with_retry_after(self.retry_after)
        } else {
            error
        }
    }

    /// "HTTP 429", the request id when known, then up to `limit` bytes of the raw body
    /// (lossy UTF-8, signed-URL query strings redacted).
    fn details(&self, request_id: Option<&str>, limit: usize) -> String {
        let mut details = format!("HTTP {}", self.status);
        if let Some(id) = request_id {
            details.push_str("\nrequest id: ");
            details.push_str(id);
        }
        let shown = self.body.get(..limit).unwrap_or(self.body);
        if !shown.is_empty() {
            details.push_str("\n\n");
            details.push_str(&redact_query_strings(&String::from_utf8_lossy(shown)));
        }
        if shown.len() < self.body.len() {
            details.push_str(&format!("\n… ({} bytes in total)", self.body.len()));
        }
        details
    }
}

/// Finds an error in a JSON body, in any shape: an OpenAI-style `error` object or
/// string, a native top-level `code`, or a native asynchronous task that failed.
fn find_service_error(root: &Value) -> Option<ServiceError> {
    openai_error(root)
        .or_else(|| native_error(root))
        .or_else(|| failed_task_error(root))
}

/// `{"error": {"message", "type", "code", "param"}}` or `{"error": "text"}`.
fn openai_error(root: &Value) -> Option<ServiceError> {
    let error = root.get("error")?;
    if let Some(message) = text(Some(error)) {
        return Some(ServiceError {
            code: String::new(),
            message,
            fallback: ErrorKind::BadResponse,
        });
    }
    let code = text(error.get("code"));
    let kind = text(error.get("type"));
    let message = text(error.get("message"));
    if code.is_none() && kind.is_none() && message.is_none() {
        return None;
    }
    let code = [code, kind].into_iter().flatten().collect::<Vec<_>>().join(" ");
    Some(ServiceError {
        code,
        message: message.unwrap_or_default(),
        fallback: ErrorKind::BadResponse,
    })
}

/// `{"request_id", "code": "InvalidParameter", "message"}`; codes that mean success are ignored.
fn native_error(root: &Value) -> Option<ServiceError> {
    let code = text(root.get("code"))?;
    let means_success = ["0", "200", "ok", "success"]
        .iter()
        .any(|ok| code.eq_ignore_ascii_case(ok));
    if means_success {
        return None;
    }
    Some(ServiceError {
        code,
        message: text(root.get("message")).unwrap_or_default(),
        fallback: ErrorKind::BadResponse,
    })
}

/// `{"output": {"task_status": "FAILED", "code", "message"}}` (also CANCELED, UNKNOWN).
fn failed_task_error(root: &Value) -> Option<ServiceError> {
    let output = root.get("output")?;
    let status = text(output.get("task_status"))?;
    let failed = ["FAILED", "CANCELED", "CANCELLED", "UNKNOWN"]
        .iter()
        .any(|bad| status.eq_ignore_ascii_case(bad));
    if !failed {
        return None;
    }
    let message =
        text(output.get("message")).unwrap_or_else(|| format!("the generation task ended with status {status}"));
    Some(ServiceError {
        code: text(output.get("code")).unwrap_or_default(),
        message,
        fallback: ErrorKind::Server,
    })
}

/// A message from an unrecognised JSON error body (`message`, `msg`, `detail`, or the
/// body itself when it is a string).
fn loose_message(root: &Value) -> Option<String> {
    text(Some(root)).or_else(|| {
        ["message", "msg", "detail", "error_msg"]
            .iter()
            .find_map(|key| text(root.get(*key)))
    })
}

/// The request id from the body (`request_id`, `metadata.request_id`, `error.request_id`)
/// or written into the message.
fn find_request_id(root: &Value, message: &str) -> Option<String> {
    text(root.get("request_id"))
        .or_else(|| text(root.get("metadata").and_then(|m| m.get("request_id"))))
        .or_else(|| text(root.get("error").and_then(|e| e.get("request_id"))))
        .or_else(|| request_id_in_message(message))
}

/// OpenAI-style success: `data[]` items with `url` or `b64_json`.
fn parse_openai_success(root: &Value) -> Result<GenerationResponse> {
    let items = array(root.get("data"));
    let mut images = Vec::new();
    for item in items {
        if let Some(image) = openai_image(item)? {
            images.push(image);
        }
    }
    let metadata = root.get("metadata");
    let usage = metadata.and_then(|m| m.get("usage")).or_else(|| root.get("usage"));
    // Some router builds fold the images of one choice into a single `data` item while
    // billing all of them: the raw answer in `metadata.output` still has every one.
    let billed = integer(usage.and_then(|u| u.get("image_count"))).unwrap_or(0);
    if usize::try_from(billed).unwrap_or(0) > images.len() {
        // A damaged raw answer must not cost the images `data` already holds.
        match native_images(metadata.and_then(|m| m.get("output"))) {
            Ok(raw) if raw.len() > images.len() => images = raw,
            Ok(_) => {}
            Err(err) => tracing::warn!("the raw answer's images are unreadable: {}", err.message),
        }
    }
    let output = metadata.and_then(|m| m.get("output"));
    Ok(GenerationResponse {
        failed: failed_count(output),
        images: non_empty(images)?,
        revised_prompt: items.iter().find_map(|item| string(item.get("revised_prompt"))),
        request_id: find_request_id(root, ""),
        created: integer(root.get("created")),
        width: dimension(usage.and_then(|u| u.get("width"))),
        height: dimension(usage.and_then(|u| u.get("height"))),
        billed: image_count(usage),
    })
}

/// `usage.image_count` as a count, when present and sensible.
fn image_count(usage: Option<&Value>) -> Option<u32> {
    integer(usage.and_then(|u| u.get("image_count"))).and_then(|n| u32::try_from(n).ok())
}

/// One `data[]` item: non-empty `b64_json` first, else non-empty `url`, else nothing.
fn openai_image(item: &Value) -> Result<Option<ImageSource>> {
    if let Some(encoded) = string(item.get("b64_json")) {
        return decode_base64_image(&encoded).map(|bytes| Some(ImageSource::Bytes(bytes)));
    }
    string(item.get("url")).map(|url| image_from_link(&url)).transpose()
}

/// Every `image` in `output.choices[].message.content[]` (several items in one choice,
/// or several choices), in order.
fn native_images(output: Option<&Value>) -> Result<Vec<ImageSource>> {
    let mut images = Vec::new();
    for choice in array(output.and_then(|o| o.get("choices"))) {
        let content = choice.get("message").and_then(|m| m.get("content"));
        for item in array(content) {
            if let Some(link) = string(item.get("image")) {
                images.push(image_from_link(&link)?);
            }
        }
    }
    Ok(images)
}

/// `output.task_metric.FAILED` (or `task_metrics`, the task layout): images that failed.
fn failed_count(output: Option<&Value>) -> u32 {
    ["task_metric", "task_metrics"]
        .iter()
        .find_map(|key| integer(output.and_then(|o| o.get(*key)).and_then(|m| m.get("FAILED"))))
        .and_then(|failed| u32::try_from(failed).ok())
        .unwrap_or(0)
}

/// Native success: every `image` in `output.choices[].message.content[]`, plus the
/// asynchronous task layout `output.results[].url`.
fn parse_native_success(root: &Value) -> Result<GenerationResponse> {
    let output = root.get("output");
    let mut images = native_images(output)?;
    let results = array(output.and_then(|o| o.get("results")));
    for result in results {
        if let Some(link) = string(result.get("url")) {
            images.push(image_from_link(&link)?);
        }
    }
    if images.is_empty()
        && let Some(status) = text(output.and_then(|o| o.get("task_status")))
        && !status.eq_ignore_ascii_case("SUCCEEDED")
    {
        return Err(Error::new(
            ErrorKind::BadResponse,
            format!("the generation task has not finished (status {status})"),
        ));
    }
    let usage = root.get("usage");
    Ok(GenerationResponse {
        failed: failed_count(output),
        images: non_empty(images)?,
        revised_prompt: results.iter().find_map(|result| string(result.get("actual_prompt"))),
        request_id: text(root.get("request_id")),
        created: None,
        width: dimension(usage.and_then(|u| u.get("width"))),
        height: dimension(usage.and_then(|u| u.get("height"))),
        billed: image_count(usage),
    })
}

/// `images` if it holds at least one image, else the "no image" error.
fn non_empty(images: Vec<ImageSource>) -> Result<Vec<ImageSource>> {
    if images.is_empty() {
        Err(Error::new(ErrorKind::BadResponse, "the service returned no image"))
    } else {
        Ok(images)
    }
}

/// An image given as a link: an http(s) URL, or a `data:` URI carrying base64.
fn image_from_link(link: &str) -> Result<ImageSource> {
    let link = link.trim();
    let has_scheme = |scheme: &str| {
        link.get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    };
    if has_scheme("data:") {
        decode_base64_image(link).map(ImageSource::Bytes)
    } else if has_scheme("https://") || has_scheme("http://") {
        Ok(ImageSource::Url(link.to_owned()))
    } else {
        Err(Error::new(
            ErrorKind::BadResponse,
            "the service returned an image link that is not an http(s) URL",
        ))
    }
}

/// Standard base64, padding optional, trailing bits tolerated.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);
/// URL-safe base64, padding optional, trailing bits tolerated.
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64 image data, tolerating a `data:…;base64,` prefix and whitespace.
fn decode_base64_image(encoded: &str) -> Result<Vec<u8>> {
    let bad = |why: String| Error::new(ErrorKind::BadResponse, why);
    let payload = strip_data_uri_prefix(encoded.trim())?;
    let compact: String = payload.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if compact.contains(['-', '_']) {
        &LENIENT_URL_SAFE
    } else {
        &LENIENT_STANDARD
    };
    let bytes = engine
        .decode(compact.as_bytes())
        .map_err(|err| bad(format!("the image's base64 data is invalid ({err})")))?;
    if bytes.is_empty() {
        return Err(bad("the image's base64 data is empty".to_owned()));
    }
    Ok(bytes)
}

/// The payload after a `data:<type>;base64,` prefix, or the text itself without one.
fn strip_data_uri_prefix(text: &str) -> Result<&str> {
    let is_data_uri = text.get(..5).is_some_and(|start| start.eq_ignore_ascii_case("data:"));
    if !is_data_uri {
        return Ok(text);
    }
    let Some((header, payload)) = text.split_once(',') else {
        return Err(Error::new(ErrorKind::BadResponse, "the image's data URI has no data"));
    };
    if !header.to_ascii_lowercase().ends_with(";base64") {
        return Err(Error::new(ErrorKind::BadResponse, "the image's data URI is not base64"));
    }
    Ok(payload)
}

/// A non-empty string from a string or number value (`code` may be either); else `None`.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string value; numbers and anything else are `None` (image fields).
fn string(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// The items of an array value; anything else is treated as empty.
fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// An integer from a number or a numeric string.
fn integer(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A positive pixel dimension from a number or a numeric string.
fn dimension(value: Option<&Value>) -> Option<u32> {
    integer(value).and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0)
}

/// Whether a non-JSON body is an HTML or XML page.
fn looks_like_markup(text: &str) -> bool {
    let head: String = text.chars().take(512).collect::<String>().to_lowercase();
    text.starts_with('<') || head.contains("<html") || head.contains("<!doctype")
}

/// The body as text. A body cut inside its last character (a connection or proxy that
/// truncated it) is read up to that character, so its words still count; any other
/// invalid UTF-8 is replaced (and then makes the text unreadable).
fn text_of_possibly_truncated(body: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(body) {
        Ok(text) => text.into(),
        Err(err) if err.error_len().is_none() => {
            String::from_utf8_lossy(body.get(..err.valid_up_to()).unwrap_or_default())
        }
        Err(_) => String::from_utf8_lossy(body),
    }
}

/// Whether text is something a person can read (no control characters, no decoding damage).
fn is_readable_text(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c == char::REPLACEMENT_CHARACTER || (c.is_control() && !c.is_whitespace()))
}

/// The plain text inside the first `<name>…</name>` element (case-insensitive), with
/// nested tags removed and basic entities decoded; `None` when missing or empty.
fn element_text(markup: &str, name: &str) -> Option<String> {
    // ASCII lowercasing keeps byte offsets valid for `markup`.
    let lower = markup.to_ascii_lowercase();
    let open = lower.find(&format!("<{name}"))?;
    let content_start = open + lower.get(open..)?.find('>')? + 1;
    let content_end = content_start + lower.get(content_start..)?.find(&format!("</{name}"))?;
    let plain = decode_entities(&strip_tags(markup.get(content_start..content_end)?));
    let plain = collapse_whitespace(&plain);
    (!plain.is_empty()).then_some(plain)
}

/// Text with every `<…>` tag removed.
fn strip_tags(markup: &str) -> String {
    let mut plain = String::with_capacity(markup.len());
    let mut in_tag = false;
    for c in markup.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    plain
}

/// `text` with every tag replaced by a space (then whitespace collapsed): a `<` followed
/// by a letter, `/`, `!` or `?` and closed by a later `>`, which is how an element, an
/// end tag, a comment, a doctype or a processing instruction starts. A `<` that starts
/// none ("size < 4096", "<400>") stays. Nothing is removed from text without tags.
fn without_tags(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    let mut removed = false;
    // Once no `>` is left, no later `<` can close a tag: this keeps the scan linear.
    let mut closing_left = true;
    while let Some(open) = rest.find('<') {
        plain.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 1..).unwrap_or_default();
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        let close = if opens_tag && closing_left {
            after.find('>')
        } else {
            None
        };
        match close {
            Some(close) => {
                plain.push(' ');
                removed = true;
                rest = after.get(close + 1..).unwrap_or_default();
            }
            None => {
                closing_left &= !opens_tag;
                plain.push('<');
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    if removed { collapse_whitespace(&plain) } else { plain }
}

/// Decodes the few HTML entities that appear in error page titles.
fn decode_entities(text: &str) -> String {
    [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&nbsp;", " "),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(text.to_owned(), |acc, (entity, plain)| acc.replace(entity, plain))
}

/// Runs of whitespace collapsed to one space, ends trimmed.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A short, single-line, markup-free message: an HTML page becomes its title (or
/// nothing), whitespace is collapsed and the length capped.
fn short_message(message: &str) -> String {
    let plain = if looks_like_markup(message.trim()) {
        element_text(message, "title").unwrap_or_default()
    } else {
        collapse_whitespace(message)
    };
    if plain.chars().count() <= MESSAGE_LIMIT {
        return plain;
    }
    let mut cut: String = plain.chars().take(MESSAGE_LIMIT).collect();
    cut.push('…');
    cut
}

/// Text with the query string and fragment of every `scheme://` URL replaced by `?…`,
/// so signed links never land in details or logs.
pub fn redact_query_strings(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let url_start = at + 3;
        redacted.push_str(rest.get(..url_start).unwrap_or_default());
        let after = rest.get(url_start..).unwrap_or_default();
        let url_len = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(after.len());
        let url = after.get(..url_len).unwrap_or_default();
        match url.find(['?', '#']) {
            Some(query) => {
                redacted.push_str(url.get(..query).unwrap_or_default());
                redacted.push_str("?…");
            }
            None => redacted.push_str(url),
        }
        rest = after.get(url_len..).unwrap_or_default();
    }
    redacted.push_str(rest);
    redacted
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const OPENAI_URL: &str = include_str!("../../tests/fixtures/responses/openai_success_url.json");
    const OPENAI_B64: &str = include_str!("../../tests/fixtures/responses/openai_success_b64.json");
    const OPENAI_MODERATION: &str = include_str!("../../tests/fixtures/responses/openai_error_moderation.json");
    const NATIVE_SUCCESS: &str = include_str!("../../tests/fixtures/responses/native_success.json");
    const NATIVE_ERROR: &str = include_str!("../../tests/fixtures/responses/native_error.json");
    const NATIVE_TASK_FAILED: &str = include_str!("../../tests/fixtures/responses/native_task_failed.json");
    const GATEWAY_504: &str = include_str!("../../tests/fixtures/responses/gateway_504.html");
    const GATEWAY_524: &str = include_str!("../../tests/fixtures/responses/gateway_524.html");

    /// The eight bytes of the PNG signature, as `iVBORw0KGgo=` decodes.
    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

    fn openai(status: u16, body: &str) -> Result<GenerationResponse> {
        parse_response(ResponseShape::OpenAi, status, None, body.as_bytes())
    }

    fn native(status: u16, body: &str) -> Result<GenerationResponse> {
        parse_response(ResponseShape::Native, status, None, body.as_bytes())
    }

    fn openai_err(status: u16, body: &str) -> Error {
        match openai(status, body) {
            Ok(response) => panic!("expected an error, got {response:?}"),
            Err(err) => err,
        }
    }

    fn native_err(status: u16, body: &str) -> Error {
        match native(status, body) {
            Ok(response) => panic!("expected an error, got {response:?}"),
            Err(err) => err,
        }
    }

    fn router_error(message: &str) -> String {
        serde_json::json!({"error": {"message": message, "type": "bad_response_status_code",
                                     "param": "", "code": "bad_response_status_code"}})
        .to_string()
    }

    #[test]
    fn openai_success_with_url_and_metadata() {
        let response = openai(200, OPENAI_URL).unwrap();
        assert_eq!(response.images.len(), 1);
        let ImageSource::Url(url) = &response.images[0] else {
            panic!("expected a URL, got {:?}", response.images[0]);
        };
        assert!(url.starts_with("https://dashscope-result-sh.oss-cn-shanghai.aliyuncs.com/"));
        assert!(url.contains("Signature=s3cr3tSig%3D"), "the link is kept whole");
        assert_eq!(response.revised_prompt, None, "empty revised_prompt is absent");
        assert_eq!(response.created, Some(1_762_411_334));
        assert_eq!(
            response.request_id.as_deref(),
            Some("d0250a3d-8f5e-9a3c-b1a2-7c0e3f9d1e11")
        );
        assert_eq!((response.width, response.height), (Some(1328), Some(1328)));
    }

    #[test]
    fn openai_success_with_data_uri_base64_and_unknown_fields() {
        let response = openai(200, OPENAI_B64).unwrap();
        assert_eq!(response.images, vec![ImageSource::Bytes(PNG_SIGNATURE.to_vec())]);
        assert_eq!(
            response.revised_prompt.as_deref(),
            Some("A traditional Chinese ink painting of misty mountains and a winding river")
        );
        assert_eq!(response.request_id, None, "no metadata: no request id");
        assert_eq!((response.width, response.height), (None, None));
    }

    #[test]
    fn openai_success_with_only_data_and_no_metadata_or_created() {
        let response = openai(200, r#"{"data":[{"url":"http://127.0.0.1:8080/a.png"}]}"#).unwrap();
        assert_eq!(
            response.images,
            vec![ImageSource::Url("http://127.0.0.1:8080/a.png".into())]
        );
        assert_eq!(response.created, None);
        assert_eq!(response.request_id, None);
    }

    #[test]
    fn b64_json_is_preferred_over_url_and_whitespace_is_tolerated() {
        let body = r#"{"data":[{"url":"https://h/x.png?sig=1","b64_json":"iVBO\nRw0K\r\n Ggo="}]}"#;
        let response = openai(200, body).unwrap();
        assert_eq!(response.images, vec![ImageSource::Bytes(PNG_SIGNATURE.to_vec())]);
    }

    #[test]
    fn any_base64_data_uri_prefix_and_missing_padding_are_tolerated() {
        for encoded in [
            "data:image/webp;base64,iVBORw0KGgo",
            "DATA:application/octet-stream;BASE64,iVBORw0KGgo=",
        ] {
            let body = serde_json::json!({"data": [{"b64_json": encoded}]}).to_string();
            let response = openai(200, &body).unwrap();
            assert_eq!(
                response.images,
                vec![ImageSource::Bytes(PNG_SIGNATURE.to_vec())],
                "{encoded}"
            );
        }
    }

    #[test]
    fn several_items_keep_their_order_and_empty_items_are_skipped() {
        let body = r#"{"data":[{"url":"","b64_json":""},{"url":"https://h/1.png"},{"b64_json":"iVBORw0KGgo="}]}"#;
        let response = openai(200, body).unwrap();
        assert_eq!(
            response.images,
            vec![
                ImageSource::Url("https://h/1.png".into()),
                ImageSource::Bytes(PNG_SIGNATURE.to_vec())
            ]
        );
    }

    #[test]
    fn invalid_base64_is_a_bad_response_naming_it() {
        let err = openai_err(200, r#"{"data":[{"b64_json":"not*base64!"}]}"#);
        assert_eq!(err.kind, ErrorKind::BadResponse);
        assert!(err.message.contains("base64"), "{}", err.message);
        assert_eq!(err.status, Some(200));
        let err = openai_err(200, r#"{"data":[{"b64_json":"data:image/png,abc"}]}"#);
        assert!(err.message.contains("not base64"), "{}", err.message);
    }

    #[test]
    fn empty_or_missing_or_malformed_data_is_no_image() {
        for body in [
            r#"{"data":[]}"#,
            r#"{"data":[{"url":"","b64_json":"","revised_prompt":""}]}"#,
            r#"{"created":1}"#,
            r#"{"data":{"url":"https://h/x.png"}}"#,
            r#"{"data":"https://h/x.png"}"#,
            r#"{"data":[null, 3, "x", [], {"url": 7}]}"#,
            r#"{"data":[{"url":null,"b64_json":null}]}"#,
        ] {
            let err = openai_err(200, body);
            assert_eq!(err.kind, ErrorKind::BadResponse, "{body}");
            assert_eq!(err.message, "the service returned no image", "{body}");
        }
    }

    #[test]
    fn non_http_links_are_rejected() {
        let err = openai_err(200, r#"{"data":[{"url":"file:///etc/passwd"}]}"#);
        assert_eq!(err.kind, ErrorKind::BadResponse);
        assert!(!err.message.contains("passwd"), "{}", err.message);
    }

    #[test]
    fn unknown_fields_and_odd_types_are_ignored() {
        let body = r#"{"created":"1762411334","object":"list","data":[{"url":"https://h/x.png","extra":{"a":[1]}}],
                       "metadata":{"usage":{"width":"1472","height":1104.5},"request_id":12345}}"#;
        let response = openai(200, body).unwrap();
        assert_eq!(response.created, Some(1_762_411_334));
        assert_eq!(response.width, Some(1472));
        assert_eq!(response.height, None, "a fractional height is not a size");
        assert_eq!(response.request_id.as_deref(), Some("12345"));
    }

    #[test]
    fn openai_error_fixture_is_moderation_with_clean_message() {
        let err = openai_err(400, OPENAI_MODERATION);
        assert_eq!(err.kind, ErrorKind::Moderation);
        assert_eq!(err.message, "Input data may contain inappropriate content.");
        assert_eq!(err.status, Some(400));
        assert!(
            err.details.contains("request id: 20260520071234567890abcdef"),
            "{}",
            err.details
        );
        assert!(
            err.details.contains("bad_response_status_code"),
            "raw body kept: {}",
            err.details
        );
        assert_eq!(err.retry_after, None);
    }

    #[test]
    fn http_200_with_openai_error_object_is_an_error() {
        let err = openai_err(200, OPENAI_MODERATION);
        assert_eq!(err.kind, ErrorKind::Moderation);
        assert_eq!(err.status, Some(200));
        let err = openai_err(200, &router_error("something odd happened (request id: 1)"));
        assert_eq!(err.kind, ErrorKind::BadResponse, "unknown 200 error: bad response");
        assert_eq!(err.message, "something odd happened");
        let err = openai_err(
            200,
            r#"{"error":"upstream exploded","data":[{"url":"https://h/x.png"}]}"#,
        );
        assert_eq!(err.message, "upstream exploded");
    }

    #[test]
    fn error_code_and_param_may_be_number_or_null() {
        for (code, param) in [("429", "null"), ("null", "3"), ("1008", "\"\"")] {
            let body = format!(
                r#"{{"error":{{"message":"Requests rate limit exceeded","type":"x","param":{param},"code":{code}}}}}"#
            );
            let err = openai_err(429, &body);
            assert_eq!(err.kind, ErrorKind::RateLimited, "{body}");
            assert_eq!(err.message, "Requests rate limit exceeded");
        }
        let err = openai_err(400, r#"{"error":{"message":"x","code":400,"param":null,"type":null}}"#);
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
    }

    #[test]
    fn rate_limit_passes_retry_after_through() {
        let delay = Some(Duration::from_secs(7));
        let body = router_error("Requests rate limit exceeded, please try again later.");
        let err = parse_response(ResponseShape::OpenAi, 429, delay, body.as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert_eq!(err.retry_after, delay);
        let err = parse_response(ResponseShape::OpenAi, 429, delay, b"Too Many Requests").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert_eq!(err.retry_after, delay);
        // The per-minute allocation (contract §8) clears by itself: retried with backoff.
        let per_minute = router_error("Allocated quota exceeded, please retry later.");
        let err = parse_response(ResponseShape::OpenAi, 429, delay, per_minute.as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited, "the per-minute quota clears: retried");
        assert_eq!(err.retry_after, delay);
        // A balance that is used up is not retried.
        let quota = router_error("user quota is not enough (insufficient_user_quota)");
        let err = parse_response(ResponseShape::OpenAi, 429, delay, quota.as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Quota, "429 + exhausted quota is not retryable");
        assert_eq!(err.retry_after, None);
    }

    #[test]
    fn every_contract_table_row_through_a_router_error_body() {
        let rows: &[(u16, &str, ErrorKind)] = &[
            (
                400,
                "<400> InternalError.Algo.DataInspectionFailed: Input data may contain inappropriate content.",
                ErrorKind::Moderation,
            ),
            (400, "Output image was rejected by Green net.", ErrorKind::Moderation),
            (
                400,
                "IPInfringementSuspect: Input data is suspected of being involved in IP infringement.",
                ErrorKind::Moderation,
            ),
            (
                400,
                "InvalidParameter: The size does not match the allowed sizes.",
                ErrorKind::InvalidRequest,
            ),
            (400, "num_images_per_prompt must be 1", ErrorKind::InvalidRequest),
            (
                400,
                "Arrearage: Access denied, please make sure your account is in good standing.",
                ErrorKind::Quota,
            ),
            (401, "InvalidApiKey: Invalid API-key provided.", ErrorKind::Auth),
            (401, "Invalid token", ErrorKind::Auth),
            (401, "无效的令牌", ErrorKind::Auth),
            (402, "quota exhausted", ErrorKind::Quota),
            (403, "用户额度不足, 剩余额度: ＄0.000000", ErrorKind::Quota),
            (403, "insufficient_user_quota", ErrorKind::Quota),
            (403, "AccessDenied: Access denied.", ErrorKind::ModelUnavailable),
            (403, "Model access denied.", ErrorKind::ModelUnavailable),
            (404, "ModelNotFound: Model not exist.", ErrorKind::ModelUnavailable),
            (
                429,
                "Throttling: Requests throttling triggered.",
                ErrorKind::RateLimited,
            ),
            (
                429,
                "Throttling.AllocationQuota: Allocated quota exceeded.",
                ErrorKind::RateLimited,
            ),
            (429, "quota exceeded", ErrorKind::Quota),
            (
                500,
                "InternalError: An internal error has occured, please try again later.",
                ErrorKind::Server,
            ),
            (500, "aliAsyncTaskWait timeout", ErrorKind::Server),
            (
                503,
                "No available channel for model qwen-image-plus",
                ErrorKind::ModelUnavailable,
            ),
            (
                503,
                "当前分组 default 下对于模型 qwen-image-plus 无可用渠道",
                ErrorKind::ModelUnavailable,
            ),
            (
                503,
                "ModelUnavailable: the model is overloaded",
                ErrorKind::ModelUnavailable,
            ),
        ];
        for &(status, message, kind) in rows {
            let err = openai_err(status, &router_error(&format!("{message} (request id: abc)")));
            assert_eq!(err.kind, kind, "{status} {message}");
            assert_eq!(err.status, Some(status));
            assert!(!err.message.contains("request id"), "{}", err.message);
            assert!(err.details.contains("request id: abc"), "{}", err.details);
        }
    }

    #[test]
    fn ip_infringement_message_names_copyrighted_character_or_brand() {
        let body = r#"{"request_id":"r1","code":"IPInfringementSuspect","message":"Input data is suspected of being involved in IP infringement."}"#;
        let err = native_err(400, body);
        assert_eq!(err.kind, ErrorKind::Moderation);
        assert!(
            err.message.contains("copyrighted character or brand"),
            "{}",
            err.message
        );
    }

    #[test]
    fn native_success_fixture() {
        let response = native(200, NATIVE_SUCCESS).unwrap();
        assert_eq!(response.images.len(), 1);
        assert!(matches!(&response.images[0], ImageSource::Url(url) if url.contains("oss-cn-beijing")));
        assert_eq!(
            response.request_id.as_deref(),
            Some("d0250a3d-1111-2222-3333-444455556666")
        );
        assert_eq!((response.width, response.height), (Some(1664), Some(928)));
    }

    #[test]
    fn native_success_searches_every_content_item_and_choice() {
        let body = r#"{"output":{"choices":[
            {"message":{"content":[{"text":"only text"}]}},
            {"message":{"content":[{"text":"t"},{"image":""},{"image":"https://h/a.png"}]}},
            {"message":{"content":"not a list"}},
            {"message":{"content":[{"image":"https://h/b.png","text":"both"}]}}]},
            "request_id":"r"}"#;
        let response = native(200, body).unwrap();
        assert_eq!(
            response.images,
            vec![
                ImageSource::Url("https://h/a.png".into()),
                ImageSource::Url("https://h/b.png".into())
            ]
        );
    }

    #[test]
    fn native_text_only_is_no_image() {
        let body = r#"{"output":{"choices":[{"message":{"content":[{"text":"sorry"}]}}]},"request_id":"r9"}"#;
        let err = native_err(200, body);
        assert_eq!(err.kind, ErrorKind::BadResponse);
        assert_eq!(err.message, "the service returned no image");
        assert!(err.details.contains("request id: r9"), "{}", err.details);
    }

    #[test]
    fn native_async_results_layout() {
        let body = r#"{"output":{"task_status":"SUCCEEDED","results":[{"url":"https://h/w.png","actual_prompt":"a richer prompt"}]},"usage":{"image_count":1}}"#;
        let response = native(200, body).unwrap();
        assert_eq!(response.images, vec![ImageSource::Url("https://h/w.png".into())]);
        assert_eq!(response.revised_prompt.as_deref(), Some("a richer prompt"));
        let err = native_err(200, r#"{"output":{"task_status":"RUNNING","task_id":"t"}}"#);
        assert!(err.message.contains("RUNNING"), "{}", err.message);
    }

    #[test]
    fn native_error_fixture_even_with_http_200() {
        for status in [200, 400] {
            let err = native_err(status, NATIVE_ERROR);
            assert_eq!(err.kind, ErrorKind::InvalidRequest, "{status}");
            assert_eq!(err.message, "num_images_per_prompt must be 1");
            assert_eq!(err.status, Some(status));
            assert!(err.details.contains("request id: 9b2c6f0e-aaaa-bbbb-cccc-ddddeeeeffff"));
        }
        // The error shapes are recognised whichever shape the provider is set to.
        assert_eq!(openai_err(200, NATIVE_ERROR).kind, ErrorKind::InvalidRequest);
        assert_eq!(native_err(200, OPENAI_MODERATION).kind, ErrorKind::Moderation);
    }

    #[test]
    fn a_router_that_folds_several_images_into_one_data_item_still_yields_them_all() {
        let body = r#"{"data":[{"url":"https://h/last.png"}],
            "metadata":{"usage":{"image_count":3},
              "output":{"choices":[{"message":{"content":[{"image":"https://h/1.png"},{"image":"https://h/2.png"},{"image":"https://h/last.png"}]}}],
                        "task_metric":{"TOTAL":4,"SUCCEEDED":3,"FAILED":1}}}}"#;
        let response = parse_response(ResponseShape::OpenAi, 200, None, body.as_bytes()).unwrap();
        let links: Vec<ImageSource> = ["1", "2", "last"]
            .iter()
            .map(|n| ImageSource::Url(format!("https://h/{n}.png")))
            .collect();
        assert_eq!(response.images, links);
        assert_eq!(response.failed, 1, "a partial success says how many failed");
        assert_eq!(response.billed, Some(3), "the meter counts what was billed");
        // Without the quirk, data is taken as it is.
        let plain =
            r#"{"data":[{"url":"https://h/a.png"},{"url":"https://h/b.png"}],"metadata":{"usage":{"image_count":2}}}"#;
        let response = parse_response(ResponseShape::OpenAi, 200, None, plain.as_bytes()).unwrap();
        assert_eq!(response.images.len(), 2);
        assert_eq!(response.failed, 0);
    }

    #[test]
    fn native_partial_success_counts_the_failed_images() {
        let body = r#"{"output":{"choices":[{"message":{"content":[{"image":"https://h/1.png"},{"image":"https://h/2.png"}]}}],
            "task_metric":{"TOTAL":3,"SUCCEEDED":2,"FAILED":1}},"usage":{"image_count":2}}"#;
        let response = parse_response(ResponseShape::Native, 200, None, body.as_bytes()).unwrap();
        assert_eq!((response.images.len(), response.failed), (2, 1));
        assert_eq!(response.billed, Some(2), "failed images are not billed");
        let unsaid = r#"{"output":{"choices":[{"message":{"content":[{"image":"https://h/1.png"}]}}]}}"#;
        let response = parse_response(ResponseShape::Native, 200, None, unsaid.as_bytes()).unwrap();
        assert_eq!(response.billed, None);
    }

    #[test]
    fn native_success_codes_are_not_errors() {
        let body =
            r#"{"code":"","message":"","output":{"choices":[{"message":{"content":[{"image":"https://h/a.png"}]}}]}}"#;
        assert!(native(200, body).is_ok());
        let body = r#"{"code":200,"output":{"choices":[{"message":{"content":[{"image":"https://h/a.png"}]}}]}}"#;
        assert!(native(200, body).is_ok());
    }

    #[test]
    fn async_task_failures_are_errors_with_http_200() {
        let err = native_err(200, NATIVE_TASK_FAILED);
        assert_eq!(err.kind, ErrorKind::Moderation);
        assert_eq!(err.message, "Output data may contain inappropriate content.");
        assert!(err.details.contains("5e1d3c2b-0000-1111-2222-333344445555"));
        for status in ["CANCELED", "UNKNOWN", "failed"] {
            let body = format!(r#"{{"output":{{"task_id":"t","task_status":"{status}"}}}}"#);
            let err = native_err(200, &body);
            assert_eq!(err.kind, ErrorKind::Server, "{status}");
            assert!(err.message.contains(status), "{}", err.message);
        }
        let body = r#"{"output":{"task_status":"FAILED","code":"InternalError.Timeout","message":"aliAsyncTaskWait timeout"}}"#;
        assert_eq!(openai_err(200, body).kind, ErrorKind::Server);
    }

    /// Whether `text` holds a tag: a `<` followed by a letter, `/`, `!` or `?`, with a `>` after it.
    fn has_tag(text: &str) -> bool {
        text.match_indices('<').any(|(at, _)| {
            let after = &text[at + 1..];
            after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
                && after.contains('>')
        })
    }

    #[test]
    fn no_error_message_carries_a_tag() {
        let cases: &[(ResponseShape, u16, &str)] = &[
            (
                ResponseShape::OpenAi,
                400,
                r#"{"error":{"message":"bad <script>alert(1)</script> size"}}"#,
            ),
            (
                ResponseShape::OpenAi,
                400,
                r#"{"error":{"message":"&lt;b&gt;escaped&lt;/b&gt; <i>and not</i>"}}"#,
            ),
            (
                ResponseShape::OpenAi,
                200,
                r#"{"error":"<?xml version='1.0'?><a>hi</a>"}"#,
            ),
            (
                ResponseShape::OpenAi,
                400,
                r#"{"error":{"code":"IPInfringementSuspect","message":"<b>brand</b>"}}"#,
            ),
            (ResponseShape::OpenAi, 500, r#"{"detail":"x <div class='y'>z</div>"}"#),
            (
                ResponseShape::Native,
                200,
                r#"{"output":{"task_status":"<b>RUNNING</b>"}}"#,
            ),
            (
                ResponseShape::Native,
                400,
                r#"{"code":"InvalidParameter","message":"<img src=x onerror=alert(1)>"}"#,
            ),
            (
                ResponseShape::Native,
                200,
                r#"{"output":{"task_status":"FAILED","message":"<!-- c --> failed"}}"#,
            ),
            (
                ResponseShape::OpenAi,
                502,
                "<html><head><title>&lt;b&gt;Bad Gateway&lt;/b&gt;</title></head></html>",
            ),
            (
                ResponseShape::OpenAi,
                403,
                "<Error><Message>&lt;img src=x&gt; denied</Message></Error>",
            ),
            (ResponseShape::OpenAi, 500, "Oops <div class='x'>broken</div> again"),
            (ResponseShape::OpenAi, 500, "a <<b>b>c</b> d"),
        ];
        for &(shape, status, body) in cases {
            let err = parse_response(shape, status, None, body.as_bytes()).unwrap_err();
            for locale in ["en", "zh-CN"] {
                let message = err.user_message(locale);
                assert!(!has_tag(&message), "{body} gave {message:?}");
            }
        }
        // A `<` that opens no tag is text and stays.
        let err = openai_err(400, r#"{"error":{"message":"width must be < 4096 and > 0"}}"#);
        assert!(err.message.contains("width must be < 4096 and > 0"), "{}", err.message);
        let err = openai_err(400, r#"{"error":{"message":"bad <script>alert(1)</script> size"}}"#);
        assert_eq!(err.message, "bad alert(1) size");
    }

    #[test]
    fn gateway_html_pages_have_no_markup_in_the_message() {
        for (status, page, title) in [
            (504, GATEWAY_504, "504 Gateway Time-out"),
            (524, GATEWAY_524, "api.applerouter.ai | 524: A timeout occurred"),
            (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", ""),
        ] {
            let err = openai_err(status, page);
            assert_eq!(err.kind, ErrorKind::Gateway, "{status}");
            assert_eq!(err.status, Some(status));
            assert!(
                !err.message.contains('<') && !err.message.contains('>'),
                "{}",
                err.message
            );
            if title.is_empty() {
                assert!(err.message.contains("web page"), "{}", err.message);
            } else {
                assert_eq!(err.message, title);
            }
            assert!(err.details.contains("<html"), "raw page kept in details");
            assert!(
                err.user_message("en")
                    .contains("may still have been generated and billed")
            );
        }
    }

    #[test]
    fn huge_html_page_is_truncated_in_details() {
        let page = format!(
            "<html><head><title>Bad &amp; gateway</title></head><body>{}</body></html>",
            "x".repeat(100_000)
        );
        let err = openai_err(502, &page);
        assert_eq!(err.message, "Bad & gateway");
        assert!(err.details.len() < HTML_DETAILS_LIMIT + 200, "{}", err.details.len());
        assert!(err.details.contains("bytes in total"));
    }

    #[test]
    fn html_with_other_statuses_is_classified_by_status() {
        let page = "<html><head><title>401 Authorization Required</title></head></html>";
        assert_eq!(openai_err(401, page).kind, ErrorKind::Auth);
        assert_eq!(
            openai_err(503, "<html><title>Service Unavailable</title></html>").kind,
            ErrorKind::Server
        );
        let err = openai_err(200, "<!doctype html><html><title>Login</title></html>");
        assert_eq!(err.kind, ErrorKind::BadResponse);
        assert_eq!(err.message, "Login");
    }

    #[test]
    fn json_message_holding_an_html_page_is_cleaned() {
        let body = router_error("<html><head><title>504 Gateway Time-out</title></head><body>x</body></html>");
        let err = openai_err(504, &body);
        assert_eq!(err.kind, ErrorKind::Gateway);
        assert_eq!(err.message, "504 Gateway Time-out");
    }

    #[test]
    fn truncated_json_and_garbage_with_200_are_bad_responses() {
        for body in [
            &OPENAI_URL[..OPENAI_URL.len() / 2],
            "{",
            "not json at all",
            "\u{0}\u{1}",
        ] {
            let err = openai_err(200, body);
            assert_eq!(err.kind, ErrorKind::BadResponse, "{body:?}");
            assert_eq!(err.status, Some(200));
        }
        let err = openai_err(200, "");
        assert!(err.message.contains("empty body"), "{}", err.message);
        let err = openai_err(200, "[1,2]");
        assert_eq!(err.kind, ErrorKind::BadResponse);
    }

    #[test]
    fn non_json_bodies_with_error_statuses_are_classified_by_status() {
        assert_eq!(openai_err(401, "Unauthorized").kind, ErrorKind::Auth);
        assert_eq!(openai_err(429, "slow down").kind, ErrorKind::RateLimited);
        assert_eq!(openai_err(500, "boom").kind, ErrorKind::Server);
        assert_eq!(openai_err(503, "").kind, ErrorKind::Server);
        assert_eq!(openai_err(400, "nope").kind, ErrorKind::InvalidRequest);
        let err = parse_response(ResponseShape::OpenAi, 500, None, &[0xff, 0xfe, 0x00, 0x9c]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Server);
        assert!(err.message.contains("unreadable"), "{}", err.message);
        let err = openai_err(500, "aliAsyncTaskWait timeout (request id: 42)");
        assert_eq!(err.message, "aliAsyncTaskWait timeout");
        assert!(err.details.contains("request id: 42"));
    }

    #[test]
    fn json_error_status_without_known_fields() {
        let err = openai_err(502, r#"{"detail":"upstream connect error"}"#);
        assert_eq!(err.kind, ErrorKind::Gateway);
        assert_eq!(err.message, "upstream connect error");
        let err = openai_err(500, OPENAI_URL);
        assert_eq!(err.kind, ErrorKind::Server, "an error status is never a success");
        assert_eq!(err.message, "HTTP 500");
    }

    #[test]
    fn details_are_bounded_and_never_hold_signed_query_strings() {
        let long = format!(
            "{} (request id: r) see https://h/x.png?Signature=secret",
            "m".repeat(20_000)
        );
        let err = openai_err(400, &router_error(&long));
        assert!(err.details.len() < DETAILS_LIMIT + 200, "{}", err.details.len());
        assert!(err.message.chars().count() <= MESSAGE_LIMIT + 1);
        let err = openai_err(400, &router_error("bad link https://h/x.png?Signature=secret&x=1 here"));
        assert!(!err.details.contains("secret"), "{}", err.details);
        assert!(err.details.contains("https://h/x.png?…"), "{}", err.details);
    }

    #[test]
    fn debug_hides_url_query_and_bytes() {
        let url = ImageSource::Url("https://host/path/x.png?Expires=1&Signature=topsecret".into());
        assert_eq!(format!("{url:?}"), "Url(https://host/path/x.png?…)");
        let bytes = ImageSource::Bytes(vec![7; 12_345]);
        assert_eq!(format!("{bytes:?}"), "Bytes(12345 bytes)");
        let plain = ImageSource::Url("https://host/x.png".into());
        assert_eq!(format!("{plain:?}"), "Url(https://host/x.png)");
        let response = openai(200, OPENAI_URL).unwrap();
        let debug = format!("{response:?}");
        assert!(
            !debug.contains("Signature") && !debug.contains("OSSAccessKeyId"),
            "{debug}"
        );
    }

    #[test]
    fn redact_url_hides_user_info_and_fragment() {
        assert_eq!(redact_url("https://user:pw@host/p#frag"), "https://…@host/p?…");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("inf"), None);
        assert_eq!(parse_retry_after("1e300"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn deeply_nested_json_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(openai_err(200, &deep).kind, ErrorKind::BadResponse);
        let deep_error = format!(
            r#"{{"error":{}1{}}}"#,
            "{\"message\":".repeat(50_000),
            "}".repeat(50_000)
        );
        assert!(openai(400, &deep_error).is_err());
    }

    #[test]
    fn every_prefix_of_valid_bodies_never_panics() {
        for body in [
            OPENAI_URL,
            OPENAI_B64,
            OPENAI_MODERATION,
            NATIVE_SUCCESS,
            NATIVE_ERROR,
            NATIVE_TASK_FAILED,
            GATEWAY_524,
        ] {
            let bytes = body.as_bytes();
            for end in 0..=bytes.len() {
                for shape in [ResponseShape::OpenAi, ResponseShape::Native] {
                    for status in [200, 429, 502] {
                        let result = parse_response(shape, status, None, &bytes[..end]);
                        if end < bytes.len().saturating_sub(2) && status == 200 && body.starts_with('{') {
                            assert!(result.is_err(), "prefix {end} of {body}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        // A small xorshift generator: deterministic, no extra crate.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = br#"{}[]":,0123456789.-eE truefalsnul\u"errormessagedataurlb64_jsonoutputchoicesimage<>/"#;
        for round in 0..3_000 {
            let len = (next() % 200) as usize;
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 2 == 0 {
                        r as u8
                    } else {
                        alphabet[(r as usize) % alphabet.len()]
                    }
                })
                .collect();
            let status = [200, 400, 401, 429, 500, 502, 524][(next() % 7) as usize];
            for shape in [ResponseShape::OpenAi, ResponseShape::Native] {
                if let Err(err) = parse_response(shape, status, None, &body) {
                    assert_eq!(err.status, Some(status));
                    assert!(err.details.len() <= DETAILS_LIMIT + 200);
                }
            }
        }
    }

    #[test]
    fn response_shape_serializes_as_short_names() {
        assert_eq!(serde_json::to_string(&ResponseShape::OpenAi).unwrap(), "\"openai\"");
        assert_eq!(
            serde_json::from_str::<ResponseShape>("\"native\"").unwrap(),
            ResponseShape::Native
        );
    }

    #[test]
    fn a_body_cut_inside_its_last_character_is_still_read() {
        let mut body = br#"{"error":{"message":"Input data may contain inappropriate content. "#.to_vec();
        body.extend_from_slice(&"山".as_bytes()[..2]);
        let err = parse_response(ResponseShape::OpenAi, 400, None, &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Moderation, "{}", err.message);
        assert!(err.message.contains("inappropriate content"), "{}", err.message);
        // Invalid bytes in the middle still make the body unreadable.
        let err = parse_response(ResponseShape::OpenAi, 400, None, b"inappropriate \xff content").unwrap_err();
        assert!(err.message.contains("unreadable"), "{}", err.message);
    }
}
