//! DashScope asynchronous tasks (contract §7) against the loopback fake: a task model
//! goes through create + poll, the task survives a kill -9 and is collected by
//! `pictor retry` without being created again, and a cancel cancels a queued task at
//! the service but keeps a running one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pictor::api::client::{ApiClient, ClientConfig};
use pictor::api::provider::{Endpoint, Provider};
use pictor::api::request::{GenerationParams, GenerationRequest, Size};
use pictor::api::secret::ApiKey;
use pictor::generate::{Generator, TaskFate};
use pictor::library::{Library, LibraryPaths};
use pictor::{Error, ErrorKind};
use serde_json::Value;
use support::tasks::FakeTasks;
use support::{FakeApi, Reply};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-tasks-test-0123456789";

/// A fake DashScope that speaks only the task API (a synchronous request is a 404).
async fn fake_dashscope() -> (FakeApi, FakeTasks) {
    let tasks = FakeTasks::new();
    let answering = tasks.clone();
    let fake = FakeApi::start(move |seen, fake| {
        answering
            .handle(seen, fake)
            .unwrap_or_else(|| Reply::Json(404, serde_json::json!({"code": "NotFound", "message": "no such path"})))
    })
    .await;
    (fake, tasks)
}

fn cli(data_dir: &std::path::Path, fake: &FakeApi, args: &[&str]) -> std::process::Command {
    let mut command = support::pictor_command(data_dir);
    command
        .env("PICTOR_API_KEY", KEY)
        .args(args)
        .args(["--provider", "dashscope", "--base-url", &fake.base_url()]);
    command
}

