//! API keys: the OS keyring behind a small trait, a `PICTOR_API_KEY` override, and an
//! in-memory store for tests and for "this session only" when no keyring exists.
//!
//! Keys are never written to any file. All calls may block on D-Bus/Keychain: call
//! them from a background thread or at start-up, never inside `ui()`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::api::provider::Provider;
use crate::api::secret::ApiKey;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::lock;

/// The keyring service name under which keys are stored (one entry per provider).
pub const KEYRING_SERVICE: &str = "pictor";
/// The environment variable that overrides any stored key.
pub const KEY_ENV_VAR: &str = "PICTOR_API_KEY";

/// Where a key came from, shown in the top bar and by `pictor key status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The operating system's keyring (Keychain, Credential Manager, Secret Service).
    OsKeyring,
    /// The `PICTOR_API_KEY` environment variable.
    Environment,
    /// Kept in memory for this session only.
    Session,
    /// No key.
    None,
}

impl KeySource {
    /// Stable name for JSON and translation keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OsKeyring => "os_keyring",
            Self::Environment => "environment",
            Self::Session => "session",
            Self::None => "none",
        }
    }
}

/// A place that keeps one key per provider.
pub trait SecretStore: Send + Sync {
    /// The stored key, or `None` when there is none.
    fn get(&self, provider: Provider) -> Result<Option<ApiKey>>;
    /// Stores (replaces) the key.
    fn set(&self, provider: Provider, key: &ApiKey) -> Result<()>;
    /// Forgets the key; forgetting a missing key is not an error.
    fn clear(&self, provider: Provider) -> Result<()>;
    /// What kind of place this is.
    fn source(&self) -> KeySource;
}

/// The operating system's keyring (service [`KEYRING_SERVICE`], user = provider name).
#[derive(Debug, Default)]
pub struct OsKeyring;

impl OsKeyring {
    /// Whether a keyring backend is reachable (false without a Secret Service on Linux).
    pub fn is_available() -> bool {
        keyring::Entry::store_status().is_ok()
    }

    fn entry(provider: Provider) -> Result<keyring::Entry> {
        keyring::Entry::new(KEYRING_SERVICE, provider.name()).map_err(keyring_error)
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, provider: Provider) -> Result<Option<ApiKey>> {
        match Self::entry(provider)?.get_password() {
            Ok(key) => Ok(ApiKey::new(key)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn set(&self, provider: Provider, key: &ApiKey) -> Result<()> {
        Self::entry(provider)?.set_password(key.expose()).map_err(keyring_error)
    }

    fn clear(&self, provider: Provider) -> Result<()> {
        match Self::entry(provider)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn source(&self) -> KeySource {
        KeySource::OsKeyring
    }
}

/// Maps keyring failures to a `config` error. The keyring's messages never contain the secret.
fn keyring_error(err: keyring::Error) -> Error {
    let message = match err {
        keyring::Error::NoDefaultStore => {
            "no OS keyring is available (on Linux: no Secret Service such as GNOME Keyring or KWallet is running)"
                .to_owned()
        }
        keyring::Error::NoStorageAccess(_) => "the OS keyring is locked or refused access".to_owned(),
        // Variants carrying bytes may hold the secret: never format them.
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => {
            "the key stored in the OS keyring is unreadable".to_owned()
        }
        other => format!("OS keyring error: {other}"),
    };
    Error::new(ErrorKind::Config, message)
}

/// Keys kept in memory only: for tests, and for "this session only".
#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<Provider, ApiKey>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, provider: Provider) -> Result<Option<ApiKey>> {
        Ok(lock(&self.keys).get(&provider).cloned())
    }

    fn set(&self, provider: Provider, key: &ApiKey) -> Result<()> {
        lock(&self.keys).insert(provider, key.clone());
        Ok(())
    }

    fn clear(&self, provider: Provider) -> Result<()> {
        lock(&self.keys).remove(&provider);
        Ok(())
    }

    fn source(&self) -> KeySource {
        KeySource::Session
    }
}

/// A key with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyStatus {
    /// The key, if any.
    pub key: Option<ApiKey>,
    /// Where it came from.
    pub source: KeySource,
}

/// All places a key can come from, in priority order: environment, persistent store, session.
#[derive(Clone)]
pub struct Secrets {
    env_key: Option<ApiKey>,
    persistent: Option<Arc<dyn SecretStore>>,
    session: Arc<MemoryStore>,
}

impl Secrets {
    /// The real set-up: `PICTOR_API_KEY`, then the OS keyring when one is reachable.
    pub fn from_environment() -> Self {
        let env_key = std::env::var(KEY_ENV_VAR).ok().and_then(ApiKey::new);
        let persistent: Option<Arc<dyn SecretStore>> = if OsKeyring::is_available() {
            Some(Arc::new(OsKeyring))
        } else {
            None
        };
        Self {
            env_key,
            persistent,
            session: Arc::default(),
        }
    }

