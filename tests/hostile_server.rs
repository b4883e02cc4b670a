//! A hostile or broken server, one test per misbehaviour: each checks the error kind and
//! message, that nothing panics or hangs past the timeout, that the key and the link's
//! signature appear in no error, and that the library holds exactly what it should
//! (nothing, or the pending download a transient failure keeps).
//!
//! `tests/api_errors.rs` produces each error kind once; this file is the long tail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use pictor::api::client::{ApiClient, ClientConfig, ClientEvent};
use pictor::api::provider::{Endpoint, Provider};
use pictor::api::request::{GenerationParams, GenerationRequest, Size};
use pictor::api::secret::ApiKey;
use pictor::error::{Error, ErrorKind};
use pictor::generate::Generator;
use pictor::library::{ImageRecord, Library, LibraryPaths, Query};
use serde_json::{Value, json};
use support::{FakeApi, Reply, Seen, openai_success, sample_png};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-hostile-secret-7f3a9c0e51";
/// The total timeout of every case (short, so slow misbehaviours end quickly).
const TIMEOUT: Duration = Duration::from_millis(1500);
/// No case may take longer than this, retries included.
const HARD_LIMIT: Duration = Duration::from_secs(20);

/// What one misbehaviour must produce.
struct Expect {
    kind: ErrorKind,
    /// Text the short message must contain (lower-cased comparison).
    message: &'static str,
    /// Pending downloads the failure must leave (a transient download failure keeps its link).
    pending: usize,
    /// How many API requests the client may send (1 unless retried).
    api_requests: usize,
}

fn expect(kind: ErrorKind, message: &'static str) -> Expect {
    Expect {
        kind,
        message,
        pending: 0,
        api_requests: 1,
    }
}

/// The first wait after a 429 without a readable `Retry-After`.
const INITIAL_BACKOFF: Duration = Duration::from_millis(10);
/// The longest wait honoured from a `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_millis(50);

fn config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: TIMEOUT,
        initial_backoff: INITIAL_BACKOFF,
        max_retry_after: MAX_RETRY_AFTER,
        ..ClientConfig::default()
    }
}

struct Setup {
    fake: FakeApi,
    generator: Generator,
    library: Arc<Library>,
    dir: tempfile::TempDir,
}

async fn setup(provider: Provider, handler: impl Fn(&Seen, &FakeApi) -> Reply + Send + Sync + 'static) -> Setup {
    let fake = FakeApi::start(handler).await;
    let dir = tempfile::tempdir().unwrap();
    let library = Arc::new(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap());
    let endpoint = Endpoint::new(provider, Some(&fake.base_url()), false).unwrap();
    let generator = Generator::new(
        ApiClient::new(endpoint, config()).unwrap(),
        ApiKey::new(KEY),
        Arc::clone(&library),
    )
    .unwrap();
    Setup {
        fake,
        generator,
        library,
        dir,
    }
}

fn request() -> GenerationRequest {
    let params = GenerationParams {
        prompt: "一幅传统的中国山水画".into(),
        size: Size::new(1328, 1328),
        seed: Some(7),
        ..GenerationParams::default()
    };
    GenerationRequest::try_from(&params).unwrap()
}

/// Runs one generation against the fake, bounded by [`HARD_LIMIT`]; also gives the
/// client's events (the retries it scheduled, with their delays).
async fn run(s: &Setup) -> (Result<Vec<ImageRecord>, Error>, Vec<ClientEvent>) {
    let events = std::sync::Mutex::new(Vec::new());
    let outcome = tokio::time::timeout(
        HARD_LIMIT,
        s.generator.generate(&request(), &CancellationToken::new(), &|event| {
            events.lock().unwrap().push(event)
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("the client hung for more than {HARD_LIMIT:?}"));
    (outcome, events.into_inner().unwrap())
}

/// Every file below the library folder except the database and its journals.
fn stored_files(s: &Setup) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![s.dir.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if !entry.file_name().to_string_lossy().starts_with("library.sqlite3") {
                files.push(path);
            }
        }
    }
    files
}

