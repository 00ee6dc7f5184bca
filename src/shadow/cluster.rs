//! An embedded, throwaway PostgreSQL cluster: `initdb` into a private temp dir, a postmaster
//! listening on a unix socket only, `fsync=off`. When we run as root the server runs as
//! `nobody` (PostgreSQL refuses root). Cleanup happens in `Drop` and, if this process dies
//! without dropping (SIGKILL, Ctrl-C, statics), in a watchdog child that notices the death
//! through a closed pipe.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{chown, Pid, User};
use thiserror::Error;

use crate::connect::ConnectionTarget;

/// The superuser created by `initdb`.
pub const SUPERUSER: &str = "zdm";
/// The port in the socket file name; the socket dir is private, so it never collides.
pub const PORT: u16 = 5432;
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const ENV_BIN: &str = "ZDM_PG_BIN";

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// The major version to prefer (usually the live server's); the newest otherwise.
    pub preferred_major: Option<u32>,
    /// Libraries for `shared_preload_libraries` (e.g. `pg_stat_statements` for tests of
    /// contract's check), each only when the chosen installation has it: see
    /// [`EmbeddedCluster::preloaded`].
    pub preload_libraries: Vec<String>,
}

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries (initdb and postgres) found; looked in {looked}. \
         Install the PostgreSQL server package or set {ENV_BIN} to a directory holding initdb \
         and postgres"
    )]
    NoBinaries { looked: String },
    #[error("{ENV_BIN}={dir}: {reason}")]
    BadPgBin { dir: String, reason: String },
    #[error(
        "running as root, but the unprivileged user `nobody` to run PostgreSQL as does not exist"
    )]
    NoUnprivilegedUser,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("initdb failed ({status}): {output}")]
    Initdb { status: String, output: String },
    #[error("PostgreSQL server exited during startup ({status}); server log: {log_tail}")]
    StartFailed { status: String, log_tail: String },
    #[error("PostgreSQL server not ready after {secs} s; server log: {log_tail}")]
    Timeout { secs: u64, log_tail: String },
}

pub(super) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// A PostgreSQL installation: a bin dir with `initdb` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgInstall {
    pub bin_dir: PathBuf,
    pub major: u32,
}

impl PgInstall {
    /// Whether the installation ships the server library `name` (Debian keeps libraries in
    /// `lib/` beside `bin/`, a plain `make install` in `lib/postgresql/`).
    pub fn has_library(&self, name: &str) -> bool {
        let Some(prefix) = self.bin_dir.parent() else {
            return false;
        };
        let file = format!("{name}.so");
        [prefix.join("lib"), prefix.join("lib/postgresql")]
            .iter()
            .any(|dir| dir.join(&file).is_file())
    }
}

/// All installations found, in discovery order (`ZDM_PG_BIN` alone when set, else `PATH`, then
/// `/usr/lib/postgresql/*/bin`), without duplicates.
pub fn discover_installs() -> Result<Vec<PgInstall>, ClusterError> {
    if let Some(dir) = std::env::var_os(ENV_BIN).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        let shown = dir.display().to_string();
        if !has_binaries(&dir) {
            return Err(ClusterError::BadPgBin {
                dir: shown,
                reason: "does not contain both initdb and postgres".to_string(),
            });
        }
        let major = major_of(&dir).ok_or_else(|| ClusterError::BadPgBin {
            dir: shown,
            reason: "cannot tell the PostgreSQL version (`postgres --version` failed)".to_string(),
        })?;
        return Ok(vec![PgInstall {
            bin_dir: dir,
            major,
        }]);
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        let mut versioned: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .collect();
        versioned.sort();
        dirs.extend(versioned);
    }
    let mut found: Vec<PgInstall> = Vec::new();
    for dir in dirs {
        if !has_binaries(&dir) {
            continue;
        }
        // Resolve symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb).
        let bin_dir = fs::canonicalize(dir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|d| has_binaries(d))
            .unwrap_or(dir);
        if found.iter().any(|f| f.bin_dir == bin_dir) {
            continue;
        }
        if let Some(major) = major_of(&bin_dir) {
            found.push(PgInstall { bin_dir, major });
        }
    }
    Ok(found)
}