    /// A set-up with an explicit persistent store (tests pass a [`MemoryStore`]) and no environment key.
    pub fn with_store(persistent: Option<Arc<dyn SecretStore>>) -> Self {
        Self {
            env_key: None,
            persistent,
            session: Arc::default(),
        }
    }

    /// Whether keys can be saved persistently (an OS keyring exists).
    pub fn can_persist(&self) -> bool {
        self.persistent.is_some()
    }

    /// The key to use for `provider`, and where it came from.
    pub fn status(&self, provider: Provider) -> Result<KeyStatus> {
        if let Some(key) = &self.env_key {
            return Ok(KeyStatus {
                key: Some(key.clone()),
                source: KeySource::Environment,
            });
        }
        if let Some(store) = &self.persistent
            && let Some(key) = store.get(provider)?
        {
            return Ok(KeyStatus {
                key: Some(key),
                source: store.source(),
            });
        }
        if let Some(key) = self.session.get(provider)? {
            return Ok(KeyStatus {
                key: Some(key),
                source: KeySource::Session,
            });
        }
        Ok(KeyStatus {
            key: None,
            source: KeySource::None,
        })
    }

    /// Saves a key: in the persistent store when `persist` is set, else for this session only.
    pub fn save(&self, provider: Provider, key: &ApiKey, persist: bool) -> Result<KeySource> {
        if persist {
            let store = self.persistent.as_ref().ok_or_else(|| {
                Error::config("no OS keyring is available; the key can be kept for this session only")
            })?;
            store.set(provider, key)?;
            self.session.clear(provider)?;
            Ok(store.source())
        } else {
            self.session.set(provider, key)?;
            Ok(KeySource::Session)
        }
    }

    /// Forgets the key everywhere Pictor stored it (the environment variable stays).
    pub fn forget(&self, provider: Provider) -> Result<()> {
        self.session.clear(provider)?;
        if let Some(store) = &self.persistent {
            store.clear(provider)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistent_key_wins_over_session_and_forget_clears_both() {
        let secrets = Secrets::with_store(Some(Arc::new(MemoryStore::default())));
        let key = ApiKey::new("sk-test-0000").unwrap();
        assert_eq!(secrets.status(Provider::AppleRouter).unwrap().source, KeySource::None);
        secrets.save(Provider::AppleRouter, &key, false).unwrap();
        assert_eq!(
            secrets.status(Provider::AppleRouter).unwrap().source,
            KeySource::Session
        );
        secrets.save(Provider::AppleRouter, &key, true).unwrap();
        let status = secrets.status(Provider::AppleRouter).unwrap();
        assert_eq!(status.key.as_ref(), Some(&key));
        assert_eq!(
            status.source,
            KeySource::Session,
            "a MemoryStore reports itself as session"
        );
        assert_eq!(secrets.status(Provider::Dashscope).unwrap().source, KeySource::None);
        secrets.forget(Provider::AppleRouter).unwrap();
        assert_eq!(secrets.status(Provider::AppleRouter).unwrap().key, None);
    }

    #[test]
    fn persisting_without_a_keyring_is_a_clear_config_error() {
        let secrets = Secrets::with_store(None);
        let key = ApiKey::new("sk-x").unwrap();
        let err = secrets.save(Provider::AppleRouter, &key, true).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(!err.message.contains("sk-x"));
        assert_eq!(
            secrets.save(Provider::AppleRouter, &key, false).unwrap(),
            KeySource::Session
        );
    }
}