/// Checks the error against `expect` and that the library is unchanged.
fn check_failure(s: &Setup, outcome: Result<Vec<ImageRecord>, Error>, expect: &Expect) -> Error {
    let err = match outcome {
        Ok(records) => panic!(
            "expected a {} error, got {} stored image(s)",
            expect.kind,
            records.len()
        ),
        Err(err) => err,
    };
    assert_eq!(
        err.kind, expect.kind,
        "wrong kind; message: {} / details: {}",
        err.message, err.details
    );
    assert!(
        err.message.to_lowercase().contains(&expect.message.to_lowercase()),
        "message {:?} does not mention {:?}",
        err.message,
        expect.message
    );
    assert!(!err.message.contains('<'), "markup in the message: {}", err.message);
    assert!(
        err.message.chars().count() <= 600,
        "message too long: {} chars",
        err.message.len()
    );
    let everything = format!("{err:?} {}", err.user_message("en"));
    assert!(!everything.contains(KEY), "the key leaked into the error");
    assert!(
        !everything.contains("Signature=abc"),
        "the link's signature leaked into the error"
    );
    assert_eq!(
        s.library.count(&Query::default()).unwrap(),
        0,
        "a failed request stored a row"
    );
    let trash = Query {
        trash: true,
        ..Query::default()
    };
    assert_eq!(s.library.count(&trash).unwrap(), 0);
    assert_eq!(s.library.pending().unwrap().len(), expect.pending, "pending downloads");
    assert_eq!(
        stored_files(s),
        Vec::<std::path::PathBuf>::new(),
        "files were left behind"
    );
    assert_eq!(s.fake.api_requests().len(), expect.api_requests, "API requests sent");
    assert!(
        s.fake.image_requests_with_auth().is_empty(),
        "an image request carried the key"
    );
    err
}

/// A misbehaving API answer (the handler may register image links on the fake).
async fn api_case(provider: Provider, reply: impl Fn(&FakeApi) -> Reply + Send + Sync + 'static, expect: Expect) {
    let s = setup(provider, move |_, fake| reply(fake)).await;
    let (outcome, _) = run(&s).await;
    check_failure(&s, outcome, &expect);
}

/// A good API answer whose one image link is answered with `image`.
async fn image_case(image: Reply, expect: Expect) {
    api_case(
        Provider::AppleRouter,
        move |fake| Reply::Json(200, openai_success(&fake.image_link("bad", image.clone()))),
        expect,
    )
    .await;
}

/// A good API answer carrying `bytes` as `b64_json`.
async fn b64_case(bytes: Vec<u8>, expect: Expect) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let body = json!({"data": [{"url": "", "b64_json": b64, "revised_prompt": ""}]});
    api_case(Provider::AppleRouter, move |_| Reply::Json(200, body.clone()), expect).await;
}

fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Reply::Raw {
        status,
        content_type: content_type.into(),
        body: body.into(),
        headers: vec![],
    }
}

fn png(body: Vec<u8>) -> Reply {
    raw(200, "image/png", body)
}

// ---------------------------------------------------------------------------------
// The API answer
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn json_truncated_inside_a_multibyte_character() {
    let mut body = br#"{"error":{"message":"Input data may contain inappropriate content. "#.to_vec();
    body.extend_from_slice(&"山水".as_bytes()[..4]);
    // HTTP 400 with a body cut inside a character: its words still classify it.
    api_case(
        Provider::AppleRouter,
        move |_| raw(400, "application/json", body.clone()),
        expect(ErrorKind::Moderation, "inappropriate"),
    )
    .await;
}

#[tokio::test]
async fn data_is_an_object_instead_of_a_list() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Json(200, json!({"data": {"url": "http://127.0.0.1:1/x.png"}})),
        expect(ErrorKind::BadResponse, "no image"),
    )
    .await;
}

#[tokio::test]
async fn url_is_a_number() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Json(200, json!({"data": [{"url": 42, "b64_json": null}]})),
        expect(ErrorKind::BadResponse, "no image"),
    )
    .await;
}

