//! A loopback fake of the image API that behaves as `../shared/docs/api-contract.md`
//! says, plus misbehaviours. It serves the image links it hands out itself and
//! records every request, so tests can check that no image request carried a key.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod contract;
pub mod tasks;
pub mod tools;
pub mod window;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// What the fake answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A JSON body with a status.
    Json(u16, Value),
    /// Any bytes with a status, content type and extra headers.
    Raw {
        status: u16,
        content_type: String,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    },
    /// Reads the request, then never answers; notes when the client hangs up ([`FakeApi::hang_ups`]).
    Stall,
    /// Closes the connection without answering.
    Close,
    /// Sends headers declaring `declared` bytes, then `sent`, then closes (connection reset mid-body).
    Partial { declared: usize, sent: Vec<u8> },
    /// Sends `chunks` chunks of the body, one every `interval`.
    Trickle {
        chunk: Vec<u8>,
        interval: Duration,
        chunks: usize,
    },
    /// A redirect to `location`.
    Redirect(String),
    /// A redirect with a chosen status (307/308 keep the method and body).
    RedirectWith { status: u16, location: String },
    /// `total` filler bytes streamed in 64 KiB chunks (no allocation of the whole body),
    /// with a `content-length` when `declare_length`, else delimited by closing the connection.
    Stream {
        status: u16,
        declare_length: bool,
        total: usize,
    },
    /// Like [`Reply::Partial`], then a TCP reset (RST) instead of an orderly close.
    Reset { declared: usize, sent: Vec<u8> },
    /// These bytes on the socket, verbatim (not necessarily HTTP), then close.
    Bytes(Vec<u8>),
}

impl Reply {
    pub fn html(status: u16, body: &str) -> Self {
        Self::Raw {
            status,
            content_type: "text/html".into(),
            body: body.as_bytes().to_vec(),
            headers: vec![],
        }
    }
    pub fn error(status: u16, message: &str, code: Value) -> Self {
        Self::Json(
            status,
            json!({"error": {"message": message, "type": "bad_response_status_code", "param": "", "code": code}}),
        )
    }
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Json(status, value_json) => Self::Raw {
                status,
                content_type: "application/json".into(),
                body: value_json.to_string().into_bytes(),
                headers: vec![(name.into(), value.into())],
            },
            Self::Raw {
                status,
                content_type,
                body,
                mut headers,
            } => {
                headers.push((name.into(), value.into()));
                Self::Raw {
                    status,
                    content_type,
                    body,
                    headers,
                }
            }
            other => other,
        }
    }
}

type Handler = dyn Fn(&Seen, &FakeApi) -> Reply + Send + Sync;

