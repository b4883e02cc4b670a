//! One generation from request to stored image: call the API, download every returned
//! image at once (no key sent), ingest it, store it. Shared by the window's jobs and the CLI.
//!
//! The image is safe on disk before anyone is told about it. A download that fails for
//! a transient reason is kept as a pending download (with its 24-hour deadline) and
//! retried later; a cancel after the service answered keeps the links pending too,
//! because those images are already paid for.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::client::{ApiClient, ClientEvent};
use crate::api::provider::Provider;
use crate::api::request::GenerationRequest;
use crate::api::response::{GenerationResponse, ImageSource};
use crate::api::secret::ApiKey;
use crate::api::task::{FAST_POLL, TASK_LIFETIME, TaskPoll, TaskStatus, poll_delay};
use crate::error::{Error, ErrorKind, Result};
use crate::imaging::{self, DecodeLimits};
use crate::library::{Checked, ImageRecord, Insertion, Library, NewImage, PendingDownload, PendingTask, SpendEntry};
use crate::metadata::ImageMeta;

/// How long a returned image link stays valid.
pub const LINK_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Polls of a task that may fail in a row (network, gateway, rate limit) before the
/// task is left for the next start.
const MAX_FAILED_POLLS: u32 = 5;
/// How long the service gets to confirm a cancelled task.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);

/// What became of an asynchronous task when the user stopped waiting for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskFate {
    /// It was still queued and the service cancelled it (nothing is billed).
    CancelledAtService,
    /// It goes on at the service (it was running, or the service would not cancel it);
    /// its images are collected at the next start or with `pictor retry`.
    GoesOn,
}

impl TaskFate {
    /// The message of the `cancelled` error that carries this fate.
    fn message(self) -> &'static str {
        match self {
            Self::CancelledAtService => "the task was cancelled at the service",
            Self::GoesOn => {
                "the task goes on at the service; its images are collected at the next start or with `pictor retry`"
            }
        }
    }

    /// The fate a `cancelled` error from [`Generator::generate`] or
    /// [`Generator::resume_task`] reports; `None` when no task had been created.
    pub fn of(err: &Error) -> Option<Self> {
        [Self::CancelledAtService, Self::GoesOn]
            .into_iter()
            .find(|fate| err.kind == ErrorKind::Cancelled && err.message == fate.message())
    }
}

/// Everything needed to turn a request into stored images.
#[derive(Clone)]
pub struct Generator {
    client: ApiClient,
    key: Option<ApiKey>,
    library: Arc<Library>,
}

impl Generator {
    /// A generator sending requests through `client` with `key`, storing into `library`.
    /// Refuses a provider that needs a key when none is given.
    pub fn new(client: ApiClient, key: Option<ApiKey>, library: Arc<Library>) -> Result<Self> {
        if client.endpoint().provider.needs_key() && key.is_none() {
            return Err(Error::new(ErrorKind::Auth, "no API key is set for this provider"));
        }
        Ok(Self { client, key, library })
    }

    /// A generator that only downloads pending image links (they need no key) and never
    /// sends a generation request.
    pub fn downloads_only(client: ApiClient, library: Arc<Library>) -> Self {
        Self {
            client,
            key: None,
            library,
        }
    }

    /// The provider this generator talks to.
    pub fn provider(&self) -> Provider {
        self.client.endpoint().provider
    }

