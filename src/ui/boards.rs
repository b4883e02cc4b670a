//! The boards sidebar: "All images" and every board with its count; switch by a click,
//! drop images on a board, add the selection through a menu, rename, export, delete.

use egui::{RichText, Sense};
use rust_i18n::t;

use crate::library::Board;
use crate::ui::gallery::DraggedImages;

/// What the user did in the sidebar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoardAction {
    /// Show this board (`None`: every image).
    Show(Option<i64>),
    /// Make a board with this name, then put these images on it (maybe none).
    Create {
        /// The name typed.
        name: String,
        /// Images to put on it.
        ids: Vec<String>,
    },
    /// Put images on a board.
    Add {
        /// The board.
        board: i64,
        /// The images.
        ids: Vec<String>,
    },
    /// Take the gallery's selection off the board shown.
    RemoveSelection(i64),
    /// Rename a board.
    Rename {
        /// The board.
        board: i64,
        /// Its new name.
        name: String,
    },
    /// Export every image of a board to a folder.
    Export(i64),
    /// Delete a board (its images stay).
    Delete(i64),
}

/// The sidebar's own state: a name being typed for a new board or a rename.
#[derive(Debug, Default)]
pub struct BoardsSidebar {
    /// The board being renamed (`None`: a new board is being named), and the text.
    editing: Option<(Option<i64>, String)>,
}

/// What the sidebar needs from the app to draw itself.
pub struct SidebarState<'a> {
    /// Every board.
    pub boards: &'a [Board],
    /// The board shown (`None`: every image).
    pub shown: Option<i64>,
    /// The gallery's selection (what "Add selection" adds).
    pub selection: &'a [String],
}

/// Draws the sidebar; returns what the user did.
pub fn boards_sidebar_ui(
    ui: &mut egui::Ui,
    sidebar: &mut BoardsSidebar,
    state: &SidebarState<'_>,
    locale: &str,
) -> Vec<BoardAction> {
    let mut actions = Vec::new();
    ui.add_space(4.0);
    if ui
        .selectable_label(state.shown.is_none(), t!("boards.all", locale = locale))
        .clicked()
    {
        actions.push(BoardAction::Show(None));
    }
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        ui.label(RichText::new(t!("boards.heading", locale = locale)).strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .small_button("+")
                .on_hover_text(t!("boards.new", locale = locale))
                .clicked()
            {
                sidebar.editing = Some((None, String::new()));
            }
        });
    });
    if !state.selection.is_empty() && !state.boards.is_empty() {
        ui.menu_button(
            t!("boards.add_selection", locale = locale, count = state.selection.len()),
            |ui| {
                for board in state.boards {
                    if ui.button(&board.name).clicked() {
                        actions.push(BoardAction::Add {
                            board: board.id,
                            ids: state.selection.to_vec(),
                        });
                        ui.close();
                    }
                }
            },
        );
    }
    if let Some(action) = name_field_ui(ui, sidebar, None, state.selection, locale) {
        actions.push(action);
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .id_salt("boards-list")
        .show(ui, |ui| {
            if state.boards.is_empty() && sidebar.editing.is_none() {
                ui.label(RichText::new(t!("boards.none_yet", locale = locale)).weak().small());
            }
            for board in state.boards {
                if let Some(action) = name_field_ui(ui, sidebar, Some(board.id), state.selection, locale) {
                    actions.push(action);
                    continue;
                }
                if matches!(sidebar.editing, Some((Some(id), _)) if id == board.id) {
                    continue;
                }
                board_row_ui(ui, sidebar, board, state, locale, &mut actions);
            }
        });
    actions
}

/// One board: a selectable row with its count, a drop target, and a right-click menu.
fn board_row_ui(
    ui: &mut egui::Ui,
    sidebar: &mut BoardsSidebar,
    board: &Board,
    state: &SidebarState<'_>,
    locale: &str,
    actions: &mut Vec<BoardAction>,
) {
    let shown = state.shown == Some(board.id);
    let label = format!("{}  ·  {}", board.name, board.count);
    let response = ui
        .selectable_label(shown, label)
        .interact(Sense::click())
        .on_hover_text(t!("boards.drop_hint", locale = locale));
    if response.clicked() {
        actions.push(BoardAction::Show(Some(board.id)));
    }
    // Images dragged from the gallery: highlight while over, add on release.
    if let Some(payload) = response.dnd_hover_payload::<DraggedImages>() {
        let stroke = egui::Stroke::new(2.0, ui.visuals().selection.stroke.color);
        ui.painter()
            .rect_stroke(response.rect, 4.0, stroke, egui::StrokeKind::Inside);
        response.clone().on_hover_text(t!(
            "boards.drop_here",
            locale = locale,
            count = payload.0.len(),
            board = board.name.as_str()
        ));
    }
    if let Some(payload) = response.dnd_release_payload::<DraggedImages>() {
        actions.push(BoardAction::Add {
            board: board.id,
            ids: payload.0.clone(),
        });
    }
    response.context_menu(|ui| {
        if !state.selection.is_empty() {
            if ui
                .button(t!(
                    "boards.add_selection_here",
                    locale = locale,
                    count = state.selection.len()
                ))
                .clicked()
            {
                actions.push(BoardAction::Add {
                    board: board.id,
                    ids: state.selection.to_vec(),
                });
                ui.close();
            }
            if shown
                && ui
                    .button(t!(
                        "boards.remove_selection",
                        locale = locale,
                        count = state.selection.len()
                    ))
                    .clicked()
            {
                actions.push(BoardAction::RemoveSelection(board.id));
                ui.close();
            }
            ui.separator();
        }
        if ui.button(t!("boards.rename", locale = locale)).clicked() {
            sidebar.editing = Some((Some(board.id), board.name.clone()));
            ui.close();
        }
        if ui.button(t!("boards.export", locale = locale)).clicked() {
            actions.push(BoardAction::Export(board.id));
            ui.close();
        }
        if ui.button(t!("boards.delete", locale = locale)).clicked() {
            actions.push(BoardAction::Delete(board.id));
            ui.close();
        }
    });
}

/// The name field for a new board (`board` = `None`) or a rename, when it is open at that
/// place; Enter confirms, Escape or an empty name cancels.
fn name_field_ui(
    ui: &mut egui::Ui,
    sidebar: &mut BoardsSidebar,
    board: Option<i64>,
    selection: &[String],
    locale: &str,
) -> Option<BoardAction> {
    let (editing, text) = sidebar.editing.as_mut()?;
    if *editing != board {
        return None;
    }
    let caption = if board.is_none() {
        t!("boards.new", locale = locale)
    } else {
        t!("boards.rename", locale = locale)
    };
    let label = ui.label(RichText::new(caption).small().weak());
    let response = ui
        .add(
            egui::TextEdit::singleline(text)
                .hint_text(t!("boards.name_hint", locale = locale))
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    if !response.has_focus() && !response.lost_focus() {
        response.request_focus();
    }
    let (enter, escape) = ui.input(|i| (i.key_pressed(egui::Key::Enter), i.key_pressed(egui::Key::Escape)));
    if response.lost_focus() {
        let name = text.trim().to_owned();
        sidebar.editing = None;
        if escape || !enter || name.is_empty() {
            return None;
        }
        return Some(match board {
            None => BoardAction::Create {
                name,
                ids: selection.to_vec(),
            },
            Some(board) => BoardAction::Rename { board, name },
        });
    }
    None
}
