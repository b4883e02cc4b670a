//! Every error kind of the taxonomy, produced through the real client, download,
//! ingest and library code against the loopback fake API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pictor::api::client::{ApiClient, ClientConfig, ClientEvent};
use pictor::api::provider::{Endpoint, Provider};
use pictor::api::request::{GenerationParams, GenerationRequest, Size};
use pictor::api::secret::ApiKey;
use pictor::error::{Error, ErrorKind};
use pictor::generate::Generator;
use pictor::library::{Library, LibraryPaths, Query};
use serde_json::json;
use support::{FakeApi, Reply, openai_success, sample_png};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-test-secret-0123456789";

struct Setup {
    fake: FakeApi,
    generator: Generator,
    library: Arc<Library>,
    _dir: tempfile::TempDir,
}

async fn setup(
    provider: Provider,
    config: ClientConfig,
    handler: impl Fn(&support::Seen, &FakeApi) -> Reply + Send + Sync + 'static,
) -> Setup {
    let fake = FakeApi::start(handler).await;
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(Library::open(LibraryPaths::in_dir(dir.path())).unwrap());
    let endpoint = Endpoint::new(provider, Some(&fake.base_url()), false).unwrap();
    let client = ApiClient::new(endpoint, config).unwrap();
    let generator = Generator::new(client, ApiKey::new(KEY), Arc::clone(&library)).unwrap();
    Setup {
        fake,
        generator,
        library,
        _dir: dir,
    }
}

fn request(prompt: &str) -> GenerationRequest {
    let params = GenerationParams {
        prompt: prompt.into(),
        size: Size::new(1328, 1328),
        seed: Some(7),
        ..GenerationParams::default()
    };
    GenerationRequest::try_from(&params).unwrap()
}

fn fast_config() -> ClientConfig {
    ClientConfig {
        total_timeout: Duration::from_secs(5),
        initial_backoff: Duration::from_millis(10),
        ..ClientConfig::default()
    }
}

async fn generate(setup: &Setup) -> Result<Vec<pictor::library::ImageRecord>, Error> {
    setup
        .generator
        .generate(&request("一幅传统的中国山水画"), &CancellationToken::new(), &|_| {})
        .await
}

/// Runs one scripted answer and returns the error, checking that nothing was stored.
async fn error_for(reply: Reply) -> Error {
    let s = setup(Provider::AppleRouter, fast_config(), move |_, _| reply.clone()).await;
    let err = generate(&s).await.unwrap_err();
    assert_eq!(
        s.library.count(&Query::default()).unwrap(),
        0,
        "a failed request stored something"
    );
    assert!(!err.user_message("en").is_empty() && !err.user_message("zh-CN").is_empty());
    assert!(!err.message.contains('<'), "markup in the message: {}", err.message);
    assert!(!format!("{err:?}").contains(KEY), "the key leaked into an error");
    err
}

#[tokio::test]
async fn success_downloads_without_the_key_and_stores_the_image() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, fake| {
        Reply::Json(200, openai_success(&fake.png_link("ok", sample_png(64, 48, 1))))
    })
    .await;
    let records = generate(&s).await.unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.meta.prompt, "一幅传统的中国山水画");
    assert_eq!((record.width, record.height), (64, 48));
    assert_eq!(
        record.meta.request_id.as_deref(),
        Some("d0250a3d-0000-4000-8000-000000000001")
    );
    let api = s.fake.api_requests();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(api[0].json()["parameters"]["n"], 1);
    assert!(
        s.fake.seen().iter().any(|r| r.path.starts_with("/img/ok")),
        "the image was not downloaded"
    );
    assert!(
        s.fake.image_requests_with_auth().is_empty(),
        "an image request carried the key"
    );
    let stored = std::fs::read(s.library.image_path(record)).unwrap();
    let meta = pictor::imaging::read_metadata(&stored).unwrap();
    assert_eq!(meta.prompt, "一幅传统的中国山水画");
}