#[tokio::test]
async fn top_level_json_is_a_list() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Json(200, json!([{"url": "http://127.0.0.1:1/x.png"}])),
        expect(ErrorKind::BadResponse, "no image"),
    )
    .await;
}

#[tokio::test]
async fn json_null_body() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Json(200, Value::Null),
        expect(ErrorKind::BadResponse, "no image"),
    )
    .await;
}

#[tokio::test]
async fn empty_body_with_http_200() {
    api_case(
        Provider::AppleRouter,
        |_| raw(200, "application/json", Vec::new()),
        expect(ErrorKind::BadResponse, "empty body"),
    )
    .await;
}

#[tokio::test]
async fn invalid_utf8_body() {
    api_case(
        Provider::AppleRouter,
        |_| raw(200, "application/json", b"{\"data\": [\xff\xfe\xfd]}".to_vec()),
        expect(ErrorKind::BadResponse, "not valid json"),
    )
    .await;
}

#[tokio::test]
async fn json_nested_deeper_than_any_parser_should_follow() {
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    api_case(
        Provider::AppleRouter,
        move |_| raw(200, "application/json", body.clone().into_bytes()),
        expect(ErrorKind::BadResponse, "not valid json"),
    )
    .await;
}

#[tokio::test]
async fn items_with_every_field_empty() {
    api_case(
        Provider::AppleRouter,
        |_| {
            Reply::Json(
                200,
                json!({"data": [{"url": "", "b64_json": "", "revised_prompt": ""}, {}]}),
            )
        },
        expect(ErrorKind::BadResponse, "no image"),
    )
    .await;
}

#[tokio::test]
async fn body_of_80_mb_with_a_content_length() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Stream {
            status: 200,
            declare_length: true,
            total: 80 * 1024 * 1024,
        },
        expect(ErrorKind::BadResponse, "larger than 64 MiB"),
    )
    .await;
}

#[tokio::test]
async fn body_of_80_mb_without_a_content_length() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Stream {
            status: 200,
            declare_length: false,
            total: 80 * 1024 * 1024,
        },
        expect(ErrorKind::BadResponse, "larger than 64 MiB"),
    )
    .await;
}

#[tokio::test]
async fn body_trickling_slower_than_the_timeout() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Trickle {
            chunk: b" ".to_vec(),
            interval: Duration::from_millis(200),
            chunks: 100,
        },
        expect(ErrorKind::Timeout, "timeout"),
    )
    .await;
}

#[tokio::test]
async fn connection_closed_mid_body() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Partial {
            declared: 4096,
            sent: br#"{"data":[{"url":"#.to_vec(),
        },
        expect(ErrorKind::Network, "connection broke"),
    )
    .await;
}

#[tokio::test]
async fn connection_reset_mid_body() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Reset {
            declared: 4096,
            sent: br#"{"data":[{"url":"#.to_vec(),
        },
        expect(ErrorKind::Network, "connection broke"),
    )
    .await;
}

#[tokio::test]
async fn not_http_at_all() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Bytes(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n".to_vec()),
        expect(ErrorKind::Network, "failed"),
    )
    .await;
}

#[tokio::test]
async fn malformed_content_length() {
    api_case(
        Provider::AppleRouter,
        |_| {
            Reply::Bytes(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: lots\r\n\r\n{}".to_vec(),
            )
        },
        expect(ErrorKind::Network, "failed"),
    )
    .await;
}

#[tokio::test]
async fn http_200_carrying_an_invalid_key_error() {
    api_case(
        Provider::AppleRouter,
        |_| {
            Reply::error(
                200,
                "Invalid token (request id: 2026052000000042)",
                json!("invalid_api_key"),
            )
        },
        expect(ErrorKind::Auth, "invalid token"),
    )
    .await;
}

