//! One window per library: the first window listens on a local socket; a later launch
//! (`pictor FILE…`, or the desktop's "Open with") hands its files to that window and
//! exits instead of opening a second one. When the socket cannot be used, the later
//! launch opens its own window, as before.
//!
//! The message is one JSON object, `{"open": ["/abs/path", …]}`, then the sender shuts
//! its half; the window answers `{"ok": true}` once it has taken the files.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest message a window reads (a few thousand paths).
#[cfg(unix)]
const MAX_MESSAGE_BYTES: u64 = 1024 * 1024;
/// How long either side waits for the other before giving up.
#[cfg(unix)]
const PEER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a launch sends to the window that runs.
#[derive(Debug, Serialize, Deserialize)]
struct Handover {
    /// Files to open (absolute paths; may be empty: the window only comes to the front).
    open: Vec<PathBuf>,
}

/// The window's answer.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    ok: bool,
}

/// The outcome of [`claim`].
#[derive(Debug)]
pub enum Claim {
    /// No window runs for this library: this launch opens it and listens here.
    First(InstanceListener),
    /// A window runs and took the files: this launch is done.
    HandedOver,
    /// The socket could not be used (why): open a window without listening.
    Alone(Error),
}

/// The socket the first window listens on (see [`InstanceListener::serve`]).
#[derive(Debug)]
pub struct InstanceListener {
    #[cfg(unix)]
    listener: std::os::unix::net::UnixListener,
    path: PathBuf,
}

/// The socket for the library in `library_dir`: in the user's runtime directory when the
/// OS has one (`$XDG_RUNTIME_DIR`), else in the library's own folder. Named after the
/// library's path, so two libraries (two `PICTOR_DATA_DIR`s) each get their own window.
pub fn socket_path(library_dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    library_dir.hash(&mut hasher);
    let name = format!("pictor-{:016x}.sock", hasher.finish());
    match directories::BaseDirs::new().and_then(|dirs| dirs.runtime_dir().map(Path::to_path_buf)) {
        Some(runtime) => runtime.join(name),
        None => library_dir.join(name),
    }
}

/// Becomes the window for `socket`, or hands `files` to the window that already is.
/// Relative paths are made absolute against this process's working directory first.
#[cfg(unix)]
pub fn claim(socket: &Path, files: &[PathBuf]) -> Claim {
    use std::os::unix::net::UnixListener;
    if let Some(parent) = socket.parent()
        && let Err(err) = std::fs::create_dir_all(parent)
    {
        return Claim::Alone(Error::storage(format!("cannot create {}", parent.display()), err));
    }
    let listening = |listener| {
        Claim::First(InstanceListener {
            listener,
            path: socket.to_path_buf(),
        })
    };
    match UnixListener::bind(socket) {
        Ok(listener) => return listening(listener),
        Err(err) if err.kind() != std::io::ErrorKind::AddrInUse => {
            return Claim::Alone(Error::storage(format!("cannot listen on {}", socket.display()), err));
        }
        Err(_) => {}
    }
    match hand_over(socket, files) {
        Ok(()) => Claim::HandedOver,
        // Nobody listens: a window that ended without removing its socket.
        Err(HandoverError::NobodyListens) => {
            if let Err(err) = std::fs::remove_file(socket) {
                return Claim::Alone(Error::storage(format!("cannot remove {}", socket.display()), err));
            }
            match UnixListener::bind(socket) {
                Ok(listener) => listening(listener),
                Err(err) => Claim::Alone(Error::storage(format!("cannot listen on {}", socket.display()), err)),
            }
        }
        Err(HandoverError::Failed(err)) => Claim::Alone(err),
    }
}

/// Without Unix sockets every launch opens its own window.
#[cfg(not(unix))]
pub fn claim(_socket: &Path, _files: &[PathBuf]) -> Claim {
    Claim::Alone(Error::config(
        "a single window per library needs Unix sockets on this system",
    ))
}

#[cfg(unix)]
enum HandoverError {
    /// The socket file is there but no process accepts on it.
    NobodyListens,
    /// A window listens but did not take the files.
    Failed(Error),
}

#[cfg(unix)]
fn hand_over(socket: &Path, files: &[PathBuf]) -> std::result::Result<(), HandoverError> {
    use std::io::{Read, Write};
    let failed = |what: &str, err: std::io::Error| HandoverError::Failed(Error::storage(what, err));
    let mut stream = match std::os::unix::net::UnixStream::connect(socket) {
        Ok(stream) => stream,
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => return Err(HandoverError::NobodyListens),
        Err(err) => return Err(failed("cannot reach the running window", err)),
    };
    let open = files
        .iter()
        .map(|file| std::path::absolute(file).unwrap_or_else(|_| file.clone()))
        .collect();
    let message = serde_json::to_vec(&Handover { open })
        .map_err(|err| HandoverError::Failed(Error::invalid(format!("cannot write the file list: {err}"))))?;
    let exchange = |stream: &mut std::os::unix::net::UnixStream| -> std::io::Result<Vec<u8>> {
        stream.set_write_timeout(Some(PEER_TIMEOUT))?;
        stream.set_read_timeout(Some(PEER_TIMEOUT))?;
        stream.write_all(&message)?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut answer = Vec::new();
        stream.take(4096).read_to_end(&mut answer)?;
        Ok(answer)
    };
    let answer = exchange(&mut stream).map_err(|err| failed("the running window did not answer", err))?;
    match serde_json::from_slice::<Answer>(&answer) {
        Ok(Answer { ok: true }) => Ok(()),
        _ => Err(HandoverError::Failed(Error::config(
            "the running window did not take the files",
        ))),
    }
}

