//! The desired schema, cached: loading schema files into a shadow database is most of a
//! plan's time, and between two commands the files rarely change. What is kept (see
//! `crate::cache` for the store):
//!
//! - the desired model and its notes, keyed by zdm's build, the shadow server (major version
//!   and binaries, or the dev server and its version) and every file's path and text. The
//!   scope (`--only-schemas`, `--ignore`) is applied after the load, to the model read back,
//!   so it is no part of the key; nothing else in `zdm.toml` reaches the load.
//! - the shadow's answers to "does PostgreSQL read these two texts the same?" (see
//!   `equivalent`), keyed by the desired key and the questions, i.e. both sides.
//! - rehearsals, keyed by the shadow server, the live model, the desired model and the plan.
//!
//! Files declaring reference rows (`-- zdm:data`) are never served from the cache: their rows
//! are compared from the shadow database itself.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::equivalent::{self, Candidate};
use super::{load_desired, parse_files, Side, WorkspaceError};
use crate::cache::{digest, Store, BUILD};
use crate::model::{Model, QualifiedName};
use crate::parse::{AnnotationKind, DesiredSchema};
use crate::plan::Plan;
use crate::rehearse::Rehearsal;
use crate::shadow::{ShadowDatabase, ShadowSource};

const DESIRED: &str = "desired";
const EQUIVALENT: &str = "equivalent";
const REHEARSAL: &str = "rehearsal";

/// The store, and the identity of the shadow server every entry depends on.
#[derive(Debug, Clone)]
pub struct Cache {
    store: Store,
    server: String,
}

impl Cache {
    /// The cache for shadows on `shadow`; None when disabled, when there is nowhere to keep
    /// it, or when the shadow server cannot be identified (then the load reports why).
    pub async fn open(shadow: &ShadowSource, disabled: bool) -> Option<Cache> {
        if disabled {
            return None;
        }
        let store = Store::from_env()?;
        let server = server_identity(shadow).await?;
        Some(Cache { store, server })
    }

    /// A cache in `store` for a server identified as `server` (tests, benchmarks).
    pub fn with_store(store: Store, server: String) -> Cache {
        Cache { store, server }
    }

    fn desired_key(&self, desired: &DesiredSchema) -> String {
        let mut parts: Vec<&[u8]> = vec![BUILD.as_bytes(), self.server.as_bytes()];
        let paths: Vec<String> = desired
            .sources
            .files()
            .iter()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        for (file, path) in desired.sources.files().iter().zip(&paths) {
            parts.push(path.as_bytes());
            parts.push(file.text.as_bytes());
        }
        digest(parts)
    }

    fn rehearsal_key(&self, live: &Model, desired: &Model, plan: &Plan) -> Option<String> {
        // Statistics are not serialised: the plan, in the key, shows what they decided.
        let live_version = live.server_version.to_string();
        let live = serde_json::to_vec(live).ok()?;
        let desired = serde_json::to_vec(desired).ok()?;
        let plan = serde_json::to_vec(plan).ok()?;
        Some(digest([
            BUILD.as_bytes(),
            self.server.as_bytes(),
            live_version.as_bytes(),
            &live,
            &desired,
            &plan,
        ]))
    }

    /// The rehearsal of `plan` from `live` to `desired`, when one succeeded before.
    pub fn rehearsal(&self, live: &Model, desired: &Model, plan: &Plan) -> Option<Rehearsal> {
        let key = self.rehearsal_key(live, desired, plan)?;
        self.store.get(REHEARSAL, &key)
    }

    pub fn put_rehearsal(&self, live: &Model, desired: &Model, plan: &Plan, done: &Rehearsal) {
        if let Some(key) = self.rehearsal_key(live, desired, plan) {
            self.store.put(REHEARSAL, &key, done);
        }
    }
}

/// The embedded cluster's binaries (major and directory: a rebuilt server elsewhere is
/// another server), or the dev server's address and exact version.
async fn server_identity(shadow: &ShadowSource) -> Option<String> {
    match shadow {
        ShadowSource::Embedded { preferred_major } => {
            let preferred = *preferred_major;
            let (install, _) = tokio::task::spawn_blocking(move || {
                crate::shadow::cluster::choose_install(preferred)
            })
            .await
            .ok()?
            .ok()?;
            Some(format!(
                "embedded {} {}",
                install.major,
                install.bin_dir.display()
            ))
        }
        ShadowSource::DevServer(target) => {
            let admin = target.connect().await.ok()?;
            let version = crate::connect::server_version_num(&admin).await.ok()?;
            Some(format!("dev {} {version}", target.to_conninfo()))
        }
    }
}

/// One side read from files: the model, and the shadow database when one was loaded.
pub struct Opened {
    pub side: Side,
    /// None when the model came from the cache.
    pub database: Option<ShadowDatabase>,
    /// The cache key of the files (None without a cache).
    pub key: Option<String>,
}

#[derive(Serialize)]
struct DesiredRef<'a> {
    model: &'a Model,
    notes: &'a [String],
    extra: Unserialised,
}

