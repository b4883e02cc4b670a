//! The real `PictorApp` driven by accessible labels with egui_kittest, against the
//! loopback fake API, an in-memory secret store and a temp library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use pictor::api::provider::Provider;
use pictor::api::secret::ApiKey;
use pictor::connection::Overrides;
use pictor::library::{Library, LibraryPaths, Query};
use pictor::secrets::{KeySource, MemoryStore, SecretStore, Secrets};
use pictor::ui::app::{AppDeps, PictorApp};
use pictor::ui::job_cards::CardState;
use serde_json::json;
use support::{FakeApi, Reply, openai_success, sample_png};

struct World {
    runtime: tokio::runtime::Runtime,
    fake: FakeApi,
    library: Arc<Library>,
    store: Arc<MemoryStore>,
    _dir: tempfile::TempDir,
}

fn world(handler: impl Fn(&support::Seen, &FakeApi) -> Reply + Send + Sync + 'static) -> World {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fake = runtime.block_on(FakeApi::start(handler));
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(Library::open(LibraryPaths::in_dir(dir.path())).unwrap());
    World {
        runtime,
        fake,
        library,
        store: Arc::new(MemoryStore::default()),
        _dir: dir,
    }
}

fn success(_: &support::Seen, fake: &FakeApi) -> Reply {
    Reply::Json(
        200,
        openai_success(&fake.png_link(&format!("i{}", fake.seen().len()), sample_png(96, 64, 9))),
    )
}

/// The app's dependencies in `world`, with this run's `overrides`.
fn deps(world: &World, overrides: Overrides) -> AppDeps {
    AppDeps {
        secrets: Secrets::with_store(Some(world.store.clone() as Arc<dyn SecretStore>)),
        library: Arc::clone(&world.library),
        runtime: world.runtime.handle().clone(),
        overrides,
        demo_base_url: String::new(),
        dialogs: Arc::new(pictor::ui::dialogs::ScriptedDialogs::default()),
        open_files: Vec::new(),
        handed_files: None,
    }
}

/// The app, started with `storage` as eframe's saved state (none: a first start).
fn start(deps: AppDeps, storage: Option<&'static MemoryStorage>) -> Harness<'static, PictorApp> {
    Harness::builder().with_size([1280.0, 820.0]).build_eframe(move |cc| {
        if let Some(storage) = storage {
            cc.storage = Some(storage);
        }
        PictorApp::new(cc, deps)
    })
}

fn harness(world: &World) -> Harness<'static, PictorApp> {
    let overrides = Overrides {
        provider: Some(Provider::OpenaiCompatible),
        base_url: Some(world.fake.base_url()),
        allow_insecure_http: false,
    };
    start(deps(world, overrides), None)
}

fn with_key(world: &World) {
    world
        .store
        .set(Provider::OpenaiCompatible, &ApiKey::new("sk-ui-test-1111").unwrap())
        .unwrap();
}

/// Steps frames until `done` holds (or panics after 15 s).
fn step_until(harness: &mut Harness<'_, PictorApp>, what: &str, done: impl Fn(&PictorApp) -> bool) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "timed out waiting for: {what}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    harness.step();
}

/// Steps frames until a node labelled `label` exists (or panics after 15 s).
fn wait_for_label(harness: &mut Harness<'_, PictorApp>, label: &str) {
    let started = Instant::now();
    while harness.query_by_label(label).is_none() {
        assert!(started.elapsed() < Duration::from_secs(15), "nothing labelled {label}");
        harness.step();
        std::thread::sleep(Duration::from_millis(15));
    }
}

fn type_prompt(harness: &mut Harness<'_, PictorApp>, text: &str) {
    harness.get_by_label("Prompt").focus();
    harness.step();
    harness.get_by_label("Prompt").type_text(text);
    harness.step();
}

fn english(harness: &mut Harness<'_, PictorApp>) {
    // Tests run with whatever locale the machine has; pin English unless a test switches.
    harness
        .state_mut()
        .set_language(pictor::settings::LanguageChoice::English);
    harness.step();
}

