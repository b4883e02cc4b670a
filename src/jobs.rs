//! Background work on one tokio runtime: a queue of generation jobs with bounded
//! concurrency and cancel, reporting back through [`JobEvent`]s that the UI drains.
//!
//! Nothing here blocks the caller: [`Jobs::submit`] returns a [`JobId`] at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::api::client::ClientEvent;
use crate::api::request::GenerationRequest;
use crate::api::task::TaskStatus;
use crate::error::{Error, ErrorKind};
use crate::generate::{Generator, TaskFate};
use crate::library::{ImageRecord, PendingTask};
use crate::sync::lock;

/// Identifies one job for the lifetime of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

/// What happened to a job; sent in order for each job.
#[derive(Clone, Debug)]
pub enum JobEvent {
    /// The job waits for a free slot.
    Queued(JobId),
    /// The request was sent.
    Started(JobId),
    /// Rate limited; retried after `delay`.
    Retrying {
        /// The job.
        id: JobId,
        /// Time until the retry.
        delay: Duration,
        /// Which retry (1-based).
        attempt: u32,
    },
    /// Every image is stored.
    Finished {
        /// The job.
        id: JobId,
        /// The stored images.
        images: Vec<ImageRecord>,
    },
    /// The job failed.
    Failed {
        /// The job.
        id: JobId,
        /// Why.
        error: Error,
    },
    /// The user cancelled the job.
    Cancelled {
        /// The job.
        id: JobId,
        /// What became of the asynchronous task, when one had been created.
        task: Option<TaskFate>,
    },
    /// The job's asynchronous task is queued or running at the service.
    TaskWaiting {
        /// The job.
        id: JobId,
        /// Where it stands.
        status: TaskStatus,
    },
    /// The service delivered only part of the images; `failed` did not come (nor are billed).
    SomeImagesFailed {
        /// The job.
        id: JobId,
        /// How many failed.
        failed: u32,
    },
    /// A reference image was scaled or re-encoded before sending (the job goes on).
    ReferenceAdjusted {
        /// The job.
        id: JobId,
        /// Which reference (1-based).
        position: usize,
        /// What was changed, in words.
        what: String,
    },
}

/// Wakes the UI when an event is ready (egui's `Context::request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The job queue. Cheap to share; owns no thread of its own (it uses the given runtime).
pub struct Jobs {
    runtime: tokio::runtime::Handle,
    slots: Arc<Semaphore>,
    concurrency: AtomicUsize,
    next_id: AtomicU64,
    cancels: Arc<Mutex<HashMap<JobId, CancellationToken>>>,
    events: Sender<JobEvent>,
    waker: Waker,
}

impl Jobs {
    /// A queue running at most `concurrency` jobs at once on `runtime`. Returns the
    /// receiver the UI drains every frame.
    pub fn new(runtime: tokio::runtime::Handle, concurrency: usize, waker: Waker) -> (Self, Receiver<JobEvent>) {
        let concurrency = concurrency.clamp(1, 16);
        let (events, receiver) = channel();
        let jobs = Self {
            runtime,
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency: AtomicUsize::new(concurrency),
            next_id: AtomicU64::new(1),
            cancels: Arc::default(),
            events,
            waker,
        };
        (jobs, receiver)
    }

    /// Changes how many jobs run at once (1–16); running jobs are not interrupted.
    pub fn set_concurrency(&self, wanted: usize) {
        let wanted = wanted.clamp(1, 16);
        let current = self.concurrency.swap(wanted, Ordering::SeqCst);
        if wanted > current {
            self.slots.add_permits(wanted - current);
        } else if wanted < current {
            let slots = Arc::clone(&self.slots);
            let excess = u32::try_from(current - wanted).unwrap_or(u32::MAX);
            // Take the excess permits as they free up and keep them forever.
            self.runtime.spawn(async move {
                if let Ok(permits) = slots.acquire_many(excess).await {
                    permits.forget();
                }
            });
        }
    }

    /// Queues one generation; returns at once.
    pub fn submit(&self, generator: Generator, request: GenerationRequest) -> JobId {
        self.spawn(generator, Work::Generate(request))
    }

    /// Queues the collection of a task stored by an earlier run (never creating a new
    /// one); returns at once.
    pub fn resume(&self, generator: Generator, task: PendingTask) -> JobId {
        self.spawn(generator, Work::Resume(task))
    }

    fn spawn(&self, generator: Generator, work: Work) -> JobId {
        let id = JobId(self.next_id.fetch_add(1, Ordering::SeqCst));
        let cancel = CancellationToken::new();
        lock(&self.cancels).insert(id, cancel.clone());
        let reporter = Reporter {
            events: self.events.clone(),
            waker: Arc::clone(&self.waker),
        };
        reporter.send(JobEvent::Queued(id));
        let slots = Arc::clone(&self.slots);
        let cancels = Arc::clone(&self.cancels);
        self.runtime.spawn(async move {
            let outcome = run_job(id, &generator, &work, &slots, &cancel, &reporter).await;
            lock(&cancels).remove(&id);
            reporter.send(match outcome {
                Ok(images) => JobEvent::Finished { id, images },
                Err(err) if err.kind == ErrorKind::Cancelled => JobEvent::Cancelled {
                    id,
                    task: TaskFate::of(&err),
                },
                Err(error) => JobEvent::Failed { id, error },
            });
        });
        id
    }

    /// Cancels a queued or running job. A cancelled request returns within a second.
    pub fn cancel(&self, id: JobId) {
        if let Some(token) = lock(&self.cancels).get(&id) {
            token.cancel();
        }
    }
}

#[derive(Clone)]
struct Reporter {
    events: Sender<JobEvent>,
    waker: Waker,
}

impl Reporter {
    fn send(&self, event: JobEvent) {
        // The receiver is gone only when the window closed; nothing is left to tell.
        if self.events.send(event).is_ok() {
            (self.waker)();
        }
    }
}

/// What a job does.
enum Work {
    /// Sends a request and stores its images.
    Generate(GenerationRequest),
    /// Collects a task an earlier run created.
    Resume(PendingTask),
}

async fn run_job(
    id: JobId,
    generator: &Generator,
    work: &Work,
    slots: &Semaphore,
    cancel: &CancellationToken,
    reporter: &Reporter,
) -> crate::Result<Vec<ImageRecord>> {
    let _slot = tokio::select! {
        () = cancel.cancelled() => return Err(Error::new(ErrorKind::Cancelled, "")),
        permit = slots.acquire() => permit.map_err(|_| Error::new(ErrorKind::Cancelled, "the queue was closed"))?,
    };
    reporter.send(JobEvent::Started(id));
    let on_event = |event: ClientEvent| match event {
        ClientEvent::RetryScheduled { delay, attempt, .. } => reporter.send(JobEvent::Retrying { id, delay, attempt }),
        ClientEvent::SomeImagesFailed { failed } => reporter.send(JobEvent::SomeImagesFailed { id, failed }),
        ClientEvent::ReferenceAdjusted { position, what } => {
            reporter.send(JobEvent::ReferenceAdjusted { id, position, what });
        }
        ClientEvent::TaskWaiting { status } => reporter.send(JobEvent::TaskWaiting { id, status }),
        ClientEvent::TaskCreated { task_id } => tracing::info!(job = id.0, %task_id, "task created"),
    };
    match work {
        Work::Generate(request) => generator.generate(request, cancel, &on_event).await,
        Work::Resume(task) => generator.resume_task(task, cancel, &on_event).await,
    }
}