    /// Sends `request`, then downloads, ingests and stores every returned image.
    pub async fn generate(
        &self,
        request: &GenerationRequest,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<Vec<ImageRecord>> {
        if self.provider().needs_key() && self.key.is_none() {
            return Err(Error::new(ErrorKind::Auth, "no API key is set for this provider"));
        }
        let attached;
        let request = if request.needs_reference_images() {
            attached = self.attach_references(request, on_event).await?;
            &attached
        } else {
            request
        };
        if self.client.uses_task(request) {
            return self.generate_by_task(request, cancel, on_event).await;
        }
        let response = self
            .client
            .generate(request, self.key.as_ref(), cancel, on_event)
            .await?;
        let spend_key = response
            .request_id
            .as_ref()
            .map(|id| format!("{}:{id}", self.provider().name()));
        self.store_answer(request, response, spend_key, cancel, on_event).await
    }

    /// Stores every image of a successful answer, saying first how many the service
    /// reported as failed. The answer goes into the spend ledger first, under
    /// `spend_key` (counted once however often it is stored or resumed).
    async fn store_answer(
        &self,
        request: &GenerationRequest,
        response: GenerationResponse,
        spend_key: Option<String>,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<Vec<ImageRecord>> {
        self.record_spend(request, &response, spend_key).await;
        if response.failed > 0 {
            on_event(ClientEvent::SomeImagesFailed {
                failed: response.failed,
            });
        }
        let meta = meta_for(request, &response, self.provider());
        self.store_all(response.images, &meta, cancel).await
    }

    /// Adds an answer to the spend ledger: the images the service billed, else those it
    /// delivered. A ledger that cannot be written costs a log line, never the images.
    async fn record_spend(&self, request: &GenerationRequest, response: &GenerationResponse, key: Option<String>) {
        let entry = SpendEntry {
            at_ms: ImageMeta::now_ms(),
            provider: self.provider().name().to_owned(),
            model: request.params.model.clone(),
            images: response
                .billed
                .unwrap_or_else(|| u32::try_from(response.images.len()).unwrap_or(u32::MAX)),
            request_key: key,
        };
        let library = Arc::clone(&self.library);
        if let Err(err) = blocking(move || library.record_spend(&entry)).await {
            tracing::warn!(kind = %err.kind, "the spend ledger was not updated: {}", err.message);
        }
    }

    /// Creates an asynchronous task, stores it before the first poll (its images are
    /// paid for from here on), then follows it to its images.
    async fn generate_by_task(
        &self,
        request: &GenerationRequest,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<Vec<ImageRecord>> {
        let created = self
            .client
            .create_task(request, self.key.as_ref(), cancel, on_event)
            .await?;
        let created_ms = ImageMeta::now_ms();
        let request_json = serde_json::to_string(request)
            .map_err(|err| Error::new(ErrorKind::Storage, format!("cannot record the task's request: {err}")))?;
        let mut task = PendingTask {
            id: 0,
            origin: self.origin(),
            provider: self.provider().name().to_owned(),
            task_id: created.task_id.clone(),
            request_json,
            created_ms,
            deadline_ms: created_ms.saturating_add(millis(TASK_LIFETIME)),
        };
        // The demo's tasks live in its in-process server and end with it: nothing to resume.
        if self.provider() != Provider::Demo {
            let library = Arc::clone(&self.library);
            let stored = task.clone();
            match blocking(move || library.add_task(&stored)).await {
                Ok(id) => task.id = id,
                // The task runs at the service either way: follow it in this process,
                // which only loses the resume after a restart.
                Err(err) => tracing::warn!(kind = %err.kind, "the task could not be recorded: {}", err.message),
            }
        }
        on_event(ClientEvent::TaskCreated {
            task_id: created.task_id,
        });
        self.follow_task(&task, request, FAST_POLL, cancel, on_event).await
    }

    /// Whether `task` was created at this generator's service (so it is polled here,
    /// with this key).
    pub fn owns_task(&self, task: &PendingTask) -> bool {
        task.origin == self.origin() && task.provider == self.provider().name()
    }

    /// Follows a stored task (after a restart, or `pictor retry`) to its images, polling
    /// at once. Never creates a task: the stored one is already paid for.
    pub async fn resume_task(
        &self,
        task: &PendingTask,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<Vec<ImageRecord>> {
        if !self.owns_task(task) {
            return Err(Error::config(format!(
                "the task {} belongs to {} at {}, not to the service in use",
                task.task_id, task.provider, task.origin
            )));
        }
        let request = match task_request(task) {
            Ok(request) => request,
            Err(err) => {
                self.forget_task(task).await;
                return Err(err);
            }
        };
        self.follow_task(task, &request, Duration::ZERO, cancel, on_event).await
    }

    /// Polls `task` (first after `first_delay`, then on the contract's schedule) until
    /// it finishes, ends, or this process stops following it; stores its images.
    async fn follow_task(
        &self,
        task: &PendingTask,
        request: &GenerationRequest,
        first_delay: Duration,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<Vec<ImageRecord>> {
        let mut delay = first_delay;
        let mut status = TaskStatus::Pending;
        let mut failed_polls = 0;
        loop {
            if sleep_or_cancel(delay, cancel).await.is_err() {
                return Err(self.stop_following(task, status).await);
            }
            let age = Duration::from_millis(u64::try_from(ImageMeta::now_ms() - task.created_ms).unwrap_or(0));
            delay = poll_delay(age);
            match self.client.poll_task(&task.task_id, self.key.as_ref(), cancel).await {
                Ok(TaskPoll::Waiting(now)) => {
                    status = now;
                    failed_polls = 0;
                    on_event(ClientEvent::TaskWaiting { status });
                }
                Ok(TaskPoll::Finished(response)) => {
                    let spend_key = Some(format!("task:{}", task.task_id));
                    let result = self.store_answer(request, response, spend_key, cancel, on_event).await;
                    // A full disk may clear; the task's links stay valid until it expires.
                    if result.as_ref().err().is_none_or(|err| err.kind != ErrorKind::Storage) {
                        self.forget_task(task).await;
                    }
                    return result;
                }
                Ok(TaskPoll::Ended(err)) => {
                    self.forget_task(task).await;
                    return Err(err);
                }
                Err(err) if err.kind == ErrorKind::Cancelled => return Err(self.stop_following(task, status).await),
                Err(err) if transient_poll_error(&err) && failed_polls < MAX_FAILED_POLLS => {
                    failed_polls += 1;
                    tracing::info!(kind = %err.kind, failed_polls, "a task poll failed; polling again");
                    delay = err.retry_after.map_or(delay, |after| after.max(delay));
                }
                Err(err) => {
                    return Err(Error {
                        message: format!(
                            "{}; the task is kept and resumes at the next start or with `pictor retry`",
                            err.message
                        ),
                        ..err
                    });
                }
            }
        }
    }

    /// The user stopped waiting for `task`. A task still queued is cancelled at the
    /// service (then forgotten); one already running, or one the service would not
    /// cancel, is kept to be collected later. Returns the `cancelled` error saying which.
    async fn stop_following(&self, task: &PendingTask, status: TaskStatus) -> Error {
        if status == TaskStatus::Pending {
            let asked = tokio::time::timeout(
                CANCEL_TIMEOUT,
                self.client.cancel_task(&task.task_id, self.key.as_ref()),
            );
            match asked.await {
                Ok(Ok(())) => {
                    self.forget_task(task).await;
                    return Error::new(ErrorKind::Cancelled, TaskFate::CancelledAtService.message());
                }
                Ok(Err(err)) => {
                    tracing::info!(kind = %err.kind, "the service did not cancel the task: {}", err.message)
                }
                Err(_) => tracing::info!("the service did not answer the cancel in time"),
            }
        }
        Error::new(ErrorKind::Cancelled, TaskFate::GoesOn.message())
    }

    /// Forgets a stored task; a failure to do so only means it is polled once more later.
    async fn forget_task(&self, task: &PendingTask) {
        if task.id == 0 {
            return;
        }
        let library = Arc::clone(&self.library);
        let id = task.id;
        if let Err(err) = blocking(move || library.remove_task(id)).await {
            tracing::warn!(kind = %err.kind, "a finished task could not be forgotten: {}", err.message);
        }
    }

    /// The origin (`scheme://host:port`) of this generator's service.
    fn origin(&self) -> String {
        self.client.endpoint().url.origin().ascii_serialization()
    }

    /// The request with its reference images read from the library and made ready to
    /// send (scaled or re-encoded where the service would refuse them; `on_event` hears
    /// what was changed).
    async fn attach_references(
        &self,
        request: &GenerationRequest,
        on_event: &(dyn Fn(ClientEvent) + Send + Sync),
    ) -> Result<GenerationRequest> {
        let library = Arc::clone(&self.library);
        let ids = request.params.references.clone();
        let prepared = blocking(move || {
            (1..)
                .zip(&ids)
                .map(|(position, id)| {
                    let record = library
                        .get(id)?
                        .ok_or_else(|| Error::invalid(format!("the reference image {id} is not in the library")))?;
                    let path = library.image_path(&record);
                    let bytes = std::fs::read(&path)
                        .map_err(|err| Error::storage(format!("cannot read {}", path.display()), err))?;
                    imaging::prepare_reference(&bytes).map_err(|err| Error {
                        message: format!("image {position}: {}", err.message),
                        ..err
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .await?;
        let mut data_uris = Vec::with_capacity(prepared.len());
        for (position, reference) in (1..).zip(prepared) {
            if let Some(what) = reference.adjusted {
                on_event(ClientEvent::ReferenceAdjusted { position, what });
            }
            data_uris.push(reference.data_uri);
        }
        Ok(request.with_reference_images(data_uris))
    }

    async fn store_all(
        &self,
        images: Vec<ImageSource>,
        meta: &ImageMeta,
        cancel: &CancellationToken,
    ) -> Result<Vec<ImageRecord>> {
        let mut stored = Vec::new();
        let mut first_error = None;
        for (index, source) in (0u32..).zip(images) {
            // The k-th image of a request with seed S was made with S + k.
            let meta = ImageMeta {
                seed: meta
                    .seed
                    .map(|seed| seed.saturating_add(index).min(crate::api::request::MAX_SEED)),
                ..meta.clone()
            };
            let bytes = match source {
                ImageSource::Bytes(bytes) => Ok(bytes),
                ImageSource::Url(url) => self.download_or_keep_pending(&url, &meta, cancel).await,
            };
            let record = match bytes {
                Ok(bytes) => self.store(bytes, meta).await,
                Err(err) => Err(err),
            };
            match record {
                Ok(record) => stored.push(record),
                Err(err) => {
                    tracing::warn!(kind = %err.kind, "an image of the answer was not stored: {}", err.message);
                    first_error.get_or_insert(err);
                }
            }
        }
        match (stored.is_empty(), first_error) {
            (true, Some(err)) => Err(err),
            _ => Ok(stored),
        }
    }

    async fn download_or_keep_pending(
        &self,
        url: &str,
        meta: &ImageMeta,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>> {
        match self.client.download(url, cancel).await {
            Ok(bytes) => Ok(bytes),
            Err(err) if keep_pending(&err) => {
                let deadline_ms = meta.created_ms.saturating_add(millis(LINK_LIFETIME));
                let pending = PendingDownload {
                    id: 0,
                    url: url.to_owned(),
                    meta: meta.clone(),
                    deadline_ms,
                    attempts: 1,
                };
                let library = Arc::clone(&self.library);
                blocking(move || library.add_pending(&pending)).await?;
                Err(Error {
                    message: format!("{}; it will be retried until the link expires", err.message),
                    ..err
                })
            }
            Err(err) => Err(err),
        }
    }

    /// Decodes, thumbnails and stores one image off the async threads.
    pub async fn store(&self, bytes: Vec<u8>, meta: ImageMeta) -> Result<ImageRecord> {
        let library = Arc::clone(&self.library);
        blocking(move || store_blocking(&library, &bytes, &meta)).await
    }

    /// Tries every pending download again; returns the stored images and the failures.
    pub async fn retry_pending(&self, cancel: &CancellationToken) -> Result<(Vec<ImageRecord>, Vec<Error>)> {
        let library = Arc::clone(&self.library);
        let pending = blocking(move || library.pending()).await?;
        let mut stored = Vec::new();
        let mut failed = Vec::new();
        for item in pending {
            let outcome = match self.client.download(&item.url, cancel).await {
                Ok(bytes) => self.store(bytes, item.meta.clone()).await,
                Err(err) => Err(err),
            };
            let finished = match &outcome {
                Ok(_) => true,
                Err(err) => !keep_pending(err),
            };
            if finished {
                let library = Arc::clone(&self.library);
                blocking(move || library.remove_pending(item.id)).await?;
            }
            match outcome {
                Ok(record) => stored.push(record),
                Err(err) => failed.push(err),
            }
        }
        Ok((stored, failed))
    }
}

/// Ingests and inserts a generated image synchronously (on a blocking thread); see
/// [`store_with`]. Its pixels are hashed too, so a later import of its export finds it.
pub fn store_blocking(library: &Library, bytes: &[u8], meta: &ImageMeta) -> Result<ImageRecord> {
    match store_with(library, bytes, meta, false)? {
        Insertion::Stored(record) | Insertion::AlreadyThere(record) => Ok(record),
    }
}

/// Imports an image synchronously, unless a live image with the same pixels is already
/// in the library ([`Insertion::AlreadyThere`]). Older images of the same pixel size
/// that were stored without a hash are hashed first, so they are found too.
pub fn import_blocking(library: &Library, bytes: &[u8], meta: &ImageMeta) -> Result<Insertion> {
    store_with(library, bytes, meta, true)
}

/// Ingests and inserts synchronously.
///
/// The slow halves overlap: while a second thread decodes every pixel, hashes them and
/// makes the thumbnail, this one writes the file durably. The row is added only once the
/// decode succeeded; an image whose pixels turn out corrupt leaves neither a row nor a file.
fn store_with(library: &Library, bytes: &[u8], meta: &ImageMeta, refuse_duplicates: bool) -> Result<Insertion> {
    let limits = DecodeLimits::default();
    let prepared = imaging::prepare(bytes, meta, &limits)?;
    if refuse_duplicates {
        hash_older_images(library, prepared.width, prepared.height);
    }
    std::thread::scope(|scope| {
        let decoder = std::thread::Builder::new()
            .name("pictor-ingest-decode".into())
            .spawn_scoped(scope, || imaging::decoded_thumbnail(bytes, &limits))
            .map_err(|err| Error::storage("cannot start the image decoder", err))?;
        let image = NewImage {
            meta,
            bytes: &prepared.bytes,
            extension: prepared.format.extension(),
            width: prepared.width,
            height: prepared.height,
            thumbnail_jpeg: &[],
        };
        let check = || {
            let (thumbnail_jpeg, hash) = decoder
                .join()
                .unwrap_or_else(|_| Err(Error::image("the image decoder failed")))?;
            Ok(Checked {
                thumbnail_jpeg,
                pixel_hash: Some(hash),
            })
        };
        if refuse_duplicates {
            library.insert_unless_present(image, check)
        } else {
            library.insert_checked(image, check).map(Insertion::Stored)
        }
    })
}

/// Hashes the live `width` × `height` images stored without a pixel hash. An image that
/// cannot be read now only stays unmatched; that is logged, not an error of the import.
fn hash_older_images(library: &Library, width: u32, height: u32) {
    let older = match library.unhashed_of_size(width, height) {
        Ok(older) => older,
        Err(err) => {
            tracing::warn!(kind = %err.kind, "cannot look for unhashed images: {}", err.message);
            return;
        }
    };
    for record in older {
        let path = library.image_path(&record);
        let hashed = std::fs::read(&path)
            .map_err(|err| Error::storage(format!("cannot read {}", path.display()), err))
            .and_then(|bytes| imaging::decode(&bytes, &DecodeLimits::default()))
            .and_then(|image| library.set_pixel_hash(&record.id, &imaging::pixel_hash(&image)));
        if let Err(err) = hashed {
            tracing::info!(id = %record.id, kind = %err.kind, "an older image was not hashed: {}", err.message);
        }
    }
}

/// The thumbnail of a stored image: the cached one, or rebuilt from the image file (full
/// decode with limits) and cached again.
pub fn load_thumbnail(library: &Library, record: &ImageRecord) -> Result<image::RgbaImage> {
    library.thumbnail_or_rebuild(record, imaging::decode_thumbnail, |bytes| {
        let image = imaging::decode(bytes, &DecodeLimits::default())?;
        let thumbnail = imaging::thumbnail(&image, imaging::THUMBNAIL_SIDE)?;
        let encoded = imaging::encode_thumbnail(&thumbnail)?;
        Ok((thumbnail, encoded))
    })
}

/// Opens the library at `paths`, re-cataloguing files left without a row by a crash
/// from the parameters embedded in them. Such a file gets its row back only when all its
/// pixels decode (as at ingest); one that does not (most often: still being checked when
/// the crash came) is moved to `unreadable/`, never deleted.
pub fn open_library(paths: crate::library::LibraryPaths) -> Result<Library> {
    Library::open_with(paths, &read_sound_image)
}

/// Starts opening the library at `paths` on a thread of its own, with the same recovery
/// as [`open_library`], and returns at once (see [`Library::open_in_background`]): the
/// window draws its first frame while the library opens.
pub fn open_library_in_background(paths: crate::library::LibraryPaths) -> Library {
    Library::open_in_background(paths, &read_sound_image)
}

/// The embedded metadata and pixel size of an image whose every pixel decodes.
fn read_sound_image(bytes: &[u8]) -> Option<(ImageMeta, u32, u32)> {
    let found = imaging::read_meta_and_size(bytes)?;
    imaging::decode(bytes, &DecodeLimits::default()).ok()?;
    Some(found)
}

/// A duration in milliseconds, for deadlines.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The request a stored task was created with.
pub fn task_request(task: &PendingTask) -> Result<GenerationRequest> {
    serde_json::from_str(&task.request_json).map_err(|err| {
        Error::new(
            ErrorKind::Storage,
            format!("the stored request of task {} is unreadable: {err}", task.task_id),
        )
    })
}

/// Whether a failed poll is worth repeating soon: the task itself is likely fine.
fn transient_poll_error(err: &Error) -> bool {
    matches!(
        err.kind,
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Gateway | ErrorKind::Server | ErrorKind::RateLimited
    )
}

/// Sleeps `delay`, or returns `Err` as soon as `cancel` fires.
async fn sleep_or_cancel(delay: Duration, cancel: &CancellationToken) -> std::result::Result<(), ()> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(()),
        () = tokio::time::sleep(delay) => Ok(()),
    }
}

/// Whether a failed download may succeed later (so the link is kept until it expires).
fn keep_pending(err: &Error) -> bool {
    match err.kind {
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Cancelled => true,
        ErrorKind::Download => err.status.is_none_or(|s| s >= 500 || s == 429),
        _ => false,
    }
}

/// The metadata stored with every image of one answer.
pub fn meta_for(request: &GenerationRequest, response: &GenerationResponse, provider: Provider) -> ImageMeta {
    let p = &request.params;
    ImageMeta {
        prompt: p.prompt.clone(),
        negative_prompt: p.negative_prompt.clone(),
        revised_prompt: response
            .revised_prompt
            .clone()
            .filter(|r| !r.trim().is_empty() && r.trim() != p.prompt),
        model: p.model.clone(),
        size: if request.sends_size() {
            p.size.wire()
        } else {
            String::new()
        },
        seed: p.seed,
        prompt_extend: p.prompt_extend,
        watermark: p.watermark,
        provider: provider.name().to_owned(),
        request_id: response.request_id.clone(),
        created_ms: ImageMeta::now_ms(),
        parents: p.references.clone(),
        source: None,
        batch: request.batch.clone(),
    }
}

/// Runs blocking work (disk, SQLite, decoding) on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| Error::new(ErrorKind::Storage, format!("background work failed: {err}")))?
}