/// Pick an installation: the preferred major when present, else the newest (with a warning
/// when a preference could not be met).
pub fn choose_install(
    preferred_major: Option<u32>,
) -> Result<(PgInstall, Vec<String>), ClusterError> {
    let from_env = std::env::var_os(ENV_BIN).is_some_and(|d| !d.is_empty());
    let installs = discover_installs()?;
    let mut warnings = Vec::new();
    let chosen = match preferred_major.and_then(|m| installs.iter().find(|i| i.major == m)) {
        Some(i) => i.clone(),
        None => {
            let newest = installs
                .iter()
                .max_by_key(|i| i.major)
                .cloned()
                .ok_or_else(|| ClusterError::NoBinaries {
                    looked: format!(
                        "${ENV_BIN} (unset), the PATH directories and /usr/lib/postgresql/*/bin"
                    ),
                })?;
            if let Some(want) = preferred_major {
                let origin = if from_env {
                    format!(" (from {ENV_BIN})")
                } else {
                    String::new()
                };
                warnings.push(format!(
                    "the shadow database runs PostgreSQL {}{origin} but the target server is \
                     PostgreSQL {want}; install PostgreSQL {want} or point {ENV_BIN} at its bin \
                     directory (or use --dev-url) to compare like with like",
                    newest.major
                ));
            }
            newest
        }
    };
    Ok((chosen, warnings))
}

fn has_binaries(dir: &Path) -> bool {
    let exe = |name: &str| {
        fs::metadata(dir.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    exe("initdb") && exe("postgres")
}

/// The major version from `postgres --version` ("postgres (PostgreSQL) 15.18 (Debian ...)"),
/// falling back to the path (`/usr/lib/postgresql/15/bin`).
fn major_of(bin_dir: &Path) -> Option<u32> {
    let from_output = Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| parse_version_output(&String::from_utf8_lossy(&o.stdout)));
    from_output.or_else(|| {
        bin_dir
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse().ok())
    })
}

fn parse_version_output(text: &str) -> Option<u32> {
    let after = text.split("(PostgreSQL)").nth(1)?.trim_start();
    let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The watchdog: a `sh` child in its own process group reading commands from a pipe whose
/// write end only we hold. EOF (we died) means: stop the postmaster, remove the directory.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT HUP
dir=$1
pid=
alive() {
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
    [ "$state" = Z ] && return 1
  fi
  return 0
}
while read -r cmd arg; do
  case "$cmd" in
    pid) pid=$arg ;;
    forget) pid= ;;
    done) exit 0 ;;
  esac
done
if alive; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while alive && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  alive && kill -KILL "$pid" 2>/dev/null
  i=0
  while alive && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$dir"
"#;

struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    fn spawn(dir: &Path) -> Result<Self, ClusterError> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("zdm-watchdog")
            .arg(dir)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(io_err("cannot start the cleanup watchdog (/bin/sh)"))?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    fn send(&mut self, line: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(format!("{line}\n").as_bytes());
            let _ = stdin.flush();
        }
    }

    /// Tell the watchdog that we cleaned up ourselves, and reap it.
    fn dismiss(mut self) {
        self.send("done");
        self.stdin = None;
        let _ = self.child.wait();
    }
}

/// A running throwaway cluster. Dropping it stops the server and removes its directory.
pub struct EmbeddedCluster {
    /// Things the caller may want to tell the user (e.g. a major version mismatch).
    pub warnings: Vec<String>,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    install: PgInstall,
    preloaded: Vec<String>,
    postmaster: Option<Child>,
    watchdog: Option<Watchdog>,
}

impl std::fmt::Debug for EmbeddedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCluster")
            .field("root", &self.root)
            .field("install", &self.install)
            .field("postmaster_pid", &self.postmaster_pid())
            .finish()
    }
}

