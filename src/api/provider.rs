//! Providers: where a request goes, which answer layout comes back, and base-URL overrides.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::api::response::ResponseShape;
use crate::error::{Error, Result};

/// The OpenAI-style images path used by AppleRouter and other routers.
pub const OPENAI_IMAGES_PATH: &str = "/v1/images/generations";
/// DashScope's native multimodal generation path.
pub const DASHSCOPE_PATH: &str = "/api/v1/services/aigc/multimodal-generation/generation";

/// A service that generates images.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// AppleRouter (OpenAI-style answers). The default.
    #[default]
    AppleRouter,
    /// DashScope, Beijing region (native answers).
    Dashscope,
    /// DashScope, Singapore region (native answers, separate key).
    DashscopeIntl,
    /// Any OpenAI-compatible router; needs a base URL.
    OpenaiCompatible,
    /// The built-in offline demo: a loopback server that draws images locally.
    Demo,
}

impl Provider {
    /// Every provider, for pickers.
    pub const ALL: [Self; 5] = [
        Self::AppleRouter,
        Self::Dashscope,
        Self::DashscopeIntl,
        Self::OpenaiCompatible,
        Self::Demo,
    ];

    /// The name used on the command line, in settings and in the keyring.
    pub fn name(self) -> &'static str {
        match self {
            Self::AppleRouter => "apple-router",
            Self::Dashscope => "dashscope",
            Self::DashscopeIntl => "dashscope-intl",
            Self::OpenaiCompatible => "openai-compatible",
            Self::Demo => "demo",
        }
    }

    /// The base URL used when the user set none (`None` for providers that need one).
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::AppleRouter => Some("https://api.applerouter.ai"),
            Self::Dashscope => Some("https://dashscope.aliyuncs.com"),
            Self::DashscopeIntl => Some("https://dashscope-intl.aliyuncs.com"),
            Self::OpenaiCompatible | Self::Demo => None,
        }
    }

    /// The request path on the provider's host.
    pub fn path(self) -> &'static str {
        match self {
            Self::Dashscope | Self::DashscopeIntl => DASHSCOPE_PATH,
            Self::AppleRouter | Self::OpenaiCompatible | Self::Demo => OPENAI_IMAGES_PATH,
        }
    }

    /// The layout of the provider's answers.
    pub fn shape(self) -> ResponseShape {
        match self {
            Self::Dashscope | Self::DashscopeIntl => ResponseShape::Native,
            Self::AppleRouter | Self::OpenaiCompatible | Self::Demo => ResponseShape::OpenAi,
        }
    }

    /// Whether models that DashScope runs only as asynchronous tasks go through its task
    /// API here (DashScope itself, and the demo that imitates it). Routers poll for the
    /// client and answer as one long request.
    pub fn runs_tasks(self) -> bool {
        matches!(self, Self::Dashscope | Self::DashscopeIntl | Self::Demo)
    }

    /// Whether requests need an API key (the demo needs none).
    pub fn needs_key(self) -> bool {
        self != Self::Demo
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Provider {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|p| p.name() == wanted || (wanted == "applerouter" && *p == Self::AppleRouter))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
                Error::config(format!("unknown provider “{text}”; choose one of {}", names.join(", ")))
            })
    }
}

/// Where requests for one provider go: the provider plus an optional base-URL override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The provider (decides the path and the answer layout).
    pub provider: Provider,
    /// The full request URL.
    pub url: Url,
}

impl Endpoint {
    /// Builds the endpoint. A `base_url` replaces scheme, host and port (and any path
    /// prefix it carries) and keeps the provider's path. Plain `http://` is refused for
    /// hosts other than loopback unless `allow_insecure_http` is set, because the key
    /// would travel in clear text.
    pub fn new(provider: Provider, base_url: Option<&str>, allow_insecure_http: bool) -> Result<Self> {
        let base = match base_url.map(str::trim).filter(|b| !b.is_empty()) {
            Some(base) => base.to_owned(),
            None => provider.default_base_url().map(str::to_owned).ok_or_else(|| {
                Error::config(format!(
                    "the provider {provider} needs a base URL (--base-url or settings)"
                ))
            })?,
        };
        let parsed =
            Url::parse(&base).map_err(|err| Error::config(format!("base URL “{base}” is not a URL: {err}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if allow_insecure_http || is_loopback(&parsed) => {}
            "http" => {
                return Err(Error::config(format!(
                    "base URL {base} uses plain http to a non-local host; the API key would travel unencrypted. \
                     Use https, or allow insecure http explicitly"
                )));
            }
            other => return Err(Error::config(format!("base URL scheme “{other}” is not http or https"))),
        }
        if parsed.host_str().is_none() {
            return Err(Error::config(format!("base URL “{base}” has no host")));
        }
        let prefix = parsed.path().trim_end_matches('/');
        let mut url = parsed.clone();
        url.set_path(&format!("{prefix}{}", provider.path()));
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self { provider, url })
    }

    /// The URL of another API `path` on the same service: the same origin and the same
    /// path prefix as the base URL (used for the task API).
    pub fn url_for(&self, path: &str) -> Url {
        let prefix = self.url.path().strip_suffix(self.provider.path()).unwrap_or_default();
        let mut url = self.url.clone();
        url.set_path(&format!("{prefix}{path}"));
        url
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn default_urls_use_each_providers_path() {
        let apple = Endpoint::new(Provider::AppleRouter, None, false).unwrap();
        assert_eq!(apple.url.as_str(), "https://api.applerouter.ai/v1/images/generations");
        let intl = Endpoint::new(Provider::DashscopeIntl, None, false).unwrap();
        assert_eq!(
            intl.url.as_str(),
            "https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/multimodal-generation/generation"
        );
    }

    #[test]
    fn base_url_override_keeps_the_path() {
        let e = Endpoint::new(Provider::Dashscope, Some("http://127.0.0.1:8080/"), false).unwrap();
        assert_eq!(e.url.as_str(), format!("http://127.0.0.1:8080{DASHSCOPE_PATH}"));
        let e = Endpoint::new(Provider::OpenaiCompatible, Some("https://router.example/proxy"), false).unwrap();
        assert_eq!(e.url.as_str(), "https://router.example/proxy/v1/images/generations");
    }

    #[test]
    fn other_api_paths_keep_the_origin_and_the_prefix() {
        let e = Endpoint::new(Provider::Dashscope, Some("https://proxy.example/ds/"), false).unwrap();
        assert_eq!(
            e.url_for("/api/v1/tasks/abc").as_str(),
            "https://proxy.example/ds/api/v1/tasks/abc"
        );
        let plain = Endpoint::new(Provider::Dashscope, None, false).unwrap();
        assert_eq!(
            plain.url_for("/api/v1/tasks/abc").as_str(),
            "https://dashscope.aliyuncs.com/api/v1/tasks/abc"
        );
    }

    #[test]
    fn insecure_and_missing_base_urls_are_refused() {
        let err = Endpoint::new(Provider::AppleRouter, Some("http://203.0.113.9"), false).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(Endpoint::new(Provider::AppleRouter, Some("http://203.0.113.9"), true).is_ok());
        assert!(Endpoint::new(Provider::OpenaiCompatible, None, false).is_err());
        assert!(Endpoint::new(Provider::AppleRouter, Some("ftp://x"), false).is_err());
        assert!(Endpoint::new(Provider::AppleRouter, Some("http://localhost:1"), false).is_ok());
    }

    #[test]
    fn provider_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(p.name().parse::<Provider>().unwrap(), p);
        }
        assert!("nope".parse::<Provider>().is_err());
    }
}