impl InstanceListener {
    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves later launches on a thread of its own for as long as the process runs:
    /// each message's files go to `deliver` (an empty list: come to the front). A peer
    /// that sends something else is answered with `ok: false` and forgotten.
    pub fn serve(self, deliver: impl Fn(Vec<PathBuf>) + Send + 'static) -> Result<()> {
        std::thread::Builder::new()
            .name("pictor-instance".into())
            .spawn(move || self.accept_loop(&deliver))
            .map(|_| ())
            .map_err(|err| Error::storage("cannot start the single-window listener", err))
    }

    #[cfg(unix)]
    fn accept_loop(self, deliver: &dyn Fn(Vec<PathBuf>)) {
        use std::io::Read;
        for stream in self.listener.incoming() {
            let mut stream = match stream {
                Ok(stream) => stream,
                Err(err) => {
                    tracing::warn!("the single-window listener stopped: {err}");
                    return;
                }
            };
            let mut message = Vec::new();
            let read = stream
                .set_read_timeout(Some(PEER_TIMEOUT))
                .and_then(|()| stream.set_write_timeout(Some(PEER_TIMEOUT)))
                .and_then(|()| (&mut stream).take(MAX_MESSAGE_BYTES).read_to_end(&mut message));
            let handover = read
                .map_err(|err| err.to_string())
                .and_then(|_| serde_json::from_slice::<Handover>(&message).map_err(|err| err.to_string()))
                .and_then(|handover| {
                    if handover.open.iter().all(|path| path.is_absolute()) {
                        Ok(handover)
                    } else {
                        Err("a path is not absolute".to_owned())
                    }
                });
            let ok = handover.is_ok();
            if let Err(err) = serde_json::to_writer(&mut stream, &Answer { ok }).map_err(std::io::Error::from) {
                tracing::warn!("a later launch was not answered: {err}");
            }
            match handover {
                Ok(handover) => {
                    tracing::info!("a later launch handed over files: {}", handover.open.len());
                    deliver(handover.open);
                }
                Err(err) => tracing::warn!("a message on the single-window socket was refused: {err}"),
            }
        }
    }

    #[cfg(not(unix))]
    fn accept_loop(self, _deliver: &dyn Fn(Vec<PathBuf>)) {}
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    fn first(socket: &Path) -> InstanceListener {
        match claim(socket, &[]) {
            Claim::First(listener) => listener,
            other => panic!("expected to be the first window, got {other:?}"),
        }
    }

    #[test]
    fn a_second_launch_hands_its_files_to_the_first_as_absolute_paths() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let (sender, received) = mpsc::channel();
        first(&socket).serve(move |files| sender.send(files).unwrap()).unwrap();
        let files = [PathBuf::from("relative/a.png"), dir.path().join("b.png")];
        assert!(matches!(claim(&socket, &files), Claim::HandedOver));
        let delivered = received.recv_timeout(Duration::from_secs(5)).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(delivered, vec![cwd.join("relative/a.png"), dir.path().join("b.png")]);
    }

    #[test]
    fn a_socket_left_by_an_ended_window_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        drop(first(&socket));
        assert!(socket.exists(), "the ended window left its socket file");
        first(&socket);
    }

    #[test]
    fn a_window_that_does_not_answer_makes_the_launch_open_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        // Listening, but never accepting nor answering.
        let _silent = first(&socket);
        let started = std::time::Instant::now();
        assert!(matches!(claim(&socket, &[PathBuf::from("/a.png")]), Claim::Alone(_)));
        assert!(started.elapsed() < PEER_TIMEOUT * 2);
    }

    #[test]
    fn a_message_that_is_not_a_file_list_is_refused_and_the_window_keeps_serving() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let (sender, received) = mpsc::channel();
        first(&socket).serve(move |files| sender.send(files).unwrap()).unwrap();
        for garbage in [&b"not json"[..], br#"{"open":["relative.png"]}"#] {
            let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
            stream.write_all(garbage).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            assert_eq!(answer, r#"{"ok":false}"#);
        }
        assert!(received.try_recv().is_err(), "nothing was delivered");
        assert!(matches!(claim(&socket, &[PathBuf::from("/c.png")]), Claim::HandedOver));
        assert_eq!(
            received.recv_timeout(Duration::from_secs(5)).unwrap(),
            vec![PathBuf::from("/c.png")]
        );
    }
}