impl EmbeddedCluster {
    /// initdb + start; blocks until the server accepts connections (about a second).
    pub fn start(options: ClusterOptions) -> Result<EmbeddedCluster, ClusterError> {
        let (install, warnings) = choose_install(options.preferred_major)?;
        let run_as = if nix::unistd::geteuid().is_root() {
            Some(
                User::from_name("nobody")
                    .ok()
                    .flatten()
                    .ok_or(ClusterError::NoUnprivilegedUser)?,
            )
        } else {
            None
        };

        let base = super::base_dir::temp_base(run_as.is_some());
        let dir = tempfile::Builder::new()
            .prefix("zdm-pg-")
            .tempdir_in(&base)
            .map_err(io_err(format!(
                "cannot create a temp dir in {}",
                base.display()
            )))?;
        let root = dir.path().to_path_buf();
        // From here on, if we die the watchdog removes the directory.
        let watchdog = Watchdog::spawn(&root)?;
        let mut cluster = EmbeddedCluster {
            warnings,
            dir: Some(dir),
            root: root.clone(),
            preloaded: options
                .preload_libraries
                .iter()
                .filter(|l| install.has_library(l))
                .cloned()
                .collect(),
            install,
            postmaster: None,
            watchdog: Some(watchdog),
        };

        if let Some(user) = &run_as {
            chown(&root, Some(user.uid), Some(user.gid)).map_err(|e| {
                io_err(format!("cannot chown {} to nobody", root.display()))(e.into())
            })?;
        }
        let as_user = |cmd: &mut Command| {
            if let Some(user) = &run_as {
                cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            }
        };

        let data = cluster.data_dir();
        let templates = super::base_dir::template_base(run_as.is_some());
        super::initdb::make_data_dir(&cluster.install, &data, &templates, run_as.as_ref())?;

        let log_path = cluster.log_path();
        let log = File::create(&log_path)
            .map_err(io_err(format!("cannot create {}", log_path.display())))?;
        let log2 = log.try_clone().map_err(io_err("cannot dup the log file"))?;
        let mut postgres = Command::new(cluster.install.bin_dir.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&root)
            .args(["-p", &PORT.to_string()])
            .args(["-c", "listen_addresses="])
            .args(["-c", "fsync=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "synchronous_commit=off"])
            // Autovacuum workers connecting to a template database make CREATE DATABASE fail.
            .args(["-c", "autovacuum=off"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "shared_buffers=32MB"])
            .args([
                "-c",
                &format!("shared_preload_libraries={}", cluster.preloaded.join(",")),
            ])
            .current_dir(&root)
            .env_remove("PGDATA")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: a Ctrl-C in the terminal must not reach it.
            .process_group(0);
        as_user(&mut postgres);
        let child = postgres.spawn().map_err(io_err("cannot start postgres"))?;
        let pid = child.id();
        cluster.postmaster = Some(child);
        if let Some(w) = cluster.watchdog.as_mut() {
            w.send(&format!("pid {pid}"));
        }
        cluster.wait_ready()?;
        Ok(cluster)
    }

    /// pg_ctl's method: the postmaster writes "ready" into line 8 of postmaster.pid once it
    /// accepts connections.
    fn wait_ready(&mut self) -> Result<(), ClusterError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let pid_file = self.data_dir().join("postmaster.pid");
        let socket = self.root.join(format!(".s.PGSQL.{PORT}"));
        loop {
            if let Some(child) = self.postmaster.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.postmaster = None;
                    return Err(ClusterError::StartFailed {
                        status: status.to_string(),
                        log_tail: self.log_tail(15),
                    });
                }
            }
            if let Ok(text) = fs::read_to_string(&pid_file) {
                let ready = text.lines().nth(7).is_some_and(|l| l.trim() == "ready");
                if ready && socket.exists() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Timeout {
                    secs: READY_TIMEOUT.as_secs(),
                    log_tail: self.log_tail(15),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A connection target for `dbname` on this cluster (unix socket, user `zdm`, no TLS).
    pub fn target(&self, dbname: &str) -> ConnectionTarget {
        ConnectionTarget::unix_socket(&self.root, PORT, SUPERUSER, dbname)
    }

    /// The libraries of [`ClusterOptions::preload_libraries`] the server preloaded (those the
    /// installation has).
    pub fn preloaded(&self) -> &[String] {
        &self.preloaded
    }

    pub fn major_version(&self) -> u32 {
        self.install.major
    }

    /// The directory holding the server's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.root
    }

    pub fn port(&self) -> u16 {
        PORT
    }

    /// The private temp directory (data dir, socket, log); removed on cleanup.
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn bin_dir(&self) -> &Path {
        &self.install.bin_dir
    }

    pub fn postmaster_pid(&self) -> Option<u32> {
        self.postmaster.as_ref().map(|c| c.id())
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// The last `lines` lines of the server log, joined with " | " (one line).
    pub fn log_tail(&self, lines: usize) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(self.log_path()) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = f.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
            let _ = f.read_to_string(&mut text);
        }
        let tail = last_lines(&text, lines);
        if tail.is_empty() {
            "(empty)".to_string()
        } else {
            tail
        }
    }

    /// Stop the server (immediate shutdown) and remove the directory. Idempotent.
    fn shutdown(&mut self) {
        if let Some(mut child) = self.postmaster.take() {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = kill(pid, Signal::SIGQUIT);
            if !wait_timeout(&mut child, Duration::from_secs(5)) {
                let _ = kill(pid, Signal::SIGKILL);
                let _ = child.wait();
            }
            // Reaped: the pid may be reused now, so the watchdog must not signal it.
            if let Some(w) = self.watchdog.as_mut() {
                w.send("forget");
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
        if let Some(w) = self.watchdog.take() {
            w.dismiss();
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() > deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

pub(super) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_output() {
        assert_eq!(
            parse_version_output("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
            Some(15)
        );
        assert_eq!(
            parse_version_output("postgres (PostgreSQL) 17devel"),
            Some(17)
        );
        assert_eq!(parse_version_output("postgres (PostgreSQL) 9.6.2"), Some(9));
        assert_eq!(parse_version_output("something else"), None);
    }

    #[test]
    fn last_lines_joins_on_one_line() {
        assert_eq!(last_lines("a\n\nb\nc\n", 2), "b | c");
        assert_eq!(last_lines("", 2), "");
    }
}