#[test]
fn first_start_asks_for_the_key_and_the_top_bar_shows_where_it_lives() {
    let world = world(success);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    harness.get_by_label("API key");
    harness.get_by_label("Key").focus();
    harness.step();
    harness.get_by_label("Key").type_text("sk-pasted-key-7777");
    harness.step();
    harness.get_by_label("Save to keyring").click();
    step_until(&mut harness, "key saved", |app| {
        app.key_status().is_some_and(|k| k.key.is_some())
    });
    assert_eq!(
        world.store.get(Provider::OpenaiCompatible).unwrap().unwrap().expose(),
        "sk-pasted-key-7777"
    );
    assert!(harness.query_by_label("Save to keyring").is_none(), "the dialog closed");
    // The in-memory store stands in for the keyring and reports itself as the session store.
    assert_eq!(harness.state().key_status().unwrap().source, KeySource::Session);
    harness.get_by_label_contains("…7777");
    assert!(
        harness.query_by_label_contains("sk-pasted-key-7777").is_none(),
        "the key is never shown again"
    );
}

#[test]
fn a_chinese_prompt_generates_an_image_into_the_library() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    type_prompt(&mut harness, "一幅传统的中国山水画");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "job card", |app| !app.job_cards().is_empty());
    step_until(&mut harness, "job done", |app| {
        matches!(app.job_cards()[0].state, CardState::Done { .. })
    });
    harness.step();
    let card = harness.get_by_label_contains("Done in");
    let done = card
        .accesskit_node()
        .label()
        .filter(|label| !label.is_empty())
        .or_else(|| card.value())
        .unwrap_or_default();
    let seconds = done.trim_start_matches("Done in ").trim_end_matches(" s");
    assert!(
        seconds.parse::<f32>().is_ok() && seconds.contains('.'),
        "the card says how long in tenths of a second: {done}"
    );
    let stored = world.library.query(&Query::default()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].meta.prompt, "一幅传统的中国山水画");
    step_until(&mut harness, "gallery shows it", |app| app.gallery_records().len() == 1);
    assert!(world.fake.image_requests_with_auth().is_empty());
}

#[test]
fn ctrl_enter_generates() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    type_prompt(&mut harness, "a lighthouse at dusk");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    step_until(&mut harness, "job done", |app| {
        app.job_cards()
            .first()
            .is_some_and(|c| matches!(c.state, CardState::Done { .. }))
    });
    assert_eq!(world.library.count(&Query::default()).unwrap(), 1);
}

#[test]
fn a_moderation_error_shows_its_message_on_the_card() {
    let world = world(|_, _| {
        Reply::error(
            400,
            "Input data may contain inappropriate content. (request id: 42)",
            json!("DataInspectionFailed"),
        )
    });
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    type_prompt(&mut harness, "something");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "job failed", |app| {
        app.job_cards()
            .first()
            .is_some_and(|c| matches!(c.state, CardState::Failed(_)))
    });
    harness.get_by_label_contains("Blocked by content moderation");
    harness.get_by_label("Copy details");
    harness.get_by_label("Retry");
    assert_eq!(world.library.count(&Query::default()).unwrap(), 0);
}

#[test]
fn a_slow_job_can_be_cancelled() {
    let world = world(|_, _| Reply::Stall);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    type_prompt(&mut harness, "slow");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "running", |app| {
        app.job_cards()
            .first()
            .is_some_and(|c| matches!(c.state, CardState::Running { .. }))
    });
    harness.get_by_label_contains("Running").hover();
    harness.get_by_label("Cancel").click();
    // The card turns Cancelled only when the job itself ended with a cancel; without one
    // the stalled request would run for the 300 s timeout, far past step_until's 15 s.
    step_until(&mut harness, "cancelled", |app| {
        matches!(app.job_cards()[0].state, CardState::Cancelled { task: None })
    });
    assert_eq!(world.fake.api_requests().len(), 1);
    // The request was dropped, not left running: the server sees the connection closed.
    let closed = Instant::now();
    while world.fake.hang_ups() == 0 {
        assert!(
            closed.elapsed() < Duration::from_secs(15),
            "the request was never dropped"
        );
        std::thread::sleep(Duration::from_millis(15));
    }
}

