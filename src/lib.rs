//! Pictor: a native desktop studio for Qwen-Image / Tongyi Wanxiang image generation.
//!
//! Layers, from the bottom: [`api`] (the wire), [`imaging`] (bytes and pixels),
//! [`library`] (the user's images on disk), [`generate`] and [`jobs`] (background
//! work), and on top [`ui`] (the egui window) and [`cli`] (the same operations
//! without a window).

rust_i18n::i18n!("assets/locales", fallback = "en");

pub mod api;
pub mod cli;
pub mod clock;
pub mod connection;
pub mod demo;
pub mod diagnostics;
pub mod error;
pub mod generate;
pub mod imaging;
pub mod import;
pub mod instance;
pub mod jobs;
pub mod library;
pub mod logging;
pub mod metadata;
pub mod pricing;
pub mod prompt_template;
pub mod run_plan;
pub mod secrets;
pub mod settings;
pub mod spending;
pub mod sync;
pub mod transfer;
pub mod ui;
pub mod watch;

pub use error::{Error, ErrorKind, Result};
