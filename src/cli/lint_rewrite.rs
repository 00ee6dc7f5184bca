//! `zdm lint --rewrite FILE --db URL | --schema PATH`: the hand-written migration run on a
//! shadow database holding the starting schema, and zdm's phased plan from that start to the
//! schema the migration ends with (rehearsed like `zdm plan`'s).

use std::path::Path;

use super::args::{LintArgs, LintFormat};
use super::{render, EXIT_CLEAN};
use crate::connect::ConnectionTarget;
use crate::lint::rewrite::{self, EndState};
use crate::model::Model;
use crate::plan::{plan, PlanOptions};
use crate::shadow::{ShadowDatabase, ShadowSource};
use crate::source::SourceSet;

pub async fn run(args: &LintArgs, migration: &Path) -> anyhow::Result<u8> {
    if args.format == LintFormat::Github {
        anyhow::bail!("--rewrite prints a plan: --format human, json or sql");
    }
    let sources = SourceSet::read(&[migration.to_path_buf()])?;
    let file = &sources.files()[0];
    let statements = rewrite::statements(file)?;
    let live = match &args.db {
        Some(url) => Some(ConnectionTarget::parse(Some(url))?.connect().await?),
        None if args.schema.is_empty() => {
            anyhow::bail!("--rewrite needs the starting schema: --db URL or --schema PATH")
        }
        None => None,
    };
    let shadow = shadow_source(args, live.as_ref()).await?;
    let (mut start, database) = starting_point(args, live.as_ref(), &shadow).await?;
    let ended = async {
        let end = rewrite::run_in_shadow(database.client(), file, &statements, &start).await?;
        // Expressions the two sides spell differently but PostgreSQL takes as the same.
        crate::workspace::reconcile_equivalent(database.client(), &mut start, &end.model).await?;
        Ok::<EndState, anyhow::Error>(end)
    }
    .await;
    let _ = database.close().await;
    let end = ended?;
    for (offset, text) in &end.intent.not_carried {
        render::note(&format!("{}: {text}", crate::lint::location(file, *offset)));
    }
    let mut options = PlanOptions {
        transforms: end.intent.transforms,
    };
    if let Some(client) = &live {
        crate::workspace::resolve_transform_expressions(client, &start, &mut options.transforms)
            .await;
    }
    let mut made = plan(&start, &end.model, &options)?;
    if !made.is_empty() {
        let rehearsal = crate::rehearse::rehearse(&shadow, &start, &end.model, &made).await?;
        for note in &rehearsal.notes {
            render::note(note);
        }
        made.checkpoints = rehearsal.checkpoints;
    }
    match args.format {
        LintFormat::Json => println!("{}", render::json::plan(&made)?),
        LintFormat::Sql => print!("{}", render::plan_sql(&made, args.lock_timeout)),
        LintFormat::Human | LintFormat::Github => print!("{}", render::plan_human(&made)),
    }
    Ok(EXIT_CLEAN)
}

/// `--dev-url`, else an embedded cluster of the live server's major version.
async fn shadow_source(
    args: &LintArgs,
    live: Option<&tokio_postgres::Client>,
) -> anyhow::Result<ShadowSource> {
    if let Some(url) = &args.dev_url {
        return Ok(ShadowSource::DevServer(ConnectionTarget::parse(Some(url))?));
    }
    let preferred_major = match live {
        Some(client) => crate::connect::server_version_num(client)
            .await
            .ok()
            .map(|v| v / 10_000),
        None => None,
    };
    Ok(ShadowSource::Embedded { preferred_major })
}

/// The starting schema's model and a shadow database holding it: the live schema read and
/// copied there by zdm's own plan from an empty database, or the schema files loaded.
async fn starting_point(
    args: &LintArgs,
    live: Option<&tokio_postgres::Client>,
    shadow: &ShadowSource,
) -> anyhow::Result<(Model, ShadowDatabase)> {
    let Some(client) = live else {
        let (side, database) = crate::workspace::open_files(&args.schema, shadow).await?;
        for note in &side.notes {
            render::note(note);
        }
        let mut model = side.model;
        // A database built from these files may hold rows: plan every step the safe way.
        for table in model.tables.values_mut() {
            table.stats.has_rows = true;
        }
        return Ok((model, database));
    };
    let model = crate::catalog::introspect(client).await?;
    let database = ShadowDatabase::create(shadow.clone()).await?;
    if let Err(e) = crate::rehearse::copy_live(database.client(), &model).await {
        let _ = database.close().await;
        return Err(e.into());
    }
    Ok((model, database))
}