#[test]
fn a_rate_limited_job_shows_the_retry_and_then_succeeds() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let world = world(move |seen, fake| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::error(429, "Requests rate limit exceeded", json!("Throttling")).with_header("Retry-After", "1")
        } else {
            success(seen, fake)
        }
    });
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    type_prompt(&mut harness, "busy");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "retrying", |app| {
        app.job_cards()
            .first()
            .is_some_and(|c| matches!(c.state, CardState::Retrying { .. }))
    });
    harness.get_by_label_contains("Rate limited, retrying in");
    step_until(&mut harness, "done", |app| {
        matches!(app.job_cards()[0].state, CardState::Done { .. })
    });
    assert_eq!(world.fake.api_requests().len(), 2);
}

#[test]
fn switching_to_chinese_relabels_the_generate_button() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    harness.get_by_label("Generate");
    harness.get_by_label("⚙ Settings").click();
    harness.run_steps(3);
    harness.get_by_label("简体中文").click();
    harness.run_steps(2);
    harness.get_by_label("生成");
    assert!(harness.query_by_label("Generate").is_none());
    harness.get_by_label("提示词");
}

/// eframe's storage in memory: what `save` writes, and what a later start reads.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

#[test]
fn this_runs_overrides_are_shown_as_such_and_never_saved() {
    use eframe::App as _;
    let world = world(success);
    with_key(&world);
    let overrides = Overrides {
        provider: Some(Provider::OpenaiCompatible),
        base_url: Some(world.fake.base_url()),
        allow_insecure_http: true,
    };
    let mut harness = start(deps(&world, overrides), None);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    // In force for this run: the overrides.
    let connection = harness.state().connection();
    assert_eq!(connection.provider, Provider::OpenaiCompatible);
    assert_eq!(connection.base_url, world.fake.base_url());
    assert!(connection.allow_insecure_http);
    // The settings window shows them as this run's, not as editable preferences.
    harness.get_by_label("⚙ Settings").click();
    harness.run_steps(3);
    harness.get_by_label(&world.fake.base_url());
    assert!(
        harness
            .query_all_by_label("From the command line, for this run only")
            .count()
            >= 3,
        "provider, base URL and insecure http are marked as this run's"
    );
    // The user changes a real preference while the overrides are in force.
    harness.state_mut().settings_mut().timeout_secs = 120;
    harness.step();

    let mut storage = MemoryStorage::default();
    harness.state_mut().save(&mut storage);
    let saved: pictor::settings::Settings = eframe::get_value(&storage, "pictor-settings").unwrap();
    assert_eq!(saved.provider, Provider::AppleRouter, "the run's provider was saved");
    assert_eq!(saved.base_url, "", "the run's base URL was saved");
    assert!(!saved.allow_insecure_http, "the run's insecure http was saved");
    assert_eq!(saved.timeout_secs, 120, "a real preference is saved");
    drop(harness);

    // The next plain start (no overrides) reads that storage: the default provider, over https.
    let storage: &'static MemoryStorage = Box::leak(Box::new(storage));
    let harness = start(deps(&world, Overrides::default()), Some(storage));
    let plain = harness.state().connection();
    assert_eq!(plain.provider, Provider::AppleRouter);
    assert_eq!(plain.timeout.as_secs(), 120, "the saved preferences were read");
    let endpoint = plain.endpoint(None).unwrap();
    assert_eq!(endpoint.url.scheme(), "https");
    assert_eq!(endpoint.url.host_str(), Some("api.applerouter.ai"));
}

#[test]
fn switching_providers_never_sends_one_providers_key_to_another() {
    let world = world(success);
    world
        .store
        .set(Provider::OpenaiCompatible, &ApiKey::new("sk-router-1111").unwrap())
        .unwrap();
    world
        .store
        .set(Provider::Dashscope, &ApiKey::new("sk-dash-dddd").unwrap())
        .unwrap();
    // Saved preferences: the router at the fake's address.
    let mut storage = MemoryStorage::default();
    let saved = pictor::settings::Settings {
        provider: Provider::OpenaiCompatible,
        base_url: world.fake.base_url(),
        ..Default::default()
    };
    eframe::set_value(&mut storage, "pictor-settings", &saved);
    let storage: &'static MemoryStorage = Box::leak(Box::new(storage));
    let mut harness = start(deps(&world, Overrides::default()), Some(storage));
    english(&mut harness);
    let has_key = |app: &PictorApp, key: &str| {
        app.key_status()
            .and_then(|k| k.key.as_ref())
            .is_some_and(|k| k.expose() == key)
    };
    step_until(&mut harness, "router key", |app| has_key(app, "sk-router-1111"));
    // To DashScope and back, as the settings window would.
    harness.state_mut().settings_mut().provider = Provider::Dashscope;
    step_until(&mut harness, "dashscope key", |app| has_key(app, "sk-dash-dddd"));
    harness.state_mut().settings_mut().provider = Provider::OpenaiCompatible;
    harness.step();
    assert!(
        !has_key(harness.state(), "sk-dash-dddd"),
        "the DashScope key is still offered for the router"
    );
    step_until(&mut harness, "router key again", |app| has_key(app, "sk-router-1111"));
    type_prompt(&mut harness, "a lantern");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "job done", |app| {
        app.job_cards()
            .first()
            .is_some_and(|c| matches!(c.state, CardState::Done { .. }))
    });
    let requests = world.fake.api_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-router-1111"));
}

