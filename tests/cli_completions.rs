//! `pictor completions`, `pictor --version` and the hidden `pictor manpages`: the real binary,
//! as scripts/package.sh runs it to build the Debian package.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

fn pictor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pictor"))
        .args(args)
        .env_remove("PICTOR_PROVIDER")
        .env_remove("PICTOR_BASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn bash_zsh_and_fish_each_get_a_script_that_completes_the_subcommands() {
    // How each shell's script names the command it completes.
    for (shell, marker) in [
        ("bash", "complete -F _pictor"),
        ("zsh", "#compdef pictor"),
        ("fish", "complete -c pictor"),
    ] {
        let out = pictor(&["completions", shell]);
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: no `{marker}` in the script");
        for subcommand in ["generate", "export", "board", "completions"] {
            assert!(script.contains(subcommand), "{shell}: `{subcommand}` is not completed");
        }
        assert!(
            !script.contains("manpages"),
            "{shell}: the hidden manpages subcommand is offered"
        );
    }
}

#[test]
fn an_unknown_shell_is_refused_with_the_shells_that_exist() {
    let out = pictor(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "a script was printed for tcsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value 'tcsh'"), "stderr: {stderr}");
    assert!(
        stderr.contains("bash") && stderr.contains("zsh") && stderr.contains("fish"),
        "stderr: {stderr}"
    );
}

#[test]
fn version_prints_the_package_version() {
    let out = pictor(&["--version"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), format!("pictor {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn manpages_writes_a_page_for_pictor_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = pictor(&["manpages", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let main = std::fs::read_to_string(dir.path().join("pictor.1")).unwrap();
    assert!(main.contains(".TH pictor 1"), "no title line");
    assert!(
        main.contains("pictor\\-generate(1)"),
        "pictor.1 does not point at pictor-generate(1)"
    );
    let generate = std::fs::read_to_string(dir.path().join("pictor-generate.1")).unwrap();
    assert!(
        generate.contains("\\-\\-negative"),
        "pictor-generate.1 lacks --negative"
    );
    assert!(dir.path().join("pictor-board-add.1").is_file());
    assert!(
        !dir.path().join("pictor-manpages.1").exists(),
        "the hidden subcommand got a page"
    );
    // Every page written is listed, one per line.
    assert_eq!(
        stdout(&out).lines().count(),
        std::fs::read_dir(dir.path()).unwrap().count()
    );
}
