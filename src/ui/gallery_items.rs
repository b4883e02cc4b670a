//! What each cell of the gallery shows: one image, a folded batch (the images of one
//! variations or prompt-matrix run as one cell), or an image of an unfolded batch. The
//! mapping between grid positions and records is kept here, both ways, and rebuilt
//! whenever the records or the unfolded batches change.

use std::collections::HashSet;
use std::ops::Range;

use crate::library::ImageRecord;

/// One cell of the grid, by record indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GalleryItem {
    /// One image: `records[index]`.
    Image(usize),
    /// A folded batch: `records[range]`, shown by its first image with a count badge.
    Group(Range<usize>),
    /// One image (`records[index]`) of the unfolded batch `records[group]`.
    Member {
        /// The record shown.
        index: usize,
        /// Every record of its batch.
        group: Range<usize>,
    },
}

impl GalleryItem {
    /// The records the cell stands for (selecting it selects them all).
    pub fn records(&self) -> Range<usize> {
        match self {
            Self::Image(index) | Self::Member { index, .. } => *index..*index + 1,
            Self::Group(range) => range.clone(),
        }
    }

    /// The record whose picture the cell shows.
    pub fn first(&self) -> usize {
        self.records().start
    }

    /// The batch the cell belongs to, folded or not.
    pub fn group(&self) -> Option<&Range<usize>> {
        match self {
            Self::Image(_) => None,
            Self::Group(range) | Self::Member { group: range, .. } => Some(range),
        }
    }
}

/// The cells of the grid in order, and the cell of each record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GalleryItems {
    /// The cells, in grid order.
    pub items: Vec<GalleryItem>,
    /// For each record index, the index of the cell showing it.
    pub item_of_record: Vec<usize>,
    /// Bumped on every rebuild (the layout cache is keyed by it).
    pub version: u64,
}

impl GalleryItems {
    /// Builds the cells of `records`: consecutive records of one batch become one
    /// [`GalleryItem::Group`], unless their batch is in `unfolded` (then each is a
    /// [`GalleryItem::Member`]). With `group` false every record is its own cell (a view
    /// of one batch).
    pub fn rebuild(&mut self, records: &[ImageRecord], unfolded: &HashSet<String>, group: bool) {
        self.items.clear();
        self.item_of_record.clear();
        self.item_of_record.reserve(records.len());
        self.version += 1;
        let mut start = 0;
        while start < records.len() {
            let batch = records[start].meta.batch.as_deref().filter(|_| group);
            let end = match batch {
                Some(batch) => {
                    start
                        + records[start..]
                            .iter()
                            .take_while(|r| r.meta.batch.as_deref() == Some(batch))
                            .count()
                }
                None => start + 1,
            };
            match batch {
                Some(batch) if end - start > 1 && !unfolded.contains(batch) => {
                    self.item_of_record
                        .extend(std::iter::repeat_n(self.items.len(), end - start));
                    self.items.push(GalleryItem::Group(start..end));
                }
                Some(_) if end - start > 1 => {
                    for index in start..end {
                        self.item_of_record.push(self.items.len());
                        self.items.push(GalleryItem::Member {
                            index,
                            group: start..end,
                        });
                    }
                }
                _ => {
                    for index in start..end {
                        self.item_of_record.push(self.items.len());
                        self.items.push(GalleryItem::Image(index));
                    }
                }
            }
            start = end;
        }
    }

    /// The cell showing record `index`.
    pub fn item_of(&self, record: usize) -> Option<usize> {
        self.item_of_record.get(record).copied()
    }

    /// How many cells.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no cell.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Cell `item`.
    pub fn get(&self, item: usize) -> Option<&GalleryItem> {
        self.items.get(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, batch: Option<&str>) -> ImageRecord {
        let meta = crate::metadata::ImageMeta {
            batch: batch.map(str::to_owned),
            ..Default::default()
        };
        ImageRecord::for_tests(id, meta)
    }

    fn records() -> Vec<ImageRecord> {
        vec![
            record("a", None),
            record("b", Some("run")),
            record("c", Some("run")),
            record("d", Some("run")),
            record("e", Some("lone")),
            record("f", None),
        ]
    }

    #[test]
    fn consecutive_images_of_one_batch_fold_into_one_cell() {
        let mut items = GalleryItems::default();
        items.rebuild(&records(), &HashSet::new(), true);
        assert_eq!(
            items.items,
            [
                GalleryItem::Image(0),
                GalleryItem::Group(1..4),
                GalleryItem::Image(4),
                GalleryItem::Image(5)
            ]
        );
        assert_eq!(items.item_of_record, [0, 1, 1, 1, 2, 3]);
        assert_eq!(items.get(1).map(GalleryItem::records), Some(1..4));
    }

    #[test]
    fn an_unfolded_batch_shows_each_image_and_remembers_its_group() {
        let mut items = GalleryItems::default();
        let unfolded = HashSet::from(["run".to_owned()]);
        items.rebuild(&records(), &unfolded, true);
        assert_eq!(items.len(), 6);
        assert_eq!(items.get(2), Some(&GalleryItem::Member { index: 2, group: 1..4 }));
        assert_eq!(items.item_of(3), Some(3));
        let version = items.version;
        items.rebuild(&records(), &HashSet::new(), false);
        assert!(
            items.items.iter().all(|i| matches!(i, GalleryItem::Image(_))),
            "no grouping"
        );
        assert_eq!(items.version, version + 1);
    }
}