#[test]
fn three_images_of_qwen_image_2_come_from_one_request_and_one_card() {
    let world = world(|seen, fake| {
        if let Some(refusal) = support::contract::violation(&seen.json()) {
            return refusal;
        }
        let n = seen.json()["parameters"]["n"].as_u64().unwrap_or(1);
        let data: Vec<serde_json::Value> = (0..n)
            .map(|i| json!({"url": fake.png_link(&format!("q{i}"), sample_png(48, 72, i as u32)), "b64_json": ""}))
            .collect();
        Reply::Json(200, json!({"data": data}))
    });
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    {
        let form = harness.state_mut().form_mut();
        form.params.model = "qwen-image-2.0-pro".into();
        form.params.size = pictor::api::request::Size::new(1024, 1536);
        form.count = 3;
    }
    harness.step();
    type_prompt(&mut harness, "雪山下的湖");
    harness.get_by_label("Generate 3").click();
    step_until(&mut harness, "job done", |app| {
        app.job_cards()
            .first()
            .is_some_and(|c| matches!(c.state, CardState::Done { .. }))
    });
    assert_eq!(harness.state().job_cards().len(), 1, "one card for one request");
    let requests = world.fake.api_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["parameters"]["n"], 3);
    assert_eq!(requests[0].json()["parameters"]["size"], "1024*1536");
    assert_eq!(world.library.count(&Query::default()).unwrap(), 3);
}

