//! The offline demo provider: an HTTP server on 127.0.0.1 that speaks the AppleRouter
//! protocol and draws images locally, so a new user can try the whole flow (client,
//! download, ingest, library) with no key and no network.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::api::request::{ModelFamily, Size};
use crate::error::{Error, Result};

/// Largest request body the demo accepts.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// A running demo server; it stops when the runtime that started it shuts down.
#[derive(Clone, Debug)]
pub struct DemoServer {
    addr: SocketAddr,
}

struct DemoState {
    images: Mutex<HashMap<String, Bytes>>,
    latency: Duration,
    base_url: String,
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
            images: Mutex::default(),
            latency,
            base_url: format!("http://{addr}"),
        });
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&state), request));
                    let connection =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    if let Err(err) = connection.await {
                        tracing::debug!("demo connection ended: {err}");
                    }
                });
            }
        });
        Ok(Self { addr })
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn handle(state: Arc<DemoState>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let response = match (request.method(), path.as_str()) {
        (&Method::POST, crate::api::provider::OPENAI_IMAGES_PATH) => generate(&state, request).await,
        (&Method::GET, p) if p.starts_with("/images/") => {
            let token = p.trim_start_matches("/images/").trim_end_matches(".png");
            let image = state.images.lock().ok().and_then(|images| images.get(token).cloned());
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

async fn generate(state: &DemoState, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return error_response(StatusCode::BAD_REQUEST, "unreadable body", "invalid_request"),
    };
    if body.len() > MAX_REQUEST_BYTES {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, "body too large", "invalid_request");
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return error_response(StatusCode::BAD_REQUEST, "body is not JSON", "invalid_request");
    };
    let model = value["model"].as_str().unwrap_or_default().to_owned();
    let prompt = value["input"]["messages"][0]["content"][0]["text"]
        .as_str()
        .or_else(|| value["input"]["prompt"].as_str())
        .unwrap_or_default()
        .to_owned();
    if prompt.is_empty() {
        return error_response(
            StatusCode::BAD_REQUEST,
            "InvalidParameter: input text is empty",
            "invalid_request",
        );
    }
    let size_text = value["parameters"]["size"].as_str().unwrap_or("1664*928");
    let size = match Size::parse(size_text).and_then(|s| s.validated_for(ModelFamily::of(&model))) {
        Ok(size) => size,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InvalidParameter: The size does not match the allowed size",
                "invalid_request",
            );
        }
    };
    let seed = value["parameters"]["seed"]
        .as_u64()
        .unwrap_or_else(|| u64::from(fastrand_seed()));
    tokio::time::sleep(state.latency).await;
    let drawn = tokio::task::spawn_blocking(move || draw(size, &prompt, seed)).await;
    let Ok(Ok(png)) = drawn else {
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError: drawing failed",
            "server",
        );
    };
    let token = ulid::Ulid::new().to_string();
    if let Ok(mut images) = state.images.lock() {
        images.insert(token.clone(), Bytes::from(png));
    }
    let answer = json!({
        "created": crate::metadata::ImageMeta::now_ms() / 1000,
        "data": [{"url": format!("{}/images/{token}.png?Expires=demo&Signature=demo", state.base_url), "b64_json": "", "revised_prompt": ""}],
        "metadata": {"usage": {"width": size.width, "height": size.height, "image_count": 1},
                     "request_id": format!("demo-{token}")}
    });
    json_response(StatusCode::OK, &answer)
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

fn error_response(status: StatusCode, message: &str, code: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"error": {"message": message, "type": code, "param": "", "code": code}}),
    )
}

/// Draws a demo picture: soft colour fields derived from the prompt and seed, with a
/// "DEMO" band so nobody mistakes it for a real generation.
pub fn draw(size: Size, prompt: &str, seed: u64) -> Result<Vec<u8>> {
    let mut hash = seed ^ 0x9E37_79B9_7F4A_7C15;
    for byte in prompt.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3);
    }
    let channel = |shift: u32| f32::from(u8::try_from((hash >> shift) & 0xFF).unwrap_or(0)) / 255.0;
    let (a, b, c) = (channel(0), channel(8), channel(16));
    let (w, h) = (size.width.max(1), size.height.max(1));
    let band_top = h * 7 / 16;
    let band_bottom = h * 9 / 16;
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let wave = ((fx * 6.0 + a * 6.3).sin() + (fy * 5.0 + b * 6.3).cos()) * 0.25 + 0.5;
        let mut rgb = [
            (0.3 + 0.7 * wave * (0.5 + a * 0.5)) * 255.0,
            (0.2 + 0.6 * (1.0 - fy) * (0.5 + b * 0.5)) * 255.0,
            (0.3 + 0.7 * (1.0 - wave) * (0.5 + c * 0.5)) * 255.0,
        ];
        if (band_top..band_bottom).contains(&y) {
            let lit = demo_text_pixel(x, y - band_top, w, band_bottom - band_top);
            rgb = if lit { [255.0, 255.0, 255.0] } else { [20.0, 20.0, 28.0] };
        }
        image::Rgb(rgb.map(|v| v.clamp(0.0, 255.0) as u8))
    });
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
