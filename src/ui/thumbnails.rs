//! GPU textures for thumbnails in a bounded LRU keyed by image id. Decoding happens in
//! the [`ThumbnailQueue`] off the UI thread; the UI only uploads finished pixels.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::library::{ImageRecord, Library};
use crate::ui::background::Background;
use crate::ui::thumbnail_queue::ThumbnailQueue;

/// What a thumbnail is loaded from: the library and the image's record. The cached
/// thumbnail is read, or rebuilt from the image by the library layer
/// ([`crate::generate::load_thumbnail`]).
#[derive(Clone, Debug)]
pub struct ThumbnailSource {
    library: Arc<Library>,
    record: ImageRecord,
}

impl ThumbnailSource {
    /// The thumbnail of `record` in `library`.
    pub fn of(library: &Arc<Library>, record: &ImageRecord) -> Self {
        Self {
            library: Arc::clone(library),
            record: record.clone(),
        }
    }

    fn load(&self) -> crate::Result<image::RgbaImage> {
        crate::generate::load_thumbnail(&self.library, &self.record)
    }
}

/// Most thumbnail textures kept on the GPU at once.
pub const DEFAULT_CAPACITY: usize = 384;
/// Most GPU bytes the thumbnail textures may hold (a 320×320 RGBA thumbnail is 400 KiB;
/// 64 MiB keeps five or more screens of a full window). With a software renderer they
/// live in the process's memory, so this bound is most of what a long scroll adds.
pub const MAX_TEXTURE_BYTES: usize = 64 * 1024 * 1024;
/// Thumbnails decoded at once: enough to keep up with scrolling, few enough to leave
/// the UI thread a core.
pub const DECODERS: usize = 2;

struct Entry {
    texture: egui::TextureHandle,
    last_used: u64,
    bytes: usize,
}

/// Thumbnail textures with least-recently-used eviction.
pub struct ThumbnailCache {
    entries: HashMap<String, Entry>,
    loading: HashSet<String>,
    failed: HashSet<String>,
    capacity: usize,
    clock: u64,
    bytes: usize,
    queue: ThumbnailQueue,
}

impl ThumbnailCache {
    /// A cache holding at most `capacity` textures.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            loading: HashSet::new(),
            failed: HashSet::new(),
            capacity: capacity.max(1),
            clock: 0,
            bytes: 0,
            queue: ThumbnailQueue::new(DECODERS),
        }
    }

    /// Call once per frame before drawing: requests for cells not drawn lately expire.
    pub fn begin_frame(&self) {
        self.queue.begin_frame();
    }

    /// Forgets pending requests the queue dropped, so they are asked for again when
    /// their cells come back on screen.
    pub fn dropped(&mut self, ids: &[String]) {
        for id in ids {
            self.loading.remove(id);
        }
    }

    /// The texture for `id`, or `None` while it loads (a load is started if needed).
    pub fn get(&mut self, id: &str, paths: ThumbnailSource, background: &Background) -> Option<egui::TextureHandle> {
        self.clock += 1;
        if let Some(entry) = self.entries.get_mut(id) {
            entry.last_used = self.clock;
            return Some(entry.texture.clone());
        }
        if self.loading.contains(id) {
            self.queue.still_wanted(id);
        } else if !self.failed.contains(id) {
            self.loading.insert(id.to_owned());
            let load = move || {
                paths.load().map(|rgba| {
                    let size = [rgba.width() as usize, rgba.height() as usize];
                    egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw())
                })
            };
            self.queue.request(id.to_owned(), load, background);
        }
        None
    }

    /// The texture of a record's thumbnail, for small image buttons (job cards, lineage,
    /// the reference strip): loaded when missing, `None` while it loads.
    pub fn of_record(
        &mut self,
        library: &Arc<Library>,
        record: &ImageRecord,
        background: &Background,
    ) -> Option<egui::TextureHandle> {
        self.get(&record.id, ThumbnailSource::of(library, record), background)
    }

    /// Whether the thumbnail for `id` could not be loaded.
    pub fn failed(&self, id: &str) -> bool {
        self.failed.contains(id)
    }

    /// Uploads a decoded thumbnail, evicting the least recently used ones over capacity.
    pub fn insert(&mut self, ctx: &egui::Context, id: String, image: Result<egui::ColorImage, crate::Error>) {
        self.loading.remove(&id);
        let image = match image {
            Ok(image) => image,
            Err(err) => {
                tracing::debug!("thumbnail {id} unavailable: {}", err.message);
                self.failed.insert(id);
                return;
            }
        };
        let bytes = image.pixels.len() * 4;
        let texture = ctx.load_texture(format!("thumb-{id}"), image, egui::TextureOptions::LINEAR);
        self.clock += 1;
        self.bytes += bytes;
        if let Some(old) = self.entries.insert(
            id,
            Entry {
                texture,
                last_used: self.clock,
                bytes,
            },
        ) {
            self.bytes -= old.bytes;
        }
        while self.entries.len() > self.capacity || (self.bytes > MAX_TEXTURE_BYTES && self.entries.len() > 1) {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest) {
                self.bytes -= old.bytes;
            }
        }
    }

    /// Forgets a thumbnail (after the image was deleted or re-imported).
    pub fn forget(&mut self, id: &str) {
        if let Some(old) = self.entries.remove(id) {
            self.bytes -= old.bytes;
        }
        self.failed.remove(id);
    }

    /// GPU bytes held by the cached textures.
    pub fn texture_bytes(&self) -> usize {
        self.bytes
    }

    /// Thumbnails asked for that have not arrived yet.
    pub fn loading(&self) -> usize {
        self.loading.len()
    }

    /// Number of cached textures.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no texture is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
