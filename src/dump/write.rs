//! Writing a dump into a directory that may already hold an earlier one: a file is written
//! only when its text changed, and a file an earlier dump wrote whose objects are gone is
//! removed. Files a person wrote (without [`HEADER`]) are never touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The first line of every file `zdm dump` writes: what marks a file as one a later dump may
/// rewrite or remove.
pub const HEADER: &str = "-- Written by `zdm dump`. Edit freely; a later dump rewrites this file.";

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a write did, by path relative to the output directory.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub created: Vec<PathBuf>,
    pub updated: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    /// `.sql` files already there that no dump wrote: left alone, though their objects may
    /// now be declared twice.
    pub foreign: Vec<PathBuf>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn write(out: &Path, files: &BTreeMap<PathBuf, String>) -> Result<WriteReport, WriteError> {
    let mut report = WriteReport::default();
    std::fs::create_dir_all(out).map_err(io(out))?;
    for existing in sql_files(out)? {
        let relative = existing
            .strip_prefix(out)
            .unwrap_or(&existing)
            .to_path_buf();
        if files.contains_key(&relative) {
            continue;
        }
        let text = std::fs::read_to_string(&existing).unwrap_or_default();
        if text.starts_with(HEADER) {
            std::fs::remove_file(&existing).map_err(io(&existing))?;
            report.removed.push(relative);
        } else {
            report.foreign.push(relative);
        }
    }
    for (relative, text) in files {
        let path = out.join(relative);
        match std::fs::read_to_string(&path) {
            Ok(old) if old == *text => {
                report.unchanged.push(relative.clone());
                continue;
            }
            Ok(_) => report.updated.push(relative.clone()),
            Err(_) => report.created.push(relative.clone()),
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    remove_empty_directories(out);
    Ok(report)
}

/// Every `.sql` file under `dir`, recursively, sorted.
fn sql_files(dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(io(&current))? {
            let path = entry.map_err(io(&current))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "sql") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Directories a removal emptied (`public/views/` after the last view went). Best effort:
/// `remove_dir` refuses a directory that still holds anything.
fn remove_empty_directories(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_empty_directories(&path);
            let _ = std::fs::remove_dir(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(entries: &[(&str, &str)]) -> BTreeMap<PathBuf, String> {
        entries
            .iter()
            .map(|(p, t)| (PathBuf::from(p), format!("{HEADER}\n{t}\n")))
            .collect()
    }

    #[test]
    fn a_second_write_touches_only_what_changed_and_keeps_hand_written_files() {
        let dir = tempfile::tempdir().unwrap();
        let first = dump(&[("a/t1.sql", "one"), ("a/t2.sql", "two")]);
        let report = write(dir.path(), &first).unwrap();
        assert_eq!(report.created.len(), 2);
        std::fs::write(dir.path().join("mine.sql"), "CREATE TABLE x ();").unwrap();

        let second = dump(&[("a/t1.sql", "one"), ("b/t3.sql", "three")]);
        let report = write(dir.path(), &second).unwrap();
        assert_eq!(report.unchanged, vec![PathBuf::from("a/t1.sql")]);
        assert_eq!(report.created, vec![PathBuf::from("b/t3.sql")]);
        assert_eq!(report.removed, vec![PathBuf::from("a/t2.sql")]);
        assert_eq!(report.foreign, vec![PathBuf::from("mine.sql")]);
        assert!(dir.path().join("mine.sql").exists());
        assert!(!dir.path().join("a/t2.sql").exists());

        let third = dump(&[("b/t3.sql", "three")]);
        write(dir.path(), &third).unwrap();
        assert!(!dir.path().join("a").exists(), "an emptied directory goes");
    }
}
