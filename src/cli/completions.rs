//! `pictor completions SHELL`: the shell's completion script, from the same clap definitions
//! as the command line itself (scripts/package.sh installs the bash, zsh and fish ones).

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;
use crate::error::{Error, Result};

/// Prints `shell`'s completion script for `pictor` to standard output.
pub(super) fn print(shell: Shell) -> Result<i32> {
    let script = script(shell);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .map_err(|err| Error::storage("cannot write the completion script", err))?;
    Ok(0)
}

/// The script, built in memory: clap_complete panics on a failed write, so it never
/// writes to standard output itself (a closed pipe is an error here, not a panic).
fn script(shell: Shell) -> Vec<u8> {
    let mut command = without_hidden_subcommands(Cli::command());
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pictor", &mut script);
    script
}

/// `pictor` as the completions should offer it: clap_complete's scripts would offer hidden
/// subcommands (`manpages`) too, and clap cannot remove a subcommand, so the top level is
/// rebuilt with its arguments (the global ones reach every subcommand when it is built)
/// and its visible subcommands.
fn without_hidden_subcommands(full: clap::Command) -> clap::Command {
    let visible = full.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned();
    let command = clap::Command::new("pictor")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(visible.collect::<Vec<_>>());
    match full.get_about() {
        Some(about) => command.about(about.clone()),
        None => command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish] {
            let script = String::from_utf8(script(shell)).unwrap_or_default();
            for word in ["generate", "export", "completions"] {
                assert!(script.contains(word), "{shell}: no {word}");
            }
            assert!(
                !script.contains("manpages"),
                "{shell}: the hidden subcommand is offered"
            );
        }
    }
}
