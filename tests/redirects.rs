//! Redirects and the key (api-contract.md §1, §6): an API request never leaves the
//! configured origin, so the key never reaches another host; image links may hop
//! between hosts, fetched without the key.
//!
//! Two loopback addresses stand for two hosts: the API on 127.0.0.1 and "another host"
//! on 127.0.0.2. Both record every request they receive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pictor::api::client::{ApiClient, ClientConfig};
use pictor::api::provider::{Endpoint, OPENAI_IMAGES_PATH, Provider};
use pictor::api::request::{GenerationParams, GenerationRequest, Size};
use pictor::api::secret::ApiKey;
use pictor::error::{Error, ErrorKind};
use pictor::generate::Generator;
use pictor::library::{ImageRecord, Library, LibraryPaths, Query};
use support::{FakeApi, Reply, Seen, openai_success, sample_png};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-redirect-secret-5be21c9d04";
/// Only a bound against a hang: every case here ends in far less.
const HARD_LIMIT: Duration = Duration::from_secs(60);

struct Setup {
    api: FakeApi,
    generator: Generator,
    library: Arc<Library>,
    _dir: tempfile::TempDir,
}

/// The API on 127.0.0.1, answering with `handler`.
async fn setup(handler: impl Fn(&Seen, &FakeApi) -> Reply + Send + Sync + 'static) -> Setup {
    let api = FakeApi::start(handler).await;
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap());
    let endpoint = Endpoint::new(Provider::AppleRouter, Some(&api.base_url()), false).unwrap();
    let config = ClientConfig {
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(20),
        ..ClientConfig::default()
    };
    let generator = Generator::new(
        ApiClient::new(endpoint, config).unwrap(),
        ApiKey::new(KEY),
        Arc::clone(&library),
    )
    .unwrap();
    Setup {
        api,
        generator,
        library,
        _dir: dir,
    }
}

/// "Another host": a fake on 127.0.0.2 (Linux routes all of 127/8 to the loopback).
async fn other_host(handler: impl Fn(&Seen, &FakeApi) -> Reply + Send + Sync + 'static) -> FakeApi {
    let bind: SocketAddr = "127.0.0.2:0".parse().unwrap();
    FakeApi::start_on(bind, handler).await
}

async fn generate(s: &Setup) -> Result<Vec<ImageRecord>, Error> {
    let params = GenerationParams {
        prompt: "a lighthouse at dusk".into(),
        size: Size::new(1328, 1328),
        seed: Some(3),
        ..GenerationParams::default()
    };
    let request = GenerationRequest::try_from(&params).unwrap();
    tokio::time::timeout(
        HARD_LIMIT,
        s.generator.generate(&request, &CancellationToken::new(), &|_| {}),
    )
    .await
    .expect("the generation hung")
}

/// The other host received no request with a key, and (since the redirect towards it
/// is refused) no request at all.
fn assert_untouched(other: &FakeApi) {
    let seen = other.seen();
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            None,
            "the key reached the other host: {} {}",
            request.method,
            request.path
        );
        assert!(!format!("{:?}", request.headers).contains(KEY));
    }
    assert!(seen.is_empty(), "the other host was asked: {seen:?}");
}

/// The refusal: a configuration error that names the other host and holds no key.
fn assert_refused(outcome: Result<Vec<ImageRecord>, Error>, other: &FakeApi) -> Error {
    let err = outcome.expect_err("the cross-origin redirect was followed");
    assert_eq!(err.kind, ErrorKind::Config, "{} / {}", err.message, err.details);
    let host = other.addr.to_string();
    assert!(
        err.message.contains(&host),
        "the message does not name {host}: {}",
        err.message
    );
    assert!(err.message.contains("another host"), "{}", err.message);
    let everything = format!("{err:?} {}", err.user_message("en"));
    assert!(!everything.contains(KEY), "the key is in the error: {everything}");
    err
}

fn api_url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// The image answer of a fake: a good answer pointing at a PNG link on itself.
fn success(fake: &FakeApi) -> Reply {
    Reply::Json(200, openai_success(&fake.png_link("ok", sample_png(32, 32, 5))))
}

