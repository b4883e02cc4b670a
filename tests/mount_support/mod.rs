//! Folders that refuse writes even to root, for the storage tests: a tmpfs (small, to
//! fill it up, or read-only) or a read-only bind mount of an existing folder. CI runs as
//! root, where `chmod` refuses nothing. Each [`Mount`] is unmounted (lazily) when dropped.
//!
//! Mounting needs privilege. When it is refused, [`or_skip`] decides what the test does,
//! so that a skip can never count as a pass in CI:
//! - with `CI` set (CI runs with `CI=true`), the test fails;
//! - elsewhere it fails too, unless `PICTOR_ALLOW_SKIP=1`: then it prints a `SKIP` line
//!   (past the test harness's capture) and returns without checking anything.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mount on a folder, unmounted when dropped.
#[derive(Debug)]
pub struct Mount {
    path: PathBuf,
}

impl Mount {
    /// A tmpfs mounted on `dir` with `options` (`size=1m`, `ro,size=1m`, …); `Err` says
    /// why the mount was refused.
    pub fn tmpfs(dir: &Path, options: &str) -> Result<Self, String> {
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir))?;
        let mount = Self {
            path: dir.to_path_buf(),
        };
        if options.split(',').any(|option| option == "ro") {
            mount.assert_read_only();
        }
        Ok(mount)
    }

    /// `dir`, with what it holds, made read-only in place: bound onto itself, then the
    /// bind remounted read-only. Writes below it fail with EROFS, for root too.
    pub fn read_only(dir: &Path) -> Result<Self, String> {
        run(Command::new("mount").arg("--bind").arg(dir).arg(dir))?;
        // From here on, dropping the guard undoes the bind whatever happens next.
        let mount = Self {
            path: dir.to_path_buf(),
        };
        run(Command::new("mount").args(["-o", "remount,bind,ro"]).arg(dir))?;
        mount.assert_read_only();
        Ok(mount)
    }

    /// Panics unless creating a file in the mounted folder fails with EROFS: a mount
    /// that took but does not refuse writes would make the test prove nothing.
    fn assert_read_only(&self) {
        let probe = self.path.join(".pictor-read-only-probe");
        match std::fs::File::create(&probe) {
            Err(err) if err.kind() == std::io::ErrorKind::ReadOnlyFilesystem => {}
            Err(err) => panic!(
                "{} should refuse writes as read-only, not with: {err}",
                self.path.display()
            ),
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                panic!("{} is mounted read-only but took a write", self.path.display());
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazy: detached at once even if a file below is still open.
        if let Err(why) = run(Command::new("umount").arg("-l").arg(&self.path)) {
            let _ = writeln!(std::io::stderr(), "could not unmount {}: {why}", self.path.display());
        }
    }
}

/// Runs a mount command; `Err` holds its exit status and what it printed.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|err| format!("{command:?}: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?}: {}: {}",
            output.status,
            // One line, so a SKIP line stays one line.
            String::from_utf8_lossy(&output.stderr)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    }
}

/// The mount, or what to do without it (see the module documentation): panics when a
/// skip is not allowed, else prints `SKIP: <what>` and gives `None`.
pub fn or_skip(mounted: Result<Mount, String>, what: &str) -> Option<Mount> {
    let why = match mounted {
        Ok(mount) => return Some(mount),
        Err(why) => why,
    };
    if std::env::var_os("CI").is_some_and(|value| !value.is_empty()) {
        panic!("{what}: mounting was refused, and under CI this check may not be skipped: {why}");
    }
    if std::env::var("PICTOR_ALLOW_SKIP").as_deref() == Ok("1") {
        // Straight to stderr: the harness captures print!/eprint! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "SKIP: {what}: mounting was refused ({why}); PICTOR_ALLOW_SKIP=1 lets this test pass unchecked"
        );
        return None;
    }
    panic!(
        "{what}: mounting was refused: {why}\n\
         Run as root (as CI does), or set PICTOR_ALLOW_SKIP=1 to skip this check on this machine"
    );
}