#[test]
fn edit_from_the_viewer_puts_the_image_in_the_strip_and_the_new_image_links_back() {
    let world = world(|seen, fake| {
        if let Some(refusal) = support::contract::violation(&seen.json()) {
            return refusal;
        }
        let content = seen.json()["input"]["messages"][0]["content"].clone();
        let references = content.as_array().map_or(0, |items| items.len() - 1);
        let name = format!("r{}-{}", references, fake.seen().len());
        Reply::Json(
            200,
            openai_success(&fake.png_link(&name, sample_png(64, 64, references as u32))),
        )
    });
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    type_prompt(&mut harness, "a red lantern");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "original stored", |app| app.gallery_records().len() == 1);
    let original = harness.state().gallery_records()[0].id.clone();

    // Open it, press E: it lands in the strip and the model switches to an edit model.
    // The job card carries the prompt too: the gallery cell is the last of the two.
    harness.query_all_by_label("a red lantern").last().unwrap().click();
    harness.step();
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "viewer open", |app| {
        app.viewer_image() == Some(original.as_str())
    });
    harness.key_press(egui::Key::E);
    harness.run_steps(3);
    assert_eq!(harness.state().form_params().references, vec![original.clone()]);
    assert_eq!(harness.state().form_params().model, "qwen-image-edit-plus");
    assert!(
        harness.query_all_by_label("Image 1").count() >= 1,
        "the strip shows Image 1"
    );
    assert!(
        harness
            .state()
            .notice_text()
            .is_some_and(|t| t.contains("switched to qwen-image-edit-plus"))
    );

    // Prompt and Generate with the original still open: the request carries the image
    // before the text, and the open viewer lists the new edit when it arrives. (The
    // viewer has a "Prompt" of its own, so the compose prompt is set directly.)
    harness.state_mut().form_mut().params.prompt = "把背景换成雪山".into();
    harness.step();
    harness.get_by_label("Generate").click();
    step_until(&mut harness, "edit stored", |app| app.gallery_records().len() == 2);
    assert_eq!(harness.state().viewer_image(), Some(original.as_str()));
    wait_for_label(&mut harness, "Edits of this image");
    harness.key_press(egui::Key::Escape);
    harness.step();
    let body = world.fake.api_requests().last().unwrap().json();
    let content = body["input"]["messages"][0]["content"].as_array().unwrap().clone();
    // The 64×64 original is under 384 px a side: it went scaled, as a JPEG data URI.
    assert!(
        content[0]["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/jpeg;base64,")
    );
    assert_eq!(content[1]["text"], "把背景换成雪山");
    assert!(
        harness
            .state()
            .notice_text()
            .is_some_and(|t| t.contains("Image 1 was scaled from 64×64 to 384×384")),
        "the user is told the reference was scaled: {:?}",
        harness.state().notice_text()
    );
    let edited = harness.state().gallery_records()[0].clone();
    assert_eq!(edited.meta.parents, vec![original.clone()]);

    // Its viewer shows where it came from, and the original's shows the edit.
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.query_all_by_label("把背景换成雪山").last().unwrap().click();
    harness.step();
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "edit open", |app| {
        app.viewer_image() == Some(edited.id.as_str())
    });
    wait_for_label(&mut harness, "Made from");
    assert!(harness.query_all_by_label("Image 1").count() >= 1);

    // "Show its family": with an unrelated image in the library, the gallery narrows to
    // the two, and a chip brings the rest back.
    world
        .library
        .insert(pictor::library::NewImage {
            meta: &pictor::metadata::ImageMeta {
                prompt: "unrelated".into(),
                created_ms: 1,
                ..Default::default()
            },
            bytes: &sample_png(8, 8, 1),
            extension: "png",
            width: 8,
            height: 8,
            thumbnail_jpeg: &[],
        })
        .unwrap();
    harness.get_by_label("Show its family").click();
    step_until(&mut harness, "family shown", |app| {
        !app.gallery_loading() && app.viewer_image().is_none()
    });
    assert_eq!(harness.state().gallery_records().len(), 2);
    harness.get_by_label("One image's family ×").click();
    harness.run_steps(2);
    step_until(&mut harness, "all again", |app| {
        !app.gallery_loading() && app.gallery_records().len() == 3
    });
    assert!(harness.query_by_label("One image's family ×").is_none());
}

/// A file dropped on the window, as the integration hands it to egui.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|err| err.to_string())
    }
}

#[test]
fn files_dropped_on_the_compose_panel_become_reference_images() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    harness.state_mut().form_mut().params.model = "qwen-image-2.0-pro".into();
    harness.step();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dropped.png");
    std::fs::write(&file, sample_png(500, 400, 3)).unwrap();
    // The pointer is over the compose panel when the file is dropped.
    harness
        .input_mut()
        .events
        .push(egui::Event::PointerMoved(egui::pos2(150.0, 300.0)));
    harness.step();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(file.clone())));
    step_until(&mut harness, "in the strip", |app| {
        app.form_params().references.len() == 1
    });
    let id = harness.state().form_params().references[0].clone();
    let record = world.library.get(&id).unwrap().unwrap();
    assert_eq!(record.meta.prompt, "dropped", "imported into the library first");
    assert_eq!(
        harness.state().form_params().model,
        "qwen-image-2.0-pro",
        "it takes references: kept"
    );
    // Dropped over the gallery instead, a file is only imported.
    let other = dir.path().join("other.png");
    std::fs::write(&other, sample_png(500, 400, 4)).unwrap();
    harness
        .input_mut()
        .events
        .push(egui::Event::PointerMoved(egui::pos2(900.0, 500.0)));
    harness.step();
    harness.input_mut().dropped_files.push(Arc::new(DroppedPath(other)));
    step_until(&mut harness, "imported", |_| {
        world.library.count(&Query::default()).unwrap() == 2
    });
    harness.run_steps(3);
    assert_eq!(harness.state().form_params().references.len(), 1);
}

