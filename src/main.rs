//! The `pictor` binary: a subcommand runs on the command line; none opens the window
//! (with the files given, if any).

use clap::Parser;
use pictor::cli::{self, Cli};

fn main() {
    // Before any thread starts (see `clock::init_local_offset`).
    pictor::clock::init_local_offset();
    let cli = Cli::parse();
    let code = {
        // Dropped before the exit below: the log file gets its last lines.
        let _log = pictor::logging::init();
        match cli.command {
            Some(command) => cli::run(&cli.connection, command),
            None => pictor::ui::run(cli.connection.overrides(), cli.files),
        }
    };
    std::process::exit(code);
}
