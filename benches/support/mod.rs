//! Shared by `benches/perf.rs` and `examples/perf_report.rs`: realistic test images,
//! a populated library, the real `PictorApp` in a headless egui_kittest harness, and
//! the small measuring helpers both need.

#![allow(dead_code)]

use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageEncoder, RgbImage};
use pictor::api::provider::Provider;
use pictor::connection::Overrides;
use pictor::demo::DemoServer;
use pictor::imaging::{self, DecodeLimits};
use pictor::library::{Checked, ImageRecord, Library, LibraryPaths, NewImage};
use pictor::metadata::ImageMeta;
use pictor::secrets::{MemoryStore, SecretStore, Secrets};
use pictor::ui::app::{AppDeps, PictorApp};

/// The window size the frame figures are measured at (logical points).
pub const WINDOW: [f32; 2] = [1400.0, 900.0];

/// Prints `what` and the error, then exits: setup failures end a benchmark run with a
/// message instead of a panic.
pub fn or_exit<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => {
            eprintln!("perf setup failed: {what}: {err}");
            std::process::exit(2);
        }
    }
}

/// A small deterministic generator (SplitMix64): the same images and prompts every run.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// An index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A lattice of random values, sampled with smooth (bilinear, smoothstep) interpolation.
struct ValueNoise {
    cells: usize,
    values: Vec<f32>,
}

impl ValueNoise {
    fn new(cells: usize, rng: &mut Rng) -> Self {
        let values = (0..(cells + 1) * (cells + 1)).map(|_| rng.unit() * 2.0 - 1.0).collect();
        Self { cells, values }
    }

    /// Noise at (u, v) in [0, 1]².
    fn at(&self, u: f32, v: f32) -> f32 {
        let x = u * self.cells as f32;
        let y = v * self.cells as f32;
        let (x0, y0) = ((x as usize).min(self.cells - 1), (y as usize).min(self.cells - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let row = self.cells + 1;
        let value = |cx: usize, cy: usize| self.values[cy * row + cx];
        let top = value(x0, y0) + (value(x0 + 1, y0) - value(x0, y0)) * sx;
        let bottom = value(x0, y0 + 1) + (value(x0 + 1, y0 + 1) - value(x0, y0 + 1)) * sx;
        top + (bottom - top) * sy
    }
}

/// A photograph-like picture: a lit colour field with large shapes, fractal texture at
/// several scales and per-pixel sensor grain. It compresses like a real generation
/// (about 1.5–2.5 bytes per pixel as PNG), unlike a flat gradient.
pub fn photo_like(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = Rng::new(seed);
    let octaves: Vec<(ValueNoise, f32)> = [(3, 0.55), (9, 0.25), (27, 0.12), (81, 0.06), (243, 0.03)]
        .into_iter()
        .map(|(cells, weight)| (ValueNoise::new(cells, &mut rng), weight))
        .collect();
    let palette: Vec<[f32; 3]> = (0..3)
        .map(|_| [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0])
        .collect();
    let light = (rng.unit(), rng.unit());
    let mut grain = Rng::new(seed ^ 0xA5A5_5A5A);
    let side = width.max(height) as f32;
    RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / side, y as f32 / side);
        let texture: f32 = octaves.iter().map(|(noise, weight)| noise.at(u, v) * weight).sum();
        let shade = 0.55 + 0.45 * (1.0 - ((u - light.0).powi(2) + (v - light.1).powi(2)).sqrt()).clamp(0.0, 1.0);
        let mix = (texture * 1.6 + 0.5).clamp(0.0, 1.0);
        let (a, b, c) = (&palette[0], &palette[1], &palette[2]);
        let mut pixel = [0u8; 3];
        for (channel, out) in pixel.iter_mut().enumerate() {
            let base = if mix < 0.5 {
                a[channel] + (b[channel] - a[channel]) * mix * 2.0
            } else {
                b[channel] + (c[channel] - b[channel]) * (mix - 0.5) * 2.0
            };
            let noise = (grain.unit() - 0.5) * 7.0;
            *out = (base * shade + noise).clamp(0.0, 255.0) as u8;
        }
        image::Rgb(pixel)
    })
}

