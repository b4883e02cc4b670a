//! [`ApiKey`]: a bearer credential that never prints itself.

use std::fmt;

/// An API key. `Debug` and `Display` show only the last four characters, so the key
/// cannot leak through a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key, trimming surrounding white space (pasted keys often carry a newline).
    /// Returns `None` for an empty key.
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let key: String = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(Self(trimmed.to_owned()))
        }
    }

    /// The secret itself, for the `Authorization` header and the keyring only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `…abcd`: the last four characters, the only part ever shown again.
    pub fn masked(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }

    /// `text` with every copy of the key replaced by [`Self::masked`]: for anything the
    /// service sends back that may echo the key (error messages, request ids, rewritten
    /// prompts) before it is shown, logged or stored.
    pub fn mask_in(&self, text: &str) -> String {
        text.replace(self.0.as_str(), &self.masked())
    }

    /// Whether `text` contains the key.
    pub fn appears_in(&self, text: &str) -> bool {
        text.contains(self.0.as_str())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_prints_itself() {
        let key = ApiKey::new("  sk-supersecret1234\n").unwrap();
        assert_eq!(key.expose(), "sk-supersecret1234");
        assert_eq!(format!("{key:?} {key}"), "ApiKey(…1234) …1234");
        assert!(ApiKey::new("   ").is_none());
        assert_eq!(
            key.mask_in("a sk-supersecret1234 b sk-supersecret1234"),
            "a …1234 b …1234"
        );
        assert!(key.appears_in("x sk-supersecret1234") && !key.appears_in("x sk-super"));
    }
}
