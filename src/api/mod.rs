//! The wire: request model, response parsing, error taxonomy and the HTTP client.

pub mod request;
pub mod response;