#[tokio::test]
async fn one_hop_to_another_host_is_refused_for_every_redirect_status() {
    for status in [301, 302, 303, 307, 308] {
        let other = other_host(|_, fake| success(fake)).await;
        let target = api_url(other.addr, OPENAI_IMAGES_PATH);
        let s = setup(move |_, _| Reply::RedirectWith {
            status,
            location: target.clone(),
        })
        .await;
        let outcome = generate(&s).await;
        assert_untouched(&other);
        assert_refused(outcome, &other);
        // The configured host did get the key: its absence elsewhere is no accident.
        let sent = s.api.api_requests();
        assert_eq!(sent.len(), 1, "HTTP {status}");
        assert_eq!(sent[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
        assert_eq!(s.library.count(&Query::default()).unwrap(), 0);
    }
}

/// 127.0.0.1 → 127.0.0.2 → 127.0.0.2: reqwest's own check compares each hop with the
/// previous one, so with `Policy::limited` the second hop carried the key to 127.0.0.2.
#[tokio::test]
async fn two_hops_within_another_host_are_refused() {
    let other = other_host(|seen, fake| {
        if seen.path == "/hop" {
            Reply::RedirectWith {
                status: 307,
                location: api_url(fake.addr, OPENAI_IMAGES_PATH),
            }
        } else {
            success(fake)
        }
    })
    .await;
    let target = api_url(other.addr, "/hop");
    let s = setup(move |_, _| Reply::RedirectWith {
        status: 307,
        location: target.clone(),
    })
    .await;
    let outcome = generate(&s).await;
    assert_untouched(&other);
    assert_refused(outcome, &other);
}

/// The same address on another port is another origin.
#[tokio::test]
async fn another_port_on_the_same_host_is_another_origin() {
    let other = FakeApi::start(|_, fake| success(fake)).await;
    let target = api_url(other.addr, OPENAI_IMAGES_PATH);
    let s = setup(move |_, _| Reply::RedirectWith {
        status: 308,
        location: target.clone(),
    })
    .await;
    let outcome = generate(&s).await;
    assert_untouched(&other);
    assert_refused(outcome, &other);
}

/// An API that answers the generation POST with `status` to `/v2/images/generations`
/// on the same origin, and succeeds there.
async fn moved_within_the_origin(status: u16) -> Setup {
    setup(move |seen, fake| {
        if seen.path == OPENAI_IMAGES_PATH {
            Reply::RedirectWith {
                status,
                location: "/v2/images/generations".into(),
            }
        } else {
            success(fake)
        }
    })
    .await
}

/// 307 and 308 within the origin keep the method, the body and the key.
#[tokio::test]
async fn a_same_origin_307_or_308_is_followed_with_method_and_body() {
    for status in [307, 308] {
        let s = moved_within_the_origin(status).await;
        let records = generate(&s).await.expect("a same-origin redirect failed");
        assert_eq!(records.len(), 1);
        let sent = s.api.api_requests();
        assert_eq!(sent.len(), 2, "HTTP {status}");
        assert_eq!(sent[1].path, "/v2/images/generations");
        assert_eq!(sent[1].method, "POST");
        assert_eq!(sent[1].json(), sent[0].json(), "the body was not resent");
        assert_eq!(sent[1].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
        assert!(s.api.image_requests_with_auth().is_empty());
    }
}

/// 303 "see other": the request was handled and the answer is fetched with a GET.
#[tokio::test]
async fn a_same_origin_303_fetches_the_answer_with_get() {
    let s = setup(|seen, fake| {
        if seen.method == "POST" {
            Reply::RedirectWith {
                status: 303,
                location: "/answers/42".into(),
            }
        } else {
            success(fake)
        }
    })
    .await;
    let records = generate(&s).await.expect("a 303 within the origin failed");
    assert_eq!(records.len(), 1);
    let sent = s.api.api_requests();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[1].method.as_str(), sent[1].path.as_str()), ("GET", "/answers/42"));
}

/// 301/302 on a POST would be resent as a GET without the body: refused, saying where.
#[tokio::test]
async fn a_same_origin_301_or_302_is_reported_as_a_moved_address() {
    for status in [301, 302] {
        let s = moved_within_the_origin(status).await;
        let err = generate(&s).await.expect_err("a moved endpoint was followed");
        assert_eq!(err.kind, ErrorKind::Config, "{}", err.message);
        assert!(err.message.contains("/v2/images/generations"), "{}", err.message);
        assert!(err.message.contains("base URL"), "{}", err.message);
        assert_eq!(
            s.api.api_requests().len(),
            1,
            "HTTP {status}: a GET without the body was sent"
        );
    }
}

/// A redirect loop within the origin ends after a few hops.
#[tokio::test]
async fn a_same_origin_redirect_loop_ends() {
    let s = setup(|seen, _| Reply::RedirectWith {
        status: 307,
        location: format!("{}x", seen.path),
    })
    .await;
    let err = generate(&s).await.expect_err("a redirect loop succeeded");
    assert_eq!(err.kind, ErrorKind::BadResponse, "{}", err.message);
    assert!(err.message.contains("redirected"), "{}", err.message);
    assert_eq!(s.api.api_requests().len(), pictor::api::client::MAX_API_REDIRECTS + 1);
}

/// An image link may redirect to another host: it is followed, without the key and
/// without telling the next host the signed link it came from.
#[tokio::test]
async fn an_image_link_redirect_to_another_host_is_followed_without_the_key() {
    let other = other_host(|_, _| Reply::error(404, "no API here", serde_json::Value::Null)).await;
    let target = other.png_link("target", sample_png(40, 24, 9));
    let s = setup(move |_, fake| {
        let hop = fake.image_link("hop", Reply::Redirect(target.clone()));
        Reply::Json(200, openai_success(&hop))
    })
    .await;
    let records = generate(&s).await.expect("the redirected image link failed");
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].width, records[0].height), (40, 24));
    let fetched = other.seen();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(fetched[0].path.starts_with("/img/target"));
    assert_eq!(fetched[0].header("authorization"), None);
    assert_eq!(fetched[0].header("referer"), None, "the signed link was handed on");
    assert!(!format!("{:?}", fetched[0].headers).contains(KEY));
    assert!(s.api.image_requests_with_auth().is_empty());
}