#[tokio::test]
async fn http_200_carrying_a_failed_native_task() {
    api_case(
        Provider::Dashscope,
        |_| {
            Reply::Json(
                200,
                json!({"request_id": "r-1", "output": {"task_status": "FAILED", "code": "InternalError",
                       "message": "aliAsyncTaskWait timeout"}}),
            )
        },
        expect(ErrorKind::Server, "aliAsyncTaskWait"),
    )
    .await;
}

#[tokio::test]
async fn http_200_carrying_a_native_error_code() {
    api_case(
        Provider::Dashscope,
        |_| {
            Reply::Json(
                200,
                json!({"request_id": "r-2", "code": "InvalidParameter", "message": "size does not match"}),
            )
        },
        expect(ErrorKind::InvalidRequest, "size does not match"),
    )
    .await;
}

#[tokio::test]
async fn error_that_echoes_the_key() {
    // check_failure asserts that the key is in neither message nor details.
    api_case(
        Provider::AppleRouter,
        |_| {
            Reply::error(
                401,
                &format!("Invalid token: {KEY} (request id: 7)"),
                json!("invalid_api_key"),
            )
        },
        expect(ErrorKind::Auth, "invalid token: …"),
    )
    .await;
}

#[tokio::test]
async fn html_login_page_with_http_200() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::html(200, "<!DOCTYPE html><html><head><title>Sign in to the Wi-Fi</title></head><body><form></form></body></html>"),
        expect(ErrorKind::BadResponse, "Sign in to the Wi-Fi"),
    )
    .await;
}

#[tokio::test]
async fn html_error_page_with_http_500() {
    api_case(
        Provider::AppleRouter,
        |_| {
            Reply::html(
                500,
                "<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>",
            )
        },
        expect(ErrorKind::Server, "500 Internal Server Error"),
    )
    .await;
}

#[tokio::test]
async fn error_message_of_a_megabyte_is_cut_short() {
    let message = "额度不足 ".repeat(100_000);
    api_case(
        Provider::AppleRouter,
        move |_| Reply::error(403, &message, json!("insufficient_user_quota")),
        expect(ErrorKind::Quota, "额度不足"),
    )
    .await;
}

#[tokio::test]
async fn image_link_with_a_file_scheme() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Json(200, openai_success("file:///etc/passwd")),
        expect(ErrorKind::BadResponse, "not an http(s) url"),
    )
    .await;
}

#[tokio::test]
async fn invalid_base64() {
    let body = json!({"data": [{"url": "", "b64_json": "iVBORw0K!!!!not*base64%%%", "revised_prompt": ""}]});
    api_case(
        Provider::AppleRouter,
        move |_| Reply::Json(200, body.clone()),
        expect(ErrorKind::BadResponse, "base64"),
    )
    .await;
}

#[tokio::test]
async fn base64_of_bytes_that_are_not_an_image() {
    b64_case(
        b"%PDF-1.7 this is a document".to_vec(),
        expect(ErrorKind::Image, "not a PNG"),
    )
    .await;
}

#[tokio::test]
async fn storm_of_429_with_huge_retry_after_is_bounded() {
    // The server asks for a day's wait every time: the client caps the wait
    // (max_retry_after, 50 ms here) and gives up after max_retries.
    let s = setup(Provider::AppleRouter, |_, _| {
        Reply::error(429, "Requests rate limit exceeded", json!("Throttling")).with_header("Retry-After", "86400")
    })
    .await;
    let (outcome, events) = run(&s).await;
    let err = check_failure(
        &s,
        outcome,
        &Expect {
            api_requests: 4,
            ..expect(ErrorKind::RateLimited, "rate limit")
        },
    );
    assert_eq!(err.retry_after, Some(Duration::from_secs(86400)));
    // Each wait the client scheduled was the cap, not the day asked for (an uncapped wait
    // would also trip HARD_LIMIT); what is checked is the delay, not the clock.
    assert_eq!(events, retries(&[MAX_RETRY_AFTER; 3]));
}

/// The events of retries after `delays`, in order.
fn retries(delays: &[Duration]) -> Vec<ClientEvent> {
    (1..)
        .zip(delays)
        .map(|(attempt, &delay)| ClientEvent::RetryScheduled {
            delay,
            attempt,
            max: ClientConfig::default().max_retries,
        })
        .collect()
}

