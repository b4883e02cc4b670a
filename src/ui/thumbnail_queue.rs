//! The thumbnail decode queue. Scrolling through ten thousand images asks for thousands
//! of thumbnails in a few seconds; decoding each on its own blocking thread would start
//! hundreds at once (a full decode each when the thumbnail cache was cleared) while the
//! cells now on screen wait behind them. Instead a few decoders take the newest request
//! first, and a request whose cell has not been drawn for a few frames is dropped: it is
//! asked for again if the cell comes back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::ui::background::{AppEvent, Background};

/// A request is dropped when its cell was last drawn more than this many frames ago.
pub const STALE_AFTER_FRAMES: u64 = 2;

/// One thumbnail to decode, and how to do it.
struct Request {
    id: String,
    load: Box<dyn FnOnce() -> crate::Result<egui::ColorImage> + Send>,
}

#[derive(Default)]
struct State {
    /// Waiting requests, oldest first (taken from the end).
    pending: Vec<Request>,
    /// The frame in which each waiting or running id was last asked for.
    wanted: HashMap<String, u64>,
    /// Decoders running now.
    running: usize,
}

struct Shared {
    state: Mutex<State>,
    frame: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic in a decoder (none holds the lock).
        crate::sync::lock(&self.state)
    }
}

/// Decodes thumbnails on at most `max_decoders` blocking threads, newest request first.
pub struct ThumbnailQueue {
    shared: Arc<Shared>,
    max_decoders: usize,
}

impl ThumbnailQueue {
    /// A queue running at most `max_decoders` decodes at once (at least one).
    pub fn new(max_decoders: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                frame: AtomicU64::new(0),
            }),
            max_decoders: max_decoders.max(1),
        }
    }

    /// Marks the start of a frame: requests not renewed since are aging.
    pub fn begin_frame(&self) {
        self.shared.frame.fetch_add(1, Ordering::Relaxed);
    }

    /// Queues `load` for `id`. Its result arrives as [`AppEvent::Thumbnail`], or the id
    /// comes back in [`AppEvent::ThumbnailsDropped`] when its cell left the screen first.
    pub fn request(
        &self,
        id: String,
        load: impl FnOnce() -> crate::Result<egui::ColorImage> + Send + 'static,
        background: &Background,
    ) {
        let frame = self.shared.frame.load(Ordering::Relaxed);
        let start_decoder = {
            let mut state = self.shared.lock();
            state.wanted.insert(id.clone(), frame);
            state.pending.push(Request {
                id,
                load: Box::new(load),
            });
            let start = state.running < self.max_decoders;
            if start {
                state.running += 1;
            }
            start
        };
        if start_decoder {
            let shared = Arc::clone(&self.shared);
            background.spawn_reporting(move |report| decode_until_empty(&shared, report));
        }
    }

    /// Says that the cell of `id` (requested earlier) was drawn again in this frame.
    pub fn still_wanted(&self, id: &str) {
        let frame = self.shared.frame.load(Ordering::Relaxed);
        if let Some(last) = self.shared.lock().wanted.get_mut(id) {
            *last = frame;
        }
    }
}

/// One decoder: takes the newest fresh request until none is left. Requests it drops
/// on the way are reported at once, so a cell scrolled back to can ask again.
fn decode_until_empty(shared: &Shared, report: &dyn Fn(AppEvent)) -> AppEvent {
    loop {
        let mut dropped = Vec::new();
        let next = {
            let mut state = shared.lock();
            let frame = shared.frame.load(Ordering::Relaxed);
            let next = next_fresh(&mut state, frame, &mut dropped);
            if next.is_none() {
                state.running -= 1;
            }
            next
        };
        let Some(request) = next else {
            return AppEvent::ThumbnailsDropped(dropped);
        };
        if !dropped.is_empty() {
            report(AppEvent::ThumbnailsDropped(dropped));
        }
        // A panic in a decoder must not cost a decoder slot for good.
        let image = std::panic::catch_unwind(std::panic::AssertUnwindSafe(request.load))
            .unwrap_or_else(|_| Err(crate::Error::image("the thumbnail decoder failed on this image")));
        shared.lock().wanted.remove(&request.id);
        report(AppEvent::Thumbnail { id: request.id, image });
    }
}