#[derive(Deserialize)]
struct DesiredEntry {
    model: Model,
    notes: Vec<String>,
    extra: Unserialised,
}

/// What the model's serialised form leaves out (it is not part of the schema) but planning
/// reads: the server version (which DDL it accepts) and the tables' statistics.
#[derive(Serialize, Deserialize)]
struct Unserialised {
    server_version: i32,
    stats: Vec<(QualifiedName, f64, bool)>,
}

impl Unserialised {
    fn of(model: &Model) -> Unserialised {
        Unserialised {
            server_version: model.server_version,
            stats: model
                .tables
                .iter()
                .map(|(name, t)| (name.clone(), t.stats.estimated_rows, t.stats.has_rows))
                .collect(),
        }
    }

    fn restore(self, model: &mut Model) {
        model.server_version = self.server_version;
        for (name, estimated_rows, has_rows) in self.stats {
            if let Some(table) = model.tables.get_mut(&name) {
                table.stats.estimated_rows = estimated_rows;
                table.stats.has_rows = has_rows;
            }
        }
    }
}

/// Parse the files, then take their model from the cache, or load them into a shadow
/// database (kept open in [`Opened::database`]) and cache what it read.
pub async fn open(
    paths: &[PathBuf],
    shadow: &ShadowSource,
    cache: Option<&Cache>,
) -> Result<Opened, WorkspaceError> {
    let desired = parse_files(paths)?;
    let cache = cache.filter(|_| !declares_rows(&desired));
    let key = cache.map(|c| c.desired_key(&desired));
    if let (Some(cache), Some(key)) = (cache, &key) {
        if let Some(mut entry) = cache.store.get::<DesiredEntry>(DESIRED, key) {
            entry.extra.restore(&mut entry.model);
            return Ok(Opened {
                side: Side {
                    model: entry.model,
                    desired: Some(desired),
                    notes: entry.notes,
                },
                database: None,
                key: Some(key.clone()),
            });
        }
    }
    let (model, notes, database) = load_desired(&desired, shadow).await?;
    if let (Some(cache), Some(key)) = (cache, &key) {
        let entry = DesiredRef {
            model: &model,
            notes: &notes,
            extra: Unserialised::of(&model),
        };
        cache.store.put(DESIRED, key, &entry);
    }
    Ok(Opened {
        side: Side {
            model,
            desired: Some(desired),
            notes,
        },
        database: Some(database),
        key,
    })
}

fn declares_rows(desired: &DesiredSchema) -> bool {
    !desired.seeds.is_empty()
        || desired
            .annotations
            .iter()
            .any(|a| a.kind == AnnotationKind::Data)
}

/// [`super::reconcile_equivalent`] for an opened side: the answers come from the cache when
/// these exact questions were asked of this desired schema before; otherwise from its shadow
/// database, loaded now if the model came from the cache (once: it is kept in `opened`).
pub async fn reconcile(
    opened: &mut Opened,
    shadow: &ShadowSource,
    cache: Option<&Cache>,
    live: &mut Model,
) -> Result<usize, WorkspaceError> {
    let mut database = opened.database.take().map(Arc::new);
    let result = reconcile_with(
        &opened.side,
        opened.key.as_deref(),
        &mut database,
        shadow,
        cache,
        live,
    )
    .await;
    // Made here and not shared: unwrapping it back cannot fail.
    opened.database = database.and_then(|d| Arc::try_unwrap(d).ok());
    result
}

/// [`reconcile`] for a desired side held in parts (a fleet shares one among its databases):
/// `database` is its shadow database, loaded here when needed and `None`.
pub async fn reconcile_with(
    side: &Side,
    key: Option<&str>,
    database: &mut Option<Arc<ShadowDatabase>>,
    shadow: &ShadowSource,
    cache: Option<&Cache>,
    live: &mut Model,
) -> Result<usize, WorkspaceError> {
    let found = equivalent::candidates(live, &side.model);
    if found.is_empty() {
        return Ok(0);
    }
    let memo = match (cache, key) {
        (Some(cache), Some(key)) => questions_key(key, &found).map(|k| (cache, k)),
        _ => None,
    };
    if let Some((cache, key)) = &memo {
        if let Some(same) = cache.store.get::<Vec<bool>>(EQUIVALENT, key) {
            if same.len() == found.len() {
                return Ok(equivalent::apply(live, &found, &same));
            }
        }
    }
    if database.is_none() {
        let desired = side.desired.as_ref().expect("a side read from files");
        let (_, _, loaded) = load_desired(desired, shadow).await?;
        *database = Some(Arc::new(loaded));
    }
    let loaded = database.as_ref().expect("loaded above");
    let same = equivalent::decide(loaded.client(), &found).await?;
    if let Some((cache, key)) = &memo {
        cache.store.put(EQUIVALENT, key, &same);
    }
    Ok(equivalent::apply(live, &found, &same))
}

fn questions_key(desired_key: &str, found: &[Candidate]) -> Option<String> {
    let questions = serde_json::to_vec(found).ok()?;
    Some(digest([desired_key.as_bytes(), &questions]))
}
