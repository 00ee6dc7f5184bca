//! `zdm.toml`: defaults for flags. Every key is also a flag; a flag wins.

use anyhow::Context as _;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Schema paths, relative to the config file.
    pub schema: Option<Vec<PathBuf>>,
    pub dev_url: Option<String>,
    /// How long after expand finished contract may run, e.g. "24h".
    pub rollback_window: Option<String>,
}

impl Config {
    /// The file when it exists; defaults when it doesn't.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut config: Config = toml::from_str(&text)
                    .with_context(|| format!("{}: invalid configuration", path.display()))?;
                let base = path.parent().unwrap_or(Path::new(""));
                if let Some(paths) = &mut config.schema {
                    for p in paths.iter_mut() {
                        *p = base.join(&*p);
                    }
                }
                Ok(config)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}
