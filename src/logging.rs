//! Where the log goes: standard error, and (for the window and the command line alike)
//! a file in the OS's state folder, rotated daily with a week kept, so a user reporting a
//! bug has something to attach. Both go through one redaction ([`redact_log_text`]): no
//! signed link, no bearer token, no key-shaped word reaches either. The last warnings
//! and errors are also kept in memory for "Copy diagnostics".

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Environment variable with the log filter (`tracing` syntax), for both outputs.
pub const LOG_FILTER_ENV: &str = "PICTOR_LOG";
/// Environment variable that moves the log folder.
pub const LOG_DIR_ENV: &str = "PICTOR_LOG_DIR";
/// Log files are named `pictor.YYYY-MM-DD.log`.
const FILE_PREFIX: &str = "pictor";
const FILE_SUFFIX: &str = "log";
/// Daily files kept (older ones are deleted when a new day's file starts).
const FILES_KEPT: usize = 7;
/// Warnings and errors kept for the diagnostics.
const PROBLEMS_KEPT: usize = 20;

/// The folder the log files go to: `PICTOR_LOG_DIR` when set, else `logs/` in the OS's
/// state folder for Pictor (`~/.local/state/pictor/logs` on Linux), else in its local
/// data folder (macOS, Windows). `None` without a home directory.
pub fn log_dir() -> Option<PathBuf> {
    match std::env::var_os(LOG_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => directories::ProjectDirs::from("ai", "Pictor", "Pictor")
            .map(|dirs| dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).join("logs")),
    }
}

/// Keeps the file writer's background thread; drop it (at exit) to flush the file.
#[must_use = "dropping it stops the log file"]
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Starts logging: standard error at `warn` (or `PICTOR_LOG`), the file at `info` for
/// Pictor and `warn` for the libraries (or `PICTOR_LOG`). A log folder that cannot be
/// made leaves standard error alone, with one warning saying why.
pub fn init() -> LogGuard {
    let from_env = || EnvFilter::try_from_env(LOG_FILTER_ENV).ok();
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(Redacting(std::io::stderr))
        .with_filter(from_env().unwrap_or_else(|| EnvFilter::new("warn")));
    let file_filter = from_env().unwrap_or_else(|| EnvFilter::new("warn,pictor=info"));
    let opened = log_dir()
        .ok_or_else(|| "no home directory for the log folder".to_owned())
        .and_then(|dir| file_layer(&dir, file_filter));
    let (file, guard, file_error) = match opened {
        Ok((layer, guard)) => (Some(layer), Some(guard), None),
        Err(why) => (None, None, Some(why)),
    };
    let problems = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(Redacting(|| ProblemWriter))
        .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let installed = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .with(problems)
        .try_init();
    if let Err(err) = installed {
        eprintln!("logging could not start: {err}");
    }
    if let Some(why) = file_error {
        tracing::warn!("no log file this run: {why}");
    }
    log_panics();
    LogGuard { _file: guard }
}

/// The layer writing redacted lines to the rotated files in `dir` (made if missing),
/// from a thread of its own; the guard flushes it when dropped.
fn file_layer<S>(
    dir: &std::path::Path,
    filter: EnvFilter,
) -> Result<(impl Layer<S> + use<S>, tracing_appender::non_blocking::WorkerGuard), String>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(FILES_KEPT)
        .build(dir)
        .map_err(|err| format!("cannot write in {}: {err}", dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Redacting(writer))
        .with_filter(filter);
    Ok((layer, guard))
}

/// A panic is logged as an error (so it reaches the file and the diagnostics) before
/// the usual message on standard error.
fn log_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        tracing::error!("a panic on thread {}: {info}", thread.name().unwrap_or("unnamed"));
        previous(info);
    }));
}

/// The last warnings and errors of this run (redacted), oldest first.
pub fn recent_problems() -> Vec<String> {
    problems()
        .lock()
        .map(|kept| kept.iter().cloned().collect())
        .unwrap_or_default()
}

