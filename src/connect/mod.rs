//! Connections with libpq conventions: URL or key=value specs, `DATABASE_URL` and the `PG*`
//! environment variables, `sslmode` from `disable` up to `verify-full` (rustls).
//!
//! Passwords never appear in [`ConnectionTarget`]'s `Display`/`Debug` output or in any
//! [`ConnectError`] message.

mod session;
mod spec;
mod tls;

use spec::{extract_ssl, kv};

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    /// Treated like `prefer` (tokio-postgres cannot retry with TLS after a plain attempt).
    Allow,
    #[default]
    Prefer,
    /// TLS without certificate verification (like libpq without a root certificate).
    Require,
    /// TLS, the certificate chain must lead to a trusted root; the host name is not checked.
    VerifyCa,
    /// TLS, chain and host name checked.
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = ConnectError;

    fn from_str(s: &str) -> Result<Self, ConnectError> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(ConnectError::InvalidSpec(format!(
                    "invalid sslmode {other:?} (expected disable, allow, prefer, require, \
                     verify-ca or verify-full)"
                )))
            }
        })
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a connection could not be made. Every message is one line and never holds a password.
#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("invalid connection string: {0}")]
    InvalidSpec(String),
    #[error("cannot reach PostgreSQL server at {place}: {cause}")]
    Unreachable { place: String, cause: String },
    #[error("authentication failed ({target}): {message}")]
    AuthFailed { target: String, message: String },
    #[error("database {dbname:?} does not exist ({target})")]
    DatabaseMissing { dbname: String, target: String },
    #[error("TLS error ({target}): {cause}")]
    Tls { target: String, cause: String },
    #[error("cannot connect ({target}): {cause}")]
    Other { target: String, cause: String },
}

/// Where and how to connect. Cheap to clone.
#[derive(Clone)]
pub struct ConnectionTarget {
    config: Config,
    ssl_mode: SslMode,
    ssl_root_cert: Option<PathBuf>,
}

