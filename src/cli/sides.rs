//! Reading both sides of a comparison from the command line's arguments.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::args::SourceArgs;
use super::config::Config;
use super::render;
use crate::connect::ConnectionTarget;
use crate::scope::Scope;
use crate::shadow::{ShadowDatabase, ShadowSource};
use crate::workspace::cached::{self, Cache};
use crate::workspace::{self, SchemaSource, Side};

/// The live (or "from") side and the desired (or "to") side.
pub struct Sides {
    pub from: Side,
    /// Shared: a fleet plans every database against one loaded desired schema.
    pub to: Arc<Side>,
    /// One session on the live database for everything planning reads there (the catalog,
    /// roles, annotation checks): one connection, not one per question, matters on a remote
    /// server behind TLS and a connection limit.
    pub live: Option<tokio_postgres::Client>,
    /// Where shadow databases come from (the rehearsal makes one more).
    pub shadow: ShadowSource,
    /// What both sides were limited to (apply limits its after-run snapshot the same way).
    pub scope: Scope,
    /// The on-disk cache for shadows on [`Sides::shadow`] (None with `--no-cache`).
    pub cache: Option<Cache>,
    /// The desired side's shadow database, kept open so that a rehearsal reuses its embedded
    /// cluster instead of starting another; [`Sides::release`] closes it (once no fleet
    /// member shares it any more).
    kept: Option<Arc<ShadowDatabase>>,
}

impl Sides {
    /// The desired side's shadow database, while it is open (it holds the declared rows of
    /// tables marked `-- zdm:data`).
    pub fn desired_database(&self) -> Option<&tokio_postgres::Client> {
        self.kept.as_ref().map(|d| d.client())
    }

    /// How the live rows of the tables marked `-- zdm:data` differ from the declared ones;
    /// empty when there are none, or no live database to compare with.
    pub async fn row_changes(
        &self,
    ) -> anyhow::Result<Vec<(crate::data::DataTable, crate::data::RowChanges)>> {
        let (Some(desired), Some(live), Some(shadow)) =
            (&self.to.desired, &self.live, self.desired_database())
        else {
            return Ok(Vec::new());
        };
        let tables = crate::data::data_tables(desired, &self.to.model)?;
        if tables.is_empty() {
            return Ok(Vec::new());
        }
        Ok(crate::data::changes(&tables, shadow, live, &self.from.model).await?)
    }

    /// Close the shadow database this run kept open (drops it on a dev server).
    pub async fn release(&mut self) {
        close_shared(self.kept.take()).await;
    }
}

/// Close a shared shadow database when this was its last user.
async fn close_shared(database: Option<Arc<ShadowDatabase>>) {
    if let Some(Ok(database)) = database.map(Arc::try_unwrap) {
        let _ = database.close().await;
    }
}

/// The desired side alone, loaded into its shadow database once: one live database (`read`)
/// or each database of a fleet is then read and compared against it.
pub struct Desired {
    pub to: Arc<Side>,
    pub shadow: ShadowSource,
    pub scope: Scope,
    cache: Option<Cache>,
    /// The files' cache key (None without a cache).
    key: Option<String>,
    /// The shadow database: loaded with the files, or on a cache hit only when an equivalence
    /// question needs it. The lock also keeps the probes, which run transactions on its one
    /// session, one at a time.
    kept: tokio::sync::Mutex<Option<Arc<ShadowDatabase>>>,
}

