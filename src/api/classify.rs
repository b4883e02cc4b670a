//! Turning an error answer (HTTP status, upstream code, message text) into an [`ErrorKind`],
//! and cleaning the service's message for people.
//!
//! The rules follow section 5 of the API contract. The upstream DashScope code is often
//! lost on the way through a router, so the message text counts as much as the code:
//! every needle below is matched case-insensitively against both.

use crate::error::ErrorKind;

/// Moderation: the prompt or the generated image was blocked.
const MODERATION: &[&str] = &[
    "datainspectionfailed",
    "inappropriate content",
    "green net",
    "content_policy_violation",
    "ipinfringementsuspect",
];

/// Codes that look like quota but are rate limits that clear by themselves
/// (`Throttling.RateQuota`, `Throttling.BurstRate`, and the per-minute
/// `Throttling.AllocationQuota` / "Allocated quota exceeded", contract §8); they must win
/// over the generic "quota" needle, so they are retried with backoff.
const RATE_LIMIT_DESPITE_QUOTA: &[&str] = &[
    "ratequota",
    "burstrate",
    "allocationquota",
    "allocated quota",
    "increased too quickly",
];

/// Balance, quota or account standing.
const QUOTA: &[&str] = &[
    "arrearage",
    "good standing",
    "insufficient_user_quota",
    "insufficient_quota",
    "quota",
    "额度",
    "余额不足",
];

/// The key was missing or rejected.
const AUTH: &[&str] = &[
    "invalidapikey",
    "invalid api-key",
    "invalid api key",
    "incorrect api key",
    "no api-key provided",
    "invalid token",
    "无效的令牌",
    "未提供令牌",
];

/// The model is unknown, not allowed for this key, or has no channel now.
const MODEL_UNAVAILABLE: &[&str] = &[
    "accessdenied",
    "model access denied",
    "modelnotfound",
    "model_not_found",
    "no available channel",
    "无可用渠道",
    "modelunavailable",
];

/// Too many requests.
const RATE_LIMITED: &[&str] = &["throttling", "rate limit", "ratelimit", "too many requests"];

/// The request timed out at the service (`RequestTimeOut`, HTTP 408).
const TIMEOUT: &[&str] = &["requesttimeout"];

/// The settings were rejected.
const INVALID_REQUEST: &[&str] = &["invalidparameter", "size does not match", "num_images_per_prompt"];

/// The service failed internally or the router gave up waiting.
const SERVER: &[&str] = &["internalerror", "aliasynctaskwait timeout"];

/// Statuses that only a gateway or proxy in front of the service sends.
pub(crate) const GATEWAY_STATUSES: [u16; 3] = [502, 504, 524];

/// Classifies an error answer by HTTP status, upstream code and message text, per the
/// contract's table (section 5).
///
/// Text signals win over the bare status, in this order: moderation, quota, auth, model
/// availability, rate limit, invalid request, server. So a 429 that says "quota exceeded"
/// is [`ErrorKind::Quota`] (retrying will not help), and an HTTP 200 error object is
/// classified by its code and message alone. Without a signal the status decides:
/// 401 auth, 402 quota, 429 rate limited, 502/504/524 gateway, other 5xx server,
/// other 4xx invalid request, anything else (2xx included) a bad response.
pub fn classify(status: u16, code: &str, message: &str) -> ErrorKind {
    let haystack = format!("{code}\n{message}").to_lowercase();
    classify_by_text(&haystack).unwrap_or_else(|| classify_by_status(status))
}

