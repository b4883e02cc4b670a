//! The studio without a window: boards and the cost meter on the command line, and the
//! spend ledger as the generator fills it against the loopback fake service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pictor::api::client::{ApiClient, ClientConfig};
use pictor::api::provider::{Endpoint, Provider};
use pictor::api::request::{GenerationParams, GenerationRequest, Size};
use pictor::api::secret::ApiKey;
use pictor::generate::Generator;
use pictor::library::{Library, LibraryPaths};
use serde_json::json;
use support::{FakeApi, Reply};
use tokio_util::sync::CancellationToken;

fn pictor(data_dir: &Path, args: &[&str]) -> std::process::Output {
    support::pictor_command(data_dir).args(args).output().unwrap()
}

fn ids(output: &std::process::Output) -> Vec<String> {
    support::complete_json_lines(&output.stdout)
        .iter()
        .map(|line| line["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Generates three images with the demo into the library at `data_dir`; their ids,
/// newest first.
fn three_demo_images(data_dir: &Path) -> Vec<String> {
    let args = support::demo_generate_args("灯笼", 3);
    ok(&pictor(data_dir, &args.iter().map(String::as_str).collect::<Vec<_>>()));
    ids(&pictor(data_dir, &["list", "--json"]))
}

fn ok(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_command_line_keeps_boards_and_lists_exports_and_filters_by_them() {
    let dir = tempfile::tempdir().unwrap();
    let all = three_demo_images(dir.path());
    let (newest, middle, oldest) = (&all[0], &all[1], &all[2]);

    ok(&pictor(dir.path(), &["board", "add", "Keepers", &newest[..12], oldest]));
    ok(&pictor(dir.path(), &["board", "add", "keepers", oldest, middle]));
    ok(&pictor(dir.path(), &["board", "add", "Client", middle]));
    let boards = support::complete_json_lines(&pictor(dir.path(), &["board", "list", "--json"]).stdout);
    assert_eq!(
        boards,
        vec![
            serde_json::json!({"name": "Client", "images": 1}),
            serde_json::json!({"name": "Keepers", "images": 3}),
        ]
    );

    ok(&pictor(dir.path(), &["rate", "5", oldest]));
    assert_eq!(
        ids(&pictor(
            dir.path(),
            &["list", "--board", "Keepers", "--min-rating", "4", "--json"]
        )),
        vec![oldest.clone()]
    );
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--board", "client", "--json"])),
        vec![middle.clone()]
    );

    let out = dir.path().join("out");
    let exported = support::complete_json_lines(
        &pictor(
            dir.path(),
            &["export", "--board", "Keepers", "--to", out.to_str().unwrap(), "--json"],
        )
        .stdout,
    );
    assert_eq!(exported.len(), 3);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);

    ok(&pictor(dir.path(), &["board", "remove", "Keepers", newest]));
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--board", "Keepers", "--json"])).len(),
        2
    );

    let unknown = pictor(dir.path(), &["list", "--board", "Nope"]);
    assert!(!unknown.status.success());
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("no board called “Nope”") && message.contains("Client, Keepers"),
        "{message}"
    );

    ok(&pictor(dir.path(), &["board", "delete", "Keepers"]));
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--json"])).len(),
        3,
        "the images stay"
    );
    assert!(!pictor(dir.path(), &["list", "--board", "Keepers"]).status.success());
}

#[test]
fn the_cost_command_prices_what_the_demo_delivered_and_keeps_it_apart_from_real_spend() {
    let dir = tempfile::tempdir().unwrap();
    let all = three_demo_images(dir.path());
    ok(&pictor(dir.path(), &["board", "add", "Keepers", &all[0]]));

    let demo = support::complete_json_lines(&pictor(dir.path(), &["--provider", "demo", "cost", "--json"]).stdout);
    let demo = &demo[0];
    assert_eq!(demo["currency"], "CNY");
    assert_eq!(demo["demo"], true);
    assert_eq!(demo["today_images"], 3, "{demo}");
    assert!((demo["today"].as_f64().unwrap() - 0.6).abs() < 1e-9, "{demo}");
    assert_eq!(demo["days"].as_array().unwrap().len(), 30);
    assert_eq!(demo["days"][29]["images"], 3);
    assert_eq!(
        demo["by_model"][0],
        json!({"model": "qwen-image-2.0", "images": 3, "amount": demo["today"]})
    );
    assert_eq!(demo["boards"][0]["name"], "Keepers");
    assert!((demo["boards"][0]["amount"].as_f64().unwrap() - 0.2).abs() < 1e-9);

    let real = support::complete_json_lines(&pictor(dir.path(), &["cost", "--json"]).stdout);
    assert_eq!(real[0]["today_images"], 0, "the demo's images are not real spend");

    // The user's prices (Settings > Cost writes the same file) are used.
    std::fs::write(
        dir.path().join("prices.json"),
        r#"{"currency": "USD", "monthly_budget": 5, "prices": {"qwen-image-2.0": {"USD": 0.5}}}"#,
    )
    .unwrap();
    let text = ok(&pictor(dir.path(), &["--provider", "demo", "cost"]));
    assert!(text.contains("$1.50") && text.contains("of a $5.00 budget"), "{text}");
    std::fs::write(dir.path().join("prices.json"), b"{ broken").unwrap();
    let broken = pictor(dir.path(), &["cost"]);
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("not a readable price list"));
}