impl Desired {
    /// Load the schema files named by the flags (else zdm.toml, else ./schema).
    /// `preferred_major` picks the embedded shadow's PostgreSQL major.
    pub async fn load(args: &SourceArgs, preferred_major: Option<u32>) -> anyhow::Result<Desired> {
        let config = Config::load(&args.config)?;
        let scope = scope(&args.schemas, &args.ignore, &config)?;
        let paths = if !args.schema.is_empty() {
            args.schema.clone()
        } else {
            config
                .schema
                .unwrap_or_else(|| vec![PathBuf::from("schema")])
        };
        let shadow = match args.dev_url.clone().or(config.dev_url) {
            Some(url) => ShadowSource::DevServer(ConnectionTarget::parse(Some(&url))?),
            None => ShadowSource::Embedded { preferred_major },
        };
        let cache = Cache::open(&shadow, args.no_cache).await;
        let opened = cached::open(&paths, &shadow, cache.as_ref()).await?;
        let mut side = opened.side;
        scope.apply(&mut side.model);
        for note in &side.notes {
            render::note(note);
        }
        Ok(Desired {
            to: Arc::new(side),
            shadow,
            scope,
            cache,
            key: opened.key,
            kept: tokio::sync::Mutex::new(opened.database.map(Arc::new)),
        })
    }

    /// Both sides for the live database behind `client`. `live_roles`: the server's roles
    /// read before the desired schema was loaded (a load on the same server creates the
    /// roles the files name); `None` reads them now. `notes`: print what the live side has
    /// that zdm leaves alone (a fleet keeps quiet about each database).
    pub async fn against(
        &self,
        client: tokio_postgres::Client,
        live_roles: Option<BTreeSet<String>>,
        notes: bool,
    ) -> anyhow::Result<Sides> {
        let mut from = workspace::read_client(&client).await?;
        self.scope.apply(&mut from.model);
        let live_roles = match live_roles {
            Some(roles) => roles,
            None => crate::catalog::role_names(&client).await?,
        };
        let kept = {
            let mut kept = self.kept.lock().await;
            cached::reconcile_with(
                &self.to,
                self.key.as_deref(),
                &mut kept,
                &self.shadow,
                self.cache.as_ref(),
                &mut from.model,
            )
            .await?;
            kept.clone()
        };
        let sides = Sides {
            from,
            to: self.to.clone(),
            live: Some(client),
            shadow: self.shadow.clone(),
            scope: self.scope.clone(),
            cache: self.cache.clone(),
            kept,
        };
        check_annotations(&sides, Some(&live_roles)).await?;
        if notes {
            for note in &sides.from.notes {
                render::note(note);
            }
            render::unmanaged_note(&sides.from.model, &sides.to.model);
            render::ignored_note(&sides.from.model, &sides.to.model);
        }
        Ok(sides)
    }

    /// Close the shadow database (once no `Sides` made from this one holds it).
    pub async fn release(self) {
        close_shared(self.kept.into_inner()).await;
    }
}

/// The scope from the flags, else from the configuration.
pub fn scope(schemas: &[String], ignore: &[String], config: &Config) -> anyhow::Result<Scope> {
    let schemas = if schemas.is_empty() {
        config.schemas.clone().unwrap_or_default()
    } else {
        schemas.to_vec()
    };
    let ignore = if ignore.is_empty() {
        config.ignore.clone().unwrap_or_default()
    } else {
        ignore.to_vec()
    };
    Ok(Scope::new(schemas, &ignore)?)
}

pub async fn read(args: &SourceArgs) -> anyhow::Result<Sides> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        return read_sources(args, from, to).await;
    }
    let target = ConnectionTarget::parse(args.db.as_deref())?;
    let client = target.connect().await?;
    // Before the shadow load, which on a shared cluster creates the roles the files name.
    let roles = crate::catalog::role_names(&client).await?;
    // The live server's version picks the shadow's.
    let major = crate::connect::server_version_num(&client)
        .await
        .ok()
        .map(|v| v / 10_000);
    let desired = Desired::load(args, major).await?;
    match desired.against(client, Some(roles), true).await {
        Ok(sides) => Ok(sides),
        Err(e) => {
            desired.release().await;
            Err(e)
        }
    }
}

