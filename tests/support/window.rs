//! The real window (`PictorApp`) in an egui_kittest harness on a temp library, with the
//! offline demo service answering at once; waits that step frames until a condition holds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pictor::api::provider::Provider;
use pictor::connection::Overrides;
use pictor::library::{Library, LibraryPaths};
use pictor::secrets::{MemoryStore, SecretStore, Secrets};
use pictor::settings::LanguageChoice;
use pictor::ui::app::{AppDeps, PictorApp};
use pictor::ui::dialogs::ScriptedDialogs;

/// A library, the demo service and scripted file dialogs for one window.
pub struct Studio {
    pub runtime: tokio::runtime::Runtime,
    pub library: Arc<Library>,
    pub dialogs: Arc<ScriptedDialogs>,
    pub demo_base_url: String,
    pub dir: tempfile::TempDir,
}

/// A studio whose library holds `count` generated images (see `super::populate`).
pub fn studio(count: usize) -> Studio {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(Library::open(LibraryPaths::in_dir(&dir.path().join("library"))).unwrap());
    super::populate(&library, count);
    let demo = runtime
        .block_on(pictor::demo::DemoServer::start(Duration::ZERO))
        .unwrap();
    Studio {
        demo_base_url: demo.base_url(),
        runtime,
        library,
        dialogs: Arc::new(ScriptedDialogs::default()),
        dir,
    }
}

/// The window on `studio`, in English, with the demo provider, `size` points large,
/// once its gallery has loaded.
pub fn window(studio: &Studio, size: egui::Vec2) -> Harness<'static, PictorApp> {
    let mut harness = first_frames(studio, size);
    step_until(&mut harness, "gallery loaded", |app| !app.gallery_loading());
    harness
}

/// The same window right after its first frames, waiting for nothing.
pub fn first_frames(studio: &Studio, size: egui::Vec2) -> Harness<'static, PictorApp> {
    launched(studio, size, Launch::default())
}

/// What a launch brings besides the library: files named on the command line, and
/// the queue of files later launches hand over.
#[derive(Default)]
pub struct Launch {
    pub open_files: Vec<PathBuf>,
    pub handed_files: Option<std::sync::mpsc::Receiver<Vec<PathBuf>>>,
}

/// The window on `studio` launched with `launch`, right after its first frames.
pub fn launched(studio: &Studio, size: egui::Vec2, launch: Launch) -> Harness<'static, PictorApp> {
    let deps = AppDeps {
        secrets: Secrets::with_store(Some(Arc::new(MemoryStore::default()) as Arc<dyn SecretStore>)),
        library: Arc::clone(&studio.library),
        runtime: studio.runtime.handle().clone(),
        overrides: Overrides {
            provider: Some(Provider::Demo),
            base_url: None,
            allow_insecure_http: false,
        },
        demo_base_url: studio.demo_base_url.clone(),
        dialogs: studio.dialogs.clone(),
        open_files: launch.open_files,
        handed_files: launch.handed_files,
    };
    let mut harness = Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| PictorApp::new(cc, deps));
    harness.state_mut().set_language(LanguageChoice::English);
    harness.step();
    harness
}

/// Steps frames until `done` holds (at most 20 s), then one more.
pub fn step_until(harness: &mut Harness<'_, PictorApp>, what: &str, done: impl Fn(&PictorApp) -> bool) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for: {what}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

/// Steps frames until a node labelled exactly `label` exists (at most 20 s).
pub fn wait_for_label(harness: &mut Harness<'_, PictorApp>, label: &str) {
    let started = Instant::now();
    while harness.query_by_label(label).is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing labelled {label}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Steps frames until a node whose label contains `part` exists (at most 20 s).
pub fn wait_for_label_containing(harness: &mut Harness<'_, PictorApp>, part: &str) {
    let started = Instant::now();
    while harness.query_by_label_contains(part).is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing labelled …{part}…");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Steps until the node labelled `label` exists and stays put for a frame (a window sizes
/// itself over a few frames: a click must wait for its buttons to settle).
pub fn wait_until_settled(harness: &mut Harness<'_, PictorApp>, label: &str) {
    let mut last = egui::Rect::NOTHING;
    for _ in 0..20 {
        harness.step();
        let Some(now) = harness.query_by_label(label).map(|node| node.rect()) else {
            continue;
        };
        if now == last {
            return;
        }
        last = now;
    }
}