/// `image` as a PNG with the default settings of the `image` crate (what a server
/// writing PNGs typically produces).
pub fn png_bytes(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    or_exit(
        PngEncoder::new(&mut out).write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        ),
        "encode the sample PNG",
    );
    out
}

/// The plain way to ingest: the same steps with the same outputs as
/// `generate::store_blocking` (header check and embedded metadata, a full decode within
/// the same limits, the pixel hash, a 320-px JPEG thumbnail of quality 85, the file
/// written durably, the thumbnail and the row), but one after the other on one thread,
/// and the thumbnail made with the `image` crate's own resize (`resize_exact`, triangle
/// filter: the same bilinear convolution ours runs with SIMD).
pub fn plain_ingest(library: &Library, bytes: &[u8], meta: &ImageMeta) -> ImageRecord {
    let limits = DecodeLimits::default();
    let prepared = or_exit(imaging::prepare(bytes, meta, &limits), "plain: check the header");
    let image = or_exit(imaging::decode(bytes, &limits), "plain: decode");
    let pixel_hash = imaging::pixel_hash(&image);
    let thumbnail_jpeg = or_exit(imaging::encode_thumbnail(&plain_thumbnail(&image)), "plain: encode");
    let image = NewImage {
        meta,
        bytes: &prepared.bytes,
        extension: prepared.format.extension(),
        width: prepared.width,
        height: prepared.height,
        thumbnail_jpeg: &[],
    };
    let checked = Checked {
        thumbnail_jpeg,
        pixel_hash: Some(pixel_hash),
    };
    or_exit(library.insert_checked(image, || Ok(checked)), "plain: store")
}

/// The thumbnail the plain way: the `image` crate's triangle-filter resize to the size
/// ours makes.
pub fn plain_thumbnail(image: &DynamicImage) -> image::RgbaImage {
    let (width, height) = imaging::fit_within(image.width(), image.height(), imaging::THUMBNAIL_SIDE);
    image
        .resize_exact(width, height, image::imageops::FilterType::Triangle)
        .to_rgba8()
}

const SUBJECTS: &[&str] = &[
    "a lighthouse on a cliff",
    "an old fisherman mending nets",
    "a red fox in fresh snow",
    "a neon-lit street market at night",
    "a bowl of ramen with steam rising",
    "a traditional Chinese landscape painting of misty mountains",
    "a cat sleeping on a windowsill",
    "a futuristic city skyline",
    "a portrait of a young woman in a silk qipao",
    "a vintage car parked under cherry blossoms",
    "一幅传统的中国山水画",
    "雨后的江南小镇，青石板路",
    "a knight in ornate armour",
    "a cosy library with a fireplace",
    "a hummingbird hovering near a flower",
    "熊猫在竹林里吃竹子",
];

const STYLES: &[&str] = &[
    "photorealistic, 85mm lens",
    "watercolour",
    "oil painting, impasto",
    "studio lighting, high detail",
    "golden hour, soft light",
    "ink wash painting",
    "cinematic, anamorphic flare",
    "isometric illustration",
    "水墨风格",
    "film grain, Kodak Portra 400",
];

const MODELS: &[&str] = &[
    "qwen-image-plus",
    "qwen-image",
    "wan2.2-t2i-flash",
    "wan2.5-t2i-preview",
];

/// The sizes Qwen-Image offers, cycled through by the populated library.
pub const SIZES: &[(u32, u32)] = &[(1328, 1328), (1664, 928), (928, 1664), (1472, 1140), (1140, 1472)];