#[tokio::test]
async fn native_dashscope_answers_are_understood() {
    let s = setup(Provider::Dashscope, fast_config(), |_, fake| {
        Reply::Json(200, support::native_success(&fake.png_link("n", sample_png(32, 32, 2))))
    })
    .await;
    let records = generate(&s).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(
        s.fake.api_requests()[0]
            .path
            .ends_with("/multimodal-generation/generation")
    );
}

#[tokio::test]
async fn b64_json_images_need_no_download() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(sample_png(20, 10, 3));
    let body = json!({"data": [{"url": "", "b64_json": format!("data:image/png;base64,{b64}"), "revised_prompt": "改写后的提示词"}]});
    let s = setup(Provider::AppleRouter, fast_config(), move |_, _| {
        Reply::Json(200, body.clone())
    })
    .await;
    let records = generate(&s).await.unwrap();
    assert_eq!(records[0].meta.revised_prompt.as_deref(), Some("改写后的提示词"));
    assert_eq!(s.fake.seen().len(), 1);
}

#[tokio::test]
async fn auth() {
    let err = error_for(Reply::error(
        401,
        "Invalid token (request id: 202605200000001)",
        json!(null),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(!err.message.contains("request id"), "{}", err.message);
    assert!(err.details.contains("202605200000001"));
    let err = error_for(Reply::error(401, "无效的令牌", json!(""))).await;
    assert_eq!(err.kind, ErrorKind::Auth);
}

#[tokio::test]
async fn moderation_also_with_http_200() {
    let err = error_for(Reply::error(
        400,
        "Input data may contain inappropriate content. (request id: 1)",
        json!("DataInspectionFailed"),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::Moderation);
    assert!(err.message.contains("inappropriate content"));
    let err = error_for(Reply::error(
        200,
        "Input data may contain inappropriate content.",
        json!("bad_response_status_code"),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::Moderation);
}

#[tokio::test]
async fn invalid_request() {
    let err = error_for(Reply::Json(
        400,
        json!({"request_id": "x", "code": "InvalidParameter", "message": "num_images_per_prompt must be 1"}),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("num_images_per_prompt"));
}

#[tokio::test]
async fn quota() {
    let err = error_for(Reply::error(
        403,
        "user quota is not enough (insufficient_user_quota)",
        json!("insufficient_user_quota"),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::Quota);
    let err = error_for(Reply::error(429, "insufficient_quota: balance used up", json!(429))).await;
    assert_eq!(err.kind, ErrorKind::Quota, "429 with an exhausted quota is not retried");
}

#[tokio::test]
async fn rate_limited_retries_honour_retry_after_then_give_up() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, _| {
        Reply::error(429, "Requests rate limit exceeded", json!("Throttling")).with_header("Retry-After", "0")
    })
    .await;
    let events = std::sync::Mutex::new(Vec::new());
    let err = s
        .generator
        .generate(&request("x"), &CancellationToken::new(), &|e: ClientEvent| {
            events.lock().unwrap().push(e)
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(s.fake.api_requests().len(), 4, "one request and three retries");
    assert_eq!(events.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn rate_limited_then_success() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let s = setup(Provider::AppleRouter, fast_config(), move |_, fake| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::error(429, "rate limit", json!("Throttling"))
        } else {
            Reply::Json(200, openai_success(&fake.png_link("after", sample_png(8, 8, 4))))
        }
    })
    .await;
    assert_eq!(generate(&s).await.unwrap().len(), 1);
}

#[tokio::test]
async fn model_unavailable() {
    let err = error_for(Reply::error(
        503,
        "No available channel for model qwen-image-max under group default",
        json!(null),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::ModelUnavailable);
    let err = error_for(Reply::Json(
        404,
        json!({"code": "ModelNotFound", "message": "Model not exist."}),
    ))
    .await;
    assert_eq!(err.kind, ErrorKind::ModelUnavailable);
}

#[tokio::test]
async fn server() {
    let err = error_for(Reply::error(500, "aliAsyncTaskWait timeout", json!("InternalError"))).await;
    assert_eq!(err.kind, ErrorKind::Server);
}

#[tokio::test]
async fn gateway_html_is_not_retried() {
    for status in [502, 504, 524] {
        let s = setup(Provider::AppleRouter, fast_config(), move |_, _| {
            Reply::html(
                status,
                "<html><head><title>504 Gateway Time-out</title></head><body><h1>504</h1></body></html>",
            )
        })
        .await;
        let err = generate(&s).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Gateway, "status {status}");
        assert!(!err.message.contains('<'));
        assert!(err.user_message("en").contains("billed"));
        assert_eq!(s.fake.api_requests().len(), 1, "a gateway error must not be retried");
    }
}

#[tokio::test]
async fn network_when_the_server_closes_without_answering() {
    let err = error_for(Reply::Close).await;
    assert_eq!(err.kind, ErrorKind::Network);
}

#[tokio::test]
async fn network_when_nothing_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let endpoint = Endpoint::new(Provider::AppleRouter, Some(&format!("http://127.0.0.1:{port}")), false).unwrap();
    let client = ApiClient::new(endpoint, fast_config()).unwrap();
    let err = client
        .generate(
            &request("x"),
            ApiKey::new(KEY).as_ref(),
            &CancellationToken::new(),
            &|_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network);
}

/// Waits (up to 20 s) until the fake saw the client close `count` stalled connections.
async fn wait_for_hang_ups(fake: &FakeApi, count: usize) {
    for _ in 0..2000 {
        if fake.hang_ups() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the client never closed the stalled connection");
}

#[tokio::test]
async fn timeout_of_a_stalled_server_is_not_retried() {
    let timeout = Duration::from_millis(800);
    let config = ClientConfig {
        total_timeout: timeout,
        ..fast_config()
    };
    let s = setup(Provider::AppleRouter, config, |_, _| Reply::Stall).await;
    let started = Instant::now();
    // Without the configured timeout the default (300 s) would apply: this bound is only
    // a guard against hanging, far above the timeout, and no measure of speed.
    let err = tokio::time::timeout(Duration::from_secs(60), generate(&s))
        .await
        .expect("the configured timeout never fired")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    // A lower bound: a loaded machine only makes it later.
    assert!(started.elapsed() >= timeout, "timed out early: {:?}", started.elapsed());
    assert_eq!(s.fake.api_requests().len(), 1);
    wait_for_hang_ups(&s.fake, 1).await;
}

#[tokio::test]
async fn a_cancel_interrupts_a_stalled_request() {
    let s = setup(Provider::AppleRouter, ClientConfig::default(), |_, _| Reply::Stall).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let fake = s.fake.clone();
    tokio::spawn(async move {
        // Cancel once the server holds the request: the cancel must interrupt it in flight.
        while fake.api_requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        trigger.cancel();
    });
    // The stalled request would last the default timeout (300 s): ending well before it
    // shows the cancel was observed; no time is measured.
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        s.generator.generate(&request("x"), &cancel, &|_| {}),
    )
    .await
    .expect("the cancel was not observed")
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
    assert_eq!(s.fake.api_requests().len(), 1);
    // The client dropped the request: the server sees the connection closed.
    wait_for_hang_ups(&s.fake, 1).await;
}

#[tokio::test]
async fn bad_response_for_truncated_json() {
    let reply = Reply::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: br#"{"data":[{"url":"htt"#.to_vec(),
        headers: vec![],
    };
    assert_eq!(error_for(reply).await.kind, ErrorKind::BadResponse);
    assert_eq!(
        error_for(Reply::Json(200, json!({"data": []}))).await.kind,
        ErrorKind::BadResponse
    );
}

#[tokio::test]
async fn download_of_an_expired_link() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, fake| {
        let link = fake.image_link("old", Reply::Raw {
            status: 403,
            content_type: "application/xml".into(),
            body: b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>".to_vec(),
            headers: vec![],
        });
        Reply::Json(200, openai_success(&link))
    })
    .await;
    let err = generate(&s).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Download);
    assert!(err.message.contains("expired"), "{}", err.message);
    assert!(
        s.library.pending().unwrap().is_empty(),
        "an expired link is not worth retrying"
    );
}

