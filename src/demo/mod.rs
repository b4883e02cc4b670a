//! The offline demo provider: an HTTP server on 127.0.0.1 that speaks the AppleRouter
//! protocol (and DashScope's task API for the models that run as tasks) and draws images locally, so a new user can try the whole flow (client,
//! download, ingest, library) with no key and no network.
//!
//! It runs for the whole session, so what it holds stays bounded: a drawn image is kept
//! only until its link is fetched (and at most [`MAX_STORED_IMAGES`] wait at once), a
//! request body is refused past [`MAX_REQUEST_BYTES`] before it is read, and a failing
//! `accept` is retried after a pause instead of in a tight loop.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::api::request::Size;
use crate::error::{Error, Result};
use crate::sync::lock;

mod painting;
mod tasks;

/// Largest request body the demo accepts.
/// Three reference images of up to 10 MB each, base64-encoded, fit (as at the service).
const MAX_REQUEST_BYTES: usize = 48 * 1024 * 1024;
/// Most drawn images waiting for their link to be fetched; the oldest is dropped first.
/// The client fetches each link right after the answer, so normally none wait.
const MAX_STORED_IMAGES: usize = 32;
/// The pause after a failed `accept` (e.g. out of file descriptors), so the loop does
/// not spin a core while the cause lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A running demo server; it stops when the runtime that started it shuts down.
#[derive(Clone, Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    state: Arc<DemoState>,
}

#[derive(Debug)]
struct DemoState {
    /// Drawn images by link token, until their link is fetched.
    images: Mutex<Bounded<Bytes>>,
    tasks: Mutex<Bounded<tasks::DemoTask>>,
    latency: Duration,
    base_url: String,
}

/// Values by key, at most `capacity` of them: inserting one more drops the oldest. The
/// demo keeps its drawn images (until their link is fetched) and its tasks in these, so
/// what a session-long server holds stays bounded.
struct Bounded<V> {
    capacity: usize,
    values: HashMap<String, V>,
    /// Keys, oldest first.
    order: VecDeque<String>,
}

/// Counts, not the values: a debug print of the server stays short.
impl<V> std::fmt::Debug for Bounded<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounded")
            .field("len", &self.values.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl<V> Bounded<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            values: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Keeps `value` under `key`, dropping the oldest values beyond the capacity.
    fn insert(&mut self, key: String, value: V) {
        while self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.values.remove(&oldest);
            }
        }
        self.order.push_back(key.clone());
        self.values.insert(key, value);
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.values.get(key)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.values.get_mut(key)
    }

    /// Hands out the value of `key` and forgets it (a demo link works once).
    fn take(&mut self, key: &str) -> Option<V> {
        let value = self.values.remove(key)?;
        self.order.retain(|k| k != key);
        Some(value)
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

impl DemoServer {
    /// Starts the server on a free loopback port, on the current tokio runtime.
    /// `latency` is the simulated generation time.
    pub async fn start(latency: Duration) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|err| Error::config(format!("cannot start the demo server: {err}")))?;
        let addr = listener
            .local_addr()
            .map_err(|err| Error::config(format!("demo server: {err}")))?;
        let state = Arc::new(DemoState {
            images: Mutex::new(Bounded::new(MAX_STORED_IMAGES)),
            tasks: Mutex::new(Bounded::new(tasks::MAX_TASKS)),
            latency,
            base_url: format!("http://{addr}"),
        });
        let served = Arc::clone(&state);
        tokio::spawn(async move {
            let listener = &listener;
            let accept = move || async move { listener.accept().await.map(|(stream, _)| stream) };
            let serve = |stream| {
                let state = Arc::clone(&served);
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&state), request));
                    let connection =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    if let Err(err) = connection.await {
                        tracing::debug!("demo connection ended: {err}");
                    }
                });
            };
            accept_loop(accept, serve, tokio::time::sleep).await
        });
        Ok(Self { addr, state })
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many drawn images wait for their link to be fetched (never more than
    /// [`MAX_STORED_IMAGES`]). For tests of that bound.
    #[doc(hidden)]
    pub fn stored_images(&self) -> usize {
        lock(&self.state.images).len()
    }
}

