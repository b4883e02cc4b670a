//! The HTTP client: generation requests and DashScope tasks, bounded bodies, timeouts,
//! cancellation, 429 retries, and image downloads that never carry the key.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::api::provider::Endpoint;
use crate::api::request::GenerationRequest;
use crate::api::response::{GenerationResponse, ImageSource, parse_response, parse_retry_after, redact_url};
use crate::api::secret::ApiKey;
use crate::api::task::{self, ASYNC_HEADER, CreatedTask, TASK_CREATE_PATH, TASKS_PATH, TaskPoll, TaskStatus};
use crate::error::{Error, ErrorKind, Result};

/// Largest API answer read into memory.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest image download read into memory.
pub const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;
/// Most redirects an API request follows (all within the endpoint's origin).
pub const MAX_API_REDIRECTS: usize = 3;
/// Most redirects an image download follows.
pub const MAX_DOWNLOAD_REDIRECTS: usize = 5;

/// Timeouts and limits of the client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// How long to wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// How long one whole request (including the body) may take.
    pub total_timeout: Duration,
    /// How many times a rate-limited (429) request is retried.
    pub max_retries: u32,
    /// First backoff delay when the server sends no `Retry-After`; doubles each retry.
    pub initial_backoff: Duration,
    /// Longest delay honoured from a `Retry-After` header.
    pub max_retry_after: Duration,
    /// Largest answer accepted.
    pub max_response_bytes: u64,
    /// Largest image accepted.
    pub max_image_bytes: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(300),
            max_retries: 3,
            initial_backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(120),
            max_response_bytes: MAX_RESPONSE_BYTES,
            max_image_bytes: MAX_IMAGE_BYTES,
        }
    }
}

/// Progress reported while a request runs.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// The request was rate limited; it is sent again after `delay` (attempt `attempt` of `max`).
    RetryScheduled {
        /// How long until the retry.
        delay: Duration,
        /// Which retry this will be (1-based).
        attempt: u32,
        /// How many retries are allowed.
        max: u32,
    },
    /// The service delivered only part of the images asked for (the rest are not billed).
    SomeImagesFailed {
        /// How many failed.
        failed: u32,
    },
    /// A reference image was changed to fit what the service accepts before sending.
    ReferenceAdjusted {
        /// Which reference (1-based: "image 1").
        position: usize,
        /// What was changed, in words.
        what: String,
    },
    /// An asynchronous task was created and stored; its images come from polling it.
    TaskCreated {
        /// The service's task id.
        task_id: String,
    },
    /// A poll found the task not finished yet.
    TaskWaiting {
        /// Queued or running.
        status: TaskStatus,
    },
}

/// Talks to one provider endpoint.
#[derive(Clone, Debug)]
pub struct ApiClient {
    /// Every request that carries the key goes through this client (see [`Self::keyed`]):
    /// its redirect policy never leaves the endpoint's origin.
    api: reqwest::Client,
    /// Image downloads: follows redirects anywhere, and never carries the key.
    downloads: reqwest::Client,
    endpoint: Endpoint,
    config: ClientConfig,
}