#[test]
fn the_ledger_counts_billed_images_once_and_failed_requests_not_at_all() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let fake = FakeApi::start(move |_, fake| {
            let png = support::sample_png(32, 32, 5);
            let image = |name: &str| {
                fake.image_link(name, Reply::Raw {
                    status: 200,
                    content_type: "image/png".into(),
                    body: png.clone(),
                    headers: Vec::new(),
                })
            };
            match counter.fetch_add(1, Ordering::SeqCst) {
                0 => Reply::Json(400, json!({"error": {"message": "Input data may contain inappropriate content.",
                                                         "type": "data_inspection_failed", "code": "data_inspection_failed"}})),
                // Billed for two, one delivered: the meter counts what was billed.
                1 | 2 => Reply::Json(200, json!({"data": [{"url": image("a")}],
                                          "metadata": {"usage": {"image_count": 2}, "request_id": "req-same"}})),
                _ => Reply::Json(200, json!({"data": [{"url": image("b")}], "metadata": {"request_id": "req-other"}})),
            }
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let library = Arc::new(Library::open(LibraryPaths::in_dir(dir.path())).unwrap());
        let endpoint = Endpoint::new(Provider::AppleRouter, Some(&fake.base_url()), false).unwrap();
        let config = ClientConfig {
            total_timeout: Duration::from_secs(5),
            ..ClientConfig::default()
        };
        let client = ApiClient::new(endpoint, config).unwrap();
        let generator = Generator::new(client, ApiKey::new("sk-test-secret-0123456789"), Arc::clone(&library)).unwrap();
        let request = GenerationRequest::try_from(&GenerationParams {
            prompt: "a lantern".into(),
            size: Size::new(1328, 1328),
            ..GenerationParams::default()
        })
        .unwrap();
        let cancel = CancellationToken::new();
        let run = || generator.generate(&request, &cancel, &|_| {});
        assert!(run().await.is_err(), "moderation refuses the first");
        assert!(library.spend_since(0).unwrap().is_empty(), "a refused request costs nothing");
        run().await.unwrap();
        run().await.unwrap();
        let ledger = library.spend_since(0).unwrap();
        assert_eq!(ledger.len(), 1, "the same request id is counted once: {ledger:?}");
        assert_eq!(ledger[0].images, 2);
        assert_eq!(ledger[0].model, "qwen-image-plus");
        run().await.unwrap();
        let ledger = library.spend_since(0).unwrap();
        assert_eq!(ledger.iter().map(|e| e.images).sum::<u32>(), 3, "without usage, what was delivered");
    });
}

#[test]
fn a_prompt_matrix_on_the_command_line_makes_every_combination_as_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let made = pictor(
        dir.path(),
        &[
            "generate",
            "a {red|blue} lantern, {ink wash|photo}",
            "--provider",
            "demo",
            "--model",
            "qwen-image-plus",
            "--seed",
            "42",
            "--json",
        ],
    );
    ok(&made);
    let lines = support::complete_json_lines(&made.stdout);
    let mut prompts: Vec<_> = lines.iter().map(|l| l["prompt"].as_str().unwrap().to_owned()).collect();
    prompts.sort();
    assert_eq!(
        prompts,
        [
            "a blue lantern, ink wash",
            "a blue lantern, photo",
            "a red lantern, ink wash",
            "a red lantern, photo"
        ]
    );
    assert!(
        lines.iter().all(|l| l["seed"] == 42),
        "the same seed for every combination"
    );
    let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    let records = library.query(&pictor::library::Query::default()).unwrap();
    let batch = records[0].meta.batch.clone().expect("one group");
    assert!(records.iter().all(|r| r.meta.batch.as_deref() == Some(batch.as_str())));
    let refused = pictor(dir.path(), &["generate", "a {subject}", "--provider", "demo"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("{subject}"));
}