#[tokio::test]
async fn a_transient_download_failure_stays_pending_until_retried() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, fake| {
        let link = fake.image_link("flaky", Reply::Close);
        Reply::Json(200, openai_success(&link))
    })
    .await;
    let err = generate(&s).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Download);
    let pending = s.library.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].meta.prompt, "一幅传统的中国山水画");
    // The link works now: retrying stores the image and clears the pending entry.
    s.fake.png_link("flaky", sample_png(16, 16, 5));
    let (stored, failed) = s.generator.retry_pending(&CancellationToken::new()).await.unwrap();
    assert_eq!((stored.len(), failed.len()), (1, 0));
    assert!(s.library.pending().unwrap().is_empty());
    assert_eq!(s.library.count(&Query::default()).unwrap(), 1);
}

#[tokio::test]
async fn image_error_for_bytes_that_are_not_an_image() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, fake| {
        let link = fake.image_link(
            "txt",
            Reply::Raw {
                status: 200,
                content_type: "image/png".into(),
                body: b"hello, not a png".to_vec(),
                headers: vec![],
            },
        );
        Reply::Json(200, openai_success(&link))
    })
    .await;
    let err = generate(&s).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Image);
    assert_eq!(s.library.count(&Query::default()).unwrap(), 0);
}

#[tokio::test]
async fn storage_error_when_the_library_cannot_be_written() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, fake| {
        Reply::Json(200, openai_success(&fake.png_link("s", sample_png(8, 8, 6))))
    })
    .await;
    // Replace the images folder with a file: nothing can be written below it (even as root).
    let images = s.library.paths().data_dir.join("images");
    let _ = std::fs::remove_dir_all(&images);
    std::fs::write(&images, b"not a folder").unwrap();
    let err = generate(&s).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Storage);
    assert_eq!(s.library.count(&Query::default()).unwrap(), 0);
}

