//! The justified layout of the gallery, as in a photo library: each image keeps its
//! aspect ratio, rows are filled to the width at about a target height, the last row is
//! not stretched. Pure arithmetic, no egui state: computed once per list, width and
//! target height, then looked up while drawing and moving with the keyboard.

use std::ops::Range;

/// The widest cell, as width / height: a 100:1 panorama is shown letterboxed in a 4:1
/// cell instead of as a thread across the window.
pub const MAX_ASPECT: f32 = 4.0;
/// The narrowest cell, as width / height.
pub const MIN_ASPECT: f32 = 1.0 / 4.0;
/// How much taller than the target a row may be stretched to fill the width (a lone
/// portrait before a panorama would otherwise fill the screen); beyond it the row is
/// left short, like the last one.
pub const MAX_STRETCH: f32 = 1.5;

/// The aspect ratio a cell of a `width` × `height` image gets: unknown sizes (0) are
/// square, extremes are clamped to [`MIN_ASPECT`]..=[`MAX_ASPECT`].
pub fn cell_aspect(width: u32, height: u32) -> f32 {
    if width == 0 || height == 0 {
        return 1.0;
    }
    (width as f32 / height as f32).clamp(MIN_ASPECT, MAX_ASPECT)
}

/// One row of the layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The items it holds (indices into the laid-out list).
    pub items: Range<usize>,
    /// Distance from the top of the content to the row's top.
    pub top: f32,
    /// The row's height (every cell of it has this height).
    pub height: f32,
    /// The width of each item, in order.
    pub widths: Vec<f32>,
}

impl Row {
    /// The left edge of each item (relative to the content's left), in order.
    pub fn lefts(&self, spacing: f32) -> impl Iterator<Item = f32> + '_ {
        self.widths.iter().scan(0.0, move |x, width| {
            let left = *x;
            *x += width + spacing;
            Some(left)
        })
    }

    /// Where item `index` (of the whole list) lies in this row: (left, width).
    pub fn span_of(&self, index: usize, spacing: f32) -> Option<(f32, f32)> {
        let at = index.checked_sub(self.items.start)?;
        let width = *self.widths.get(at)?;
        self.lefts(spacing).nth(at).map(|left| (left, width))
    }
}

/// Rows of a justified layout, with the total height.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// The rows, top to bottom.
    pub rows: Vec<Row>,
    /// Height of the whole content (rows and the gaps between them).
    pub height: f32,
    /// The gap between cells and rows.
    pub spacing: f32,
}

impl Layout {
    /// The row holding item `index` (binary search).
    pub fn row_of(&self, index: usize) -> Option<usize> {
        let row = self.rows.partition_point(|row| row.items.end <= index);
        self.rows.get(row).filter(|row| row.items.contains(&index)).map(|_| row)
    }

    /// The rows that intersect the content band `top..bottom` (binary search for the first).
    pub fn visible_rows(&self, top: f32, bottom: f32) -> Range<usize> {
        let first = self.rows.partition_point(|row| row.top + row.height < top);
        let end = first + self.rows[first..].partition_point(|row| row.top <= bottom);
        first..end
    }

    /// Item `index`'s cell relative to the content's top-left: (left, top, width, height).
    pub fn cell(&self, index: usize) -> Option<[f32; 4]> {
        let row = &self.rows[self.row_of(index)?];
        let (left, width) = row.span_of(index, self.spacing)?;
        Some([left, row.top, width, row.height])
    }
}

/// Lays out items of the given aspect ratios (width / height, each at least
/// [`MIN_ASPECT`]; see [`cell_aspect`]) in rows `width` wide at about `target` high
/// with `spacing` between cells and rows.
///
/// A row takes items until they would overflow the width at the target height, then is
/// scaled to fill the width exactly: down when the last item is kept, up when it is
/// left for the next row, whichever lands closer to the target. A row is never taller
/// than [`MAX_STRETCH`] × `target` (it is then left short), and the last row keeps the
/// target height.
pub fn justify(aspects: &[f32], width: f32, target: f32, spacing: f32) -> Layout {
    let width = width.max(1.0);
    let target = target.max(1.0);
    let mut rows = Vec::new();
    let mut top = 0.0;
    let mut start = 0;
    // The sum of the current row's aspect ratios.
    let mut sum = 0.0;
    let mut index = 0;
    while index < aspects.len() {
        let aspect = aspects[index].max(MIN_ASPECT);
        let count = index - start;
        let gaps = spacing * count as f32;
        if (sum + aspect) * target + gaps < width {
            sum += aspect;
            index += 1;
            continue;
        }
        // Item `index` overflows the row at the target height: keep it (the row shrinks)
        // or leave it for the next row (the row grows), whichever is nearer the target.
        let with = (width - gaps) / (sum + aspect);
        let without = (width - (gaps - spacing)) / sum.max(f32::EPSILON);
        let keep = count == 0 || (with / target).ln().abs() <= (without / target).ln().abs();
        let (end, fill) = if keep { (index + 1, with) } else { (index, without) };
        let height = fill.min(target * MAX_STRETCH);
        let row = row(aspects, start..end, top, height);
        top += height + spacing;
        rows.push(row);
        start = end;
        index = end;
        sum = 0.0;
    }
    if start < aspects.len() {
        let row = row(aspects, start..aspects.len(), top, target);
        top += target + spacing;
        rows.push(row);
    }
    Layout {
        rows,
        height: (top - spacing).max(0.0),
        spacing,
    }
}