impl ApiClient {
    /// A client for `endpoint` with `config`.
    pub fn new(endpoint: Endpoint, config: ClientConfig) -> Result<Self> {
        let build = |redirects: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .timeout(config.total_timeout)
                .user_agent(concat!("Pictor/", env!("CARGO_PKG_VERSION")))
                .redirect(redirects)
                // A Referer would hand the previous URL (a signed link, for downloads) to the next host.
                .referer(false)
                .build()
                .map_err(|err| Error::config(format!("cannot start the HTTP client: {err}")))
        };
        Ok(Self {
            api: build(same_origin_only(endpoint.url.origin()))?,
            // Signed links may hop between storage hosts; this client never carries the key.
            downloads: build(reqwest::redirect::Policy::limited(MAX_DOWNLOAD_REDIRECTS))?,
            endpoint,
            config,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends one generation request, retrying on 429 as the config allows. Never retries
    /// after a timeout or gateway error: the images may already be billed.
    pub async fn generate(
        &self,
        request: &GenerationRequest,
        key: Option<&ApiKey>,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<GenerationResponse> {
        if request.needs_reference_images() {
            return Err(Error::invalid(
                "the reference images were not attached to the request (Generator attaches them)",
            ));
        }
        let body = request.body();
        self.rate_limited(cancel, on_event, || self.generate_once(&body, key))
            .await
    }

    /// Whether `request` runs as an asynchronous task through this client: a model that
    /// DashScope runs only as a task, on a provider that speaks DashScope's task API.
    pub fn uses_task(&self, request: &GenerationRequest) -> bool {
        self.endpoint.provider.runs_tasks() && request.spec().is_some_and(|spec| spec.dashscope_task)
    }

    /// Creates an asynchronous task for `request` (contract §7), retrying on 429. The
    /// answer is only the task's id: the images come from [`Self::poll_task`].
    pub async fn create_task(
        &self,
        request: &GenerationRequest,
        key: Option<&ApiKey>,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<CreatedTask> {
        let body = request.body().to_string();
        let url = self.endpoint.url_for(TASK_CREATE_PATH);
        self.rate_limited(cancel, on_event, || async {
            let response = self
                .keyed(Method::POST, url.clone(), key)?
                .header(CONTENT_TYPE, "application/json")
                .header(ASYNC_HEADER.0, ASYNC_HEADER.1)
                .body(body.clone())
                .send()
                .await
                .map_err(transport_error)?;
            let (status, retry_after, bytes) = self.read_answer(response).await?;
            let created = task::parse_created(status, retry_after, &bytes);
            match key {
                Some(key) => created.map_err(|err| without_key(err, key)).map(|created| CreatedTask {
                    request_id: created.request_id.map(|id| key.mask_in(&id)),
                    ..created
                }),
                None => created,
            }
        })
        .await
    }

    /// Asks once where the task `task_id` stands. An `Err` is this poll failing (network,
    /// key, rate limit); a task that ended without images is [`TaskPoll::Ended`].
    pub async fn poll_task(&self, task_id: &str, key: Option<&ApiKey>, cancel: &CancellationToken) -> Result<TaskPoll> {
        let url = self.task_url(task_id, "")?;
        cancellable(cancel, async {
            let response = self
                .keyed(Method::GET, url, key)?
                .send()
                .await
                .map_err(transport_error)?;
            let (status, retry_after, bytes) = self.read_answer(response).await?;
            let poll = task::parse_poll(status, retry_after, &bytes);
            match key {
                Some(key) => match poll.map_err(|err| without_key(err, key))? {
                    TaskPoll::Finished(answer) => answer_without_key(answer, key).map(TaskPoll::Finished),
                    TaskPoll::Ended(err) => Ok(TaskPoll::Ended(without_key(err, key))),
                    waiting @ TaskPoll::Waiting(_) => Ok(waiting),
                },
                None => poll,
            }
        })
        .await
    }

    /// Asks the service to cancel the task `task_id` (possible only while it is PENDING).
    /// `Ok` means the service confirmed it.
    pub async fn cancel_task(&self, task_id: &str, key: Option<&ApiKey>) -> Result<()> {
        let url = self.task_url(task_id, "/cancel")?;
        let response = self
            .keyed(Method::POST, url, key)?
            .send()
            .await
            .map_err(transport_error)?;
        let (status, retry_after, bytes) = self.read_answer(response).await?;
        let refused = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .is_some_and(|root| root.get("code").is_some_and(|code| !code.is_null()));
        if (200..300).contains(&status) && !refused {
            return Ok(());
        }
        let err = match parse_response(self.endpoint.provider.shape(), status, retry_after, &bytes) {
            Err(err) => err,
            Ok(_) => Error::new(ErrorKind::BadResponse, "the service did not confirm the cancel"),
        };
        Err(match key {
            Some(key) => without_key(err, key),
            None => err,
        })
    }

    /// `{TASKS_PATH}/{task_id}{suffix}` on this endpoint; a task id that could change the
    /// path is refused (it would be sent with the key).
    fn task_url(&self, task_id: &str, suffix: &str) -> Result<Url> {
        if !task::is_valid_task_id(task_id) {
            return Err(Error::invalid(format!("“{task_id}” is not a task id")));
        }
        Ok(self.endpoint.url_for(&format!("{TASKS_PATH}/{task_id}{suffix}")))
    }

    /// Runs `attempt` until it is not rate limited, at most `max_retries` more times,
    /// waiting the service's `Retry-After` or a doubling backoff in between.
    async fn rate_limited<T, F, Fut>(
        &self,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
        attempt: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut retries = 0;
        loop {
            match cancellable(cancel, attempt()).await {
                Err(err) if err.kind == ErrorKind::RateLimited && retries < self.config.max_retries => {
                    retries += 1;
                    let backoff = self.config.initial_backoff * 2u32.saturating_pow(retries - 1);
                    let delay = err.retry_after.unwrap_or(backoff).min(self.config.max_retry_after);
                    tracing::info!(
                        attempt = retries,
                        delay_s = delay.as_secs_f32(),
                        "rate limited; retrying"
                    );
                    on_event(ClientEvent::RetryScheduled {
                        delay,
                        attempt: retries,
                        max: self.config.max_retries,
                    });
                    cancellable(cancel, async {
                        tokio::time::sleep(delay).await;
                        Ok(())
                    })
                    .await?;
                }
                other => return other,
            }
        }
    }

    /// The status, the parsed `Retry-After` and the bounded body of an API answer.
    async fn read_answer(&self, response: reqwest::Response) -> Result<(u16, Option<Duration>, Vec<u8>)> {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = read_bounded(response, self.config.max_response_bytes, ErrorKind::BadResponse).await?;
        Ok((status, retry_after, bytes))
    }

    async fn generate_once(&self, body: &serde_json::Value, key: Option<&ApiKey>) -> Result<GenerationResponse> {
        let response = self
            .keyed(Method::POST, self.endpoint.url.clone(), key)?
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(transport_error)?;
        let (status, retry_after, bytes) = self.read_answer(response).await?;
        let parsed = parse_response(self.endpoint.provider.shape(), status, retry_after, &bytes);
        match key {
            Some(key) => parsed
                .map_err(|err| without_key(err, key))
                .and_then(|answer| answer_without_key(answer, key)),
            None => parsed,
        }
    }

    /// A request to the API with the key (when there is one). Every request that carries
    /// the key is built here, so it goes only to the endpoint's origin: `url` must share
    /// it, and the client's redirect policy refuses any hop away from it.
    fn keyed(&self, method: Method, url: Url, key: Option<&ApiKey>) -> Result<reqwest::RequestBuilder> {
        let origin = self.endpoint.url.origin();
        if url.origin() != origin {
            return Err(Error::config(format!(
                "refusing to send the API key to {}: it is not the configured service {}",
                url.origin().ascii_serialization(),
                origin.ascii_serialization()
            )));
        }
        let builder = self.api.request(method, url);
        Ok(match key {
            Some(key) => builder.header(AUTHORIZATION, format!("Bearer {}", key.expose())),
            None => builder,
        })
    }

    /// Downloads one pre-signed image link. Sends no `Authorization` header (the link is
    /// signed, and the key must never reach another host) and bounds the size.
    pub async fn download(&self, url: &str, cancel: &CancellationToken) -> Result<Vec<u8>> {
        cancellable(cancel, self.download_once(url)).await
    }

    async fn download_once(&self, url: &str) -> Result<Vec<u8>> {
        let response = self
            .downloads
            .get(url)
            .send()
            .await
            .map_err(|err| download_error(&err))?;
        let status = response.status();
        if !status.is_success() {
            let is_xml = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.contains("xml"));
            let body = read_bounded(response, 64 * 1024, ErrorKind::Download)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            let expired = status.as_u16() == 403 && (is_xml || text.contains("<Error>")) && text.contains("expired");
            let message = if expired {
                "the image link has expired (links are valid for 24 hours)".to_owned()
            } else if status.as_u16() == 403 {
                "the image host refused the link (HTTP 403)".to_owned()
            } else {
                format!("the image host answered HTTP {}", status.as_u16())
            };
            return Err(Error::new(ErrorKind::Download, message)
                .with_status(status.as_u16())
                .with_details(truncate(&text, 4096)));
        }
        read_bounded(response, self.config.max_image_bytes, ErrorKind::Download).await
    }
}

/// The redirect policy of the API client: it follows a redirect only within `origin`
/// (the configured endpoint's scheme, host and port), at most [`MAX_API_REDIRECTS`] times.
///
/// reqwest drops `Authorization` only when a hop changes host relative to the *previous*
/// hop, so a chain A → B → B would carry the key to B on its second hop. This policy
/// compares every hop with the configured origin instead and refuses the first one that
/// leaves it; the request then fails before anything is sent there.
///
/// Within the origin, 307 and 308 keep the method and the body, and 303 ("see other":
/// the request was handled, fetch the answer there) becomes a GET; all three are
/// followed. 301 and 302 are refused: on a POST reqwest would do what browsers do and
/// resend it as a GET without its body, so the service would get a request without a
/// prompt and answer with a misleading error. A moved endpoint is better reported as
/// what it is: the configured base URL needs updating.
fn same_origin_only(origin: url::Origin) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let next = attempt.url();
        if next.origin() != origin {
            let refused = RefusedRedirect::OtherOrigin(next.origin().ascii_serialization());
            return attempt.error(refused);
        }
        let status = attempt.status();
        if status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::FOUND {
            let refused = RefusedRedirect::Moved(status.as_u16(), next.path().to_owned());
            return attempt.error(refused);
        }
        // `previous` holds the first URL too, so its length is the number of hops so far.
        if attempt.previous().len() > MAX_API_REDIRECTS {
            return attempt.error(RefusedRedirect::TooMany);
        }
        attempt.follow()
    })
}

