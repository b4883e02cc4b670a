//! The one error type of Pictor: a [`ErrorKind`], a short message for people and the raw details.
//!
//! Every layer returns [`Error`]; the UI and the command line show [`Error::user_message`]
//! and keep [`Error::details`] behind a "copy details" action.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// What went wrong, as a stable machine-readable name (used verbatim in JSON output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The API key was missing or rejected.
    Auth,
    /// Content moderation blocked the prompt or the result.
    Moderation,
    /// The service rejected the settings, or local validation did.
    InvalidRequest,
    /// Balance, quota or account standing.
    Quota,
    /// Too many requests; may be retried after a delay.
    RateLimited,
    /// The model is unknown, not allowed for this key, or has no channel now.
    ModelUnavailable,
    /// The service failed internally.
    Server,
    /// A proxy or gateway in front of the service failed (the image may still be billed).
    Gateway,
    /// The connection could not be made or broke.
    Network,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The user cancelled.
    Cancelled,
    /// The service answered something that is not a valid response.
    BadResponse,
    /// An image link could not be downloaded (expired, missing, too large).
    Download,
    /// Bytes that are not a usable image.
    Image,
    /// The library on disk could not be read or written.
    Storage,
    /// Missing or invalid configuration (key store, paths, provider).
    Config,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 16] = [
        Self::Auth,
        Self::Moderation,
        Self::InvalidRequest,
        Self::Quota,
        Self::RateLimited,
        Self::ModelUnavailable,
        Self::Server,
        Self::Gateway,
        Self::Network,
        Self::Timeout,
        Self::Cancelled,
        Self::BadResponse,
        Self::Download,
        Self::Image,
        Self::Storage,
        Self::Config,
    ];

    /// The snake_case name used in JSON output and in translation keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Moderation => "moderation",
            Self::InvalidRequest => "invalid_request",
            Self::Quota => "quota",
            Self::RateLimited => "rate_limited",
            Self::ModelUnavailable => "model_unavailable",
            Self::Server => "server",
            Self::Gateway => "gateway",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::BadResponse => "bad_response",
            Self::Download => "download",
            Self::Image => "image",
            Self::Storage => "storage",
            Self::Config => "config",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with its kind, a short human message and the raw details.
///
/// `message` is already short and free of markup and request ids; `details` keeps
/// everything (raw body, request id) for "copy details". Neither ever holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The category, which decides how the UI reacts (retry, open key settings, …).
    pub kind: ErrorKind,
    /// Short, specific text (English) from the service or from Pictor, without markup.
    pub message: String,
    /// Raw details for "copy details": response body, request id, file names.
    pub details: String,
    /// HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// How long the service asked us to wait before retrying (429 `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Error {
    /// An error of `kind` with a short `message` and no further details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: String::new(),
            status: None,
            retry_after: None,
        }
    }

    /// Adds raw details (kept for "copy details", not shown by default).
    #[must_use]
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    /// Adds the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds the delay the server asked for before a retry.
    #[must_use]
    pub fn with_retry_after(mut self, delay: Option<Duration>) -> Self {
        self.retry_after = delay;
        self
    }

    /// Shorthand for a [`ErrorKind::Storage`] error from an I/O failure, naming what was attempted.
    pub fn storage(what: impl fmt::Display, err: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Storage, format!("{what}: {err}"))
    }

    /// Shorthand for a [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Shorthand for a [`ErrorKind::Image`] error.
    pub fn image(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Image, message)
    }

    /// Shorthand for a [`ErrorKind::InvalidRequest`] error raised by local validation.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// The message for people in `locale` (`"en"` or `"zh-CN"`): what happened, in
    /// the kind's words, followed by the service's own short message when there is one.
    pub fn user_message(&self, locale: &str) -> String {
        let headline = rust_i18n::t!(format!("error.{}", self.kind.as_str()), locale = locale);
        if self.message.is_empty() {
            headline.into_owned()
        } else {
            format!("{headline}: {}", self.message)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.user_message("en"))
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Self::new(ErrorKind::Storage, format!("library database: {err}"))
    }
}

/// Result with Pictor's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
