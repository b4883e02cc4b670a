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
        // Whatever else the file holds, the metadata we wrote must read back.
        let meta = read_metadata(&with_text).expect("the metadata we embedded must read back");
        assert_eq!(meta.prompt, "山水");
    }
});
