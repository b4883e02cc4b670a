//! Boards in the window: the sidebar's actions as library tasks, and the board list kept
//! fresh for the sidebar.

use std::sync::Arc;

use rust_i18n::t;

use super::PictorApp;
use crate::library::{Library, Query};
use crate::ui::background::{AppEvent, BoardChange, TaskKind, TaskOutcome};
use crate::ui::boards::{BoardAction, SidebarState, boards_sidebar_ui};

impl PictorApp {
    /// Reads the boards again (after a change, or once at start).
    pub(super) fn refresh_boards(&mut self) {
        let library = Arc::clone(&self.library);
        self.background.spawn(move || AppEvent::Boards(library.boards()));
    }

    /// The boards sidebar at the left of the gallery.
    pub(super) fn boards_sidebar_panel_ui(&mut self, ui: &mut egui::Ui) {
        let locale = self.locale();
        let selection = self.selection();
        let actions = egui::Panel::left("boards")
            .resizable(true)
            .default_size(180.0)
            .size_range(140.0..=280.0)
            .show(ui, |ui| {
                let state = SidebarState {
                    boards: &self.boards,
                    shown: self.gallery.query.board,
                    selection: &selection,
                };
                boards_sidebar_ui(ui, &mut self.boards_sidebar, &state, locale)
            })
            .inner;
        for action in actions {
            self.handle_board_action(action);
        }
    }

    /// Carries out what the user did in the sidebar.
    pub(super) fn handle_board_action(&mut self, action: BoardAction) {
        match action {
            BoardAction::Show(board) => {
                if self.gallery.query.board != board {
                    self.gallery.query.board = board;
                    self.gallery.selected.clear();
                    self.refresh_gallery();
                }
            }
            BoardAction::Create { name, ids } => self.board_task(move |library| {
                let board = library.create_board(&name)?;
                add(library, board.id, &ids)
            }),
            BoardAction::Add { board, ids } => self.board_task(move |library| add(library, board, &ids)),
            BoardAction::RemoveSelection(board) => {
                let ids = self.selection();
                self.board_task(move |library| {
                    let count = library.remove_from_board(board, &ids)?;
                    let board = board_name(library, board)?;
                    Ok(BoardChange::Removed { board, count })
                });
            }
            BoardAction::Rename { board, name } => self.board_task(move |library| {
                library.rename_board(board, &name)?;
                Ok(BoardChange::Renamed {
                    name: board_name(library, board)?,
                })
            }),
            BoardAction::Delete(board) => {
                if self.gallery.query.board == Some(board) {
                    self.gallery.query.board = None;
                    self.refresh_gallery();
                }
                self.board_task(move |library| {
                    let name = board_name(library, board)?;
                    library.delete_board(board)?;
                    Ok(BoardChange::Deleted { name })
                });
            }
            BoardAction::Export(board) => self.export_with(move |library| {
                library.query(&Query {
                    board: Some(board),
                    ..Query::default()
                })
            }),
        }
    }

    /// A board change as a library task.
    fn board_task(&mut self, work: impl FnOnce(&Library) -> crate::Result<BoardChange> + Send + 'static) {
        self.library_task(TaskKind::Boards, move |library| {
            work(library).map(TaskOutcome::BoardChanged)
        });
    }

    /// Gives the open viewer the boards it can put its image on.
    pub(super) fn offer_boards_in_viewer(&mut self) {
        if let Some(viewer) = &mut self.viewer {
            viewer.boards.choices = self.boards.iter().map(|b| (b.id, b.name.clone())).collect();
        }
    }

    /// Reads which boards the viewer's image is on (in the background).
    pub(super) fn reload_viewer_boards(&mut self) {
        let Some(id) = self.viewer.as_ref().map(|viewer| viewer.id.clone()) else {
            return;
        };
        let library = Arc::clone(&self.library);
        self.background.spawn(move || AppEvent::ImageBoards {
            names: library.boards_of(&id),
            id,
        });
    }

    /// Says what a board task did and shows the boards (and a board's images) afresh.
    pub(super) fn board_changed(&mut self, change: &BoardChange) {
        let locale = self.locale();
        self.refresh_boards();
        self.reload_viewer_boards();
        if self.gallery.query.board.is_some() {
            self.refresh_gallery();
        }
        let text = match change {
            BoardChange::Added { board, added, already } => t!(
                "boards.added",
                locale = locale,
                count = added,
                board = board.as_str(),
                already = already
            ),
            BoardChange::Removed { board, count } => {
                t!("boards.removed", locale = locale, count = count, board = board.as_str())
            }
            BoardChange::Renamed { name } => t!("boards.renamed", locale = locale, board = name.as_str()),
            BoardChange::Deleted { name } => t!("boards.deleted", locale = locale, board = name.as_str()),
        };
        self.notify(text);
    }
}

fn add(library: &Library, board: i64, ids: &[String]) -> crate::Result<BoardChange> {
    let added = library.add_to_board(board, ids)?;
    Ok(BoardChange::Added {
        board: board_name(library, board)?,
        added,
        already: ids.len().saturating_sub(added),
    })
}

fn board_name(library: &Library, board: i64) -> crate::Result<String> {
    library
        .board(board)?
        .map(|board| board.name)
        .ok_or_else(|| crate::Error::invalid("that board no longer exists"))
}