impl fmt::Debug for ConnectionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Config`'s Debug redacts the password.
        f.debug_struct("ConnectionTarget")
            .field("config", &self.config)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .finish()
    }
}

impl ConnectionTarget {
    /// Parse a URL (`postgres://user:pw@host:port/db?sslmode=require`) or a libpq key=value
    /// string. `None` means `DATABASE_URL` (or nothing). Fields still unset are then taken from
    /// `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`,
    /// `PGCONNECT_TIMEOUT`; the user defaults to the OS user, the host to the local socket dir.
    pub fn parse(spec: Option<&str>) -> Result<Self, ConnectError> {
        Self::parse_with_env(spec, &|key| std::env::var(key).ok())
    }

    /// [`ConnectionTarget::parse`] with an explicit environment lookup (for tests).
    pub fn parse_with_env(
        spec: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConnectError> {
        let env = |key: &str| env(key).filter(|v| !v.is_empty());
        let spec = match spec {
            Some(s) => s.to_string(),
            None => env("DATABASE_URL").unwrap_or_default(),
        };
        let (rest, mut ssl_mode, mut ssl_root_cert) = extract_ssl(&spec)?;
        let mut config = if rest.trim().is_empty() {
            Config::new()
        } else {
            Config::from_str(&rest).map_err(|e| ConnectError::InvalidSpec(error_chain(&e)))?
        };

        if config.get_ports().is_empty() {
            if let Some(port) = env("PGPORT") {
                for p in port.split(',') {
                    let p = p.trim().parse::<u16>().map_err(|_| {
                        ConnectError::InvalidSpec(format!("invalid PGPORT {port:?}"))
                    })?;
                    config.port(p);
                }
            }
        }
        if config.get_hosts().is_empty() {
            if let Some(hosts) = env("PGHOST") {
                for h in hosts.split(',') {
                    add_host(&mut config, h);
                }
            } else if config.get_hostaddrs().is_empty() {
                let port = config.get_ports().first().copied().unwrap_or(5432);
                add_host(&mut config, &default_socket_dir(port));
            }
        }
        if config.get_user().is_none() {
            match env("PGUSER").or_else(os_user_name) {
                Some(user) => {
                    config.user(user);
                }
                None => {
                    return Err(ConnectError::InvalidSpec(
                        "no user given and the OS user name is unknown".to_string(),
                    ))
                }
            }
        }
        if config.get_password().is_none() {
            if let Some(pw) = env("PGPASSWORD") {
                config.password(pw);
            }
        }
        if config.get_dbname().is_none() {
            if let Some(db) = env("PGDATABASE") {
                config.dbname(db);
            }
        }
        if config.get_connect_timeout().is_none() {
            if let Some(t) = env("PGCONNECT_TIMEOUT").and_then(|t| t.trim().parse::<u64>().ok()) {
                if t > 0 {
                    config.connect_timeout(Duration::from_secs(t));
                }
            }
        }
        if ssl_mode.is_none() {
            if let Some(mode) = env("PGSSLMODE") {
                ssl_mode = Some(mode.parse()?);
            }
        }
        if ssl_root_cert.is_none() {
            ssl_root_cert = env("PGSSLROOTCERT").map(PathBuf::from);
        }
        Ok(Self::from_parts(
            config,
            ssl_mode.unwrap_or_default(),
            ssl_root_cert,
        ))
    }

    fn from_parts(mut config: Config, ssl_mode: SslMode, ssl_root_cert: Option<PathBuf>) -> Self {
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        ConnectionTarget {
            config,
            ssl_mode,
            ssl_root_cert,
        }
    }

    /// A target for a unix socket directory (no TLS).
    pub fn unix_socket(socket_dir: &Path, port: u16, user: &str, dbname: &str) -> Self {
        let mut config = Config::new();
        config
            .host_path(socket_dir)
            .port(port)
            .user(user)
            .dbname(dbname);
        Self::from_parts(config, SslMode::Disable, None)
    }

    /// The same server and credentials, another database.
    pub fn with_dbname(&self, db: &str) -> Self {
        let mut t = self.clone();
        t.config.dbname(db);
        t
    }

    /// The database named explicitly (the server defaults to the user name otherwise).
    pub fn dbname(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The underlying tokio-postgres configuration (holds the password).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A libpq key=value string for this target, **including the password**: for handing to
    /// a child process, never for display.
    pub fn to_conninfo(&self) -> String {
        let mut parts = Vec::new();
        let hosts = self.hosts_text();
        if !hosts.is_empty() {
            parts.push(kv("host", &hosts));
        }
        let addrs = self.config.get_hostaddrs();
        if !addrs.is_empty() {
            let a: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            parts.push(kv("hostaddr", &a.join(",")));
        }
        let ports = self.ports_text();
        if !ports.is_empty() {
            parts.push(kv("port", &ports));
        }
        if let Some(u) = self.config.get_user() {
            parts.push(kv("user", u));
        }
        if let Some(pw) = self.config.get_password() {
            parts.push(kv("password", &String::from_utf8_lossy(pw)));
        }
        if let Some(db) = self.config.get_dbname() {
            parts.push(kv("dbname", db));
        }
        if let Some(o) = self.config.get_options() {
            parts.push(kv("options", o));
        }
        if let Some(a) = self.config.get_application_name() {
            parts.push(kv("application_name", a));
        }
        if let Some(t) = self.config.get_connect_timeout() {
            parts.push(kv("connect_timeout", &t.as_secs().to_string()));
        }
        parts.push(kv("sslmode", self.ssl_mode.as_str()));
        if let Some(c) = &self.ssl_root_cert {
            parts.push(kv("sslrootcert", &c.to_string_lossy()));
        }
        parts.join(" ")
    }

    fn hosts_text(&self) -> String {
        self.config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.to_string_lossy().into_owned(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn ports_text(&self) -> String {
        self.config
            .get_ports()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn port(&self) -> u16 {
        self.config.get_ports().first().copied().unwrap_or(5432)
    }

    /// Where the connection goes, for "cannot reach" messages: the socket file or host:port.
    pub(super) fn place(&self) -> String {
        let mut places: Vec<String> = Vec::new();
        let hosts = self.config.get_hosts();
        let ports = self.config.get_ports();
        let port_at = |i: usize| match ports.len() {
            0 => 5432,
            1 => ports[0],
            _ => ports.get(i).copied().unwrap_or(5432),
        };
        for (i, h) in hosts.iter().enumerate() {
            places.push(match h {
                Host::Unix(dir) => format!(
                    "socket {}",
                    dir.join(format!(".s.PGSQL.{}", port_at(i))).display()
                ),
                Host::Tcp(name) => format!("host {name} port {}", port_at(i)),
            });
        }
        for (i, a) in self.config.get_hostaddrs().iter().enumerate() {
            if i >= hosts.len() {
                places.push(format!("address {a} port {}", port_at(i)));
            }
        }
        if places.is_empty() {
            places.push(format!("port {}", self.port()));
        }
        places.join(", ")
    }

    pub(super) fn all_unix(&self) -> bool {
        let hosts = self.config.get_hosts();
        self.config.get_hostaddrs().is_empty()
            && !hosts.is_empty()
            && hosts.iter().all(|h| matches!(h, Host::Unix(_)))
    }
}

/// Shows host, port, database and user; never the password.
impl fmt::Display for ConnectionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let hosts = self.hosts_text();
        if !hosts.is_empty() {
            parts.push(format!("host={hosts}"));
        }
        let addrs = self.config.get_hostaddrs();
        if !addrs.is_empty() {
            let a: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            parts.push(format!("hostaddr={}", a.join(",")));
        }
        parts.push(format!("port={}", {
            let p = self.ports_text();
            if p.is_empty() {
                "5432".to_string()
            } else {
                p
            }
        }));
        if let Some(db) = self.config.get_dbname() {
            parts.push(format!("dbname={db}"));
        }
        if let Some(u) = self.config.get_user() {
            parts.push(format!("user={u}"));
        }
        if self.ssl_mode != SslMode::Prefer {
            parts.push(format!("sslmode={}", self.ssl_mode));
        }
        f.write_str(&parts.join(" "))
    }
}

/// `SHOW server_version_num`, e.g. `150004`.
pub async fn server_version_num(client: &Client) -> Result<u32, tokio_postgres::Error> {
    let row = client.query_one("SHOW server_version_num", &[]).await?;
    let text: String = row.get(0);
    Ok(text.trim().parse().unwrap_or(0))
}

fn add_host(config: &mut Config, host: &str) {
    let host = host.trim();
    if host.starts_with('/') {
        config.host_path(host);
    } else {
        config.host(host);
    }
}

/// libpq's compiled-in socket directory differs between builds (Debian: /var/run/postgresql,
/// upstream: /tmp): take the one where the server's socket exists.
fn default_socket_dir(port: u16) -> String {
    let candidates = ["/var/run/postgresql", "/tmp"];
    for dir in candidates {
        if Path::new(dir).join(format!(".s.PGSQL.{port}")).exists() {
            return dir.to_string();
        }
    }
    if Path::new(candidates[0]).is_dir() {
        candidates[0].to_string()
    } else {
        candidates[1].to_string()
    }
}

fn os_user_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
}

/// An error with its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.ends_with(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(spec: Option<&str>, env: &[(&str, &str)]) -> Result<ConnectionTarget, ConnectError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ConnectionTarget::parse_with_env(spec, &move |k| env.get(k).cloned())
    }

    #[test]
    fn url_with_verify_full_and_password() {
        let t = parse(
            Some("postgres://alice:s3cr%3Ft@db.example.com:6543/app?sslmode=verify-full&application_name=x"),
            &[],
        )
        .unwrap();
        assert_eq!(t.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(t.dbname(), Some("app"));
        assert_eq!(t.user(), Some("alice"));
        assert_eq!(t.config().get_password(), Some(&b"s3cr?t"[..]));
        assert_eq!(t.config().get_ports(), &[6543]);
        let shown = t.to_string();
        assert_eq!(
            shown,
            "host=db.example.com port=6543 dbname=app user=alice sslmode=verify-full"
        );
        assert!(!format!("{t:?}").contains("s3cr"));
        assert!(t.to_conninfo().contains("password=s3cr?t"));
    }

    #[test]
    fn key_value_with_quotes_and_ssl() {
        let t = parse(
            Some("host=/tmp port = 5433 dbname='my db' sslmode=verify-ca sslrootcert=/x/ca.pem password='a b\\'c'"),
            &[],
        )
        .unwrap();
        assert_eq!(t.ssl_mode(), SslMode::VerifyCa);
        assert_eq!(t.ssl_root_cert.as_deref(), Some(Path::new("/x/ca.pem")));
        assert_eq!(t.dbname(), Some("my db"));
        assert_eq!(t.config().get_password(), Some(&b"a b'c"[..]));
        assert!(matches!(t.config().get_hosts()[0], Host::Unix(_)));
        // round trip through to_conninfo
        let again = parse(Some(&t.to_conninfo()), &[]).unwrap();
        assert_eq!(again.to_string(), t.to_string());
        assert_eq!(again.config().get_password(), Some(&b"a b'c"[..]));
    }

    #[test]
    fn env_fills_unset_fields_only() {
        let env = [
            ("DATABASE_URL", "postgres://bob@h1/db1"),
            ("PGHOST", "h2"),
            ("PGPORT", "7777"),
            ("PGUSER", "carol"),
            ("PGPASSWORD", "pw"),
            ("PGDATABASE", "db2"),
            ("PGSSLMODE", "require"),
        ];
        let t = parse(None, &env).unwrap();
        assert_eq!(
            t.to_string(),
            "host=h1 port=5432 dbname=db1 user=bob sslmode=require"
        );
        assert_eq!(t.config().get_password(), Some(&b"pw"[..]));
        let t = parse(Some("dbname=x"), &env).unwrap();
        assert_eq!(
            t.to_string(),
            "host=h2 port=7777 dbname=x user=carol sslmode=require"
        );
        let t = parse(Some(""), &[]).unwrap();
        assert!(t.user().is_some(), "defaults to the OS user");
        assert_eq!(t.ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn invalid_specs() {
        assert!(matches!(
            parse(Some("host=x bogus=1"), &[]),
            Err(ConnectError::InvalidSpec(_))
        ));
        assert!(matches!(
            parse(Some("sslmode=sometimes"), &[]),
            Err(ConnectError::InvalidSpec(_))
        ));
        assert!(matches!(
            parse(Some("postgres://u:pw@h/db?sslmode=bad"), &[]),
            Err(ConnectError::InvalidSpec(_))
        ));
        let e = parse(Some("host='unterminated password=hunter2"), &[]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn with_dbname_keeps_the_rest() {
        let t = parse(Some("host=h user=u dbname=a sslmode=disable"), &[]).unwrap();
        let t2 = t.with_dbname("b");
        assert_eq!(
            t2.to_string(),
            "host=h port=5432 dbname=b user=u sslmode=disable"
        );
    }
}