/// The kind named by the code or message text, if any needle matches.
fn classify_by_text(haystack: &str) -> Option<ErrorKind> {
    let has = |needles: &[&str]| needles.iter().any(|needle| haystack.contains(needle));
    if has(MODERATION) {
        Some(ErrorKind::Moderation)
    } else if has(RATE_LIMIT_DESPITE_QUOTA) {
        Some(ErrorKind::RateLimited)
    } else if has(QUOTA) {
        Some(ErrorKind::Quota)
    } else if has(AUTH) {
        Some(ErrorKind::Auth)
    } else if has(MODEL_UNAVAILABLE) {
        Some(ErrorKind::ModelUnavailable)
    } else if has(RATE_LIMITED) {
        Some(ErrorKind::RateLimited)
    } else if has(TIMEOUT) {
        Some(ErrorKind::Timeout)
    } else if has(INVALID_REQUEST) {
        Some(ErrorKind::InvalidRequest)
    } else if has(SERVER) {
        Some(ErrorKind::Server)
    } else {
        None
    }
}

/// The kind implied by the HTTP status alone.
fn classify_by_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Auth,
        402 => ErrorKind::Quota,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        status if GATEWAY_STATUSES.contains(&status) => ErrorKind::Gateway,
        500..=599 => ErrorKind::Server,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::BadResponse,
    }
}

/// Codes whose meaning the service's own message leaves unclear, with the sentence a
/// person needs (contract §5 and §8).
const HEADLINES: &[(&str, &str)] = &[
    ("ipinfringementsuspect", "possible copyrighted character or brand"),
    (
        "invalidparameter.datainspection",
        "a reference image's format is not supported",
    ),
    ("invalidurl", "a reference image could not be read from its address"),
    ("badrequest.toolarge", "a reference image is too large"),
    ("unpurchased", "this model is not activated for your account"),
    (
        "allocationquota",
        "the per-minute usage limit was reached; it clears within about a minute",
    ),
    (
        "allocated quota",
        "the per-minute usage limit was reached; it clears within about a minute",
    ),
];

/// The short message a person reads for a service message: the request id removed,
/// and for codes whose message is unclear a sentence that says what it means.
pub(crate) fn user_facing_message(code: &str, message: &str) -> String {
    let short = strip_request_id(message);
    let haystack = format!("{code}\n{message}").to_lowercase();
    let Some(headline) = HEADLINES
        .iter()
        .find(|(needle, _)| haystack.contains(needle))
        .map(|(_, headline)| *headline)
    else {
        return short;
    };
    if short.is_empty() {
        headline.to_owned()
    } else {
        format!("{headline} ({short})")
    }
}

/// Removes " (request id: …)" (and similar "(request id …)" / "(request_id: …)",
/// full-width parentheses included) from a message; the rest is kept as is, with
/// trailing whitespace trimmed.
pub fn strip_request_id(message: &str) -> String {
    let mut rest = message;
    let mut kept = String::with_capacity(message.len());
    while let Some(span) = find_request_id(rest) {
        let before = rest.get(..span.start).unwrap_or_default();
        kept.push_str(before.trim_end());
        rest = rest.get(span.end..).unwrap_or_default();
    }
    kept.push_str(rest);
    kept.trim_end().to_owned()
}