/// The newest request whose cell was drawn within [`STALE_AFTER_FRAMES`] of `frame`;
/// older ones met on the way are moved to `dropped`.
fn next_fresh(state: &mut State, frame: u64, dropped: &mut Vec<String>) -> Option<Request> {
    while let Some(request) = state.pending.pop() {
        let last = state.wanted.get(&request.id).copied().unwrap_or(0);
        if frame.saturating_sub(last) <= STALE_AFTER_FRAMES {
            return Some(request);
        }
        state.wanted.remove(&request.id);
        dropped.push(request.id);
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;
    use std::time::{Duration, Instant};

    use super::*;

    /// A background pool of its own; keep the runtime alive while the test runs.
    fn background() -> (tokio::runtime::Runtime, Background) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let background = Background::new(runtime.handle().clone(), Arc::new(|| {}));
        (runtime, background)
    }

    fn request(id: &str) -> Request {
        Request {
            id: id.to_owned(),
            load: Box::new(|| Err(crate::Error::image("unused"))),
        }
    }

    #[test]
    fn a_panicking_decode_is_an_error_and_frees_its_decoder() {
        let (_runtime, background) = background();
        let queue = ThumbnailQueue::new(1);
        for id in ["boom", "fine"] {
            queue.request(
                id.to_owned(),
                move || {
                    assert_ne!(id, "boom", "a decoder bug");
                    Ok(egui::ColorImage::filled([1, 1], egui::Color32::WHITE))
                },
                &background,
            );
            let started = Instant::now();
            let image = loop {
                assert!(started.elapsed() < Duration::from_secs(10), "no answer for {id}");
                let answer = background.drain().into_iter().find_map(|event| match event {
                    AppEvent::Thumbnail { image, .. } => Some(image),
                    _ => None,
                });
                if let Some(image) = answer {
                    break image;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            assert_eq!(image.is_ok(), id == "fine", "{id}");
        }
        wait_until_idle(&queue);
    }

    /// Waits until no decoder runs (a decoder stops just after its last answer).
    fn wait_until_idle(queue: &ThumbnailQueue) {
        let started = Instant::now();
        while queue.shared.lock().running > 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "a decoder never stopped");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn a_cell_drawn_again_keeps_its_request_and_one_scrolled_past_loses_it() {
        let (_runtime, background) = background();
        let queue = ThumbnailQueue::new(1);
        let image = || Ok(egui::ColorImage::filled([1, 1], egui::Color32::WHITE));
        // The one decoder is busy until `release` is sent.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        queue.request(
            "busy".to_owned(),
            move || {
                let _ = started_tx.send(());
                let _ = held.recv();
                image()
            },
            &background,
        );
        started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        queue.request("kept".to_owned(), image, &background);
        queue.request("passed".to_owned(), image, &background);
        for _ in 0..5 {
            queue.begin_frame();
            queue.still_wanted("kept");
        }
        release.send(()).unwrap();
        let (mut decoded, mut dropped) = (Vec::new(), Vec::new());
        let started = Instant::now();
        while decoded.len() + dropped.len() < 3 {
            assert!(started.elapsed() < Duration::from_secs(10), "{decoded:?} {dropped:?}");
            for event in background.drain() {
                match event {
                    AppEvent::Thumbnail { id, .. } => decoded.push(id),
                    AppEvent::ThumbnailsDropped(ids) => dropped.extend(ids),
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(decoded, ["busy", "kept"]);
        assert_eq!(dropped, ["passed"]);
        wait_until_idle(&queue);
    }

    #[test]
    fn the_newest_fresh_request_goes_first_and_stale_ones_are_dropped() {
        let mut state = State::default();
        for (id, frame) in [("old", 1), ("offscreen", 5), ("visible", 9), ("newest", 10)] {
            state.pending.push(request(id));
            state.wanted.insert(id.to_owned(), frame);
        }
        let mut dropped = Vec::new();
        assert_eq!(next_fresh(&mut state, 10, &mut dropped).unwrap().id, "newest");
        assert_eq!(next_fresh(&mut state, 10, &mut dropped).unwrap().id, "visible");
        assert!(next_fresh(&mut state, 10, &mut dropped).is_none());
        assert_eq!(dropped, ["offscreen", "old"]);
        assert!(state.wanted.keys().all(|id| id == "newest" || id == "visible"));
    }

    /// Every request is answered exactly once, decoded or dropped, with never more
    /// decoders running than allowed.
    #[test]
    fn every_request_is_answered_once_and_decoders_stay_bounded() {
        let (_runtime, background) = background();
        let queue = ThumbnailQueue::new(2);
        let running = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        for index in 0..200 {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            queue.request(
                format!("id-{index}"),
                move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(egui::ColorImage::filled([1, 1], egui::Color32::WHITE))
                },
                &background,
            );
            // Scrolling: a new frame every few requests, and only the latest are redrawn.
            if index % 10 == 9 {
                queue.begin_frame();
            }
        }
        let mut answered = HashSet::new();
        let (mut decoded, mut dropped) = (0, 0);
        let started = Instant::now();
        while answered.len() < 200 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "only {} answered",
                answered.len()
            );
            for event in background.drain() {
                match event {
                    AppEvent::Thumbnail { id, .. } => {
                        decoded += 1;
                        assert!(answered.insert(id), "answered twice");
                    }
                    AppEvent::ThumbnailsDropped(ids) => {
                        dropped += ids.len();
                        for id in ids {
                            assert!(answered.insert(id), "answered twice");
                        }
                    }
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two decoders at once");
        assert!(dropped > 0 && decoded > 0, "{decoded} decoded, {dropped} dropped");
        assert!(decoded < 100, "requests scrolled past were decoded anyway: {decoded}");
        wait_until_idle(&queue);
        assert!(queue.shared.lock().wanted.is_empty());
    }
}
