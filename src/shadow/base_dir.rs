//! The directory a throwaway cluster lives in.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where the throwaway cluster's directory goes: memory (`/dev/shm`) when it has room, else
/// `$TMPDIR` unless the socket path would get too long (unix socket paths are limited to ~107
/// bytes) or, as root, `nobody` could not traverse it. A shadow database is created and
/// dropped for every run, and on a disk-backed file system each `CREATE DATABASE` + `DROP
/// DATABASE` pair spends about 0.1 s of kernel time creating, writing and unlinking a few
/// hundred files; in memory it takes a fifth of that.
pub(super) fn temp_base(for_other_user: bool) -> PathBuf {
    let memory = Path::new(MEMORY_DIR);
    if has_room(memory, MEMORY_DIR_MIN_FREE) && (!for_other_user || traversable_by_others(memory)) {
        return memory.to_path_buf();
    }
    let base = std::env::temp_dir();
    let too_long = base.as_os_str().len() > 60;
    let blocked = for_other_user && !traversable_by_others(&base);
    if too_long || blocked {
        PathBuf::from("/tmp")
    } else {
        base
    }
}

/// Where initdb templates are kept (`shadow::initdb`): on disk, not in memory, because they
/// outlive the run; in `$TMPDIR` unless, as root, `nobody` could not traverse it.
pub(super) fn template_base(for_other_user: bool) -> PathBuf {
    let base = std::env::temp_dir();
    if for_other_user && !traversable_by_others(&base) {
        PathBuf::from("/tmp")
    } else {
        base
    }
}

const MEMORY_DIR: &str = "/dev/shm";

/// Free space `/dev/shm` must have to be used: containers often give it only 64 MB, too
/// little for a cluster that loads a large schema.
const MEMORY_DIR_MIN_FREE: u64 = 1 << 30;

/// A writable directory with at least `min_free` bytes free.
fn has_room(dir: &Path, min_free: u64) -> bool {
    let Ok(stat) = nix::sys::statvfs::statvfs(dir) else {
        return false;
    };
    // The field widths differ between platforms (u32 on some), hence the casts.
    #[allow(clippy::unnecessary_cast)]
    let free = stat.blocks_available() as u64 * stat.fragment_size() as u64;
    free >= min_free && nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok()
}

fn traversable_by_others(path: &Path) -> bool {
    let Ok(path) = fs::canonicalize(path) else {
        return false;
    };
    path.ancestors()
        .all(|p| fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_free_space_in_a_writable_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(has_room(dir.path(), 1));
        assert!(!has_room(dir.path(), u64::MAX));
        assert!(!has_room(&dir.path().join("missing"), 1));
    }

    #[test]
    fn memory_is_the_first_choice_when_it_has_room() {
        let base = temp_base(false);
        assert_eq!(
            base == Path::new(MEMORY_DIR),
            has_room(Path::new(MEMORY_DIR), MEMORY_DIR_MIN_FREE)
        );
    }
}
