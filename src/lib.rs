//! Pictor: a native desktop studio for Qwen-Image / Tongyi Wanxiang image generation.
//!
//! Layers, from the bottom: [`api`] (the wire), [`imaging`] (bytes and pixels),
//! [`library`] (the user's images on disk), [`jobs`] (background work), and on top
//! [`ui`] (the egui window) and [`cli`] (the same operations without a window).

rust_i18n::i18n!("assets/locales", fallback = "en");

pub mod api;
pub mod error;
pub mod imaging;
pub mod library;
pub mod metadata;

pub use error::{Error, ErrorKind, Result};