#[test]
fn a_task_left_running_by_an_earlier_session_is_collected_at_start_with_its_own_card() {
    let tasks = support::tasks::FakeTasks::new();
    let answering = tasks.clone();
    let world = world(move |seen, fake| {
        answering
            .handle(seen, fake)
            .unwrap_or_else(|| Reply::Json(404, json!({"code": "NotFound", "message": "no such path"})))
    });
    world
        .store
        .set(Provider::Dashscope, &ApiKey::new("sk-ui-task-2222").unwrap())
        .unwrap();
    // What an earlier session stored right after creating the task, before it was closed.
    let params = pictor::api::request::GenerationParams {
        model: "wan2.2-t2i-flash".into(),
        prompt: "campfire under stars".into(),
        size: pictor::api::request::Size::new(1024, 1024),
        ..Default::default()
    };
    let request = pictor::api::request::GenerationRequest::try_from(&params).unwrap();
    let task_id = world.runtime.block_on(async {
        let endpoint =
            pictor::api::provider::Endpoint::new(Provider::Dashscope, Some(&world.fake.base_url()), false).unwrap();
        let client = pictor::api::client::ApiClient::new(endpoint, Default::default()).unwrap();
        let key = ApiKey::new("sk-ui-task-2222").unwrap();
        let cancel = tokio_util::sync::CancellationToken::new();
        client
            .create_task(&request, Some(&key), &cancel, &|_| {})
            .await
            .unwrap()
            .task_id
    });
    let now = pictor::metadata::ImageMeta::now_ms();
    world
        .library
        .add_task(&pictor::library::PendingTask {
            id: 0,
            origin: world.fake.base_url(),
            provider: "dashscope".into(),
            task_id,
            request_json: serde_json::to_string(&request).unwrap(),
            created_ms: now - 60_000,
            deadline_ms: now + 60_000,
        })
        .unwrap();

    let overrides = Overrides {
        provider: Some(Provider::Dashscope),
        base_url: Some(world.fake.base_url()),
        allow_insecure_http: false,
    };
    let mut harness = start(deps(&world, overrides), None);
    step_until(&mut harness, "the task's card finishes", |app| {
        app.job_cards()
            .iter()
            .any(|card| matches!(&card.state, CardState::Done { images, .. } if images.len() == 1))
    });
    let card = &harness.state().job_cards()[0];
    assert_eq!(card.request.params.prompt, "campfire under stars");
    assert_eq!(tasks.created(), 1, "collected, not created again");
    let stored = world.library.query(&Query::default()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].meta.revised_prompt.as_deref(),
        Some("campfire under stars, rewritten")
    );
    assert!(world.library.pending_tasks().unwrap().is_empty());
}

#[test]
fn an_image_pasted_with_ctrl_v_joins_the_reference_strip() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    step_until(&mut harness, "key status", |app| app.key_status().is_some());
    // A text-to-image model: the paste switches to the edit model, as Edit does.
    harness.state_mut().form_mut().params.model = "qwen-image-plus".into();
    harness.step();
    let pixels: Vec<egui::Color32> = (0..64 * 48)
        .map(|i| egui::Color32::from_rgb((i % 64 * 4) as u8, (i / 64 * 5) as u8, 90))
        .collect();
    let image = egui::ColorImage::new([64, 48], pixels);
    harness
        .input_mut()
        .events
        .push(egui::Event::PasteImage(Arc::new(image)));
    step_until(&mut harness, "in the strip", |app| {
        app.form_params().references.len() == 1
    });
    let id = harness.state().form_params().references[0].clone();
    let record = world.library.get(&id).unwrap().unwrap();
    assert_eq!(record.meta.prompt, "pasted image", "stored in the library first");
    assert_eq!((record.width, record.height), (64, 48));
    assert_ne!(
        harness.state().form_params().model,
        "qwen-image-plus",
        "switched to a model that takes references"
    );
    let stored = std::fs::read(world.library.image_path(&record)).unwrap();
    let decoded = image::load_from_memory(&stored).unwrap().to_rgba8();
    assert_eq!(decoded.get_pixel(5, 2).0, [20, 10, 90, 255], "the pixels as pasted");
}

/// Steps until a node whose label contains `text` exists (or panics after 60 s).
fn wait_for_label_containing(harness: &mut Harness<'_, PictorApp>, text: &str) {
    let started = Instant::now();
    while harness.query_by_label_contains(text).is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "nothing labelled …{text}…");
        harness.step();
        std::thread::sleep(Duration::from_millis(15));
    }
}

