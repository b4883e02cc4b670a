//! The egui window. Only this module knows egui; it drives `jobs`, `library` and
//! `secrets` through commands and drains their events.

pub mod app;
pub mod background;
pub mod boards;
pub mod compare;
pub mod compare_caption;
pub mod compare_ui;
pub mod compose;
pub mod confirm;
pub mod dates;
pub mod dialogs;
pub mod fonts;
pub mod gallery;
pub mod gallery_cell;
pub mod gallery_drag;
pub mod gallery_empty;
pub mod gallery_items;
pub mod gallery_nav;
pub mod gallery_toolbar;
pub mod job_cards;
pub mod justified;
pub mod key_dialog;
pub mod prompt_diff;
pub mod prompt_forms;
pub mod prompt_library;
pub mod settings_ui;
pub mod spend_ui;
pub mod style;
pub mod thumbnail_queue;
pub mod thumbnails;
pub mod viewer;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, OnceLock};

use crate::connection::{Overrides, start_demo_server};
use crate::error::{Error, Result};
use crate::instance::Claim;
use crate::library::LibraryPaths;
use crate::secrets::Secrets;
use crate::ui::app::{AppDeps, PictorApp};

/// The provider's name for people, in `locale` ("Offline demo", "离线演示", …).
pub(crate) fn provider_label(provider: crate::api::provider::Provider, locale: &str) -> String {
    rust_i18n::t!(format!("provider.{}", provider.name()), locale = locale).into_owned()
}

/// The app icon, shown on the window and in the task bar.
const ICON_PNG: &[u8] = include_bytes!("../../icons/pictor.png");

/// Opens the window and runs until it closes; returns the process exit code.
/// `overrides` apply to this run only and are never saved as preferences. `files` are
/// imported (or found) and the first is shown; when a window already runs for this
/// library, it takes them and this launch ends at once.
pub fn run(overrides: Overrides, files: Vec<PathBuf>) -> i32 {
    match run_window(overrides, files) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("error ({}): {}", err.kind, err.user_message("en"));
            1
        }
    }
}

fn run_window(overrides: Overrides, files: Vec<PathBuf>) -> Result<()> {
    let paths = LibraryPaths::from_env()?;
    let instance = match crate::instance::claim(&crate::instance::socket_path(&paths.data_dir), &files) {
        Claim::First(listener) => Some(listener),
        Claim::HandedOver => {
            match files.len() {
                0 => eprintln!("Pictor is already open."),
                1 => eprintln!("Pictor is already open: its window took the file."),
                count => eprintln!("Pictor is already open: its window took the {count} files."),
            }
            return Ok(());
        }
        Claim::Alone(err) => {
            tracing::warn!("this window will not take later launches' files: {}", err.message);
            None
        }
    };
    // Served from now on, before the window exists: a later launch is answered as soon
    // as its files are queued, and the window is woken once it is there.
    let window_ctx: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
    let handed_files = instance.and_then(|instance| serve_later_launches(instance, Arc::clone(&window_ctx)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pictor-worker")
        .enable_all()
        .build()
        .map_err(|err| Error::config(format!("cannot start the async runtime: {err}")))?;
    // Opened on its own thread: the first frame never waits for the library.
    let library = Arc::new(crate::generate::open_library_in_background(paths));
    let demo_base_url = start_demo_server(runtime.handle())?;
    let deps = AppDeps {
        secrets: Secrets::from_environment(),
        library,
        runtime: runtime.handle().clone(),
        overrides,
        demo_base_url,
        dialogs: Arc::new(crate::ui::dialogs::NativeDialogs::detect()),
        open_files: files,
        handed_files,
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Pictor")
        .with_app_id("pictor")
        .with_inner_size([1280.0, 820.0])
        .with_min_inner_size([820.0, 560.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(Arc::new(icon)),
        Err(err) => tracing::warn!("the app icon could not be loaded: {err}"),
    }
    let options = eframe::NativeOptions {
        viewport,
        persist_window: true,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "Pictor",
        options,
        Box::new(move |cc| {
            // Wakes the window for files handed over from now on (ones already queued are
            // read in its first frame).
            let _ = window_ctx.set(cc.egui_ctx.clone());
            Ok(Box::new(PictorApp::new(cc, deps)))
        }),
    )
    .map_err(|err| Error::config(format!("cannot open the window: {err}")))
}

/// Serves the single-window socket: what later launches hand over is queued for the
/// window (and wakes it once it exists). `None` when the listener could not start.
fn serve_later_launches(
    instance: crate::instance::InstanceListener,
    window_ctx: Arc<OnceLock<egui::Context>>,
) -> Option<Receiver<Vec<PathBuf>>> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let path = instance.path().to_path_buf();
    let served = instance.serve(move |files| {
        // Refused when the window has closed: the launch then opens its own.
        let taken = sender.send(files).is_ok();
        if let Some(ctx) = window_ctx.get() {
            ctx.request_repaint();
        }
        taken
    });
    match served {
        Ok(()) => {
            tracing::info!("later launches hand their files over {}", path.display());
            Some(receiver)
        }
        Err(err) => {
            tracing::warn!("later launches will open their own window: {}", err.message);
            None
        }
    }
}
