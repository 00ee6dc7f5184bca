//! Fleets: the same desired schema on many databases (database per tenant, shards). The
//! desired schema is loaded into its shadow once; each database is then read, planned and
//! applied on its own by the same per-database code a single `--db` run uses, with its own
//! ledger, advisory lock and gates, so a rerun resumes each where it stopped.

mod commands;
mod runner;

pub use commands::{apply, diff, plan, status};

use anyhow::{bail, Context as _};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::args::SourceArgs;
use super::config::Config;
use crate::connect::ConnectionTarget;

/// One database of the fleet.
pub struct Member {
    /// What zdm prints for it: never its password (see [`label`]).
    pub label: String,
    pub target: ConnectionTarget,
}

pub struct Fleet {
    pub members: Vec<Member>,
    pub parallel: usize,
    pub canary: usize,
    pub max_failures: Option<usize>,
    /// Set once `max_failures` is reached: databases not started stay so, running ones stop
    /// before their next step.
    pub stop: Arc<AtomicBool>,
}

impl Fleet {
    /// The fleet the flags (else zdm.toml `[fleet]`, unless `--db` names one database) ask
    /// for; `None` for a single-database run.
    pub async fn from_args(args: &SourceArgs) -> anyhow::Result<Option<Fleet>> {
        let config = Config::load(&args.config)?;
        let flags = &args.fleet;
        let from_config = flags.fleet.is_none() && flags.fleet_query.is_none();
        let (file, query) = if from_config {
            if args.db.is_some() || args.from.is_some() {
                return Ok(None);
            }
            (config.fleet.file.clone(), config.fleet.query.clone())
        } else {
            (flags.fleet.clone(), flags.fleet_query.clone())
        };
        let specs = match (file, query) {
            (Some(file), _) => read_file(&file)?,
            (None, Some(sql)) => run_query(args.db.as_deref(), &sql).await?,
            (None, None) => return Ok(None),
        };
        let base = ConnectionTarget::parse(args.db.as_deref())?;
        let members = members(&specs, &base)?;
        if members.is_empty() {
            bail!("the fleet is empty: no connection strings in the list");
        }
        let parallel = flags.parallel.or(config.fleet.parallel).unwrap_or(4);
        if parallel == 0 {
            bail!("--parallel must be at least 1");
        }
        Ok(Some(Fleet {
            members,
            parallel,
            canary: flags.canary.or(config.fleet.canary).unwrap_or(0),
            max_failures: flags.max_failures.or(config.fleet.max_failures),
            stop: Arc::new(AtomicBool::new(false)),
        }))
    }
}

/// A connection string and where it came from (`file:line:col`, or the query's row).
pub struct Spec {
    pub text: String,
    pub origin: String,
}

/// Lines of a fleet file: blank lines and `#` comments skipped.
fn read_file(path: &Path) -> anyhow::Result<Vec<Spec>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the fleet file {}", path.display()))?;
    Ok(parse_lines(&text, &path.display().to_string()))
}

pub fn parse_lines(text: &str, file: &str) -> Vec<Spec> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                return None;
            }
            let col = line.len() - line.trim_start().len() + 1;
            Some(Spec {
                text: trimmed.to_string(),
                origin: format!("{file}:{}:{col}", i + 1),
            })
        })
        .collect()
}

/// `--fleet-query`: one text column, one database per row.
async fn run_query(db: Option<&str>, sql: &str) -> anyhow::Result<Vec<Spec>> {
    let target = ConnectionTarget::parse(db)?;
    let client = target.connect().await?;
    let rows = client
        .query(sql, &[])
        .await
        .map_err(|e| anyhow::anyhow!("--fleet-query: {}", crate::apply::server_message(&e)))?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let text: String = row
                .try_get(0)
                .context("--fleet-query must return one text column")?;
            Ok(Spec {
                text,
                origin: format!("--fleet-query row {}", i + 1),
            })
        })
        .collect()
}

/// Each spec as a target: a URL or key=value string, or a bare database name on `base`'s
/// server (what `SELECT datname FROM pg_database ...` returns). Duplicates are refused: two
/// runs on one database would only fight over its lock.
fn members(specs: &[Spec], base: &ConnectionTarget) -> anyhow::Result<Vec<Member>> {
    let mut targets = Vec::new();
    for spec in specs {
        let looks_like_conninfo = spec.text.contains('=') || spec.text.contains("://");
        let target = if looks_like_conninfo {
            ConnectionTarget::parse(Some(&spec.text))
                .with_context(|| format!("{}: not a connection string", spec.origin))?
        } else {
            base.with_dbname(&spec.text)
        };
        targets.push((target, &spec.origin));
    }
    let servers: std::collections::BTreeSet<String> =
        targets.iter().map(|(t, _)| server(t)).collect();
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut members = Vec::new();
    for (target, origin) in targets {
        let label = label(&target, servers.len() > 1);
        if let Some(first) = seen.insert(label.clone(), origin) {
            bail!("{origin}: database {label} is listed twice (first at {first})");
        }
        members.push(Member { label, target });
    }
    Ok(members)
}

/// `host:port` (a socket directory shows as `local`): no user, no password.
fn server(target: &ConnectionTarget) -> String {
    use tokio_postgres::config::Host;
    let config = target.config();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        _ => "local".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// The database's name, with its server when the fleet spans several.
fn label(target: &ConnectionTarget, with_server: bool) -> String {
    let name = target
        .dbname()
        .or(target.user())
        .unwrap_or("postgres")
        .to_string();
    if with_server {
        format!("{}/{name}", server(target))
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_skipped_and_origins_are_file_line_col() {
        let specs = parse_lines("# tenants\n\n  dbname=a\nb # not a comment\n", "f.txt");
        let texts: Vec<&str> = specs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["dbname=a", "b # not a comment"]);
        assert_eq!(specs[0].origin, "f.txt:3:3");
    }

    #[test]
    fn labels_hold_no_password_and_duplicates_are_refused() {
        let base = ConnectionTarget::parse(Some("host=h1 dbname=x")).unwrap();
        let specs = parse_lines(
            "postgres://u:sekret@h1:5432/t1\nhost=h2 password=sekret dbname=t2\nt3\n",
            "f",
        );
        let members = members(&specs, &base).unwrap();
        let labels: Vec<&str> = members.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["h1:5432/t1", "h2:5432/t2", "h1:5432/t3"]);
        let twice = parse_lines("dbname=a host=h\n\ndbname=a host=h\n", "f");
        let error = format!("{:#}", members_error(&twice, &base));
        assert!(
            error.contains("f:3:1") && error.contains("f:1:1"),
            "{error}"
        );
    }

    fn members_error(specs: &[Spec], base: &ConnectionTarget) -> anyhow::Error {
        match members(specs, base) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }
}