/// Hands every accepted connection to `serve`, for ever. After a failed accept it
/// `pause`s for [`ACCEPT_BACKOFF`]: the causes (too many open files, no memory) last a
/// while, and retrying at once would spin. The first failure of a run is logged as a
/// warning, the rest only at debug level, so a lasting cause does not flood the log.
async fn accept_loop<C, A, P>(
    mut accept: impl FnMut() -> A,
    mut serve: impl FnMut(C),
    mut pause: impl FnMut(Duration) -> P,
) where
    A: Future<Output = std::io::Result<C>>,
    P: Future<Output = ()>,
{
    let mut failures: u64 = 0;
    loop {
        match accept().await {
            Ok(connection) => {
                if failures > 0 {
                    tracing::info!(failures, "the demo server accepts connections again");
                    failures = 0;
                }
                serve(connection);
            }
            Err(err) => {
                if failures == 0 {
                    tracing::warn!("the demo server cannot accept a connection: {err}; retrying");
                } else {
                    tracing::debug!("the demo server still cannot accept a connection: {err}");
                }
                failures += 1;
                pause(ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn handle(state: Arc<DemoState>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let response = match (request.method(), path.as_str()) {
        (&Method::POST, crate::api::provider::OPENAI_IMAGES_PATH) => generate(&state, request).await,
        (&Method::POST, crate::api::task::TASK_CREATE_PATH) => tasks::create(&state, request).await,
        (&Method::GET, p) if tasks::below_tasks(p).is_some() => {
            tasks::poll(&state, tasks::below_tasks(p).unwrap_or_default())
        }
        (&Method::POST, p) if tasks::below_tasks(p).is_some_and(|rest| rest.ends_with("/cancel")) => {
            let rest = tasks::below_tasks(p).unwrap_or_default();
            tasks::cancel(&state, rest.trim_end_matches("/cancel"))
        }
        (&Method::GET, p) if p.starts_with("/images/") => {
            let token = p.trim_start_matches("/images/").trim_end_matches(".png");
            let image = lock(&state.images).take(token);
            match image {
                Some(bytes) => Response::builder()
                    .header("content-type", "image/png")
                    .body(Full::new(bytes))
                    .unwrap_or_default(),
                None => error_response(StatusCode::NOT_FOUND, "not found", "not_found"),
            }
        }
        _ => error_response(StatusCode::NOT_FOUND, "unknown path", "not_found"),
    };
    Ok(response)
}

/// One generation the demo was asked for, checked as the service checks it.
struct DemoJob {
    prompt: String,
    /// The first reference image, drawn from in an edit.
    first: Option<image::DynamicImage>,
    size: Size,
    n: u32,
    seed: u64,
}

/// A synchronous request (the AppleRouter way): draws, then answers with links.
async fn generate(state: &DemoState, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let job = match read_job(request).await {
        Ok(job) => job,
        Err(response) => return response,
    };
    tokio::time::sleep(state.latency).await;
    let urls = match draw_job(state, &job).await {
        Ok(urls) => urls,
        Err(response) => return response,
    };
    let data: Vec<Value> = urls
        .iter()
        .map(|url| json!({"url": url, "b64_json": "", "revised_prompt": ""}))
        .collect();
    let answer = json!({
        "created": crate::metadata::ImageMeta::now_ms() / 1000,
        "data": data,
        "metadata": {"usage": {"width": job.size.width, "height": job.size.height, "image_count": job.n},
                     "request_id": format!("demo-{}", ulid::Ulid::new())}
    });
    json_response(StatusCode::OK, &answer)
}

/// Reads and checks a request body in either layout (messages or the old Wan prompt).
async fn read_job(request: Request<Incoming>) -> std::result::Result<DemoJob, Response<Full<Bytes>>> {
    let body = read_body(request.into_body()).await?;
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return Err(invalid("body is not JSON"));
    };
    let model = value["model"].as_str().unwrap_or_default().to_owned();
    let content = value["input"]["messages"][0]["content"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let prompt = content
        .iter()
        .find_map(|item| item["text"].as_str())
        .or_else(|| value["input"]["prompt"].as_str())
        .unwrap_or_default()
        .to_owned();
    let references: Vec<String> = content
        .iter()
        .filter_map(|item| item["image"].as_str().map(str::to_owned))
        .collect();
    if prompt.is_empty() {
        return Err(invalid("InvalidParameter: input text is empty"));
    }
    let spec = crate::api::request::spec_for(&model);
    let range = crate::api::request::references_range(&model);
    let allowed = range.min..=range.max;
    if !allowed.contains(&u32::try_from(references.len()).unwrap_or(u32::MAX)) {
        return Err(invalid(format!(
            "InvalidParameter: {model} takes {}-{} images, got {}",
            allowed.start(),
            allowed.end(),
            references.len()
        )));
    }
    // An edit: every reference decoded (a data URI is all Pictor sends); the first is
    // drawn from, the last gives the size when none is asked for (as at the service).
    let mut decoded = Vec::with_capacity(references.len());
    for uri in &references {
        match decode_data_uri(uri) {
            Ok(image) => decoded.push(image),
            Err(message) => {
                return Err(invalid(format!("InvalidParameter.DataInspection: {message}")));
            }
        }
    }
    let last_size = decoded.last().map(|image| Size::new(image.width(), image.height()));
    let first = decoded.into_iter().next();
    let size = match value["parameters"]["size"].as_str() {
        Some(text) => Size::parse(text).and_then(|size| match spec {
            Some(spec) => spec.check_size(&model, size),
            None => Ok(size),
        }),
        None => Ok(last_size.unwrap_or_else(|| crate::api::request::default_size(&model))),
    };
    let Ok(size) = size else {
        return Err(invalid("InvalidParameter: The size does not match the allowed size"));
    };
    let n = value["parameters"]["n"].as_u64().unwrap_or(1);
    let n_max = crate::api::request::n_max(&model);
    let Some(n) = u32::try_from(n).ok().filter(|n| (1..=n_max).contains(n)) else {
        return Err(invalid(format!(
            "InvalidParameter: num_images_per_prompt must be 1 to {n_max}"
        )));
    };
    let seed = value["parameters"]["seed"]
        .as_u64()
        .unwrap_or_else(|| u64::from(fastrand_seed()));
    Ok(DemoJob {
        prompt,
        first,
        size,
        n,
        seed,
    })
}

/// Draws the job's images and keeps them for their links; returns the links.
async fn draw_job(state: &DemoState, job: &DemoJob) -> std::result::Result<Vec<String>, Response<Full<Bytes>>> {
    let mut urls = Vec::new();
    for index in 0..u64::from(job.n) {
        let prompt = job.prompt.clone();
        let first = job.first.clone();
        let (size, seed) = (job.size, job.seed + index);
        let drawn = tokio::task::spawn_blocking(move || match first {
            Some(reference) => draw_edit(&reference, size, seed),
            None => draw(size, &prompt, seed),
        })
        .await;
        let Ok(Ok(png)) = drawn else {
            return Err(error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError: drawing failed",
                "server",
            ));
        };
        let token = ulid::Ulid::new().to_string();
        lock(&state.images).insert(token.clone(), Bytes::from(png));
        urls.push(format!(
            "{}/images/{token}.png?Expires=demo&Signature=demo",
            state.base_url
        ));
    }
    Ok(urls)
}

/// The request body, at most [`MAX_REQUEST_BYTES`]: a larger declared length is refused
/// before a byte is read, and a chunked body is refused as soon as it passes the limit,
/// so no more than the limit is ever buffered.
async fn read_body(body: Incoming) -> Result<Bytes, Response<Full<Bytes>>> {
    // hyper's size hint is exactly the Content-Length when there is one (0 when chunked).
    if body.size_hint().lower() > MAX_REQUEST_BYTES as u64 {
        return Err(too_large());
    }
    match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(_) => Err(error_response(
            StatusCode::BAD_REQUEST,
            "unreadable body",
            "invalid_request",
        )),
    }
}

/// 413, closing the connection: the rest of the body is never read.
fn too_large() -> Response<Full<Bytes>> {
    let mut response = error_response(StatusCode::PAYLOAD_TOO_LARGE, "body too large", "invalid_request");
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

fn fastrand_seed() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    nanos % crate::api::request::MAX_SEED
}

fn json_response(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())))
        .unwrap_or_default()
}

