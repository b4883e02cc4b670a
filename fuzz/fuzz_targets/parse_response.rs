//! Any HTTP answer (status, Retry-After, body, either layout) must parse to a value or an
//! error, never panic; an error's message for people (English and Chinese) never holds a tag.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pictor::api::response::{ResponseShape, parse_response, parse_retry_after};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((status_bytes, body)) = rest.split_at_checked(2) else {
        return;
    };
    let status = 100 + u16::from_be_bytes([status_bytes[0], status_bytes[1]]) % 500;
    let shape = if selector & 1 == 0 {
        ResponseShape::OpenAi
    } else {
        ResponseShape::Native
    };
    let retry_after = (selector & 2 != 0).then(|| Duration::from_secs(u64::from(selector >> 2)));
    match parse_response(shape, status, retry_after, body) {
        Ok(response) => assert!(!response.images.is_empty(), "a success without images"),
        Err(err) => {
            for locale in ["en", "zh-CN"] {
                let message = err.user_message(locale);
                assert!(!has_tag(&message), "markup in the {locale} message: {message:?}");
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = parse_retry_after(text);
        let _ = pictor::api::response::redact_url(text);
    }
});

/// Whether `text` holds a tag: a `<` followed by a letter, `/`, `!` or `?`, with a `>`
/// after it (what `parse_response` promises to remove from every error message).
fn has_tag(text: &str) -> bool {
    text.match_indices('<').any(|(at, _)| {
        let after = text.get(at + 1..).unwrap_or_default();
        after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
            && after.contains('>')
    })
}
