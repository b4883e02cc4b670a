//! One window per library: the first window holds a lock file and listens on a local
//! socket beside it; a later launch (`pictor FILE…`, or the desktop's "Open with") hands
//! its files to that window and exits instead of opening a second one. When the socket
//! cannot be used, the later launch opens its own window, as before.
//!
//! The message is one JSON object, `{"open": ["/abs/path", …]}`, then the sender shuts
//! its half; the window answers `{"ok": true}` once the files are in its queue, or
//! `{"ok": false}` when it refused them or could not take them (it is closing).

use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest message a window reads (a few thousand paths).
#[cfg(unix)]
const MAX_MESSAGE_BYTES: u64 = 1024 * 1024;
/// How long either side gives the other for the whole exchange.
#[cfg(unix)]
const PEER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a launch that found the lock taken waits for its holder to listen.
#[cfg(unix)]
const LISTEN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// What a launch sends to the window that runs.
#[derive(Debug, Serialize, Deserialize)]
struct Handover {
    /// Files to open (absolute paths; may be empty: the window only asks for attention).
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

/// The socket the first window listens on (see [`InstanceListener::serve`]), with the
/// lock that makes it the first.
#[derive(Debug)]
pub struct InstanceListener {
    #[cfg(unix)]
    listener: std::os::unix::net::UnixListener,
    /// Held for the life of the process: while it is, no other launch binds the socket.
    _lock: std::fs::File,
    path: PathBuf,
}

/// The socket for the library in `library_dir`: in the user's runtime directory when the
/// OS has one (`$XDG_RUNTIME_DIR`, private to the user), else in the library's own
/// folder. Named after a SHA-256 of the library's absolute path, so two libraries (two
/// `PICTOR_DATA_DIR`s) each get their own window, whichever way the path was written.
pub fn socket_path(library_dir: &Path) -> PathBuf {
    use sha2::Digest;
    let absolute = std::path::absolute(library_dir).unwrap_or_else(|_| library_dir.to_path_buf());
    let digest = sha2::Sha256::digest(absolute.as_os_str().as_encoded_bytes());
    let name: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    let name = format!("pictor-{name}.sock");
    match directories::BaseDirs::new().and_then(|dirs| dirs.runtime_dir().map(Path::to_path_buf)) {
        Some(runtime) => runtime.join(name),
        None => absolute.join(name),
    }
}

/// Becomes the window for `socket`, or hands `files` to the window that already is.
/// Relative paths are made absolute against this process's working directory first.
///
/// The lock file beside the socket decides who is first, so two launches at the same
/// moment never both listen; the first removes a socket an ended window left behind.
#[cfg(unix)]
pub fn claim(socket: &Path, files: &[PathBuf]) -> Claim {
    if let Some(parent) = socket.parent()
        && let Err(err) = std::fs::create_dir_all(parent)
    {
        return Claim::Alone(Error::storage(format!("cannot create {}", parent.display()), err));
    }
    let lock_path = socket.with_extension("lock");
    let lock = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
    {
        Ok(lock) => lock,
        Err(err) => return Claim::Alone(Error::storage(format!("cannot open {}", lock_path.display()), err)),
    };
    match lock.try_lock() {
        Ok(()) => listen(socket, lock),
        Err(std::fs::TryLockError::WouldBlock) => hand_over_within_grace(socket, files),
        Err(std::fs::TryLockError::Error(err)) => {
            Claim::Alone(Error::storage(format!("cannot lock {}", lock_path.display()), err))
        }
    }
}

/// Without Unix sockets every launch opens its own window.
#[cfg(not(unix))]
pub fn claim(_socket: &Path, _files: &[PathBuf]) -> Claim {
    Claim::Alone(Error::config(
        "a single window per library needs Unix sockets on this system",
    ))
}

/// Holding the lock: binds the socket (after removing an ended window's), readable and
/// writable by this user only.
#[cfg(unix)]
fn listen(socket: &Path, lock: std::fs::File) -> Claim {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(socket) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Claim::Alone(Error::storage(format!("cannot remove {}", socket.display()), err)),
    }
    let listener = match std::os::unix::net::UnixListener::bind(socket) {
        Ok(listener) => listener,
        Err(err) => return Claim::Alone(Error::storage(format!("cannot listen on {}", socket.display()), err)),
    };
    if let Err(err) = std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)) {
        return Claim::Alone(Error::storage(format!("cannot make {} private", socket.display()), err));
    }
    Claim::First(InstanceListener {
        listener,
        _lock: lock,
        path: socket.to_path_buf(),
    })
}

/// Another process holds the lock: it is a window, or about to listen as one.
#[cfg(unix)]
fn hand_over_within_grace(socket: &Path, files: &[PathBuf]) -> Claim {
    let started = std::time::Instant::now();
    loop {
        match hand_over(socket, files) {
            Ok(()) => return Claim::HandedOver,
            Err(HandoverError::NotListening(_)) if started.elapsed() < LISTEN_GRACE => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(HandoverError::NotListening(err) | HandoverError::Failed(err)) => return Claim::Alone(err),
        }
    }
}

#[cfg(unix)]
enum HandoverError {
    /// Nothing accepts on the socket (yet).
    NotListening(Error),
    /// A window listens but did not take the files.
    Failed(Error),
}

