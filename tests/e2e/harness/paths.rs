//! Where things are: the repository, `samples/`, and the directory cargo builds into.

use std::path::{Path, PathBuf};

/// The repository root (the parent of `cli/`).
pub fn repo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().expect("cli/ has a parent").to_path_buf()
}

/// `samples/` in the repository.
pub fn samples_dir() -> PathBuf {
    repo().join("samples")
}

/// The directory cargo builds into (`target/`, or `$CARGO_TARGET_DIR`), found from the path of
/// the jhot binary cargo built for these tests (`<target>/<profile>/jhot`).
pub fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_jhot"));
    match bin.parent().and_then(Path::parent) {
        Some(t) => t.to_path_buf(),
        None => repo().join("target"),
    }
}
