//! `pictor board …`: boards on the command line.

use clap::Subcommand;

use super::{open_library, print_json, resolve_all};
use crate::error::{Error, Result};
use crate::library::{Board, Library};

/// `pictor board …`.
#[derive(Debug, Subcommand)]
pub enum BoardAction {
    /// Every board with its number of images.
    List {
        /// One JSON object per board.
        #[arg(long)]
        json: bool,
    },
    /// Put images on a board (made when it does not exist yet).
    Add {
        /// The board's name.
        board: String,
        /// Image ids (or unique prefixes).
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Take images off a board (they stay in the library).
    Remove {
        /// The board's name.
        board: String,
        /// Image ids (or unique prefixes).
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Give a board another name.
    Rename {
        /// Its name now.
        board: String,
        /// The new name.
        name: String,
    },
    /// Delete a board (its images stay in the library).
    Delete {
        /// The board's name.
        board: String,
    },
}

impl BoardAction {
    /// Whether errors are printed as JSON.
    pub fn json(&self) -> bool {
        matches!(self, Self::List { json: true })
    }
}

/// The board called `name`, or an error that lists the boards there are.
pub(super) fn existing_board(library: &Library, name: &str) -> Result<Board> {
    if let Some(board) = library.board_named(name)? {
        return Ok(board);
    }
    let names: Vec<String> = library.boards()?.into_iter().map(|board| board.name).collect();
    Err(Error::invalid(if names.is_empty() {
        format!("there is no board called “{}” (there are no boards yet)", name.trim())
    } else {
        format!(
            "there is no board called “{}”; boards: {}",
            name.trim(),
            names.join(", ")
        )
    }))
}

/// Runs one board action; returns the exit code.
pub(super) fn board(action: &BoardAction) -> Result<i32> {
    let library = open_library()?;
    match action {
        BoardAction::List { json } => {
            for board in library.boards()? {
                if *json {
                    print_json(&serde_json::json!({"name": board.name, "images": board.count}));
                } else {
                    println!("{:>6}  {}", board.count, board.name);
                }
            }
        }
        BoardAction::Add { board, ids } => {
            let ids = resolve_all(&library, ids)?;
            let board = library.create_board(board)?;
            let added = library.add_to_board(board.id, &ids)?;
            println!(
                "{added} added to “{}” ({} already on it)",
                board.name,
                ids.len() - added.min(ids.len())
            );
        }
        BoardAction::Remove { board, ids } => {
            let ids = resolve_all(&library, ids)?;
            let board = existing_board(&library, board)?;
            let removed = library.remove_from_board(board.id, &ids)?;
            println!("{removed} removed from “{}”", board.name);
        }
        BoardAction::Rename { board, name } => {
            let board = existing_board(&library, board)?;
            library.rename_board(board.id, name)?;
            println!("“{}” is now “{}”", board.name, name.trim());
        }
        BoardAction::Delete { board } => {
            let board = existing_board(&library, board)?;
            library.delete_board(board.id)?;
            println!(
                "deleted the board “{}” (its {} images stay in the library)",
                board.name, board.count
            );
        }
    }
    Ok(0)
}