#[cfg(unix)]
fn hand_over(socket: &Path, files: &[PathBuf]) -> std::result::Result<(), HandoverError> {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|err| HandoverError::NotListening(Error::storage("cannot reach the running window", err)))?;
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
    let answer = exchange(&mut stream)
        .map_err(|err| HandoverError::Failed(Error::storage("the running window did not answer", err)))?;
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

    /// Serves later launches for as long as the process runs, each on a thread of its
    /// own (a peer that never finishes holds up only itself, and at most
    /// [`PEER_TIMEOUT`] per read). Each message's files go to `deliver` (an empty list:
    /// the window asks for attention), which says whether the window took them; the
    /// launch is answered so. A message that is not a list of absolute paths is refused.
    pub fn serve(self, deliver: impl Fn(Vec<PathBuf>) -> bool + Send + Sync + 'static) -> Result<()> {
        let deliver: Arc<dyn Fn(Vec<PathBuf>) -> bool + Send + Sync> = Arc::new(deliver);
        std::thread::Builder::new()
            .name("pictor-instance".into())
            .spawn(move || self.accept_loop(&deliver))
            .map(|_| ())
            .map_err(|err| Error::storage("cannot start the single-window listener", err))
    }

    #[cfg(unix)]
    fn accept_loop(self, deliver: &Arc<dyn Fn(Vec<PathBuf>) -> bool + Send + Sync>) {
        for stream in self.listener.incoming() {
            match stream {
                Ok(stream) => {
                    let deliver = Arc::clone(deliver);
                    let spawned = std::thread::Builder::new()
                        .name("pictor-instance-peer".into())
                        .spawn(move || answer_peer(stream, deliver.as_ref()));
                    if let Err(err) = spawned {
                        tracing::warn!("a later launch was not served: {err}");
                    }
                }
                Err(err) => {
                    tracing::warn!("the single-window listener stopped: {err}");
                    return;
                }
            }
        }
    }

    #[cfg(not(unix))]
    fn accept_loop(self, _deliver: &Arc<dyn Fn(Vec<PathBuf>) -> bool + Send + Sync>) {}
}

/// Reads one launch's message, delivers its files, and answers whether they were taken.
#[cfg(unix)]
fn answer_peer(mut stream: std::os::unix::net::UnixStream, deliver: &(dyn Fn(Vec<PathBuf>) -> bool + Send + Sync)) {
    use std::io::{Read, Write};
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
    let ok = match handover {
        Ok(handover) => {
            tracing::info!("a later launch handed over files: {}", handover.open.len());
            deliver(handover.open)
        }
        Err(err) => {
            tracing::warn!("a message on the single-window socket was refused: {err}");
            false
        }
    };
    let answered = serde_json::to_vec(&Answer { ok })
        .map_err(std::io::Error::from)
        .and_then(|answer| stream.write_all(&answer));
    if let Err(err) = answered {
        tracing::warn!("a later launch was not answered: {err}");
    }
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

    fn delivering_to(sender: mpsc::Sender<Vec<PathBuf>>) -> impl Fn(Vec<PathBuf>) -> bool + Send + Sync {
        move |files| sender.send(files).is_ok()
    }

    #[test]
    fn a_second_launch_hands_its_files_to_the_first_as_absolute_paths() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let (sender, received) = mpsc::channel();
        first(&socket).serve(delivering_to(sender)).unwrap();
        let files = [PathBuf::from("relative/a.png"), dir.path().join("b.png")];
        assert!(matches!(claim(&socket, &files), Claim::HandedOver));
        let delivered = received.recv_timeout(Duration::from_secs(5)).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(delivered, vec![cwd.join("relative/a.png"), dir.path().join("b.png")]);
    }

    #[test]
    fn the_socket_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let _listener = first(&socket);
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_socket_left_by_an_ended_window_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        drop(first(&socket));
        assert!(socket.exists(), "the ended window left its socket file");
        first(&socket);
    }

    /// The lock decides: while one holds it, another launch never binds, even when
    /// the socket file is missing (the holder is about to listen, or lost it).
    #[test]
    fn while_a_window_holds_the_lock_no_second_one_listens() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let _holder = first(&socket);
        std::fs::remove_file(&socket).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(claim(&socket, &[]), Claim::Alone(_)));
        assert!(started.elapsed() >= LISTEN_GRACE, "it waited for the holder to listen");
        assert!(!socket.exists(), "the second launch did not bind");
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
    fn a_window_that_could_not_take_the_files_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        first(&socket).serve(|_| false).unwrap();
        assert!(matches!(claim(&socket, &[PathBuf::from("/a.png")]), Claim::Alone(_)));
    }

    #[test]
    fn a_slow_peer_does_not_hold_up_the_next_launch() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let (sender, received) = mpsc::channel();
        first(&socket).serve(delivering_to(sender)).unwrap();
        // Connected, sends nothing, never closes.
        let _stalled = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(claim(&socket, &[PathBuf::from("/b.png")]), Claim::HandedOver));
        assert!(started.elapsed() < PEER_TIMEOUT, "served beside the stalled peer");
        assert_eq!(
            received.recv_timeout(Duration::from_secs(5)).unwrap(),
            vec![PathBuf::from("/b.png")]
        );
    }

    #[test]
    fn a_message_that_is_not_a_file_list_is_refused_and_the_window_keeps_serving() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("instance.sock");
        let (sender, received) = mpsc::channel();
        first(&socket).serve(delivering_to(sender)).unwrap();
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