#[tokio::test]
async fn storm_of_429_with_an_unreadable_retry_after() {
    let s = setup(Provider::AppleRouter, |_, _| {
        Reply::error(429, "rate limit", json!("Throttling")).with_header("Retry-After", "soon, maybe")
    })
    .await;
    let (outcome, events) = run(&s).await;
    let err = check_failure(
        &s,
        outcome,
        &Expect {
            api_requests: 4,
            ..expect(ErrorKind::RateLimited, "rate limit")
        },
    );
    assert_eq!(err.retry_after, None);
    // The doubling backoff from INITIAL_BACKOFF, still under the cap.
    assert_eq!(
        events,
        retries(&[INITIAL_BACKOFF, INITIAL_BACKOFF * 2, INITIAL_BACKOFF * 4])
    );
}

#[tokio::test]
async fn server_accepts_then_closes_before_the_status_line() {
    api_case(
        Provider::AppleRouter,
        |_| Reply::Bytes(Vec::new()),
        expect(ErrorKind::Network, "failed"),
    )
    .await;
}

/// The API request is redirected to another host (`localhost` instead of `127.0.0.1`,
/// another port): the redirect is refused, so the key never reaches it
/// (`tests/redirects.rs` has the other cases).
#[tokio::test]
async fn redirect_to_another_host_does_not_carry_the_key() {
    let other = FakeApi::start(|seen, _| {
        if seen.header("authorization").is_some() {
            Reply::Json(200, json!({"data": [{"url": "http://127.0.0.1:1/stolen.png"}]}))
        } else {
            Reply::error(401, "Invalid token", json!(null))
        }
    })
    .await;
    let target = format!("http://localhost:{}/v1/images/generations", other.addr.port());
    let s = setup(Provider::AppleRouter, move |_, _| Reply::RedirectWith {
        status: 307,
        location: target.clone(),
    })
    .await;
    let (outcome, _) = run(&s).await;
    let err = check_failure(&s, outcome, &expect(ErrorKind::Config, "another host"));
    assert!(
        err.message.contains(&format!("localhost:{}", other.addr.port())),
        "{}",
        err.message
    );
    assert!(other.seen().is_empty(), "the redirect was followed");
    // The first host did get the key (it is the configured endpoint).
    assert_eq!(
        s.fake.api_requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

// ---------------------------------------------------------------------------------
// The image link
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn image_link_answers_404() {
    image_case(
        raw(
            404,
            "application/xml",
            b"<Error><Code>NoSuchKey</Code></Error>".to_vec(),
        ),
        expect(ErrorKind::Download, "HTTP 404"),
    )
    .await;
}

#[tokio::test]
async fn image_link_answers_403_expired_without_an_xml_content_type() {
    image_case(
        raw(
            403,
            "application/octet-stream",
            b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>"
                .to_vec(),
        ),
        expect(ErrorKind::Download, "expired"),
    )
    .await;
}

#[tokio::test]
async fn image_link_answers_403_bad_signature() {
    image_case(
        raw(
            403,
            "application/xml",
            b"<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>".to_vec(),
        ),
        expect(ErrorKind::Download, "refused"),
    )
    .await;
}

#[tokio::test]
async fn image_of_80_mb() {
    image_case(
        Reply::Stream {
            status: 200,
            declare_length: false,
            total: 80 * 1024 * 1024,
        },
        expect(ErrorKind::Download, "larger than 64 MiB"),
    )
    .await;
}

#[tokio::test]
async fn image_trickling_slower_than_the_timeout_is_kept_pending() {
    image_case(
        Reply::Trickle {
            chunk: sample_png(4, 4, 1)[..8].to_vec(),
            interval: Duration::from_millis(200),
            chunks: 100,
        },
        Expect {
            pending: 1,
            ..expect(ErrorKind::Timeout, "timed out")
        },
    )
    .await;
}

#[tokio::test]
async fn image_connection_reset_mid_body_is_kept_pending() {
    let start = sample_png(64, 64, 2)[..100].to_vec();
    image_case(
        Reply::Reset {
            declared: 50_000,
            sent: start,
        },
        Expect {
            pending: 1,
            ..expect(ErrorKind::Download, "retried until the link expires")
        },
    )
    .await;
}

#[tokio::test]
async fn image_is_an_html_page() {
    image_case(
        png(b"<html><body>Access denied</body></html>".to_vec()),
        expect(ErrorKind::Image, "not a PNG"),
    )
    .await;
}

#[tokio::test]
async fn image_is_empty() {
    image_case(png(Vec::new()), expect(ErrorKind::Image, "not a PNG")).await;
}

/// A 60 KB PNG whose IHDR says 100000 × 100000: refused from the header.
#[tokio::test]
async fn decompression_bomb_by_header() {
    image_case(
        png(claimed_size_png(100_000, 100_000)),
        expect(ErrorKind::Image, "too large"),
    )
    .await;
}

/// A real PNG of 20000 × 20000 one-bit pixels (about 300 KB that inflate to 50 MB, and
/// to 400 MB as 8-bit pixels): refused before inflating.
#[tokio::test]
async fn decompression_bomb_that_really_inflates() {
    let bomb = inflating_png(20_000, 20_000);
    assert!(bomb.len() < 400_000, "the bomb is {} bytes", bomb.len());
    image_case(png(bomb), expect(ErrorKind::Image, "too large")).await;
}

/// The contract says to check the magic bytes: a JPEG where a PNG was expected is an
/// image, stored as `.jpg` without the PNG text chunks.
#[tokio::test]
async fn jpeg_where_a_png_was_expected_is_accepted_as_a_jpeg() {
    let picture = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let s = setup(Provider::AppleRouter, move |_, fake| {
        Reply::Json(200, openai_success(&fake.png_link("jpeg", jpeg.clone())))
    })
    .await;
    let (outcome, _) = run(&s).await;
    let records = outcome.unwrap();
    assert_eq!(records.len(), 1);
    let path = s.library.image_path(&records[0]);
    assert_eq!(path.extension().unwrap(), "jpg");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!((records[0].width, records[0].height), (40, 30));
    assert_eq!(s.library.count(&Query::default()).unwrap(), 1);
}

/// A PNG signature and IHDR claiming `width` × `height`, one tiny IDAT and IEND, with valid CRCs.
fn claimed_size_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of a few zero bytes (far fewer than the header promises).
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out.resize(out.len() + 60_000, 0);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A valid one-bit grayscale PNG of `width` × `height` black pixels.
fn inflating_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; width.div_ceil(8) as usize];
    for _ in 0..height {
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
    drop(writer);
    out
}

// ---------------------------------------------------------------------------------
// Every corrupt PngSuite file served as the image
// ---------------------------------------------------------------------------------

macro_rules! corrupt_pngsuite {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let path = support::pngsuite_dir().join(concat!(stringify!($name), ".png"));
                let bytes = std::fs::read(&path).unwrap();
                image_case(png(bytes), expect(ErrorKind::Image, "")).await;
            }
        )*

        /// The list above is every `x*.png` of the suite.
        #[test]
        fn every_corrupt_pngsuite_file_has_a_case() {
            let mut listed: Vec<&str> = vec![$(stringify!($name)),*];
            listed.sort_unstable();
            let mut found: Vec<String> = std::fs::read_dir(support::pngsuite_dir())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('x') && n.ends_with(".png"))
                .map(|n| n.trim_end_matches(".png").to_owned())
                .collect();
            found.sort_unstable();
            assert_eq!(found, listed);
        }
    };
}

corrupt_pngsuite!(
    xc1n0g08, xc9n2c08, xcrn0g04, xcsn0g01, xd0n2c08, xd3n2c08, xd9n2c08, xdtn0g01, xhdn0g08, xlfn0g04, xs1n0g01,
    xs2n0g01, xs4n0g01, xs7n0g01,
);