fn drop_on_gallery(harness: &mut Harness<'_, PictorApp>, path: &std::path::Path) {
    harness
        .input_mut()
        .events
        .push(egui::Event::PointerMoved(egui::pos2(900.0, 500.0)));
    harness.step();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path.to_path_buf())));
    harness.step();
}

#[test]
fn a_dropped_folder_of_a_thousand_is_counted_confirmed_cancellable_and_never_imported_twice() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("old outputs");
    for batch in 0..10 {
        let sub = folder.join(format!("batch-{batch}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..100 {
            let seed = batch * 100 + i;
            std::fs::write(sub.join(format!("{seed:04}.png")), sample_png(16, 16, seed)).unwrap();
        }
    }
    drop_on_gallery(&mut harness, &folder);
    wait_for_label(&mut harness, "Import 1000");
    harness.get_by_label("Import 1000").click();
    step_until(&mut harness, "some images imported", |_| {
        world.library.count(&Query::default()).unwrap() >= 20
    });
    harness.get_by_label("Cancel").click();
    wait_for_label_containing(&mut harness, "stopped");
    let first = world.library.count(&Query::default()).unwrap();
    assert!((20..1000).contains(&first), "cancelled part-way: {first}");

    // The same folder again: the first part is found, the rest imported.
    drop_on_gallery(&mut harness, &folder);
    wait_for_label(&mut harness, "Import 1000");
    harness.get_by_label("Import 1000").click();
    let summary = format!("Imported {} · {first} already in the library", 1000 - first);
    wait_for_label_containing(&mut harness, &summary);
    assert_eq!(world.library.count(&Query::default()).unwrap(), 1000);

    // And once more: nothing is added, and the notice says so.
    drop_on_gallery(&mut harness, &folder);
    wait_for_label(&mut harness, "Import 1000");
    harness.get_by_label("Import 1000").click();
    wait_for_label_containing(&mut harness, "All 1000 images are already in the library");
    assert_eq!(world.library.count(&Query::default()).unwrap(), 1000);
}

#[test]
fn a_folder_from_five_tools_dropped_on_the_window_arrives_whole_and_only_once() {
    let world = world(success);
    with_key(&world);
    let mut harness = harness(&world);
    english(&mut harness);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my history");
    let expected = support::tools::five_tools(&folder);
    drop_on_gallery(&mut harness, &folder);
    wait_for_label(&mut harness, "Import 5");
    harness.get_by_label("Import 5").click();
    wait_for_label_containing(&mut harness, "Imported 5");
    let records = world.library.query(&Query::default()).unwrap();
    assert_eq!(records.len(), 5);
    for want in &expected {
        let record = records
            .iter()
            .find(|r| r.meta.source.as_ref().is_some_and(|s| s.file_name == want.file))
            .unwrap_or_else(|| panic!("{} missing", want.file));
        assert_eq!(record.meta.prompt, want.prompt);
        assert_eq!(record.meta.negative_prompt, want.negative);
        assert_eq!(record.meta.source.as_ref().unwrap().seed, Some(want.seed));
    }
    // The viewer says which tool made it.
    step_until(&mut harness, "gallery shows them", |app| {
        app.gallery_records().len() == 5
    });
    harness.get_by_label("a red fox in fresh snow").click();
    wait_for_label(&mut harness, "ComfyUI");
    wait_for_label(&mut harness, "1125899906842624");
    // Everything the file carried is there too (the graph and the workflow).
    wait_for_label_containing(&mut harness, "Everything the file carries");
    // Its settings: the prompts and seed, not a checkpoint no service here runs.
    let model_before = harness.state().form_params().model.clone();
    harness.get_by_label("Use these settings").click();
    harness.run_steps(2);
    assert_eq!(harness.state().form_params().prompt, "a red fox in fresh snow");
    assert_eq!(harness.state().form_params().negative_prompt, "text, watermark");
    assert_eq!(harness.state().form_params().model, model_before);

    drop_on_gallery(&mut harness, &folder);
    wait_for_label(&mut harness, "Import 5");
    harness.get_by_label("Import 5").click();
    wait_for_label_containing(&mut harness, "All 5 images are already in the library");
    assert_eq!(world.library.count(&Query::default()).unwrap(), 5);
}
