//! A throwaway cluster's data directory: `initdb` once per installation, then a copy.
//!
//! `initdb` runs the bootstrap backend several times and takes about a second; copying the
//! directory it made takes a few hundredths. Every `zdm plan` with the embedded shadow, and
//! every test binary, starts a cluster, so the first `initdb` of an installation is kept as a
//! template beside the clusters (`zdm-initdb-<key>`) and later clusters copy it.
//!
//! The key covers everything the directory depends on: the installation's `initdb` (path,
//! size and modification time, so an upgraded package makes a new template), the arguments,
//! and the user the server runs as. A template is made under a temporary name and renamed into
//! place, so a reader sees a whole one or none; two first runs at once each make their own and
//! one rename wins. `ZDM_NO_CACHE` (as for the desired-schema cache) skips the template.

use std::fs;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::unistd::{chown, User};

use super::cluster::{io_err, last_lines, ClusterError, PgInstall, SUPERUSER};

/// `initdb`'s arguments besides `-D`: trust over the private socket, no fsync, C locale.
const INITDB_ARGS: [&str; 7] = [
    "-U",
    SUPERUSER,
    "--auth=trust",
    "-N",
    "-E",
    "UTF8",
    "--locale=C",
];

/// Fill `data` (which must not exist) with a fresh cluster for `install`, run as `run_as`
/// when given. Templates are kept in `base`.
pub(super) fn make_data_dir(
    install: &PgInstall,
    data: &Path,
    base: &Path,
    run_as: Option<&User>,
) -> Result<(), ClusterError> {
    if no_cache() {
        return initdb(install, data, run_as);
    }
    let template = base.join(format!("zdm-initdb-{:016x}", key(install, run_as)));
    if !template.join("PG_VERSION").is_file() {
        make_template(install, &template, base, run_as)?;
    }
    if copy_dir(&template, data, run_as).is_ok() {
        return Ok(());
    }
    // A template that cannot be copied (removed by a cleaner half-way, a full disk) is only a
    // missed shortcut: start over from initdb.
    let _ = fs::remove_dir_all(data);
    initdb(install, data, run_as)
}

fn no_cache() -> bool {
    std::env::var("ZDM_NO_CACHE").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false" | "no"))
}

fn key(install: &PgInstall, run_as: Option<&User>) -> u64 {
    // Not cryptographic, and need not be: it only has to change when the inputs do.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let initdb = install.bin_dir.join("initdb");
    initdb.hash(&mut hasher);
    if let Ok(meta) = fs::metadata(&initdb) {
        (meta.len(), meta.mtime(), meta.mtime_nsec()).hash(&mut hasher);
    }
    INITDB_ARGS.hash(&mut hasher);
    run_as.map(|u| u.uid.as_raw()).hash(&mut hasher);
    nix::unistd::geteuid().as_raw().hash(&mut hasher);
    hasher.finish()
}

/// initdb into a private directory under `base`, then rename it to `template`.
fn make_template(
    install: &PgInstall,
    template: &Path,
    base: &Path,
    run_as: Option<&User>,
) -> Result<(), ClusterError> {
    let staging = tempfile::Builder::new()
        .prefix("zdm-initdb-new-")
        .tempdir_in(base)
        .map_err(io_err(format!(
            "cannot create a temp dir in {}",
            base.display()
        )))?;
    if let Some(user) = run_as {
        chown(staging.path(), Some(user.uid), Some(user.gid))
            .map_err(|e| io_err(format!("cannot chown {}", staging.path().display()))(e.into()))?;
    }
    let data = staging.path().join("data");
    initdb(install, &data, run_as)?;
    // Losing the race to another first run is fine: its template is as good as ours.
    if fs::rename(&data, template).is_err() && !template.join("PG_VERSION").is_file() {
        return Err(ClusterError::Io {
            what: format!("cannot keep the initdb template {}", template.display()),
            source: std::io::Error::other("rename failed"),
        });
    }
    Ok(())
}

/// `cp -R -p`, as the server's user so that the copy is its own (PostgreSQL refuses a data
/// directory owned by anyone else).
fn copy_dir(from: &Path, to: &Path, run_as: Option<&User>) -> Result<(), ClusterError> {
    let mut cp = Command::new("cp");
    cp.arg("-R")
        .arg("-p")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null());
    as_user(&mut cp, run_as);
    let out = cp.output().map_err(io_err("cannot run cp"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ClusterError::Io {
            what: format!("cannot copy {} to {}", from.display(), to.display()),
            source: std::io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
        })
    }
}

fn initdb(install: &PgInstall, data: &Path, run_as: Option<&User>) -> Result<(), ClusterError> {
    let mut initdb = Command::new(install.bin_dir.join("initdb"));
    initdb
        .arg("-D")
        .arg(data)
        .args(INITDB_ARGS)
        .current_dir(data.parent().unwrap_or(Path::new("/")))
        .env_remove("PGDATA")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    as_user(&mut initdb, run_as);
    let out = initdb.output().map_err(io_err("cannot run initdb"))?;
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Err(ClusterError::Initdb {
        status: out.status.to_string(),
        output: last_lines(&text, 10),
    })
}

fn as_user(cmd: &mut Command, run_as: Option<&User>) {
    use std::os::unix::process::CommandExt;
    if let Some(user) = run_as {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
}

/// Templates under `base` (for tests and for cleaning up by hand).
pub fn templates(base: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(base) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("zdm-initdb-") && !n.starts_with("zdm-initdb-new-"))
        })
        .collect()
}