/// Row `i` of a populated library: a varied, unique prompt (it starts with `#i`), newest
/// last, one image a minute.
pub fn sample_meta(i: usize, rng: &mut Rng) -> ImageMeta {
    let (width, height) = SIZES[i % SIZES.len()];
    let subject = SUBJECTS[rng.below(SUBJECTS.len())];
    let style = STYLES[rng.below(STYLES.len())];
    let other = STYLES[rng.below(STYLES.len())];
    ImageMeta {
        prompt: format!(
            "#{i:05} {subject}, {style}, {other}, seed variation {}",
            rng.below(1000)
        ),
        negative_prompt: if i.is_multiple_of(3) {
            "blurry, low quality, watermark".to_owned()
        } else {
            String::new()
        },
        revised_prompt: i
            .is_multiple_of(4)
            .then(|| format!("{subject}, rendered with great care, {style}")),
        model: MODELS[i % MODELS.len()].to_owned(),
        size: format!("{width}*{height}"),
        seed: Some(u32::try_from(i).unwrap_or(0)),
        prompt_extend: i.is_multiple_of(2),
        watermark: false,
        provider: "apple-router".to_owned(),
        request_id: Some(format!("req-{i:08}")),
        created_ms: 1_750_000_000_000 + i64::try_from(i).unwrap_or(0) * 60_000,
        parents: Vec::new(),
        source: None,
        batch: None,
    }
}

/// A few distinct real images prepared once (a small PNG stands in for the file, the
/// thumbnail is the real JPEG thumbnail of a full-size photo-like image) and reused.
pub struct Stock {
    items: Vec<(Vec<u8>, Vec<u8>, u32, u32)>,
}

impl Stock {
    /// `count` distinct images, one per size of [`SIZES`] in turn.
    pub fn new(count: usize) -> Self {
        let items = (0..count)
            .map(|i| {
                let (width, height) = SIZES[i % SIZES.len()];
                let full = png_bytes(&photo_like(width, height, 1000 + i as u64));
                let ingested = or_exit(
                    pictor::imaging::ingest(&full, &ImageMeta::default(), &pictor::imaging::DecodeLimits::default()),
                    "ingest a stock image",
                );
                let small = png_bytes(&photo_like(64, 64, 2000 + i as u64));
                (small, ingested.thumbnail, width, height)
            })
            .collect();
        Self { items }
    }

    /// Inserts `count` images through [`Library::insert`] (file, thumbnail, row).
    pub fn fill(&self, library: &Library, count: usize) {
        let mut rng = Rng::new(7);
        for i in 0..count {
            let (file, thumbnail, width, height) = &self.items[i % self.items.len()];
            let meta = sample_meta(i, &mut rng);
            or_exit(
                library.insert(NewImage {
                    meta: &meta,
                    bytes: file,
                    extension: "png",
                    width: *width,
                    height: *height,
                    thumbnail_jpeg: thumbnail,
                }),
                "insert an image",
            );
        }
    }
}

/// A library of `count` images in `dir`, opened the way the app opens it.
///
/// The images go in through [`Library::insert`] in a scratch library on tmpfs
/// (`/dev/shm`, when there is one) where fsync is free, so 10,000 inserts take seconds
/// rather than minutes; the finished library is then copied to `dir` (on the real disk).
pub fn populated_library(dir: &Path, count: usize, stock: &Stock) -> Arc<Library> {
    let shm = Path::new("/dev/shm");
    let scratch = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    };
    let scratch = or_exit(scratch, "make a scratch dir");
    {
        let library = or_exit(
            pictor::generate::open_library(LibraryPaths::in_dir(scratch.path())),
            "open the scratch library",
        );
        stock.fill(&library, count);
    }
    or_exit(copy_tree(scratch.path(), dir), "copy the library to disk");
    let library = or_exit(
        pictor::generate::open_library(LibraryPaths::in_dir(dir)),
        "open the library",
    );
    Arc::new(library)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A tokio runtime shaped like the app's (two workers).
