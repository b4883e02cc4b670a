//! Where requests go for this run: the saved preferences plus this run's overrides
//! (command-line flags and environment variables). Overrides apply to the run only and
//! are never written back: a one-off `--base-url http://…` must not become the place
//! every later plain `pictor` sends the key to.
//!
//! The window and the command line both build their HTTP client here, so there is one
//! way to turn settings into an [`ApiClient`].

use std::time::Duration;

use crate::api::client::{ApiClient, ClientConfig};
use crate::api::provider::{Endpoint, Provider};
use crate::demo::DemoServer;
use crate::error::Result;
use crate::settings::Settings;

/// This run's overrides of the saved connection preferences.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The provider to use instead of the saved one.
    pub provider: Option<Provider>,
    /// The base URL to use instead of the saved one.
    pub base_url: Option<String>,
    /// Allow plain http to a non-local host for this run.
    pub allow_insecure_http: bool,
}

impl Overrides {
    /// Whether any value is overridden.
    pub fn any(&self) -> bool {
        self.provider.is_some() || self.base_url.is_some() || self.allow_insecure_http
    }
}

/// The connection in force: preferences with the overrides applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The provider requests go to.
    pub provider: Provider,
    /// The base-URL override (empty: the provider's own).
    pub base_url: String,
    /// Whether plain http to a non-local host is allowed.
    pub allow_insecure_http: bool,
    /// Total request timeout.
    pub timeout: Duration,
}

impl Connection {
    /// `settings` with `overrides` applied. A provider given for this run without a base
    /// URL uses that provider's own URL, not the saved base URL of another provider.
    pub fn effective(settings: &Settings, overrides: &Overrides) -> Self {
        let provider = overrides.provider.unwrap_or(settings.provider);
        let base_url = match (&overrides.base_url, overrides.provider) {
            (Some(base_url), _) => base_url.trim().to_owned(),
            (None, Some(other)) if other != settings.provider => String::new(),
            (None, _) => settings.base_url.trim().to_owned(),
        };
        Self {
            provider,
            base_url,
            allow_insecure_http: overrides.allow_insecure_http || settings.allow_insecure_http,
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
        }
    }

    /// The endpoint requests go to. For the demo provider without a base URL,
    /// `demo_base_url` (a running [`DemoServer`]) is used.
    pub fn endpoint(&self, demo_base_url: Option<&str>) -> Result<Endpoint> {
        let base_url = match self.base_url.as_str() {
            "" if self.provider == Provider::Demo => demo_base_url,
            "" => None,
            base_url => Some(base_url),
        };
        Endpoint::new(self.provider, base_url, self.allow_insecure_http)
    }

    /// The HTTP client for this connection, with the default limits and this timeout.
    pub fn client(&self, demo_base_url: Option<&str>) -> Result<ApiClient> {
        let config = ClientConfig {
            total_timeout: self.timeout,
            ..ClientConfig::default()
        };
        ApiClient::new(self.endpoint(demo_base_url)?, config)
    }

    /// Whether this connection needs the demo server started (demo provider, no base URL).
    pub fn needs_demo_server(&self) -> bool {
        self.provider == Provider::Demo && self.base_url.is_empty()
    }
}

/// Starts the offline demo server on `runtime`; returns its base URL. The server lives
/// as long as the runtime.
pub fn start_demo_server(runtime: &tokio::runtime::Handle) -> Result<String> {
    let server = runtime.block_on(DemoServer::start(demo_latency()))?;
    Ok(server.base_url())
}

/// Latency of the demo server (`PICTOR_DEMO_LATENCY_MS`, default 2 s).
pub fn demo_latency() -> Duration {
    let ms = std::env::var("PICTOR_DEMO_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    Duration::from_millis(ms)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn without_overrides_the_preferences_apply() {
        let settings = Settings {
            provider: Provider::Dashscope,
            base_url: " https://proxy.example ".into(),
            ..Settings::default()
        };
        let connection = Connection::effective(&settings, &Overrides::default());
        assert_eq!(connection.provider, Provider::Dashscope);
        assert_eq!(connection.base_url, "https://proxy.example");
        assert!(!connection.allow_insecure_http);
    }

    #[test]
    fn overrides_win_and_another_provider_drops_the_saved_base_url() {
        let settings = Settings {
            provider: Provider::Dashscope,
            base_url: "https://proxy.example".into(),
            ..Settings::default()
        };
        let only_provider = Overrides {
            provider: Some(Provider::AppleRouter),
            ..Overrides::default()
        };
        let connection = Connection::effective(&settings, &only_provider);
        assert_eq!(connection.provider, Provider::AppleRouter);
        assert_eq!(connection.base_url, "");
        assert_eq!(
            connection.endpoint(None).unwrap().url.as_str(),
            "https://api.applerouter.ai/v1/images/generations"
        );
        let everything = Overrides {
            provider: Some(Provider::OpenaiCompatible),
            base_url: Some("http://203.0.113.5:8080".into()),
            allow_insecure_http: true,
        };
        let connection = Connection::effective(&settings, &everything);
        assert_eq!(connection.base_url, "http://203.0.113.5:8080");
        assert!(connection.endpoint(None).is_ok());
        assert!(everything.any() && !Overrides::default().any());
    }

    #[test]
    fn the_demo_uses_the_running_server() {
        let settings = Settings {
            provider: Provider::Demo,
            ..Settings::default()
        };
        let connection = Connection::effective(&settings, &Overrides::default());
        assert!(connection.needs_demo_server());
        assert!(connection.endpoint(None).is_err());
        let endpoint = connection.endpoint(Some("http://127.0.0.1:4000")).unwrap();
        assert_eq!(endpoint.url.as_str(), "http://127.0.0.1:4000/v1/images/generations");
    }
}
