//! Any text as an A1111 `parameters` block: parsing never panics, and what Pictor writes
//! from the parsed metadata parses again to the same metadata (prompt, negative prompt,
//! seed, size and model), as `to_a1111`'s documentation promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pictor::imaging::{parse_a1111, to_a1111};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let meta = parse_a1111(text);
    let written = to_a1111(&meta);
    let again = parse_a1111(&written);
    assert_eq!(again, meta, "{text:?} was written as {written:?}");
});