/// Why the API client did not follow a redirect.
#[derive(Debug)]
enum RefusedRedirect {
    /// To another origin (its `scheme://host:port`).
    OtherOrigin(String),
    /// A 301 or 302 (status, and the new path on the same origin).
    Moved(u16, String),
    /// More than [`MAX_API_REDIRECTS`] hops.
    TooMany,
}

impl RefusedRedirect {
    /// The error shown. A redirect away from the endpoint is a configuration matter, not
    /// a network one: nothing broke in transit, a retry would be refused the same way, and
    /// the fix is the user's setting (the base URL), which is what `config` leads to.
    fn to_error(&self) -> Error {
        match self {
            Self::OtherOrigin(origin) => Error::config(format!(
                "the service redirected the request to another host, {origin}; Pictor did not follow it, \
                 so the API key was not sent there. If the service has moved, set its new address as the base URL"
            )),
            Self::Moved(status, path) => Error::config(format!(
                "the service answered that this address has moved (HTTP {status} to {path}); \
                 set the base URL to the new address"
            ))
            .with_status(*status),
            Self::TooMany => Error::new(
                ErrorKind::BadResponse,
                format!("the service redirected the request more than {MAX_API_REDIRECTS} times"),
            ),
        }
    }
}

impl std::fmt::Display for RefusedRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_error().message)
    }
}

