//! Where things are: the repository, Cargo's target directory, scratch files, the workspace's
//! binaries and the project's Python.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Cargo's target directory: as `cargo xtask test` resolved it (`ONBOARDING_TARGET_DIR`), else
/// `CARGO_TARGET_DIR`, else `./target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("ONBOARDING_TARGET_DIR")
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A scratch directory for files the tests write (configs, recordings), inside the target dir.
pub fn scratch() -> PathBuf {
    let dir = target_dir().join("test-scratch");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A binary of this workspace (built by `cargo xtask test` before the tests run).
pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
    assert!(path.exists(), "{} is missing: run `cargo xtask test` (it builds the binaries first)", path.display());
    path
}

/// The project's Python (the venv `cargo xtask test` makes, or `ONBOARDING_PYTHON`): it runs the
/// emulator, and its standard library reads what our exports write (e.g. `csv`).
pub fn python() -> PathBuf {
    std::env::var_os("ONBOARDING_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv").join("bin").join("python"))
}
