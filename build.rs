//! Build script: embeds the app icon (`icons/pictor.ico`) and version information in the
//! Windows executable. For any other target it does nothing.
//!
//! `CARGO_CFG_TARGET_OS` is the target's OS (a build script runs on the host, so `cfg!`
//! here would describe the host). Cross-compiling from Linux needs MinGW's `windres`
//! (Debian: binutils-mingw-w64-x86-64); on Windows, the SDK's `rc.exe` or MinGW's.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    println!("cargo:rerun-if-changed=icons/pictor.ico");
    if let Err(message) = embed_windows_resources() {
        // A Windows build without its icon would ship looking broken: stop the build.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

/// Compiles the icon and version strings into a resource linked into the `pictor` binary only.
fn embed_windows_resources() -> Result<(), String> {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|err| format!("CARGO_MANIFEST_DIR: {err}"))?;
    let icon = Path::new(&manifest_dir).join("icons").join("pictor.ico");
    let icon = icon.to_str().ok_or("the path of icons/pictor.ico is not UTF-8")?;
    let mut resource = winresource::WindowsResource::new();
    resource
        .set_icon(icon)
        .set("ProductName", "Pictor")
        .set("FileDescription", "Pictor")
        .set("OriginalFilename", "pictor.exe");
    resource
        .compile_for("pictor")
        .map_err(|err| format!("cannot embed the icon in pictor.exe: {err}"))
}
