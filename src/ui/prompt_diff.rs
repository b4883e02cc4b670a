//! What the service changed in a prompt it rewrote: the revised prompt with the added
//! text marked, and what it left out of the typed prompt below it, word by word (Unicode
//! word boundaries: punctuation apart, each Chinese character a word). The Compare view
//! shows only the changes, against the first image's prompt.

use egui::text::{LayoutJob, TextFormat};
use similar::{ChangeTag, TextDiff};

/// One run of the diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// In both.
    Kept(String),
    /// Only in the revised prompt.
    Added(String),
    /// Only in the typed prompt.
    Removed(String),
}

/// The runs that turn `typed` into `revised`, neighbours of one kind merged.
pub fn prompt_diff(typed: &str, revised: &str) -> Vec<Piece> {
    let diff = TextDiff::from_unicode_words(typed, revised);
    let mut pieces: Vec<Piece> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match (pieces.last_mut(), change.tag()) {
            (Some(Piece::Kept(run)), ChangeTag::Equal)
            | (Some(Piece::Added(run)), ChangeTag::Insert)
            | (Some(Piece::Removed(run)), ChangeTag::Delete) => run.push_str(text),
            (_, ChangeTag::Equal) => pieces.push(Piece::Kept(text.to_owned())),
            (_, ChangeTag::Insert) => pieces.push(Piece::Added(text.to_owned())),
            (_, ChangeTag::Delete) => pieces.push(Piece::Removed(text.to_owned())),
        }
    }
    pieces
}

/// Draws the revised prompt as one wrapping, selectable label (its text is exactly the
/// revised prompt) with the added words marked; what it left out follows, struck
/// through, on a line of its own.
pub fn prompt_diff_ui(ui: &mut egui::Ui, typed: &str, revised: &str) -> egui::Response {
    let visuals = ui.visuals();
    let font = egui::TextStyle::Body.resolve(ui.style());
    let plain = TextFormat {
        font_id: font.clone(),
        color: visuals.text_color(),
        ..TextFormat::default()
    };
    let added = TextFormat {
        background: visuals.selection.bg_fill.gamma_multiply(0.45),
        color: visuals.strong_text_color(),
        ..plain.clone()
    };
    let removed = TextFormat {
        font_id: egui::TextStyle::Small.resolve(ui.style()),
        color: visuals.weak_text_color(),
        strikethrough: egui::Stroke::new(1.0, visuals.weak_text_color()),
        ..plain.clone()
    };
    let pieces = prompt_diff(typed, revised);
    let mut job = LayoutJob::default();
    job.wrap.max_width = ui.available_width();
    let mut left_out = LayoutJob::default();
    left_out.wrap.max_width = ui.available_width();
    for piece in &pieces {
        match piece {
            Piece::Kept(text) => job.append(text, 0.0, plain.clone()),
            Piece::Added(text) => job.append(text, 0.0, added.clone()),
            Piece::Removed(text) if !text.trim().is_empty() => {
                if !left_out.text.is_empty() {
                    left_out.append(" ", 0.0, plain.clone());
                }
                left_out.append(text.trim(), 0.0, removed.clone());
            }
            Piece::Removed(_) => {}
        }
    }
    let response = ui.add(egui::Label::new(job).wrap().selectable(true));
    if !left_out.text.is_empty() {
        ui.add(egui::Label::new(left_out).wrap());
    }
    response
}

/// Only what differs between `base` and `other`: each added or removed run, trimmed of
/// the spaces and punctuation around it (a run of punctuation alone is left out).
pub fn prompt_changes(base: &str, other: &str) -> Vec<Piece> {
    let trim = |text: &str| {
        text.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation() || "，。、；：！？".contains(c))
            .to_owned()
    };
    prompt_diff(base, other)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Kept(_) => None,
            Piece::Added(text) => Some(Piece::Added(trim(&text))),
            Piece::Removed(text) => Some(Piece::Removed(trim(&text))),
        })
        .filter(|piece| !matches!(piece, Piece::Added(text) | Piece::Removed(text) if text.is_empty()))
        .collect()
}

/// Draws what `other` changes in `base`, on at most `max_rows` rows: added words marked
/// "+" on the selection tint, removed ones "−" and struck through. `None` when the two
/// prompts differ in nothing but spaces and punctuation (nothing is drawn).
pub fn prompt_changes_ui(ui: &mut egui::Ui, base: &str, other: &str, max_rows: usize) -> Option<egui::Response> {
    let changes = prompt_changes(base, other);
    if changes.is_empty() {
        return None;
    }
    let visuals = ui.visuals();
    let font = egui::TextStyle::Body.resolve(ui.style());
    let added = TextFormat {
        font_id: font.clone(),
        background: visuals.selection.bg_fill.gamma_multiply(0.45),
        color: visuals.strong_text_color(),
        ..TextFormat::default()
    };
    let removed = TextFormat {
        font_id: font.clone(),
        color: visuals.weak_text_color(),
        strikethrough: egui::Stroke::new(1.0, visuals.weak_text_color()),
        ..TextFormat::default()
    };
    let gap = TextFormat {
        font_id: font,
        ..TextFormat::default()
    };
    let mut job = LayoutJob::default();
    job.wrap.max_width = ui.available_width();
    job.wrap.max_rows = max_rows.max(1);
    job.wrap.overflow_character = Some('…');
    for piece in &changes {
        if !job.text.is_empty() {
            job.append("  ", 0.0, gap.clone());
        }
        match piece {
            Piece::Added(text) => job.append(&format!("+{text}"), 0.0, added.clone()),
            Piece::Removed(text) => job.append(&format!("−{text}"), 0.0, removed.clone()),
            Piece::Kept(_) => {}
        }
    }
    Some(ui.add(egui::Label::new(job).selectable(false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_words_are_marked_in_english() {
        assert_eq!(
            prompt_diff("a lighthouse in the fog", "a lighthouse in the fog, soft natural light"),
            vec![
                Piece::Kept("a lighthouse in the fog".into()),
                Piece::Added(", soft natural light".into()),
            ]
        );
        assert_eq!(
            prompt_diff("a red cat, blurry", "a small red cat"),
            vec![
                Piece::Kept("a ".into()),
                Piece::Added("small ".into()),
                Piece::Kept("red cat".into()),
                Piece::Removed(", blurry".into()),
            ]
        );
    }

    #[test]
    fn chinese_is_compared_character_by_character() {
        assert_eq!(
            prompt_diff("山水画", "一幅水墨山水画"),
            vec![Piece::Added("一幅水墨".into()), Piece::Kept("山水画".into())]
        );
    }

    #[test]
    fn changes_leave_out_what_is_kept_and_bare_punctuation() {
        assert_eq!(
            prompt_changes("a red cat, blurry", "a small red cat"),
            vec![Piece::Added("small".into()), Piece::Removed("blurry".into())]
        );
        assert_eq!(
            prompt_changes("a red fox number 1", "a red fox number 12"),
            vec![Piece::Removed("1".into()), Piece::Added("12".into())]
        );
        assert_eq!(prompt_changes("a fox, snow", "a fox; snow"), Vec::new());
        assert_eq!(prompt_changes("same", "same"), Vec::new());
        assert_eq!(
            prompt_changes("一幅山水画，雾", "一幅水墨山水画"),
            vec![Piece::Added("水墨".into()), Piece::Removed("雾".into())]
        );
    }
}