impl std::error::Error for RefusedRedirect {}

/// The error with every copy of `key` masked: a router may echo the key it rejects
/// ("Invalid token: sk-…"), and errors are shown, logged and copied.
fn without_key(mut err: Error, key: &ApiKey) -> Error {
    err.message = key.mask_in(&err.message);
    err.details = key.mask_in(&err.details);
    err
}

/// A successful answer with no trace of `key`: an echo of it in the rewritten prompt or
/// the request id is masked before either reaches the library, a PNG's metadata or a log.
/// An image link that carries the key is dropped (following it would hand the key to
/// the image host); an answer left with no image is an error.
fn answer_without_key(mut answer: GenerationResponse, key: &ApiKey) -> Result<GenerationResponse> {
    answer.revised_prompt = answer.revised_prompt.map(|text| key.mask_in(&text));
    answer.request_id = answer.request_id.map(|text| key.mask_in(&text));
    let before = answer.images.len();
    answer
        .images
        .retain(|image| !matches!(image, ImageSource::Url(url) if key.appears_in(url)));
    let dropped = before - answer.images.len();
    if dropped > 0 {
        tracing::warn!(dropped, "image links that carried the API key were not followed");
    }
    if answer.images.is_empty() {
        return Err(Error::new(
            ErrorKind::BadResponse,
            "the service's image links carry the API key; Pictor does not follow them",
        ));
    }
    Ok(answer)
}