async fn output_of(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn list_json(data_dir: &std::path::Path) -> Vec<Value> {
    let out = support::pictor_command(data_dir)
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    support::complete_json_lines(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_model_on_dashscope_is_created_polled_and_every_image_stored() {
    let (fake, tasks) = fake_dashscope().await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "generate",
        "灯塔",
        "--model",
        "wan2.2-t2i-flash",
        "--size",
        "1024*1024",
        "--count",
        "2",
        "--json",
    ];
    let out = output_of(cli(dir.path(), &fake, &args)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = support::complete_json_lines(&out.stdout);
    assert_eq!(lines.len(), 2, "both images of the task are stored");
    assert!(lines.iter().all(|line| line["revised_prompt"] == "灯塔, rewritten"));
    assert_eq!(tasks.created(), 1, "one task for both images");

    let create = &fake.api_requests()[0];
    assert_eq!(create.path, support::tasks::CREATE_PATH);
    assert_eq!(create.header("x-dashscope-async"), Some("enable"));
    assert_eq!(create.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(create.json()["input"]["prompt"], "灯塔");
    assert_eq!(create.json()["parameters"]["n"], 2);
    let poll = &fake.api_requests()[1];
    assert!(poll.path.starts_with(support::tasks::TASKS_PREFIX), "{}", poll.path);
    assert_eq!(poll.method, "GET");
    assert!(
        fake.image_requests_with_auth().is_empty(),
        "the key never goes to an image link"
    );

    // Collected: nothing is left to resume.
    let retry = output_of(cli(dir.path(), &fake, &["retry"])).await;
    assert!(retry.status.success(), "{}", String::from_utf8_lossy(&retry.stderr));
    assert!(String::from_utf8_lossy(&retry.stdout).contains("0 saved"));
    assert_eq!(tasks.created(), 1);
    assert_eq!(list_json(dir.path()).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_killed_while_polling_is_collected_by_pictor_retry_without_a_second_task() {
    let (fake, tasks) = fake_dashscope().await;
    tasks.hold(Some("RUNNING"));
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "generate",
        "夜航船",
        "--model",
        "wan2.2-t2i-plus",
        "--size",
        "1024*1024",
        "--json",
    ];
    let mut child = cli(dir.path(), &fake, &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed while polling: the task exists and was asked about at least once.
    wait_until("the task is polled", Duration::from_secs(30), || tasks.polls() >= 1).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(list_json(dir.path()).is_empty(), "nothing was stored before the kill");

    tasks.hold(None);
    let retry = output_of(cli(dir.path(), &fake, &["retry"])).await;
    let stdout = String::from_utf8_lossy(&retry.stdout).to_string();
    assert!(
        retry.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&retry.stderr)
    );
    assert!(stdout.contains("1 saved, 0 still failing"), "{stdout}");
    assert_eq!(tasks.created(), 1, "the paid task is collected, never created again");
    let images = list_json(dir.path());
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["prompt"], "夜航船");
    assert_eq!(images[0]["revised_prompt"], "夜航船, rewritten");

    // Collected once: a second retry finds nothing.
    let again = output_of(cli(dir.path(), &fake, &["retry"])).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 saved"));
    assert_eq!(list_json(dir.path()).len(), 1);
}

fn generator(fake: &FakeApi, library: &Arc<Library>) -> Generator {
    let endpoint = Endpoint::new(Provider::Dashscope, Some(&fake.base_url()), false).unwrap();
    let client = ApiClient::new(endpoint, ClientConfig::default()).unwrap();
    Generator::new(client, ApiKey::new(KEY), Arc::clone(library)).unwrap()
}

fn wan_request() -> GenerationRequest {
    let params = GenerationParams {
        model: "wan2.2-t2i-flash".into(),
        prompt: "雨中的石桥".into(),
        size: Size::new(1024, 1024),
        ..GenerationParams::default()
    };
    GenerationRequest::try_from(&params).unwrap()
}

/// Runs a generation, cancels it once the task has been polled, and returns its error.
async fn cancel_after_first_poll(generator: &Generator, tasks: &FakeTasks) -> Error {
    let cancel = CancellationToken::new();
    let run = {
        let (generator, cancel) = (generator.clone(), cancel.clone());
        tokio::spawn(async move { generator.generate(&wan_request(), &cancel, &|_| {}).await })
    };
    wait_until("the task is polled", Duration::from_secs(30), || tasks.polls() >= 1).await;
    cancel.cancel();
    run.await.unwrap().unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_queued_task_cancels_it_at_the_service_and_forgets_it() {
    let (fake, tasks) = fake_dashscope().await;
    tasks.hold(Some("PENDING"));
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap());
    let err = cancel_after_first_poll(&generator(&fake, &library), &tasks).await;
    assert_eq!(err.kind, ErrorKind::Cancelled);
    assert_eq!(TaskFate::of(&err), Some(TaskFate::CancelledAtService));
    assert_eq!(tasks.cancels(), 1);
    assert!(library.pending_tasks().unwrap().is_empty(), "nothing left to resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_task_keeps_it_and_a_resume_collects_it() {
    let (fake, tasks) = fake_dashscope().await;
    tasks.hold(Some("RUNNING"));
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap());
    let generator = generator(&fake, &library);
    let err = cancel_after_first_poll(&generator, &tasks).await;
    assert_eq!(TaskFate::of(&err), Some(TaskFate::GoesOn));
    assert_eq!(tasks.cancels(), 0, "a running task cannot be cancelled");
    let stored = library.pending_tasks().unwrap();
    assert_eq!(stored.len(), 1, "the running task stays resumable");
    assert!(generator.owns_task(&stored[0]));

    tasks.hold(None);
    let images = generator
        .resume_task(&stored[0], &CancellationToken::new(), &|_| {})
        .await
        .unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].meta.revised_prompt.as_deref(), Some("雨中的石桥, rewritten"));
    assert_eq!(images[0].meta.provider, "dashscope");
    assert!(library.pending_tasks().unwrap().is_empty());
    assert_eq!(tasks.created(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_the_service_no_longer_knows_is_reported_and_forgotten() {
    let (fake, tasks) = fake_dashscope().await;
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap());
    let generator = generator(&fake, &library);
    let now = pictor::metadata::ImageMeta::now_ms();
    library
        .add_task(&pictor::library::PendingTask {
            id: 0,
            origin: fake.base_url(),
            provider: "dashscope".into(),
            task_id: "task-forgotten-by-the-service".into(),
            request_json: serde_json::to_string(&wan_request()).unwrap(),
            created_ms: now,
            deadline_ms: now + 60_000,
        })
        .unwrap();
    let stored = library.pending_tasks().unwrap();
    let err = generator
        .resume_task(&stored[0], &CancellationToken::new(), &|_| {})
        .await
        .unwrap_err();
    assert!(err.message.contains("24 hours"), "{}", err.message);
    assert!(library.pending_tasks().unwrap().is_empty());
    assert_eq!(tasks.created(), 0, "resuming never creates a task");
}

fn demo_generator(demo: &pictor::demo::DemoServer, library: &Arc<Library>) -> Generator {
    let endpoint = Endpoint::new(Provider::Demo, Some(&demo.base_url()), false).unwrap();
    let client = ApiClient::new(endpoint, ClientConfig::default()).unwrap();
    Generator::new(client, None, Arc::clone(library)).unwrap()
}

fn small_wan_request() -> GenerationRequest {
    let params = GenerationParams {
        size: Size::new(512, 512),
        n: 2,
        ..wan_request().params
    };
    GenerationRequest::try_from(&params).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_old_wan_models_as_tasks_and_cancels_a_queued_one() {
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap());
    let quick = pictor::demo::DemoServer::start(Duration::from_millis(200))
        .await
        .unwrap();
    let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&created);
    let on_event = move |event| {
        if matches!(event, pictor::api::client::ClientEvent::TaskCreated { .. }) {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    };
    let images = demo_generator(&quick, &library)
        .generate(&small_wan_request(), &CancellationToken::new(), &on_event)
        .await
        .unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(
        created.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one task for both"
    );
    let revised = images[0].meta.revised_prompt.as_deref().unwrap_or_default();
    assert!(revised.starts_with("雨中的石桥, "), "{revised}");
    assert!(library.pending_tasks().unwrap().is_empty(), "demo tasks are not kept");

    // A task that stays queued for a while is cancelled at the demo service.
    let slow = pictor::demo::DemoServer::start(Duration::from_secs(60)).await.unwrap();
    let cancel = CancellationToken::new();
    let generator = demo_generator(&slow, &library);
    let run = {
        let (generator, cancel) = (generator.clone(), cancel.clone());
        tokio::spawn(async move { generator.generate(&small_wan_request(), &cancel, &|_| {}).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cancel.cancel();
    let err = run.await.unwrap().unwrap_err();
    assert_eq!(TaskFate::of(&err), Some(TaskFate::CancelledAtService), "{err:?}");
}
