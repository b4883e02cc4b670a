//! DashScope asynchronous tasks (contract §7): the answers to creating a task and to
//! asking about it, and how often to ask.
//!
//! Older Wan text-to-image models run on DashScope only as tasks: the create request
//! answers at once with a task id, and the images come from polling that id. The id is
//! worth money (the images are billed once made), so callers store it before the first
//! poll and resume it after a restart; see [`crate::generate`].

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::response::{GenerationResponse, ResponseShape, parse_response};
use crate::error::{Error, ErrorKind, Result};

/// The path that creates a text-to-image task (with [`ASYNC_HEADER`]).
pub const TASK_CREATE_PATH: &str = "/api/v1/services/aigc/text2image/image-synthesis";
/// The path under which each task is asked about: `{TASKS_PATH}/{task_id}`.
pub const TASKS_PATH: &str = "/api/v1/tasks";
/// The header (name, value) that asks DashScope for a task instead of a waiting request.
pub const ASYNC_HEADER: (&str, &str) = ("X-DashScope-Async", "enable");
/// How long tasks and their results are kept at the service.
pub const TASK_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The poll interval during the first [`FAST_PHASE`] after the task was created.
pub const FAST_POLL: Duration = Duration::from_secs(3);
/// How long polling stays at [`FAST_POLL`].
pub const FAST_PHASE: Duration = Duration::from_secs(30);
/// The poll interval afterwards.
pub const SLOW_POLL: Duration = Duration::from_secs(10);
/// The longest task id accepted from the service.
const MAX_TASK_ID_LEN: usize = 128;

/// Where a task that has not finished stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Queued at the service; it can still be cancelled there.
    Pending,
    /// Being made; it can no longer be cancelled.
    Running,
}

/// A task the service accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedTask {
    /// The service's id for the task (checked by [`is_valid_task_id`]).
    pub task_id: String,
    /// The request id of the create request, when the answer carries one.
    pub request_id: Option<String>,
}

/// What one poll found.
#[derive(Debug)]
pub enum TaskPoll {
    /// Not finished yet.
    Waiting(TaskStatus),
    /// Finished with at least one image (a partial success counts its failures).
    Finished(GenerationResponse),
    /// Ended without images: failed, cancelled, or unknown to the service (expired). The
    /// task is over; polling again would find the same.
    Ended(Error),
}

/// How long to wait before the next poll of a task created `age` ago: every
/// [`FAST_POLL`] for the first [`FAST_PHASE`], then every [`SLOW_POLL`].
pub fn poll_delay(age: Duration) -> Duration {
    if age < FAST_PHASE { FAST_POLL } else { SLOW_POLL }
}