fn problems() -> &'static Mutex<VecDeque<String>> {
    static PROBLEMS: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    PROBLEMS.get_or_init(|| Mutex::new(VecDeque::with_capacity(PROBLEMS_KEPT)))
}

/// Keeps each formatted warning or error line in [`problems`].
struct ProblemWriter;

impl Write for ProblemWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut kept) = problems().lock() {
            if kept.len() == PROBLEMS_KEPT {
                kept.pop_front();
            }
            kept.push_back(String::from_utf8_lossy(line).trim().to_owned());
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A writer maker whose writers redact each event before passing it on (the formatter
/// writes one event per `write` call).
struct Redacting<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, event: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(event);
        self.0.write_all(redact_log_text(&text).as_bytes())?;
        Ok(event.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// What every log line goes through: each URL's query string becomes `?…` (signed links),
/// the word after `Bearer` becomes `…`, and a key-shaped word (`sk-` and at least eight
/// more letters or digits) keeps only `sk-…`.
pub fn redact_log_text(text: &str) -> String {
    let text = crate::api::response::redact_query_strings(text);
    let mut out = String::with_capacity(text.len());
    let mut hide_next = false;
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let gap = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
        let (space, after) = rest.split_at(gap);
        out.push_str(space);
        let word_len = after.find(char::is_whitespace).unwrap_or(after.len());
        let (word, after) = after.split_at(word_len);
        rest = after;
        if word.is_empty() {
            continue;
        }
        if hide_next {
            out.push('…');
            hide_next = false;
            continue;
        }
        hide_next = word
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .eq_ignore_ascii_case("bearer");
        out.push_str(&hide_key_shaped(word));
    }
    out
}

/// `word` with every `sk-` key inside it cut to `sk-…`.
fn hide_key_shaped(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find("sk-") {
        let (before, key) = rest.split_at(at);
        out.push_str(before);
        let body = key.get(3..).unwrap_or_default();
        let body_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(body.len());
        if body_len >= 8 {
            out.push_str("sk-…");
        } else {
            out.push_str(key.get(..3 + body_len).unwrap_or_default());
        }
        rest = body.get(body_len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_bearer_tokens_and_keys_are_hidden() {
        let line = "GET https://oss.example.com/a.png?Expires=1&Signature=abc failed; \
                    Authorization: Bearer sk-0123456789abcdef key=\"sk-live_ABCDEFGH12\" sk-short \
                    \"Bearer abc123\"";
        let redacted = redact_log_text(line);
        assert_eq!(
            redacted,
            "GET https://oss.example.com/a.png?… failed; \
             Authorization: Bearer … key=\"sk-…\" sk-short \
             \"Bearer …"
        );
    }

    #[test]
    fn plain_text_and_line_breaks_are_kept() {
        let line = "2026-12-01T10:00:00Z  WARN pictor::jobs: the job failed: rate limited\n";
        assert_eq!(redact_log_text(line), line);
    }

    #[test]
    fn the_log_file_gets_the_line_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let (layer, guard) = file_layer(dir.path(), EnvFilter::new("info")).unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                "download of https://cdn.example.com/x.png?OSSAccessKeyId=LTAI&Signature=s3cr3t failed \
                 for key sk-abcdef0123456789"
            );
        });
        drop(guard);
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "one file for today: {files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("pictor.") && name.ends_with(".log"), "{name}");
        let written = std::fs::read_to_string(&files[0]).unwrap();
        assert!(
            written.contains("download of https://cdn.example.com/x.png?… failed"),
            "{written}"
        );
        assert!(written.contains("for key sk-…"), "{written}");
        assert!(
            !written.contains("s3cr3t") && !written.contains("0123456789"),
            "{written}"
        );
    }

    #[test]
    fn the_writer_redacts_what_passes_through_it() {
        let mut writer = RedactingWriter(Vec::new());
        writer.write_all(b"token Bearer abc.def sent\n").unwrap();
        assert_eq!(String::from_utf8(writer.0).unwrap(), "token Bearer … sent\n");
    }
}