/// The fake server. Cloning shares it.
#[derive(Clone)]
pub struct FakeApi {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    images: Arc<Mutex<HashMap<String, Reply>>>,
    handler: Arc<Mutex<Arc<Handler>>>,
    hang_ups: Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeApi {
    /// Starts a fake whose API endpoint answers with `handler` (on the current runtime).
    pub async fn start(handler: impl Fn(&Seen, &FakeApi) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), handler).await
    }

    /// Starts a fake listening on `bind` (e.g. a non-loopback address of this machine).
    pub async fn start_on(
        bind: SocketAddr,
        handler: impl Fn(&Seen, &FakeApi) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            addr,
            seen: Arc::default(),
            images: Arc::default(),
            handler: Arc::new(Mutex::new(Arc::new(handler))),
            hang_ups: Arc::default(),
        };
        let server = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.serve(stream).await });
            }
        });
        fake
    }

    /// Replaces the API handler.
    pub fn set_handler(&self, handler: impl Fn(&Seen, &FakeApi) -> Reply + Send + Sync + 'static) {
        *self.handler.lock().unwrap() = Arc::new(handler);
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers an image link answered with `reply`; returns its signed-looking URL.
    pub fn image_link(&self, name: &str, reply: Reply) -> String {
        self.images.lock().unwrap().insert(name.to_owned(), reply);
        format!(
            "http://{}/img/{name}.png?Expires=1762497734&OSSAccessKeyId=LTAI&Signature=abc%3D",
            self.addr
        )
    }

    /// Registers a PNG image link.
    pub fn png_link(&self, name: &str, png: Vec<u8>) -> String {
        self.image_link(
            name,
            Reply::Raw {
                status: 200,
                content_type: "image/png".into(),
                body: png,
                headers: vec![],
            },
        )
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests for image links that carried an Authorization header (must stay empty).
    pub fn image_requests_with_auth(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.starts_with("/img/") && s.header("authorization").is_some())
            .collect()
    }

    /// How many stalled requests ([`Reply::Stall`]) the client gave up on by closing the
    /// connection (a cancel or a timeout that reached the socket).
    pub fn hang_ups(&self) -> usize {
        self.hang_ups.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// API requests (not image downloads).
    pub fn api_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| !s.path.starts_with("/img/"))
            .collect()
    }

    async fn serve(&self, mut stream: TcpStream) {
        let Some(seen) = read_request(&mut stream).await else {
            return;
        };
        self.seen.lock().unwrap().push(seen.clone());
        let reply = if let Some(name) = seen.path.strip_prefix("/img/") {
            let name = name.split(['.', '?']).next().unwrap_or_default().to_owned();
            if seen.header("authorization").is_some() {
                // Object storage rejects a signed link that also carries a key.
                Reply::Raw {
                    status: 400,
                    content_type: "application/xml".into(),
                    body:
                        b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>"
                            .to_vec(),
                    headers: vec![],
                }
            } else {
                self.images
                    .lock()
                    .unwrap()
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| Reply::Raw {
                        status: 404,
                        content_type: "application/xml".into(),
                        body: b"<Error><Code>NoSuchKey</Code></Error>".to_vec(),
                        headers: vec![],
                    })
            }
        } else {
            let handler = Arc::clone(&self.handler.lock().unwrap());
            handler(&seen, self)
        };
        if matches!(reply, Reply::Stall) {
            // Never answer; wait (up to an hour) for the client to close the connection.
            let mut byte = [0u8; 1];
            let closed = async { while matches!(stream.read(&mut byte).await, Ok(n) if n > 0) {} };
            if tokio::time::timeout(Duration::from_secs(3600), closed).await.is_ok() {
                self.hang_ups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            return;
        }
        write_reply(&mut stream, reply).await;
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    // A request through a proxy names the whole URL (absolute form); keep its path, the
    // host it was meant for is in the Host header.
    let target = request_line.next()?;
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |slash| &rest[slash..]).to_owned(),
        None => target.to_owned(),
    };
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buffer[header_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn write_reply(stream: &mut TcpStream, reply: Reply) {
    match reply {
        Reply::Json(status, value) => {
            let body = value.to_string().into_bytes();
            write_full(stream, status, "application/json", &body, &[]).await;
        }
        Reply::Raw {
            status,
            content_type,
            body,
            headers,
        } => {
            write_full(stream, status, &content_type, &body, &headers).await;
        }
        Reply::Stall => unreachable!("answered by FakeApi::serve"),
        Reply::Close => {}
        Reply::Partial { declared, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&sent).await;
            let _ = stream.flush().await;
        }
        Reply::Trickle {
            chunk,
            interval,
            chunks,
        } => {
            let total = chunk.len() * chunks;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            for _ in 0..chunks {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
                tokio::time::sleep(interval).await;
            }
        }
        Reply::Redirect(location) => {
            let head =
                format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Reply::RedirectWith { status, location } => {
            let head = format!(
                "HTTP/1.1 {status} Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Reply::Stream {
            status,
            declare_length,
            total,
        } => {
            let length = if declare_length {
                format!("content-length: {total}\r\n")
            } else {
                String::new()
            };
            let head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\n{length}connection: close\r\n\r\n",
                reason(status)
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut left = total;
            while left > 0 {
                let n = left.min(chunk.len());
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
                left -= n;
            }
        }
        Reply::Reset { declared, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&sent).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            // SO_LINGER 0: closing sends RST instead of FIN.
            let _ = stream.set_zero_linger();
            return;
        }
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
        }
    }
    let _ = stream.shutdown().await;
}

