//! The wire: request model, response parsing, error taxonomy and the HTTP client.

pub mod classify;
pub mod request;
pub mod response;
