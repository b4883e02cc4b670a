//! `pictor manpages DIR` (hidden): writes the man pages, `pictor.1` and one per subcommand
//! (`pictor-generate.1`, `pictor-board-add.1`, …), from the clap definitions. scripts/package.sh
//! runs it so the pages never drift from `--help`.

use std::path::Path;

use clap::CommandFactory;

use super::Cli;
use crate::error::{Error, Result};

/// Writes every page into `dir` (made if missing) and prints their paths, one per line.
pub(super) fn write_all(dir: &Path) -> Result<i32> {
    std::fs::create_dir_all(dir).map_err(|err| Error::storage(format!("cannot create {}", dir.display()), err))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|err| Error::storage(format!("cannot write the man pages into {}", dir.display()), err))?;
    let mut pages = std::fs::read_dir(dir)
        .map_err(|err| Error::storage(format!("cannot read {}", dir.display()), err))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "1"))
        .collect::<Vec<_>>();
    pages.sort();
    for page in pages {
        println!("{}", page.display());
    }
    Ok(0)
}
