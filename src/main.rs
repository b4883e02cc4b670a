//! The `pictor` binary: a subcommand runs on the command line; none opens the window.

use clap::Parser;
use pictor::cli::{self, Cli};

fn main() {
    // Before any thread starts (see `clock::init_local_offset`).
    pictor::clock::init_local_offset();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PICTOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let code = match cli.command {
        Some(command) => cli::run(&cli.connection, command),
        None => pictor::ui::run(cli.connection.overrides()),
    };
    std::process::exit(code);
}