async fn write_full(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    headers: &[(String, String)],
) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.flush().await;
}

/// An OpenAI-style success answer pointing at `url`.
pub fn openai_success(url: &str) -> Value {
    json!({"created": 1762411334,
           "data": [{"url": url, "b64_json": "", "revised_prompt": ""}],
           "metadata": {"output": {}, "usage": {"width": 1328, "height": 1328, "image_count": 1},
                        "request_id": "d0250a3d-0000-4000-8000-000000000001"}})
}

/// A native DashScope success answer pointing at `url` (a text item first).
pub fn native_success(url: &str) -> Value {
    json!({"output": {"choices": [{"finish_reason": "stop",
                                   "message": {"role": "assistant", "content": [{"text": "here"}, {"image": url}]}}],
                      "task_metric": {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}},
           "usage": {"width": 1328, "height": 1328, "image_count": 1},
           "request_id": "d0250a3d-0000-4000-8000-000000000002"})
}

/// A small real PNG with noise-like content.
pub fn sample_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let v = x
            .wrapping_mul(2654435761)
            .wrapping_add(y.wrapping_mul(40503))
            .wrapping_add(seed.wrapping_mul(97));
        image::Rgb([(v >> 3) as u8, (v >> 11) as u8, (v >> 19) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The PngSuite folder beside the project (`../shared/testdata/pngsuite`).
pub fn pngsuite_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/pngsuite")
}

/// Fills `library` with `count` small images: newest first is index `count - 1`.
/// Every 10th is a favourite; every 7th has a Chinese landscape prompt; models alternate.
pub fn populate(library: &pictor::library::Library, count: usize) -> Vec<pictor::library::ImageRecord> {
    let png = sample_png(48, 32, 11);
    let base = pictor::metadata::ImageMeta::now_ms() - count as i64 * 1000;
    let mut records = Vec::with_capacity(count);
    for index in 0..count {
        let prompt = if index == 0 {
            "the very first image".to_owned()
        } else if index % 7 == 0 {
            format!("一幅传统的中国山水画 number {index}")
        } else {
            format!("a red fox in the snow number {index}")
        };
        let meta = pictor::metadata::ImageMeta {
            prompt,
            negative_prompt: "blurry".into(),
            model: if index % 2 == 0 {
                "qwen-image-plus".into()
            } else {
                "qwen-image".into()
            },
            size: "1328*1328".into(),
            seed: Some(index as u32),
            provider: "demo".into(),
            created_ms: base + index as i64 * 1000,
            ..Default::default()
        };
        let record = pictor::generate::store_blocking(library, &png, &meta).unwrap();
        if index % 10 == 0 {
            library.set_favorite(std::slice::from_ref(&record.id), true).unwrap();
        }
        records.push(record);
    }
    records
}

/// The real `pictor` binary with its library in `data_dir`, no keyring, no inherited key,
/// and an instant demo provider.
pub fn pictor_command(data_dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pictor"));
    command
        .env("PICTOR_DATA_DIR", data_dir)
        .env("PICTOR_DEMO_LATENCY_MS", "0")
        .env_remove("PICTOR_API_KEY")
        .env_remove("PICTOR_LOG")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(std::process::Stdio::null());
    command
}

/// Arguments of `pictor generate` with the demo at its smallest size (fast to draw).
pub fn demo_generate_args(prompt: &str, count: u32) -> Vec<String> {
    [
        "generate",
        prompt,
        "--provider",
        "demo",
        "--model",
        "qwen-image-2.0",
        "--size",
        "512*512",
        "--json",
        "--count",
        &count.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The JSON objects of the complete lines of `stdout` (a line cut by a kill is skipped).
pub fn complete_json_lines(stdout: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(stdout);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Every file below `root` (recursively), sorted; an unreadable folder counts as empty.
pub fn files_below(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
