//! A fingerprint of zdm's own sources for the on-disk cache (`src/cache.rs`): the cached
//! model's types change between commits that share a version number, so the version alone
//! would let one build read another's entries.

use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.sort();
    // Not cryptographic, and need not be: it only has to change when the sources do.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    std::fs::read("Cargo.toml")
        .unwrap_or_default()
        .hash(&mut hasher);
    println!(
        "cargo:rustc-env=ZDM_BUILD_FINGERPRINT={}-{:016x}",
        env!("CARGO_PKG_VERSION"),
        hasher.finish()
    );
}

fn collect(dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path.to_string_lossy().into_owned());
        }
    }
}