/// Runs `work` unless `cancel` fires first; a cancelled request returns at once.
async fn cancellable<T>(cancel: &CancellationToken, work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Error::new(ErrorKind::Cancelled, "")),
        result = work => result,
    }
}

/// Reads a body up to `limit` bytes; a larger one is refused without reading it all.
async fn read_bounded(response: reqwest::Response, limit: u64, kind: ErrorKind) -> Result<Vec<u8>> {
    // With the status: a download refused for its size is not worth keeping pending.
    let status = response.status().as_u16();
    let too_big =
        || Error::new(kind, format!("the answer is larger than {} MiB", limit / (1024 * 1024))).with_status(status);
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_big());
    }
    let capacity = usize::try_from(declared.unwrap_or(0).min(limit)).unwrap_or(0);
    let mut body = Vec::with_capacity(capacity);
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| match kind {
            ErrorKind::Download => download_error(&err),
            _ => transport_error(err),
        })?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Maps a transport failure of the API request to an error kind.
fn transport_error(err: reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RefusedRedirect>() {
            return refused.to_error().with_details(redacted(&err));
        }
        source = cause.source();
    }
    if err.is_timeout() {
        Error::new(ErrorKind::Timeout, "no complete answer within the request timeout")
    } else if err.is_connect() {
        Error::new(ErrorKind::Network, "could not connect to the service").with_details(redacted(&err))
    } else if err.is_body() || err.is_decode() {
        Error::new(ErrorKind::Network, "the connection broke while the answer arrived").with_details(redacted(&err))
    } else {
        Error::new(ErrorKind::Network, "the request failed").with_details(redacted(&err))
    }
}

/// Maps a transport failure of an image download to a `download` (or `timeout`) error.
fn download_error(err: &reqwest::Error) -> Error {
    if err.is_timeout() {
        Error::new(ErrorKind::Timeout, "the image download timed out")
    } else {
        Error::new(ErrorKind::Download, "the image download failed").with_details(redacted(err))
    }
}

/// The error's text without its URL's query string (signed links are secrets).
fn redacted(err: &reqwest::Error) -> String {
    let text = err.to_string();
    match err.url() {
        Some(url) => text.replace(url.as_str(), &redact_url(url.as_str())),
        None => text,
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_key_is_masked_in_message_and_details() {
        let key = ApiKey::new("sk-echoed-0123456789abcd").unwrap();
        let err = Error::new(ErrorKind::Auth, "Invalid token: sk-echoed-0123456789abcd")
            .with_details("HTTP 401\n{\"error\":\"Invalid token: sk-echoed-0123456789abcd\"}");
        let clean = without_key(err, &key);
        assert!(!clean.message.contains(key.expose()) && !clean.details.contains(key.expose()));
        assert!(clean.message.ends_with(&key.masked()), "{}", clean.message);
        assert!(clean.details.contains("HTTP 401"));
    }

    #[test]
    fn an_echoed_key_never_survives_a_successful_answer() {
        let key = ApiKey::new("sk-echoed-0123456789abcd").unwrap();
        let answer = GenerationResponse {
            images: vec![
                ImageSource::Url("https://oss.example/a.png?token=sk-echoed-0123456789abcd".into()),
                ImageSource::Url("https://oss.example/b.png?Signature=x".into()),
            ],
            revised_prompt: Some("a cat (key sk-echoed-0123456789abcd)".into()),
            request_id: Some("req-sk-echoed-0123456789abcd".into()),
            ..GenerationResponse::default()
        };
        let clean = answer_without_key(answer, &key).unwrap();
        assert_eq!(clean.revised_prompt.as_deref(), Some("a cat (key …abcd)"));
        assert_eq!(clean.request_id.as_deref(), Some("req-…abcd"));
        assert_eq!(
            clean.images,
            vec![ImageSource::Url("https://oss.example/b.png?Signature=x".into())]
        );
        let only_keyed = GenerationResponse {
            images: vec![ImageSource::Url(
                "https://oss.example/a.png?k=sk-echoed-0123456789abcd".into(),
            )],
            ..GenerationResponse::default()
        };
        let err = answer_without_key(only_keyed, &key).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadResponse);
        assert!(!format!("{err:?}").contains(key.expose()));
    }
}