/// The service's 400 for settings it refuses.
fn invalid(message: impl AsRef<str>) -> Response<Full<Bytes>> {
    error_response(StatusCode::BAD_REQUEST, message.as_ref(), "invalid_request")
}

fn error_response(status: StatusCode, message: &str, code: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"error": {"message": message, "type": code, "param": "", "code": code}}),
    )
}

/// Draws a demo picture: a landscape painted from the prompt and the seed (see
/// [`painting`]), with a small "DEMO" mark so nobody mistakes it for a real generation.
pub fn draw(size: Size, prompt: &str, seed: u64) -> Result<Vec<u8>> {
    let (w, h) = (size.width.max(1), size.height.max(1));
    let image = painting::paint(w, h, prompt, seed);
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    image::ImageEncoder::write_image(encoder, image.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .map_err(|err| Error::image(format!("demo drawing failed: {err}")))?;
    Ok(out)
}

/// The pixels of a `data:image/…;base64,` URI, or why not.
fn decode_data_uri(uri: &str) -> std::result::Result<image::DynamicImage, String> {
    use base64::Engine;
    let encoded = uri
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
        .map(|(_, data)| data)
        .ok_or("the image is not a base64 data URI")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "the image's base64 is damaged")?;
    crate::imaging::decode(&bytes, &crate::imaging::DecodeLimits::default())
        .map_err(|_| "the image format is not supported".to_owned())
}