/// The first request id written into a message as "(request id: …)", if any.
pub(crate) fn request_id_in_message(message: &str) -> Option<String> {
    let span = find_request_id(message)?;
    let id = message.get(span.id_start..span.id_end)?.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// Where a "(request id: …)" group sits in a string (byte offsets).
struct RequestIdSpan {
    /// The opening parenthesis.
    start: usize,
    /// Just after the closing parenthesis (or the end of the string if it is missing).
    end: usize,
    /// The id itself.
    id_start: usize,
    /// The end of the id.
    id_end: usize,
}

/// Finds the first "(request id …)" group, tolerating `_`, `-` or a space between
/// "request" and "id", an optional `:` or `=`, and full-width parentheses.
/// Runs in time linear in the length of `text`.
fn find_request_id(text: &str) -> Option<RequestIdSpan> {
    let opens = text
        .char_indices()
        .inspect(|_| count_steps(1))
        .filter(|(_, c)| matches!(c, '(' | '（'));
    for (start, open) in opens {
        let after_open = start + open.len_utf8();
        let Some(label_len) = request_id_label_len(text.get(after_open..)?) else {
            continue;
        };
        let id_search = after_open + label_len;
        let tail = text.get(id_search..)?;
        let close = tail
            .char_indices()
            .inspect(|_| count_steps(1))
            .find(|(_, c)| matches!(c, ')' | '）'));
        let (id_end, end) = match close {
            Some((at, c)) => (id_search + at, id_search + at + c.len_utf8()),
            None => (text.len(), text.len()),
        };
        let raw_id = text.get(id_search..id_end)?;
        let padding = raw_id.len() - raw_id.trim_start_matches([':', '=', ' ', '：']).len();
        return Some(RequestIdSpan {
            start,
            end,
            id_start: id_search + padding,
            id_end,
        });
    }
    None
}

/// The length of a "request id" label (any case) at the start of `text`, after
/// optional spaces; `None` when `text` does not start with one.
fn request_id_label_len(text: &str) -> Option<usize> {
    let trimmed = text.trim_start();
    count_steps(text.len() - trimmed.len() + "request_id".len());
    let after_request = strip_prefix_ignore_case(trimmed, "request")?;
    let after_separator = after_request.strip_prefix([' ', '_', '-']).unwrap_or(after_request);
    let after_id = strip_prefix_ignore_case(after_separator, "id")?;
    // "(request identifier …)" or "(requested …)" are not request ids.
    if after_id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(text.len() - after_id.len())
}

#[cfg(test)]
thread_local! {
    /// Characters [`find_request_id`] has looked at on this thread, so a test can check
    /// that stripping request ids stays linear by counting work instead of timing it.
    static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts `steps` characters looked at (in tests; nothing otherwise).
#[cfg(test)]
fn count_steps(steps: usize) {
    STEPS.with(|total| total.set(total.get() + steps));
}

/// Counts `steps` characters looked at (in tests; nothing otherwise).
#[cfg(not(test))]
#[inline(always)]
fn count_steps(_steps: usize) {}

/// `text` without an ASCII `prefix` matched case-insensitively.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn moderation_rows() {
        for (status, code, message) in [
            (
                400,
                "DataInspectionFailed",
                "Input data may contain inappropriate content.",
            ),
            (
                400,
                "bad_response_status_code",
                "Input data may contain inappropriate content. (request id: 1)",
            ),
            (400, "", "Output data may contain inappropriate content."),
            (400, "", "The request was rejected by Green net."),
            (200, "InternalError.Algo.DataInspectionFailed", ""),
            (
                400,
                "IPInfringementSuspect",
                "Input data is suspected of being involved in IP infringement.",
            ),
        ] {
            assert_eq!(
                classify(status, code, message),
                ErrorKind::Moderation,
                "{code} {message}"
            );
        }
    }

    #[test]
    fn invalid_request_rows() {
        for (status, code, message) in [
            (400, "InvalidParameter", "The size is not supported."),
            (400, "", "The size does not match the allowed sizes"),
            (200, "", "num_images_per_prompt must be 1"),
            (400, "bad_response_status_code", "something unexpected"),
            (404, "", "Not Found"),
        ] {
            assert_eq!(
                classify(status, code, message),
                ErrorKind::InvalidRequest,
                "{code} {message}"
            );
        }
    }

    #[test]
    fn quota_rows() {
        for (status, code, message) in [
            (
                400,
                "Arrearage",
                "Access denied, please make sure your account is in good standing.",
            ),
            (
                400,
                "",
                "Access denied, please make sure your account is in good standing.",
            ),
            (402, "", "Payment required"),
            (403, "", "user quota is not enough"),
            (403, "insufficient_user_quota", "预扣费额度失败"),
            (403, "", "用户额度不足"),
            (401, "", "该令牌额度已用尽"),
        ] {
            assert_eq!(classify(status, code, message), ErrorKind::Quota, "{code} {message}");
        }
    }

    #[test]
    fn auth_rows() {
        for (status, code, message) in [
            (401, "InvalidApiKey", "Invalid API-key provided."),
            (401, "", "Invalid token"),
            (401, "", "无效的令牌"),
            (200, "InvalidApiKey", ""),
            (401, "", "whatever"),
        ] {
            assert_eq!(classify(status, code, message), ErrorKind::Auth, "{code} {message}");
        }
    }

    #[test]
    fn model_unavailable_rows() {
        for (status, code, message) in [
            (403, "AccessDenied", "Access denied."),
            (403, "", "Model access denied."),
            (404, "ModelNotFound", "Model not found"),
            (
                503,
                "",
                "No available channel for model qwen-image-plus under group default",
            ),
            (
                503,
                "model_not_found",
                "当前分组 default 下对于模型 qwen-image-plus 无可用渠道",
            ),
            (503, "ModelUnavailable", "busy"),
        ] {
            assert_eq!(
                classify(status, code, message),
                ErrorKind::ModelUnavailable,
                "{code} {message}"
            );
        }
    }

    #[test]
    fn rate_limited_rows() {
        for (status, code, message) in [
            (429, "Throttling", "Requests throttling triggered."),
            (429, "", "Requests rate limit exceeded, please try again later."),
            (429, "Throttling.RateQuota", "Requests rate limit exceeded"),
            (429, "", ""),
            (200, "", "rate limit reached"),
        ] {
            assert_eq!(
                classify(status, code, message),
                ErrorKind::RateLimited,
                "{code} {message}"
            );
        }
    }

    #[test]
    fn server_and_gateway_rows() {
        assert_eq!(classify(500, "InternalError", "oops"), ErrorKind::Server);
        assert_eq!(classify(500, "", "aliAsyncTaskWait timeout"), ErrorKind::Server);
        assert_eq!(
            classify(200, "", "aliAsyncTaskWait timeout (request id: x)"),
            ErrorKind::Server
        );
        assert_eq!(classify(500, "", ""), ErrorKind::Server);
        assert_eq!(classify(503, "", "busy"), ErrorKind::Server);
        for status in [502, 504, 524] {
            assert_eq!(classify(status, "", "Gateway Time-out"), ErrorKind::Gateway);
        }
    }

    #[test]
    fn unknown_falls_back_to_status_family() {
        assert_eq!(classify(200, "", "something"), ErrorKind::BadResponse);
        assert_eq!(classify(418, "", "something"), ErrorKind::InvalidRequest);
        assert_eq!(classify(599, "", "something"), ErrorKind::Server);
        assert_eq!(classify(302, "", ""), ErrorKind::BadResponse);
    }

    #[test]
    fn classification_is_case_insensitive() {
        assert_eq!(classify(400, "", "INAPPROPRIATE CONTENT"), ErrorKind::Moderation);
        assert_eq!(classify(400, "datainspectionfailed", ""), ErrorKind::Moderation);
        assert_eq!(classify(503, "", "NO AVAILABLE CHANNEL"), ErrorKind::ModelUnavailable);
    }

    #[test]
    fn strips_request_id_variants() {
        assert_eq!(
            strip_request_id("Input data may contain inappropriate content. (request id: 2026052007abc)"),
            "Input data may contain inappropriate content."
        );
        assert_eq!(strip_request_id("bad (request id 123) thing"), "bad thing");
        assert_eq!(strip_request_id("bad (request_id: 123)"), "bad");
        assert_eq!(strip_request_id("bad (Request-ID=123)"), "bad");
        assert_eq!(strip_request_id("坏了（request id: 123）"), "坏了");
        assert_eq!(strip_request_id("cut off (request id: 12"), "cut off");
        assert_eq!(strip_request_id("a (request id: 1) b (request id: 2)"), "a b");
        assert_eq!(
            strip_request_id("keep (requested size) here"),
            "keep (requested size) here"
        );
        assert_eq!(strip_request_id("no id here"), "no id here");
        assert_eq!(strip_request_id(""), "");
        assert_eq!(strip_request_id("Bad (REQUEST ID: 9)"), "Bad");
    }

    #[test]
    fn stripping_many_request_ids_stays_linear() {
        // Counted, not timed: a loaded machine cannot make this fail, a quadratic scan does.
        for input in [
            "x (request id: 1) ( ".repeat(50_000),
            "( ".repeat(100_000) + "(request id: 7",
            "（request-id：9） ".repeat(20_000),
        ] {
            STEPS.with(|steps| steps.set(0));
            let stripped = strip_request_id(&input);
            let steps = STEPS.with(std::cell::Cell::get);
            assert!(
                !stripped.contains("request"),
                "{}",
                &stripped[..100.min(stripped.len())]
            );
            let chars = input.chars().count();
            // Each character is passed over once, plus a label check at each parenthesis.
            assert!(steps <= 8 * chars, "{steps} steps for {chars} characters");
        }
    }

    #[test]
    fn extracts_request_id() {
        assert_eq!(
            request_id_in_message("x (request id: 2026052007abc)").as_deref(),
            Some("2026052007abc")
        );
        assert_eq!(request_id_in_message("x (request_id=abc-1)").as_deref(), Some("abc-1"));
        assert_eq!(request_id_in_message("x (request id: )"), None);
        assert_eq!(request_id_in_message("nothing"), None);
    }

    #[test]
    fn ip_infringement_gets_its_own_sentence() {
        let message = user_facing_message(
            "",
            "IPInfringementSuspect: the input is suspected of IP infringement (request id: 7)",
        );
        assert!(
            message.starts_with("possible copyrighted character or brand"),
            "{message}"
        );
        assert!(!message.contains("request id"), "{message}");
        assert_eq!(user_facing_message("x", "plain (request id: 7)"), "plain");
    }

    #[test]
    fn the_codes_added_in_contract_section_8_are_classified_and_explained() {
        let cases = [
            (
                400,
                "InvalidParameter.DataInspection",
                "The media format is not supported",
                ErrorKind::InvalidRequest,
                "format is not supported",
            ),
            (
                400,
                "InvalidURL",
                "url error",
                ErrorKind::InvalidRequest,
                "could not be read",
            ),
            (
                400,
                "BadRequest.EmptyInput",
                "Required input parameter missing",
                ErrorKind::InvalidRequest,
                "",
            ),
            (
                403,
                "AccessDenied.Unpurchased",
                "Access denied",
                ErrorKind::ModelUnavailable,
                "not activated",
            ),
            (408, "RequestTimeOut", "Request timed out", ErrorKind::Timeout, ""),
            (
                413,
                "BadRequest.TooLarge",
                "Payload too large",
                ErrorKind::InvalidRequest,
                "too large",
            ),
            (
                429,
                "Throttling.RateQuota",
                "Requests rate limit exceeded",
                ErrorKind::RateLimited,
                "",
            ),
            (
                429,
                "Throttling",
                "Request rate increased too quickly",
                ErrorKind::RateLimited,
                "",
            ),
            (
                429,
                "Throttling.AllocationQuota",
                "Allocated quota exceeded",
                ErrorKind::RateLimited,
                "per-minute",
            ),
            (500, "InternalError.Algo", "Inner error", ErrorKind::Server, ""),
        ];
        for (status, code, message, kind, sentence) in cases {
            assert_eq!(classify(status, code, message), kind, "{code}");
            let shown = user_facing_message(code, message);
            assert!(shown.contains(sentence), "{code}: {shown}");
        }
        // Through a router the code is often lost: the message alone still decides.
        assert_eq!(
            classify(429, "", "Allocated quota exceeded, please retry later"),
            ErrorKind::RateLimited
        );
        assert_eq!(classify(408, "", "timeout"), ErrorKind::Timeout);
    }
}
