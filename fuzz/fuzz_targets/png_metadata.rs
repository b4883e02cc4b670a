//! Any bytes given as a stored or imported PNG: reading the text chunks, the embedded
//! metadata and the header size must answer, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pictor::imaging::{embed_png_text, read_meta_and_size, read_metadata, read_png_text};

fuzz_target!(|data: &[u8]| {
    let _ = read_png_text(data);
    let _ = read_metadata(data);
    let _ = read_meta_and_size(data);
    if let Ok(with_text) = embed_png_text(data, &[("pictor", "{\"prompt\":\"山水\"}")]) {
        // What we wrote must read back.
        let texts = read_png_text(&with_text).expect("text chunks we embedded must read back");
        assert!(texts.iter().any(|(key, value)| key == "pictor" && value.contains("山水")));
    }
});
