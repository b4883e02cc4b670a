//! The performance report: measures ingest (against the naive way, in the same run),
//! UI frames at 100 and 10,000 images, opening and searching a 10,000-image library,
//! memory after scrolling through all of it and the longest frame while images ingest.
//! Prints a budget table, then one JSON object as the last line.
//!
//! `cargo run --release --example perf_report` (no display needed: egui_kittest).

#[path = "../benches/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use pictor::library::{Library, LibraryPaths, Query};
use pictor::metadata::ImageMeta;
use support::{Rng, Stock, ms, or_exit};

const BIG: usize = 10_000;
const SMALL: usize = 100;

fn main() {
    let total = Instant::now();
    let figures = Figures::measure();
    figures.print_table();
    eprintln!("(report took {:.0} s)", total.elapsed().as_secs_f64());
    println!("{}", figures.json());
}

#[derive(Debug, Default)]
struct Figures {
    ingest_ms: f64,
    ingest_naive_ms: f64,
    frame_ms_100: f64,
    frame_ms_10000: f64,
    library_open_ms_10000: f64,
    search_ms_10000: f64,
    texture_mb_after_scroll_10000: f64,
    rss_mb_after_scroll_10000: f64,
    max_frame_ms_during_ingest: f64,
    // Context for the table (not in the JSON).
    sample_png_bytes: usize,
    search_short_ms_10000: f64,
    listing_ms_10000: f64,
    textures_after_scroll: usize,
    frames_over_16ms_during_ingest: usize,
    frames_during_ingest: usize,
}