/// Whether `id` can be a task id: 1–128 ASCII letters, digits, `-` or `_`. The id goes
/// into a URL path with the key attached, so anything else (a `/`, `..`, `?`) from a
/// misbehaving service is refused rather than sent.
pub fn is_valid_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TASK_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses the answer to the create request: `{"output": {"task_id", "task_status"}, "request_id"}`.
/// An error body (in any layout the service uses) is the classified error.
pub fn parse_created(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Result<CreatedTask> {
    let root = json_of(body);
    let task_id = root
        .as_ref()
        .filter(|_| (200..300).contains(&status))
        .and_then(|root| root.pointer("/output/task_id"))
        .and_then(Value::as_str);
    let Some(task_id) = task_id else {
        // Not a task: an error in one of the usual layouts, or an answer without an id.
        return Err(match parse_response(ResponseShape::Native, status, retry_after, body) {
            Err(err) => err,
            Ok(_) => Error::new(
                ErrorKind::BadResponse,
                "the service answered with images instead of a task id",
            ),
        });
    };
    if !is_valid_task_id(task_id) {
        return Err(Error::new(
            ErrorKind::BadResponse,
            "the service's task id is not a plain identifier; Pictor does not send the key with it",
        ));
    }
    Ok(CreatedTask {
        task_id: task_id.to_owned(),
        request_id: root
            .as_ref()
            .and_then(|root| root.get("request_id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Parses the answer to a poll. `Err` means this poll failed (the network, the key, a
/// rate limit): the task itself may be fine and is worth asking about again.
pub fn parse_poll(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Result<TaskPoll> {
    let task_status = json_of(body).filter(|_| (200..300).contains(&status)).and_then(|root| {
        root.pointer("/output/task_status")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase)
    });
    match task_status.as_deref() {
        Some("PENDING") => Ok(TaskPoll::Waiting(TaskStatus::Pending)),
        Some("RUNNING") => Ok(TaskPoll::Waiting(TaskStatus::Running)),
        Some("UNKNOWN") => Ok(TaskPoll::Ended(Error::new(
            ErrorKind::Download,
            "the service no longer knows this task: tasks and their images are kept for 24 hours",
        ))),
        Some("FAILED" | "CANCELED" | "CANCELLED") => Ok(TaskPoll::Ended(
            match parse_response(ResponseShape::Native, status, retry_after, body) {
                Err(err) => err,
                Ok(_) => Error::new(ErrorKind::Server, "the generation task failed"),
            },
        )),
        // SUCCEEDED, or an error body: the native parser reads the results
        // (`output.results[].url`, `actual_prompt`) or classifies the error.
        _ => parse_response(ResponseShape::Native, status, retry_after, body).map(TaskPoll::Finished),
    }
}

/// The body as JSON (a UTF-8 byte-order mark tolerated), or `None`.
fn json_of(body: &[u8]) -> Option<Value> {
    let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(json).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::api::response::ImageSource;

    #[test]
    fn polls_every_three_seconds_then_every_ten() {
        assert_eq!(poll_delay(Duration::ZERO), FAST_POLL);
        assert_eq!(poll_delay(Duration::from_secs(29)), Duration::from_secs(3));
        assert_eq!(poll_delay(Duration::from_secs(30)), Duration::from_secs(10));
        assert_eq!(poll_delay(Duration::from_secs(3600)), SLOW_POLL);
    }

    #[test]
    fn a_created_task_gives_its_id_and_request_id() {
        let body = br#"{"output": {"task_id": "86ecf553-d340-4e21-af6e-a0c6a421c010", "task_status": "PENDING"},
                        "request_id": "5143cfa3-0000"}"#;
        let created = parse_created(200, None, body).unwrap();
        assert_eq!(created.task_id, "86ecf553-d340-4e21-af6e-a0c6a421c010");
        assert_eq!(created.request_id.as_deref(), Some("5143cfa3-0000"));
    }

    #[test]
    fn a_create_error_is_classified_and_a_hostile_id_refused() {
        let refused = br#"{"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r"}"#;
        assert_eq!(parse_created(401, None, refused).unwrap_err().kind, ErrorKind::Auth);
        let sync_only =
            br#"{"code": "AccessDenied", "message": "current user api does not support synchronous calls"}"#;
        assert_eq!(
            parse_created(403, None, sync_only).unwrap_err().kind,
            ErrorKind::ModelUnavailable
        );
        for id in ["../../v1/images", "a/b", "x?y=1", "", &"a".repeat(129)] {
            let body = serde_json::json!({"output": {"task_id": id, "task_status": "PENDING"}}).to_string();
            let err = parse_created(200, None, body.as_bytes()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadResponse, "{id}");
        }
    }

    #[test]
    fn waiting_finished_and_ended_tasks_are_told_apart() {
        let pending = br#"{"output": {"task_id": "t", "task_status": "PENDING"}}"#;
        assert!(matches!(
            parse_poll(200, None, pending).unwrap(),
            TaskPoll::Waiting(TaskStatus::Pending)
        ));
        let running = br#"{"output": {"task_id": "t", "task_status": "RUNNING"}}"#;
        assert!(matches!(
            parse_poll(200, None, running).unwrap(),
            TaskPoll::Waiting(TaskStatus::Running)
        ));

        let done = r#"{"request_id": "r1", "output": {"task_id": "t", "task_status": "SUCCEEDED",
            "results": [{"url": "https://oss.example/1.png?Signature=s", "orig_prompt": "猫", "actual_prompt": "一只橘猫"},
                        {"code": "DataInspectionFailed", "message": "Output data may contain inappropriate content."}],
            "task_metrics": {"TOTAL": 2, "SUCCEEDED": 1, "FAILED": 1}}}"#;
        let TaskPoll::Finished(answer) = parse_poll(200, None, done.as_bytes()).unwrap() else {
            panic!("a succeeded task is finished");
        };
        assert_eq!(
            answer.images,
            vec![ImageSource::Url("https://oss.example/1.png?Signature=s".into())]
        );
        assert_eq!(answer.revised_prompt.as_deref(), Some("一只橘猫"));
        assert_eq!(answer.failed, 1);

        let failed = br#"{"output": {"task_id": "t", "task_status": "FAILED", "code": "DataInspectionFailed",
            "message": "Input data may contain inappropriate content."}}"#;
        let TaskPoll::Ended(err) = parse_poll(200, None, failed).unwrap() else {
            panic!("a failed task has ended");
        };
        assert_eq!(err.kind, ErrorKind::Moderation);
        let unknown = br#"{"output": {"task_id": "t", "task_status": "UNKNOWN"}}"#;
        let TaskPoll::Ended(err) = parse_poll(200, None, unknown).unwrap() else {
            panic!("an unknown task has ended");
        };
        assert!(err.message.contains("24 hours"), "{}", err.message);
    }

    #[test]
    fn a_failed_poll_is_an_error_not_an_ended_task() {
        let throttled = br#"{"code": "Throttling", "message": "Requests rate limit exceeded"}"#;
        let err = parse_poll(429, Some(Duration::from_secs(2)), throttled).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited);
        let gateway = b"<html><title>502 Bad Gateway</title></html>";
        assert_eq!(parse_poll(502, None, gateway).unwrap_err().kind, ErrorKind::Gateway);
        // A task that says PENDING inside an HTTP error is not trusted to be waiting.
        let odd = br#"{"output": {"task_status": "PENDING"}, "code": "InternalError", "message": "boom"}"#;
        assert!(parse_poll(500, None, odd).is_err());
    }
}
