//! Makes a library of N images for `scripts/window-perf.sh`:
//! `cargo run --release --example perf_library -- DIR N`.
//!
//! The rows, prompts and thumbnails are realistic: every thumbnail is the real JPEG
//! thumbnail of a full-size photograph-like image (eight distinct ones, cycled through
//! Qwen-Image's sizes). The image files themselves are small 64×64 PNG stand-ins, so
//! 10,000 images take megabytes rather than 20 GB of disk; the window reads only
//! thumbnails while it scrolls, so what it does is the same.

#[path = "../benches/support/mod.rs"]
mod support;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(count)) = (args.next(), args.next()) else {
        eprintln!("usage: perf_library DIR COUNT");
        std::process::exit(2);
    };
    let count: usize = support::or_exit(count.parse(), "read COUNT");
    let dir = std::path::PathBuf::from(dir);
    if dir.join("library.sqlite3").exists() {
        eprintln!("{} already holds a library; give an empty folder", dir.display());
        std::process::exit(2);
    }
    let started = std::time::Instant::now();
    let stock = support::Stock::new(8);
    let library = support::populated_library(&dir, count, &stock);
    let stored = support::or_exit(library.count(&pictor::library::Query::default()), "count the images");
    eprintln!(
        "{stored} images in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
}
