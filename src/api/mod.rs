//! The wire: request model, response parsing, error taxonomy and the HTTP client.

pub mod catalogue;
pub mod classify;
pub mod client;
pub mod provider;
pub mod request;
pub mod response;
pub mod secret;
pub mod task;
