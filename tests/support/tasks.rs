//! DashScope's asynchronous task API as `../shared/docs/api-contract.md` §7 describes it,
//! for the loopback fake: create (only with `X-DashScope-Async: enable` and the old Wan
//! body), poll, cancel (only while PENDING). Tests choose where tasks stand and count
//! what was asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{FakeApi, Reply, Seen, sample_png};

pub const CREATE_PATH: &str = "/api/v1/services/aigc/text2image/image-synthesis";
pub const TASKS_PREFIX: &str = "/api/v1/tasks/";

#[derive(Clone, Debug)]
struct Task {
    status: &'static str,
    n: u64,
    prompt: String,
    /// The links of a finished task (made once, served on every later poll).
    links: Vec<String>,
}

#[derive(Default)]
struct State {
    tasks: HashMap<String, Task>,
    /// Where new polls find unfinished tasks: `None` lets them finish.
    hold: Option<&'static str>,
    created: usize,
    polls: usize,
    cancels: usize,
}

/// The task side of a fake service. Cloning shares it.
#[derive(Clone, Default)]
pub struct FakeTasks {
    state: Arc<Mutex<State>>,
}

impl FakeTasks {
    /// Tasks finish on their first poll unless [`Self::hold`] says otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Polls answer `status` ("PENDING" or "RUNNING") until `None` lets tasks finish.
    pub fn hold(&self, status: Option<&'static str>) {
        self.state.lock().unwrap().hold = status;
    }

    /// Tasks created so far.
    pub fn created(&self) -> usize {
        self.state.lock().unwrap().created
    }

    /// Polls answered so far.
    pub fn polls(&self) -> usize {
        self.state.lock().unwrap().polls
    }

    /// Cancels accepted so far.
    pub fn cancels(&self) -> usize {
        self.state.lock().unwrap().cancels
    }

    /// The service's answer to a request on a task path, or `None` for other paths.
    pub fn handle(&self, seen: &Seen, fake: &FakeApi) -> Option<Reply> {
        if seen.path == CREATE_PATH {
            return Some(self.create(seen));
        }
        let rest = seen.path.strip_prefix(TASKS_PREFIX)?;
        Some(match (seen.method.as_str(), rest.strip_suffix("/cancel")) {
            ("POST", Some(id)) => self.cancel(id),
            ("GET", None) => self.poll(rest, fake),
            _ => Reply::Json(
                405,
                json!({"code": "MethodNotAllowed", "message": "method not allowed"}),
            ),
        })
    }

    fn create(&self, seen: &Seen) -> Reply {
        if seen.header("x-dashscope-async") != Some("enable") {
            return Reply::Json(
                403,
                json!({"code": "AccessDenied", "message": "current user api does not support synchronous calls"}),
            );
        }
        let body = seen.json();
        let model = body["model"].as_str().unwrap_or_default();
        let is_task_model = (model.starts_with("wan2.") || model.starts_with("wanx")) && model.contains("-t2i");
        if !is_task_model || model.starts_with("wan2.6") || model.starts_with("wan2.7") {
            return Reply::Json(
                400,
                json!({"code": "InvalidParameter", "message": format!("Model {model} does not support asynchronous calls")}),
            );
        }
        if let Some(refusal) = super::contract::violation(&body) {
            return refusal;
        }
        let mut state = self.state.lock().unwrap();
        state.created += 1;
        let id = format!("task-{:04}-{}", state.created, std::process::id());
        let task = Task {
            status: "PENDING",
            n: body["parameters"]["n"].as_u64().unwrap_or(4),
            prompt: body["input"]["prompt"].as_str().unwrap_or_default().to_owned(),
            links: Vec::new(),
        };
        state.tasks.insert(id.clone(), task);
        Reply::Json(
            200,
            json!({"output": {"task_id": id, "task_status": "PENDING"}, "request_id": "req-create"}),
        )
    }

    fn poll(&self, id: &str, fake: &FakeApi) -> Reply {
        let mut state = self.state.lock().unwrap();
        state.polls += 1;
        let hold = state.hold;
        let Some(task) = state.tasks.get_mut(id) else {
            return Reply::Json(
                200,
                json!({"request_id": "req-poll", "output": {"task_id": id, "task_status": "UNKNOWN"}}),
            );
        };
        if task.status == "PENDING" || task.status == "RUNNING" {
            match hold {
                Some(status) => task.status = status,
                None => {
                    task.status = "SUCCEEDED";
                    task.links = (0..task.n)
                        .map(|i| fake.png_link(&format!("{id}-{i}"), sample_png(40, 30, i as u32)))
                        .collect();
                }
            }
        }
        let output = match task.status {
            "SUCCEEDED" => {
                let results: Vec<Value> = task
                    .links
                    .iter()
                    .map(|url| json!({"url": url, "orig_prompt": task.prompt, "actual_prompt": format!("{}, rewritten", task.prompt)}))
                    .collect();
                json!({"task_id": id, "task_status": "SUCCEEDED", "results": results,
                       "task_metrics": {"TOTAL": task.n, "SUCCEEDED": task.n, "FAILED": 0}})
            }
            status => json!({"task_id": id, "task_status": status}),
        };
        Reply::Json(200, json!({"request_id": "req-poll", "output": output}))
    }

    fn cancel(&self, id: &str) -> Reply {
        let mut state = self.state.lock().unwrap();
        let Some(task) = state.tasks.get_mut(id) else {
            return Reply::Json(404, json!({"code": "NotFound", "message": "task not found"}));
        };
        if task.status != "PENDING" {
            return Reply::Json(
                400,
                json!({"code": "UnsupportedOperation", "message": "Only PENDING tasks can be canceled"}),
            );
        }
        task.status = "CANCELED";
        state.cancels += 1;
        Reply::Json(200, json!({"request_id": "req-cancel"}))
    }
}
