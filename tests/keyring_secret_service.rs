//! The OS keyring round trip against a real Secret Service. `scripts/keyring-test.sh`
//! runs it inside a private D-Bus session with gnome-keyring and a temp HOME, so no
//! real keyring is touched; that is why it is ignored in a plain `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pictor::api::provider::Provider;
use pictor::api::secret::ApiKey;
use pictor::secrets::{KeySource, OsKeyring, SecretStore, Secrets};

const KEY: &str = "sk-pictor-keyring-test-9876";

#[test]
#[ignore = "needs a Secret Service: run scripts/keyring-test.sh"]
fn key_round_trips_through_the_secret_service() {
    assert!(
        OsKeyring::is_available(),
        "no Secret Service reachable: run inside scripts/keyring-test.sh"
    );
    let store = OsKeyring;
    let key = ApiKey::new(KEY).unwrap();
    store.clear(Provider::DashscopeIntl).unwrap();
    assert_eq!(store.get(Provider::DashscopeIntl).unwrap(), None);
    store.set(Provider::DashscopeIntl, &key).unwrap();
    assert_eq!(store.get(Provider::DashscopeIntl).unwrap(), Some(key.clone()));
    assert_eq!(store.get(Provider::Dashscope).unwrap(), None, "one entry per provider");

    let secrets = Secrets::from_environment();
    assert!(secrets.can_persist());
    let status = secrets.status(Provider::DashscopeIntl).unwrap();
    assert_eq!(status.source, KeySource::OsKeyring);
    assert_eq!(status.key, Some(key));

    // While the key is stored, it is in no file in clear text: the keyring's own store
    // (under XDG_DATA_HOME) is among the files scanned, encrypted.
    let scanned = assert_not_in_clear_text("while stored");
    assert!(scanned > 0, "no file was scanned: the scan would prove nothing");

    secrets.forget(Provider::DashscopeIntl).unwrap();
    assert_eq!(store.get(Provider::DashscopeIntl).unwrap(), None);
    assert_not_in_clear_text("after forgetting");
}

/// Scans every regular file under HOME and the XDG folders (the sandbox of
/// `scripts/keyring-test.sh`) for the key in clear text; returns how many were scanned.
fn assert_not_in_clear_text(when: &str) -> usize {
    let roots: Vec<std::path::PathBuf> = [
        "HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_RUNTIME_DIR",
    ]
    .iter()
    .filter_map(std::env::var_os)
    .map(std::path::PathBuf::from)
    .collect();
    let mut scanned = 0;
    for root in &roots {
        for file in walk(root) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
            assert!(!found, "{when}: the key appears in clear text in {}", file.display());
            scanned += 1;
        }
    }
    scanned
}

/// The regular files below `dir` (not sockets or pipes, which a read could block on).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => files.extend(walk(&path)),
                Ok(kind) if kind.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files
}