/// The demo's "edit": the first reference mirrored, warmed and framed, at `size`, with
/// the DEMO band, so the lineage from the original is plain to see.
pub fn draw_edit(reference: &image::DynamicImage, size: Size, seed: u64) -> Result<Vec<u8>> {
    let (w, h) = (size.width.max(1), size.height.max(1));
    let base = reference
        .resize_exact(w, h, image::imageops::FilterType::Triangle)
        .fliph()
        .to_rgb8();
    let warmth = 30.0 + (seed % 40) as f32;
    let frame = (w.min(h) / 24).max(2);
    let band_top = h * 7 / 16;
    let band_bottom = h * 9 / 16;
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        if x < frame || y < frame || x >= w - frame || y >= h - frame {
            return image::Rgb([230, 180, 60]);
        }
        if (band_top..band_bottom).contains(&y) {
            let lit = demo_text_pixel(x, y - band_top, w, band_bottom - band_top);
            return if lit {
                image::Rgb([255, 255, 255])
            } else {
                image::Rgb([20, 20, 28])
            };
        }
        let [r, g, b] = base.get_pixel(x, y).0.map(f32::from);
        image::Rgb([(r + warmth).min(255.0), g, (b - warmth).max(0.0)].map(|v| v as u8))
    });
    let mut out = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut out),
        image.as_raw(),
        w,
        h,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|err| Error::image(format!("demo drawing failed: {err}")))?;
    Ok(out)
}

