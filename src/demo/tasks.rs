//! The demo's DashScope task API (contract §7): a task is created at once, stays
//! PENDING for a moment (it can be cancelled then), RUNNING while it draws, then
//! SUCCEEDED with its links and a rewritten prompt. At most [`MAX_TASKS`] are kept.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{Bounded, DemoState, error_response, invalid, json_response, read_job};
use crate::api::task::{ASYNC_HEADER, TASKS_PATH};
use crate::sync::lock;

/// What follows `/api/v1/tasks/` in `path` (a task id, maybe with `/cancel`).
pub(super) fn below_tasks(path: &str) -> Option<&str> {
    path.strip_prefix(TASKS_PATH)?.strip_prefix('/')
}
/// Most tasks remembered; the oldest is forgotten first (and then polls as UNKNOWN).
pub(super) const MAX_TASKS: usize = 64;

/// Where one demo task stands.
#[derive(Clone, Debug)]
pub(super) enum DemoTask {
    Pending,
    Running,
    Succeeded { prompt: String, urls: Vec<String> },
    Failed { message: String },
    Canceled,
}

/// Moves task `id` on, unless it was cancelled (or forgotten) meanwhile.
fn advance(tasks: &mut Bounded<DemoTask>, id: &str, next: DemoTask) {
    if let Some(task) = tasks.get_mut(id)
        && !matches!(task, DemoTask::Canceled)
    {
        *task = next;
    }
}

/// Creates a task: checks the body as the synchronous path does, answers PENDING at
/// once, and draws in the background.
pub(super) async fn create(state: &Arc<DemoState>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let asks_async = request
        .headers()
        .get(ASYNC_HEADER.0)
        .is_some_and(|value| value.as_bytes() == ASYNC_HEADER.1.as_bytes());
    if !asks_async {
        return error_response(
            StatusCode::FORBIDDEN,
            "current user api does not support synchronous calls",
            "AccessDenied",
        );
    }
    let job = match read_job(request).await {
        Ok(job) => job,
        Err(response) => return response,
    };
    let id = ulid::Ulid::new().to_string().to_ascii_lowercase();
    let prompt = job.prompt.clone();
    lock(&state.tasks).insert(id.clone(), DemoTask::Pending);
    let state = Arc::clone(state);
    let task_id = id.clone();
    tokio::spawn(async move {
        // Queued for one latency (cancellable), then running for two, as a real task
        // takes a while: the first poll (after 3 s) finds it running at the default 2 s.
        tokio::time::sleep(state.latency).await;
        advance(&mut lock(&state.tasks), &task_id, DemoTask::Running);
        if !matches!(lock(&state.tasks).get(&task_id), Some(DemoTask::Running)) {
            return;
        }
        tokio::time::sleep(state.latency * 2).await;
        let next = match super::draw_job(&state, &job).await {
            Ok(urls) => DemoTask::Succeeded { prompt, urls },
            Err(_) => DemoTask::Failed {
                message: "drawing failed".into(),
            },
        };
        advance(&mut lock(&state.tasks), &task_id, next);
    });
    json_response(
        StatusCode::OK,
        &json!({"output": {"task_id": id, "task_status": "PENDING"}, "request_id": request_id()}),
    )
}

/// Where task `id` stands, in DashScope's layout.
pub(super) fn poll(state: &DemoState, id: &str) -> Response<Full<Bytes>> {
    let task = lock(&state.tasks).get(id).cloned();
    let output = match task {
        None => json!({"task_id": id, "task_status": "UNKNOWN"}),
        Some(DemoTask::Pending) => json!({"task_id": id, "task_status": "PENDING"}),
        Some(DemoTask::Running) => json!({"task_id": id, "task_status": "RUNNING"}),
        Some(DemoTask::Canceled) => json!({"task_id": id, "task_status": "CANCELED"}),
        Some(DemoTask::Failed { message }) => {
            json!({"task_id": id, "task_status": "FAILED", "code": "InternalError", "message": message})
        }
        Some(DemoTask::Succeeded { prompt, urls }) => {
            let results: Vec<Value> = urls
                .iter()
                .map(|url| json!({"url": url, "orig_prompt": prompt, "actual_prompt": rewritten(&prompt)}))
                .collect();
            let count = results.len();
            json!({"task_id": id, "task_status": "SUCCEEDED", "results": results,
                   "task_metrics": {"TOTAL": count, "SUCCEEDED": count, "FAILED": 0}})
        }
    };
    json_response(StatusCode::OK, &json!({"request_id": request_id(), "output": output}))
}

/// Cancels task `id` if it is still queued, as DashScope does.
pub(super) fn cancel(state: &DemoState, id: &str) -> Response<Full<Bytes>> {
    let mut tasks = lock(&state.tasks);
    match tasks.get_mut(id) {
        Some(task @ DemoTask::Pending) => {
            *task = DemoTask::Canceled;
            json_response(StatusCode::OK, &json!({"request_id": request_id()}))
        }
        Some(_) => invalid("UnsupportedOperation: the task is not PENDING and cannot be cancelled"),
        None => error_response(StatusCode::NOT_FOUND, "the task does not exist", "NotFound"),
    }
}

/// The demo's stand-in for the service's prompt rewriting, so the revised prompt shows.
fn rewritten(prompt: &str) -> String {
    format!("{prompt}, soft natural light, fine detail")
}

fn request_id() -> String {
    format!("demo-{}", ulid::Ulid::new())
}