#[tokio::test]
async fn config_error_for_plain_http_to_a_remote_host() {
    let err = Endpoint::new(Provider::AppleRouter, Some("http://198.51.100.7"), false).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.user_message("en").contains("http"));
}

#[tokio::test]
async fn missing_key_is_an_auth_error_before_any_request() {
    let s = setup(Provider::AppleRouter, fast_config(), |_, _| Reply::Json(200, json!({}))).await;
    let endpoint = Endpoint::new(Provider::AppleRouter, Some(&s.fake.base_url()), false).unwrap();
    let client = ApiClient::new(endpoint, fast_config()).unwrap();
    // Refused when built without a key…
    let err = Generator::new(client.clone(), None, Arc::clone(&s.library))
        .err()
        .unwrap();
    assert_eq!(err.kind, ErrorKind::Auth);
    // …and a download-only generator refuses to generate.
    let downloads = Generator::downloads_only(client, Arc::clone(&s.library));
    let err = downloads
        .generate(&request("x"), &CancellationToken::new(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(s.fake.seen().is_empty());
}

#[tokio::test]
async fn the_per_minute_allocation_quota_is_retried_with_backoff_and_then_succeeds() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let s = setup(Provider::AppleRouter, fast_config(), move |_, fake| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            // No Retry-After: the client backs off on its own (10 ms, then 20 ms here).
            Reply::error(
                429,
                "Allocated quota exceeded, please retry later.",
                json!("Throttling.AllocationQuota"),
            )
        } else {
            Reply::Json(200, openai_success(&fake.png_link("later", sample_png(8, 8, 5))))
        }
    })
    .await;
    let events = std::sync::Mutex::new(Vec::new());
    let stored = s
        .generator
        .generate(&request("x"), &CancellationToken::new(), &|e: ClientEvent| {
            events.lock().unwrap().push(e)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(s.fake.api_requests().len(), 3, "two refusals, then the image");
    let delays: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ClientEvent::RetryScheduled { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(
        delays,
        vec![Duration::from_millis(10), Duration::from_millis(20)],
        "backoff doubles"
    );
}
