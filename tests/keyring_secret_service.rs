//! The OS keyring round trip against a real Secret Service. `scripts/keyring-test.sh`
//! runs it inside a private D-Bus session with gnome-keyring and a temp HOME, so no
//! real keyring is touched; that is why it is ignored in a plain `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pictor::api::provider::Provider;
use pictor::api::secret::ApiKey;
use pictor::secrets::{KeySource, OsKeyring, SecretStore, Secrets};

#[test]
#[ignore = "needs a Secret Service: run scripts/keyring-test.sh"]
fn key_round_trips_through_the_secret_service() {
    assert!(
        OsKeyring::is_available(),
        "no Secret Service reachable: run inside scripts/keyring-test.sh"
    );
    let store = OsKeyring;
    let key = ApiKey::new("sk-pictor-keyring-test-9876").unwrap();
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

    secrets.forget(Provider::DashscopeIntl).unwrap();
    assert_eq!(store.get(Provider::DashscopeIntl).unwrap(), None);
    // The key never reached a file under the sandboxed HOME except the keyring's own encrypted store.
    let home = std::env::var("HOME").unwrap();
    for entry in walk(std::path::Path::new(&home)) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        let found = bytes
            .windows(b"sk-pictor-keyring-test-9876".len())
            .any(|w| w == b"sk-pictor-keyring-test-9876");
        assert!(!found, "the key appears in clear text in {}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}