/// `--from A --to B`: each side a schema directory or a database.
async fn read_sources(args: &SourceArgs, from: &str, to: &str) -> anyhow::Result<Sides> {
    let config = Config::load(&args.config)?;
    let scope = scope(&args.schemas, &args.ignore, &config)?;
    let dev_url = args.dev_url.clone().or(config.dev_url);
    let (from, to) = (SchemaSource::parse(from)?, SchemaSource::parse(to)?);
    let target = match &from {
        SchemaSource::Database(t) => Some(t.clone()),
        SchemaSource::Files(_) => None,
    };
    let live = match &target {
        Some(t) => Some(t.connect().await?),
        None => None,
    };
    // Read the live side first: its server version picks the shadow's. A schema directory
    // on this side keeps its shadow database open until the other side has one too, so both
    // share one embedded cluster.
    let (mut from_side, from_shadow) = match &from {
        SchemaSource::Files(paths) => {
            let embedded = ShadowSource::Embedded {
                preferred_major: None,
            };
            let cache = Cache::open(&embedded, args.no_cache).await;
            let opened = cached::open(paths, &embedded, cache.as_ref()).await?;
            (opened.side, opened.database)
        }
        // A database needs no shadow.
        SchemaSource::Database(_) => {
            let client = live.as_ref().expect("connected above");
            (workspace::read_client(client).await?, None)
        }
    };
    scope.apply(&mut from_side.model);
    // Before any shadow load, which on a shared cluster creates the roles the files name.
    let live_roles = match &live {
        Some(client) => Some(crate::catalog::role_names(client).await?),
        None => None,
    };
    if matches!(from, SchemaSource::Files(_)) {
        // An offline plan is for some database built from these files: assume its tables hold
        // rows, so every step is planned the safe way.
        for table in from_side.model.tables.values_mut() {
            table.stats.has_rows = true;
        }
    }
    let preferred_major = match &live {
        Some(client) => crate::connect::server_version_num(client)
            .await
            .ok()
            .map(|v| v / 10_000),
        None => None,
    };
    let shadow = match dev_url {
        Some(url) => ShadowSource::DevServer(ConnectionTarget::parse(Some(&url))?),
        None => ShadowSource::Embedded { preferred_major },
    };
    // Also for a database on the desired side: its rehearsals are cached.
    let cache = Cache::open(&shadow, args.no_cache).await;
    let (to_side, kept) = match &to {
        SchemaSource::Files(paths) => {
            let mut opened = cached::open(paths, &shadow, cache.as_ref()).await?;
            scope.apply(&mut opened.side.model);
            let reconciled =
                cached::reconcile(&mut opened, &shadow, cache.as_ref(), &mut from_side.model).await;
            if let Err(e) = reconciled {
                if let Some(database) = opened.database {
                    let _ = database.close().await;
                }
                return Err(e.into());
            }
            (opened.side, opened.database)
        }
        SchemaSource::Database(_) => {
            let mut side = workspace::read(&to, &shadow).await?;
            scope.apply(&mut side.model);
            (side, None)
        }
    };
    if let Some(database) = from_shadow {
        let _ = database.close().await;
    }
    let mut sides = Sides {
        from: from_side,
        to: Arc::new(to_side),
        live,
        shadow,
        scope,
        cache,
        kept: kept.map(Arc::new),
    };
    if let Err(e) = check_annotations(&sides, live_roles.as_ref()).await {
        sides.release().await;
        return Err(e);
    }
    let (from_side, to_side) = (&sides.from, &sides.to);
    for note in from_side.notes.iter().chain(&to_side.notes) {
        render::note(note);
    }
    render::unmanaged_note(&from_side.model, &to_side.model);
    render::ignored_note(&from_side.model, &to_side.model);
    Ok(sides)
}

async fn check_annotations(
    sides: &Sides,
    live_roles: Option<&std::collections::BTreeSet<String>>,
) -> anyhow::Result<()> {
    if let (Some(client), Some(desired)) = (&sides.live, &sides.to.desired) {
        if let Some(roles) = live_roles {
            workspace::check_roles(roles, desired).map_err(workspace::WorkspaceError::Parse)?;
        }
        workspace::check_annotations(client, &sides.from.model, &sides.to.model, desired).await?;
        workspace::check_event_triggers(client, &sides.from.model, &sides.to.model, desired)
            .await?;
        workspace::check_removed_enum_values(client, &sides.from.model, &sides.to.model, desired)
            .await?;
    }
    Ok(())
}
