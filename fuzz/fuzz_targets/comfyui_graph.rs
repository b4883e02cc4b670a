//! Any text as a ComfyUI `prompt` graph: the walker never panics and never hangs (cycles,
//! missing nodes, deep chains and wrong types become notes), and a reading of a graph is
//! always ComfyUI's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pictor::imaging::read_comfyui_graph;

fuzz_target!(|data: &[u8]| {
    let reading = read_comfyui_graph(&String::from_utf8_lossy(data));
    assert_eq!(reading.tool, Some(pictor::metadata::SourceTool::ComfyUi));
});
