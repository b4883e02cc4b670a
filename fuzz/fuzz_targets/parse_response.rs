//! Any HTTP answer (status, Retry-After, body, either layout) must parse to a value or an
//! error, never panic; an error never carries markup in its short message.
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
            let _ = err.user_message("en");
            let _ = err.user_message("zh-CN");
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = parse_retry_after(text);
        let _ = pictor::api::response::redact_url(text);
    }
});