pub fn runtime() -> tokio::runtime::Runtime {
    or_exit(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
        "start the runtime",
    )
}

/// The real app over `library`, demo provider, in-memory secrets, headless.
pub fn app_harness(runtime: &tokio::runtime::Runtime, library: Arc<Library>) -> Harness<'static, PictorApp> {
    let demo = or_exit(
        runtime.block_on(DemoServer::start(Duration::from_millis(50))),
        "start the demo server",
    );
    let deps = AppDeps {
        secrets: Secrets::with_store(Some(Arc::new(MemoryStore::default()) as Arc<dyn SecretStore>)),
        library,
        runtime: runtime.handle().clone(),
        overrides: Overrides {
            provider: Some(Provider::Demo),
            ..Overrides::default()
        },
        demo_base_url: demo.base_url(),
        dialogs: Arc::new(pictor::ui::dialogs::ScriptedDialogs::default()),
        open_files: Vec::new(),
        handed_files: None,
    };
    let mut harness = Harness::builder()
        .with_size(WINDOW)
        .build_eframe(move |cc| PictorApp::new(cc, deps));
    harness
        .state_mut()
        .set_language(pictor::settings::LanguageChoice::English);
    harness.step();
    harness
}

/// The middle of the gallery area (right of the compose panel, below the top bar).
pub fn gallery_point() -> egui::Pos2 {
    egui::pos2(WINDOW[0] * 0.62, WINDOW[1] * 0.55)
}

/// One full CPU frame: the app's logic and ui (layout, painting into shapes), AccessKit
/// as the harness always builds it, then tessellation of the frame's shapes into
/// meshes. There is no GPU here, so uploading and drawing are not included.
pub fn full_frame(harness: &mut Harness<'static, PictorApp>) -> Duration {
    let started = Instant::now();
    harness.step();
    let shapes = harness.output().shapes.clone();
    let pixels_per_point = harness.output().pixels_per_point;
    let step = started.elapsed();
    let started = Instant::now();
    let primitives = harness.ctx.tessellate(shapes, pixels_per_point);
    std::hint::black_box(primitives);
    step + started.elapsed()
}

/// Steps frames until the gallery shows `count` records and every cell on screen has
/// its thumbnail; exits when that takes over a minute.
pub fn settle_gallery(harness: &mut Harness<'static, PictorApp>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.state().gallery_records().len() < count {
        if Instant::now() > deadline {
            eprintln!("perf setup failed: the gallery never showed {count} images");
            std::process::exit(2);
        }
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    settle_thumbnails(harness);
}

/// Steps frames until two frames in a row drew every cell on screen with its thumbnail
/// (none asked for and still loading); exits when that takes over a minute.
pub fn settle_thumbnails(harness: &mut Harness<'static, PictorApp>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut settled_frames = 0;
    while settled_frames < 2 {
        if Instant::now() > deadline {
            eprintln!("perf setup failed: thumbnails still loading after a minute");
            std::process::exit(2);
        }
        harness.step();
        if harness.state().thumbnails_loading() == 0 {
            settled_frames += 1;
        } else {
            settled_frames = 0;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Every texture egui holds (thumbnails, the font atlas, the viewer's image, anything
/// else): their number and bytes, from egui's own texture manager.
pub fn egui_textures(harness: &Harness<'static, PictorApp>) -> (usize, usize) {
    let manager = harness.ctx.tex_manager();
    let manager = manager.read();
    let bytes = manager.allocated().map(|(_, meta)| meta.bytes_used()).sum();
    (manager.num_allocated(), bytes)
}

/// The `fraction` quantile (0.99: the 99th percentile) of `samples`, nearest rank.
pub fn quantile(samples: &mut [Duration], fraction: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((samples.len() as f64) * fraction).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// The median of `samples` (sorted in place).
pub fn median(samples: &mut [Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Milliseconds as a float.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The resident set size of this process in MiB (Linux `/proc/self/status` VmRSS).
pub fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
