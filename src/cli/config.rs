//! `zdm.toml`: defaults for flags. Every key is also a flag; a flag wins. An unknown key is an
//! error naming it and its line (serde's `deny_unknown_fields` through the toml parser).

use anyhow::Context as _;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Schema paths, relative to the config file.
    pub schema: Option<Vec<PathBuf>>,
    pub dev_url: Option<String>,
    /// The schemas zdm manages (default: every user schema).
    pub schemas: Option<Vec<String>>,
    /// Objects zdm leaves alone, `[kind:]schema.name` globs (see `zdm::scope`).
    pub ignore: Option<Vec<String>>,
    /// Kept at the top level for configurations written before `[apply]` existed.
    pub rollback_window: Option<String>,
    #[serde(default)]
    pub apply: ApplyConfig,
    #[serde(default)]
    pub fleet: FleetConfig,
}

/// `[fleet]`: the databases a command runs on when no `--db` is given (see `--fleet`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// A file of connection strings, relative to the config file.
    pub file: Option<PathBuf>,
    /// A query run on `--db` (or DATABASE_URL) returning connection strings.
    pub query: Option<String>,
    pub parallel: Option<usize>,
    pub canary: Option<usize>,
    pub max_failures: Option<usize>,
}

/// `[apply]`: the executor's settings (see `zdm apply --help` for each).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyConfig {
    /// How long after expand finished contract may run, e.g. "24h".
    pub rollback_window: Option<String>,
    /// Milliseconds.
    pub lock_timeout: Option<u64>,
    pub lock_retries: Option<u32>,
    /// Seconds.
    pub statement_timeout: Option<u64>,
    /// Milliseconds.
    pub batch_target_ms: Option<u64>,
    /// Milliseconds.
    pub backfill_pause: Option<u64>,
    /// e.g. "2s" or "64MB" (see `--max-replica-lag`).
    pub max_replica_lag: Option<String>,
    /// Hazard kinds apply may run without `--allow-hazards` (e.g. `["may-fail"]`).
    pub allow_hazards: Option<Vec<String>>,
}

impl Config {
    /// The file when it exists; defaults when it doesn't.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
        let mut config: Config = toml::from_str(text)
            .with_context(|| format!("{}: invalid configuration", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        if let Some(file) = &mut config.fleet.file {
            *file = base.join(&*file);
        }
        if let Some(paths) = &mut config.schema {
            for p in paths.iter_mut() {
                *p = base.join(&*p);
            }
        }
        Ok(config)
    }

    /// The rollback window, `[apply]` first.
    pub fn rollback_window(&self) -> Option<&str> {
        self.apply
            .rollback_window
            .as_deref()
            .or(self.rollback_window.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_zdm_init_writes_is_a_valid_configuration() {
        let config = Config::parse(super::super::init::CONFIG_TEMPLATE, Path::new("zdm.toml"))
            .expect("template parses");
        assert_eq!(config.schema, Some(vec![PathBuf::from("schema")]));
        assert_eq!(config.rollback_window(), Some("24h"));
        assert_eq!(config.apply.lock_timeout, Some(100));
    }

    #[test]
    fn the_scope_keys_parse() {
        let text = "schemas = [\"app\"]\nignore = [\"public.hangfire_*\"]\n";
        let config = Config::parse(text, Path::new("zdm.toml")).expect("parses");
        assert_eq!(config.schemas, Some(vec!["app".to_string()]));
        assert_eq!(config.ignore, Some(vec!["public.hangfire_*".to_string()]));
    }

    #[test]
    fn an_unknown_key_names_itself_and_its_line() {
        let text = "schema = [\"schema\"]\n[apply]\nlock_timout = 5\n";
        let error = format!(
            "{:#}",
            Config::parse(text, Path::new("zdm.toml")).unwrap_err()
        );
        assert!(error.contains("zdm.toml: invalid configuration"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("lock_timout"), "{error}");
    }
}