/// 5×7 bitmaps of the letters D, E, M, O.
const GLYPHS: [[u8; 7]; 4] = [
    [0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110],
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
    [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
];

/// Whether pixel (x, y) of the band is part of the centred word "DEMO".
fn demo_text_pixel(x: u32, y: u32, width: u32, band_height: u32) -> bool {
    let cell = (band_height / 9).max(1);
    let text_width = cell * (4 * 6 - 1);
    let left = width.saturating_sub(text_width) / 2;
    let top = cell;
    if x < left || y < top {
        return false;
    }
    let (cx, cy) = ((x - left) / cell, (y - top) / cell);
    let (letter, column) = (cx / 6, cx % 6);
    if letter >= 4 || column >= 5 || cy >= 7 {
        return false;
    }
    let row = GLYPHS
        .get(letter as usize)
        .and_then(|g| g.get(cy as usize))
        .copied()
        .unwrap_or(0);
    row & (1 << (4 - column)) != 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use crate::api::provider::OPENAI_IMAGES_PATH;

    /// Only a bound against a hang (the old server waited for a body that never came).
    const HANG: Duration = Duration::from_secs(60);

    #[test]
    fn the_store_keeps_the_newest_images_up_to_its_bound() {
        let mut store = Bounded::new(MAX_STORED_IMAGES);
        for n in 0..1000 {
            store.insert(n.to_string(), Bytes::from_static(b"png"));
            assert!(store.len() <= MAX_STORED_IMAGES);
        }
        assert_eq!((store.len(), store.order.len()), (MAX_STORED_IMAGES, MAX_STORED_IMAGES));
        assert!(store.take("0").is_none(), "the oldest was kept");
        assert!(store.take("999").is_some());
        assert!(store.take("999").is_none(), "a link worked twice");
        assert_eq!(
            (store.len(), store.order.len()),
            (MAX_STORED_IMAGES - 1, MAX_STORED_IMAGES - 1)
        );
    }

    #[tokio::test]
    async fn many_drawn_images_keep_the_store_bounded() {
        let server = DemoServer::start(Duration::ZERO).await.unwrap();
        let client = reqwest::Client::new();
        let endpoint = format!("{}{OPENAI_IMAGES_PATH}", server.base_url());
        let mut links = Vec::new();
        for n in 0..MAX_STORED_IMAGES + 8 {
            let body = json!({"model": "wan2.2-t2i-flash", "input": {"prompt": format!("image {n}")},
                              "parameters": {"size": "512*512", "seed": n}});
            let answer: Value = client
                .post(&endpoint)
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .map(|bytes| serde_json::from_slice(&bytes).unwrap())
                .unwrap();
            links.push(answer["data"][0]["url"].as_str().unwrap().to_owned());
            assert!(server.stored_images() <= MAX_STORED_IMAGES, "after {} images", n + 1);
        }
        assert_eq!(server.stored_images(), MAX_STORED_IMAGES);
        let status = |url: String| {
            let client = client.clone();
            async move { client.get(url).send().await.unwrap().status() }
        };
        // A fetched link is forgotten; the oldest unfetched ones were dropped.
        let newest = links.last().unwrap().clone();
        assert_eq!(status(newest.clone()).await, StatusCode::OK);
        assert_eq!(server.stored_images(), MAX_STORED_IMAGES - 1);
        assert_eq!(status(newest).await, StatusCode::NOT_FOUND);
        assert_eq!(status(links[0].clone()).await, StatusCode::NOT_FOUND);
    }

    /// Reads the response head (status line and headers), bounded against a hang.
    async fn response_head(stream: &mut TcpStream) -> String {
        let read = async {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap() == 1 {
                head.push(byte[0]);
            }
            String::from_utf8_lossy(&head).into_owned()
        };
        tokio::time::timeout(HANG, read)
            .await
            .expect("the server waited for the body instead of answering")
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_without_reading_the_body() {
        let server = DemoServer::start(Duration::ZERO).await.unwrap();
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST {OPENAI_IMAGES_PATH} HTTP/1.1\r\nhost: demo\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n",
            MAX_REQUEST_BYTES + 1
        );
        // Not one byte of the body is sent: the answer must come anyway.
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = response_head(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }

    #[tokio::test]
    async fn a_chunked_body_is_refused_once_it_passes_the_limit() {
        let server = DemoServer::start(Duration::ZERO).await.unwrap();
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = format!("POST {OPENAI_IMAGES_PATH} HTTP/1.1\r\nhost: demo\r\ntransfer-encoding: chunked\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // Exactly the limit in 64 KiB chunks, then one byte more; the body never ends
        // (no last chunk), so an answer proves the server did not wait for the whole of it.
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..MAX_REQUEST_BYTES / chunk.len() {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await
                .unwrap();
            stream.write_all(&chunk).await.unwrap();
            stream.write_all(b"\r\n").await.unwrap();
        }
        stream.write_all(b"1\r\n \r\n").await.unwrap();
        let answer = response_head(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }

    #[tokio::test]
    async fn a_body_at_the_limit_is_still_read() {
        let server = DemoServer::start(Duration::ZERO).await.unwrap();
        // Valid JSON padded with spaces to exactly the limit.
        let mut body = json!({"model": "wan2.2-t2i-flash", "input": {"prompt": "padded"},
                              "parameters": {"size": "512*512"}})
        .to_string();
        body.push_str(&" ".repeat(MAX_REQUEST_BYTES - body.len()));
        let answer = reqwest::Client::new()
            .post(format!("{}{OPENAI_IMAGES_PATH}", server.base_url()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }

    /// A log sink for the accept-loop test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_failing_accept_pauses_before_each_retry_and_warns_once() {
        let log = Captured::default();
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish();
        // The test runtime has one thread, so the loop logs to this subscriber.
        let _guard = tracing::subscriber::set_default(subscriber);

        let events = Mutex::new(Vec::new());
        let served = tokio::sync::Notify::new();
        let mut calls = 0;
        let accept = || {
            calls += 1;
            events.lock().unwrap().push(format!("accept {calls}"));
            let call = calls;
            async move {
                match call {
                    1..=3 => Err(std::io::Error::other("too many open files")),
                    4 => Ok("connection"),
                    _ => std::future::pending().await,
                }
            }
        };
        let serve = |connection: &str| {
            events.lock().unwrap().push(format!("serve {connection}"));
            served.notify_one();
        };
        let pause = |delay: Duration| {
            events.lock().unwrap().push(format!("pause {delay:?}"));
            std::future::ready(())
        };
        tokio::select! {
            () = accept_loop(accept, serve, pause) => unreachable!("the accept loop ended"),
            () = served.notified() => {}
        }
        // After serving, the loop is already waiting for the next connection.
        let mut events = events.into_inner().unwrap();
        events.retain(|event| event != "accept 5");
        assert_eq!(
            events,
            [
                "accept 1",
                "pause 100ms",
                "accept 2",
                "pause 100ms",
                "accept 3",
                "pause 100ms",
                "accept 4",
                "serve connection"
            ]
        );
        let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert_eq!(log.matches("cannot accept").count(), 1, "{log}");
    }
}
