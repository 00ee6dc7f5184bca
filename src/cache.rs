//! A small on-disk cache of JSON entries, keyed by a digest of everything that decides them
//! (see `workspace::cached` for what is kept: the desired model, the answers to the shadow's
//! questions, rehearsals).
//!
//! Safe to delete at any time: an entry that is missing, unreadable, truncated, of another
//! format or for another key is a miss, never an error. Writes go to a temporary file in the
//! same directory and are renamed into place, so a reader in another process sees a whole
//! entry or none (the tests run many zdm processes at once). Bounded: after a write the
//! oldest entries (by last use) go beyond [`MAX_ENTRIES`] entries or [`MAX_BYTES`] bytes.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Environment variable naming the cache directory (default: `$XDG_CACHE_HOME/zdm`, else
/// `~/.cache/zdm`).
pub const ENV_DIR: &str = "ZDM_CACHE_DIR";
/// When set (non-empty), each lookup and store is reported on stderr: what the tests (and a
/// curious user) observe to know whether a shadow was loaded.
pub const ENV_LOG: &str = "ZDM_CACHE_LOG";
pub const MAX_ENTRIES: usize = 256;
pub const MAX_BYTES: u64 = 512 * 1024 * 1024;
/// Bumped when the envelope changes.
const FORMAT: u32 = 1;
/// zdm's own build: a digest of its sources and manifest (build.rs), because the model's
/// types change between commits of one version.
pub const BUILD: &str = env!("ZDM_BUILD_FINGERPRINT");

/// An entry as stored: the key it answers (a file renamed from another key's name, or a
/// digest collision of the file name, is then a miss) and the value.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    format: u32,
    key: String,
    value: T,
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The directory from `ZDM_CACHE_DIR`, else under the XDG cache home; None when there is
    /// no home to put it in (then nothing is cached).
    pub fn from_env() -> Option<Store> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let dir = match var(ENV_DIR) {
            Some(dir) => PathBuf::from(dir),
            None => match var("XDG_CACHE_HOME") {
                Some(base) => PathBuf::from(base).join("zdm"),
                None => PathBuf::from(var("HOME")?).join(".cache").join("zdm"),
            },
        };
        Some(Store { dir })
    }

    pub fn at(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, kind: &str, key: &str) -> PathBuf {
        self.dir.join(format!("{kind}-{key}.json"))
    }

    /// The value stored under `key`, or None (missing, corrupt, another build's, ...).
    pub fn get<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let path = self.path(kind, key);
        let found = fs::read(&path).ok().and_then(|bytes| {
            let envelope: Envelope<T> = serde_json::from_slice(&bytes).ok()?;
            (envelope.format == FORMAT && envelope.key == key).then_some(envelope.value)
        });
        if found.is_some() {
            // Last use, for eviction; best effort.
            let _ = fs::File::options()
                .append(true)
                .open(&path)
                .and_then(|f| f.set_modified(SystemTime::now()));
        }
        log(&format!(
            "{kind} {}: {}",
            if found.is_some() { "hit" } else { "miss" },
            short(key)
        ));
        found
    }

    /// Store `value` under `key` (best effort: a cache that cannot be written is no cache).
    pub fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        let envelope = Envelope {
            format: FORMAT,
            key: key.to_string(),
            value,
        };
        let Ok(bytes) = serde_json::to_vec(&envelope) else {
            return;
        };
        if self.write_atomically(&self.path(kind, key), &bytes).is_ok() {
            log(&format!("{kind} stored: {}", short(key)));
            self.prune(MAX_ENTRIES, MAX_BYTES);
        }
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)?;
        temp.write_all(bytes)?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Remove the least recently used entries beyond `max_entries` or `max_bytes`, and
    /// temporary files a killed process left behind (older than an hour).
    pub fn prune(&self, max_entries: usize, max_bytes: u64) {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for entry in dir.filter_map(Result::ok) {
            let (Ok(meta), name) = (entry.metadata(), entry.file_name()) else {
                continue;
            };
            let name = name.to_string_lossy();
            let modified = meta.modified().unwrap_or(now);
            if name.starts_with(".tmp-") {
                let age = now.duration_since(modified).unwrap_or_default();
                if age > Duration::from_secs(3600) {
                    let _ = fs::remove_file(entry.path());
                }
            } else if name.ends_with(".json") && meta.is_file() {
                entries.push((modified, meta.len(), entry.path()));
            }
        }
        // Newest first; keep while within both bounds.
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut bytes = 0u64;
        for (kept, (_, len, path)) in entries.iter().enumerate() {
            bytes += len;
            if kept >= max_entries || bytes > max_bytes {
                // Another process may have removed it already.
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// A hex SHA-256 of `parts`, each length-prefixed so that no two lists of parts collide.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn short(key: &str) -> &str {
    &key[..key.len().min(16)]
}

fn log(line: &str) {
    if std::env::var_os(ENV_LOG).is_some_and(|v| !v.is_empty()) {
        eprintln!("zdm cache: {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_or_foreign_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        store.put("t", "k1", &vec![1, 2, 3]);
        assert_eq!(store.get::<Vec<i32>>("t", "k1"), Some(vec![1, 2, 3]));
        // Another key's file under this key's name: a miss.
        fs::copy(store.path("t", "k1"), store.path("t", "k2")).unwrap();
        assert_eq!(store.get::<Vec<i32>>("t", "k2"), None);
        // Truncated: a miss.
        fs::write(store.path("t", "k1"), b"{\"format\":1,\"ke").unwrap();
        assert_eq!(store.get::<Vec<i32>>("t", "k1"), None);
        // Another type: a miss.
        store.put("t", "k3", &"text");
        assert_eq!(store.get::<Vec<i32>>("t", "k3"), None);
    }

    #[test]
    fn prune_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        for i in 0..5 {
            store.put("t", &format!("k{i}"), &i);
            let old = SystemTime::now() - Duration::from_secs(100 - i as u64);
            fs::File::options()
                .append(true)
                .open(store.path("t", &format!("k{i}")))
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        store.prune(2, u64::MAX);
        let left: Vec<bool> = (0..5)
            .map(|i| store.path("t", &format!("k{i}")).exists())
            .collect();
        assert_eq!(left, [false, false, false, true, true]);
    }
}
