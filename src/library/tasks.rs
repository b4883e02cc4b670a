//! Asynchronous tasks created at the service whose images have not been collected yet.
//! A task is stored before it is first polled, so a crash or a closed window never loses
//! images that are already paid for; it is forgotten once collected, ended or expired.

use rusqlite::params;

use super::Library;
use crate::error::Result;
use crate::metadata::ImageMeta;

/// A task to poll until it finishes or its deadline passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTask {
    /// Row id; 0 for one not stored yet.
    pub id: i64,
    /// The service's origin (`scheme://host:port`): the task is polled there and
    /// nowhere else, with the key of that service.
    pub origin: String,
    /// The provider's name (as on the command line).
    pub provider: String,
    /// The service's task id.
    pub task_id: String,
    /// The request that created it, as JSON (the caller's format; the library only keeps it).
    pub request_json: String,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// After this time (ms since the epoch) the service has forgotten it; it is dropped.
    pub deadline_ms: i64,
}

impl Library {
    /// Stores a newly created task and returns its row id. Storing the same task of the
    /// same service again keeps the first row.
    pub fn add_task(&self, task: &PendingTask) -> Result<i64> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO pending_tasks (origin, provider, task_id, request_json, created_ms, deadline_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (origin, task_id) DO NOTHING",
            )?
            .execute(params![
                task.origin,
                task.provider,
                task.task_id,
                task.request_json,
                task.created_ms,
                task.deadline_ms
            ])?;
            let id = tx.query_row(
                "SELECT id FROM pending_tasks WHERE origin = ?1 AND task_id = ?2",
                params![task.origin, task.task_id],
                |row| row.get(0),
            )?;
            Ok(id)
        })
    }

    /// The tasks whose deadline has not passed, oldest first. Expired ones are deleted.
    pub fn pending_tasks(&self) -> Result<Vec<PendingTask>> {
        let now = ImageMeta::now_ms();
        self.write(|tx| {
            tx.execute("DELETE FROM pending_tasks WHERE deadline_ms <= ?1", [now])?;
            let mut statement = tx.prepare_cached(
                "SELECT id, origin, provider, task_id, request_json, created_ms, deadline_ms \
                 FROM pending_tasks ORDER BY created_ms, id",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(PendingTask {
                    id: row.get(0)?,
                    origin: row.get(1)?,
                    provider: row.get(2)?,
                    task_id: row.get(3)?,
                    request_json: row.get(4)?,
                    created_ms: row.get(5)?,
                    deadline_ms: row.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Forgets a task (collected, ended, or given up). An unknown id is not an error.
    pub fn remove_task(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM pending_tasks WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::library::LibraryPaths;

    fn task(task_id: &str, deadline_ms: i64) -> PendingTask {
        PendingTask {
            id: 0,
            origin: "https://dashscope.aliyuncs.com".into(),
            provider: "dashscope".into(),
            task_id: task_id.into(),
            request_json: "{}".into(),
            created_ms: 1,
            deadline_ms,
        }
    }

    #[test]
    fn a_task_survives_reopening_until_removed_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let far = ImageMeta::now_ms() + 60_000;
        let id = {
            let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
            let id = library.add_task(&task("t-1", far)).unwrap();
            assert_eq!(library.add_task(&task("t-1", far)).unwrap(), id, "stored once");
            library.add_task(&task("t-old", 5)).unwrap();
            id
        };
        let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
        let tasks = library.pending_tasks().unwrap();
        assert_eq!(tasks.len(), 1, "the expired one is dropped");
        assert_eq!(tasks[0].id, id);
        assert_eq!(tasks[0].task_id, "t-1");
        library.remove_task(id).unwrap();
        assert!(library.pending_tasks().unwrap().is_empty());
    }
}