impl Figures {
    fn measure() -> Self {
        let mut figures = Self::default();
        figures.measure_ingest();
        let stock = Stock::new(8);
        let dir = or_exit(tempfile::tempdir(), "make a temp dir");
        let started = Instant::now();
        let big = support::populated_library(&dir.path().join("big"), BIG, &stock);
        eprintln!(
            "populated {BIG} images through Library::insert in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        figures.measure_library(&dir.path().join("big"), &big);
        let runtime = support::runtime();
        {
            let small = support::populated_library(&dir.path().join("small"), SMALL, &stock);
            let mut harness = support::app_harness(&runtime, small);
            harness.hover_at(support::gallery_point());
            support::settle_gallery(&mut harness, SMALL);
            figures.frame_ms_100 = frame_median(&mut harness);
        }
        let mut harness = support::app_harness(&runtime, Arc::clone(&big));
        harness.hover_at(support::gallery_point());
        support::settle_gallery(&mut harness, BIG);
        figures.frame_ms_10000 = frame_median(&mut harness);
        figures.scroll_through(&mut harness);
        figures.frames_while_ingesting(&mut harness, &runtime, &big);
        drop(harness);
        runtime.shutdown_timeout(Duration::from_secs(5));
        figures
    }

    /// Ours (ingest + insert into a library) and the naive way, alternating, on the same
    /// realistic 1328×1328 PNG.
    fn measure_ingest(&mut self) {
        let png = support::png_bytes(&support::photo_like(1328, 1328, 42));
        self.sample_png_bytes = png.len();
        let dir = or_exit(tempfile::tempdir(), "make a temp dir");
        let library = or_exit(
            pictor::generate::open_library(LibraryPaths::in_dir(dir.path())),
            "open the ingest library",
        );
        let meta = support::sample_meta(0, &mut Rng::new(1));
        let ours = || {
            let started = Instant::now();
            or_exit(pictor::generate::store_blocking(&library, &png, &meta), "ingest");
            started.elapsed()
        };
        let naive = || {
            let started = Instant::now();
            std::hint::black_box(support::naive_ingest(&png));
            started.elapsed()
        };
        let (mut our_times, mut naive_times) = (Vec::new(), Vec::new());
        for round in 0..17 {
            let (a, b) = (ours(), naive());
            if round >= 2 {
                our_times.push(a);
                naive_times.push(b);
            }
        }
        self.ingest_ms = ms(support::median(&mut our_times));
        self.ingest_naive_ms = ms(support::median(&mut naive_times));
    }

    fn measure_library(&mut self, dir: &std::path::Path, big: &Library) {
        let mut opens = Vec::new();
        for _ in 0..7 {
            let started = Instant::now();
            let library = or_exit(
                pictor::generate::open_library(LibraryPaths::in_dir(dir)),
                "reopen the library",
            );
            opens.push(started.elapsed());
            drop(library);
        }
        self.library_open_ms_10000 = ms(support::median(&mut opens));
        let time_query = |query: &Query| {
            let mut times = Vec::new();
            let mut found = 0;
            for _ in 0..21 {
                let started = Instant::now();
                found = or_exit(big.query(query), "query").len();
                times.push(started.elapsed());
            }
            (ms(support::median(&mut times)), found)
        };
        let search = |text: &str| Query {
            search: text.to_owned(),
            ..Query::default()
        };
        let (search_ms, found) = time_query(&search("lighthouse"));
        self.search_ms_10000 = search_ms;
        eprintln!("search “lighthouse”: {found} of {BIG} images");
        let (short_ms, found) = time_query(&search("山水"));
        self.search_short_ms_10000 = short_ms;
        eprintln!("search “山水” (two characters, LIKE): {found} of {BIG} images");
        let (listing_ms, found) = time_query(&Query::default());
        self.listing_ms_10000 = listing_ms;
        eprintln!("full listing: {found} images");
    }

    /// Wheel-scrolls the gallery from the newest image to the oldest, letting the
    /// visible thumbnails load on every screen, then reads textures and RSS.
    fn scroll_through(&mut self, harness: &mut egui_kittest::Harness<'static, pictor::ui::app::PictorApp>) {
        let oldest = "#00000 ";
        let started = Instant::now();
        let mut screens = 0;
        while harness.query_by_label_contains(oldest).is_none() && started.elapsed() < Duration::from_secs(150) {
            harness.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, -700.0),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Trackpad,
                modifiers: egui::Modifiers::NONE,
            });
            harness.step();
            support::settle_thumbnails(harness);
            screens += 1;
        }
        let reached = harness.query_by_label_contains(oldest).is_some();
        eprintln!(
            "scrolled {screens} screens in {:.1} s, reached the oldest image: {reached}",
            started.elapsed().as_secs_f64()
        );
        if !reached {
            eprintln!("warning: the scroll did not reach the end of the gallery");
        }
        let (bytes, count) = harness.state().thumbnail_texture_stats();
        self.texture_mb_after_scroll_10000 = bytes as f64 / (1024.0 * 1024.0);
        self.textures_after_scroll = count;
        self.rss_mb_after_scroll_10000 = support::rss_mib().unwrap_or(f64::NAN);
    }

    /// Eight realistic images ingested on the runtime's blocking pool, two at a time (the
    /// app's default job concurrency), while frames run at a 60 Hz pace.
    fn frames_while_ingesting(
        &mut self,
        harness: &mut egui_kittest::Harness<'static, pictor::ui::app::PictorApp>,
        runtime: &tokio::runtime::Runtime,
        library: &Arc<Library>,
    ) {
        let images: Vec<Arc<Vec<u8>>> = (0..8)
            .map(|i| Arc::new(support::png_bytes(&support::photo_like(1328, 1328, 300 + i))))
            .collect();
        let permits = Arc::new(tokio::sync::Semaphore::new(2));
        let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(images.len()));
        for (i, png) in images.into_iter().enumerate() {
            let library = Arc::clone(library);
            let permits = Arc::clone(&permits);
            let remaining = Arc::clone(&remaining);
            runtime.spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                let meta = ImageMeta {
                    prompt: format!("ingest during frames {i}"),
                    ..ImageMeta::default()
                };
                let stored = tokio::task::spawn_blocking(move || {
                    pictor::generate::store_blocking(&library, &png, &meta).map(|_| ())
                })
                .await;
                if !matches!(stored, Ok(Ok(()))) {
                    eprintln!("warning: a background ingest failed");
                }
                remaining.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        let mut longest = Duration::ZERO;
        let (mut frames, mut over) = (0, 0);
        let started = Instant::now();
        while remaining.load(std::sync::atomic::Ordering::SeqCst) > 0 && started.elapsed() < Duration::from_secs(60) {
            let frame_started = Instant::now();
            let frame = support::full_frame(harness);
            longest = longest.max(frame);
            frames += 1;
            over += usize::from(frame > Duration::from_millis(16));
            std::thread::sleep(Duration::from_millis(16).saturating_sub(frame_started.elapsed()));
        }
        self.max_frame_ms_during_ingest = ms(longest);
        self.frames_during_ingest = frames;
        self.frames_over_16ms_during_ingest = over;
    }

    fn print_table(&self) {
        let rows: [(&str, String, f64, bool); 9] = [
            (
                "ingest (ours) vs naive",
                "≥ 2× faster".into(),
                self.ingest_ms,
                self.ingest_ms * 2.0 <= self.ingest_naive_ms,
            ),
            ("ingest, naive way", "-".into(), self.ingest_naive_ms, true),
            ("frame, 100 images", "-".into(), self.frame_ms_100, true),
            (
                "frame, 10,000 images",
                format!("≤ {:.2} ms and ≤ 4 ms", 1.25 * self.frame_ms_100),
                self.frame_ms_10000,
                self.frame_ms_10000 <= 1.25 * self.frame_ms_100 && self.frame_ms_10000 <= 4.0,
            ),
            (
                "open 10,000-image library",
                "≤ 150 ms".into(),
                self.library_open_ms_10000,
                self.library_open_ms_10000 <= 150.0,
            ),
            (
                "search 10,000 prompts",
                "≤ 20 ms".into(),
                self.search_ms_10000,
                self.search_ms_10000 <= 20.0,
            ),
            (
                "textures after scroll (MiB)",
                "≤ 128".into(),
                self.texture_mb_after_scroll_10000,
                self.texture_mb_after_scroll_10000 <= 128.0,
            ),
            (
                "RSS after scroll (MiB)",
                "≤ 300".into(),
                self.rss_mb_after_scroll_10000,
                self.rss_mb_after_scroll_10000 <= 300.0,
            ),
            (
                "longest frame, 8 ingesting",
                "≤ 16 ms".into(),
                self.max_frame_ms_during_ingest,
                self.max_frame_ms_during_ingest <= 16.0,
            ),
        ];
        println!();
        println!(
            "{:<30} {:>24} {:>10}  result",
            "measure (ms unless noted)", "budget", "measured"
        );
        for (name, budget, measured, pass) in rows {
            let result = if budget == "-" {
                "info"
            } else if pass {
                "PASS"
            } else {
                "FAIL"
            };
            println!("{name:<30} {budget:>24} {measured:>10.2}  {result}");
        }
        println!();
        println!(
            "context: sample PNG {:.2} MB; naive/ours = {:.2}×; 2-char search {:.2} ms; full listing query {:.2} ms; \
             {} textures after scroll; {} of {} frames over 16 ms while ingesting",
            self.sample_png_bytes as f64 / 1e6,
            self.ingest_naive_ms / self.ingest_ms,
            self.search_short_ms_10000,
            self.listing_ms_10000,
            self.textures_after_scroll,
            self.frames_over_16ms_during_ingest,
            self.frames_during_ingest
        );
        println!(
            "frames are CPU time (app logic + layout + AccessKit + tessellation) in the headless harness; \
             no GPU upload or draw"
        );
    }

    fn json(&self) -> String {
        let round = |value: f64| (value * 1000.0).round() / 1000.0;
        serde_json::json!({
            "ingest_ms": round(self.ingest_ms),
            "ingest_naive_ms": round(self.ingest_naive_ms),
            "frame_ms_100": round(self.frame_ms_100),
            "frame_ms_10000": round(self.frame_ms_10000),
            "library_open_ms_10000": round(self.library_open_ms_10000),
            "search_ms_10000": round(self.search_ms_10000),
            "texture_mb_after_scroll_10000": round(self.texture_mb_after_scroll_10000),
            "rss_mb_after_scroll_10000": round(self.rss_mb_after_scroll_10000),
            "max_frame_ms_during_ingest": round(self.max_frame_ms_during_ingest),
        })
        .to_string()
    }
}

/// The median of 150 full frames with the gallery showing and its thumbnails cached.
fn frame_median(harness: &mut egui_kittest::Harness<'static, pictor::ui::app::PictorApp>) -> f64 {
    for _ in 0..20 {
        support::full_frame(harness);
    }
    let mut frames: Vec<Duration> = (0..150).map(|_| support::full_frame(harness)).collect();
    ms(support::median(&mut frames))
}