fn row(aspects: &[f32], items: Range<usize>, top: f32, height: f32) -> Row {
    let widths = aspects[items.clone()]
        .iter()
        .map(|aspect| aspect.max(MIN_ASPECT) * height)
        .collect();
    Row {
        items,
        top,
        height,
        widths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTH: f32 = 1000.0;
    const TARGET: f32 = 160.0;
    const GAP: f32 = 6.0;

    fn filled_width(row: &Row) -> f32 {
        row.widths.iter().sum::<f32>() + GAP * (row.widths.len() - 1) as f32
    }

    /// Mixed aspects, repeating: landscape, portrait, square, wide.
    fn mixed(count: usize) -> Vec<f32> {
        (0..count).map(|i| [16.0 / 9.0, 9.0 / 16.0, 1.0, 3.0][i % 4]).collect()
    }

    #[test]
    fn every_row_but_the_last_fills_the_width_within_a_pixel() {
        let layout = justify(&mixed(101), WIDTH, TARGET, GAP);
        let (last, full) = layout.rows.split_last().unwrap();
        assert!(full.len() > 10);
        for row in full {
            assert!((filled_width(row) - WIDTH).abs() < 1.0, "{row:?}");
            assert!(
                row.height > TARGET / 2.0 && row.height <= TARGET * MAX_STRETCH,
                "{row:?}"
            );
        }
        assert_eq!(last.items.end, 101, "every item is placed");
        let covered: usize = layout.rows.iter().map(|r| r.items.len()).sum();
        assert_eq!(covered, 101);
    }

    #[test]
    fn each_cell_keeps_its_aspect_ratio() {
        let aspects = mixed(40);
        let layout = justify(&aspects, WIDTH, TARGET, GAP);
        for row in &layout.rows {
            for (index, width) in row.items.clone().zip(&row.widths) {
                assert!((width / row.height - aspects[index]).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn the_last_row_keeps_the_target_height() {
        // Three squares do not fill 1000 px at 160: they stay 160 high, left aligned.
        let layout = justify(&[1.0, 1.0, 1.0], WIDTH, TARGET, GAP);
        assert_eq!(layout.rows.len(), 1);
        assert_eq!(layout.rows[0].height, TARGET);
        assert_eq!(layout.rows[0].widths, vec![TARGET; 3]);
        assert!(filled_width(&layout.rows[0]) < WIDTH);
    }

    #[test]
    fn a_panorama_is_clamped_and_a_lone_row_is_not_stretched_past_the_maximum() {
        // A 100:1 panorama gets a 4:1 cell, so its row is not a sliver.
        assert_eq!(cell_aspect(10_000, 100), MAX_ASPECT);
        assert_eq!(cell_aspect(100, 10_000), MIN_ASPECT);
        let layout = justify(&[cell_aspect(10_000, 100)], 500.0, TARGET, GAP);
        assert!(layout.rows[0].height >= 500.0 / MAX_ASPECT - 0.01, "{layout:?}");
        // In a narrow window a portrait cannot share its row with the wide image after
        // it: filling 200 px would make it 356 px tall; it stops at the maximum stretch
        // and is left short of the width.
        let layout = justify(&[9.0 / 16.0, MAX_ASPECT], 200.0, TARGET, GAP);
        let portrait = &layout.rows[0];
        assert_eq!(portrait.items, 0..1);
        assert_eq!(portrait.height, TARGET * MAX_STRETCH);
        assert!(filled_width(portrait) < 200.0);
    }

    #[test]
    fn an_unknown_size_is_square() {
        assert_eq!(cell_aspect(0, 0), 1.0);
        assert_eq!(cell_aspect(640, 0), 1.0);
        let layout = justify(&[cell_aspect(0, 0)], WIDTH, TARGET, GAP);
        assert_eq!(layout.rows[0].widths, vec![TARGET]);
    }

    #[test]
    fn ten_thousand_items_lay_out_and_are_found_by_position() {
        let layout = justify(&mixed(10_000), WIDTH, TARGET, GAP);
        let covered: usize = layout.rows.iter().map(|r| r.items.len()).sum();
        assert_eq!(covered, 10_000);
        let last = layout.rows.last().unwrap();
        assert!((layout.height - (last.top + last.height)).abs() < 0.01);
        // Rows are contiguous, in order, and the search finds each item's row.
        for (number, row) in layout.rows.iter().enumerate() {
            assert_eq!(layout.row_of(row.items.start), Some(number));
            assert_eq!(layout.row_of(row.items.end - 1), Some(number));
        }
        assert_eq!(layout.row_of(10_000), None);
        let middle = layout.height / 2.0;
        let visible = layout.visible_rows(middle, middle + 900.0);
        assert!((5..=10).contains(&visible.len()), "{visible:?}");
        let first = &layout.rows[visible.start];
        assert!(first.top <= middle && first.top + first.height >= middle);
    }

    #[test]
    fn a_cell_is_found_by_its_index() {
        let layout = justify(&[1.0, 2.0, 1.0], 2000.0, 100.0, GAP);
        assert_eq!(layout.cell(1), Some([106.0, 0.0, 200.0, 100.0]));
        assert_eq!(layout.cell(3), None);
    }
}
