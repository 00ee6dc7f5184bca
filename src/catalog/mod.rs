//! Read a database into a [`Model`].
//!
//! Everything is read inside one `REPEATABLE READ READ ONLY` transaction (a consistent
//! snapshot that can never write) with an empty `search_path`, so that PostgreSQL's own
//! renderers (`format_type`, `pg_get_expr`, `pg_get_constraintdef`, `pg_get_indexdef`,
//! `pg_get_partkeydef`) qualify every non-catalog name, identically for the live and the shadow
//! database. Each object kind is read with a handful of set-based queries, never one query per
//! object.
//!
//! Excluded everywhere: system schemas (`pg_*`, `information_schema`), zdm's own schema `zdm`,
//! objects that belong to an extension, and zdm's own `zdm_*` triggers. What zdm does not manage yet is listed in
//! [`Model::unmanaged`] rather than silently dropped.

mod aggregates;
mod citus;
mod collations;
mod columns;
mod composites;
mod constraints;
mod depend;
mod domains;
mod error;
mod event_triggers;
mod filter;
mod indexes;
mod policies;
mod privileges;
mod ranges;
mod reader;
pub mod resolve;
mod routines;
mod schemas;
mod sequences;
mod stats;
mod tables;
mod triggers;
mod types;
mod unmanaged;
mod views;

pub use error::CatalogError;
pub use event_triggers::can_manage as can_manage_event_triggers;
pub use privileges::{current_role, role_names};
pub use reader::Reader;

use std::collections::HashMap;

use tokio_postgres::{Client, Row};

use crate::model::{Model, QualifiedName};

/// Oldest supported server (`server_version_num`).
pub const MIN_SERVER_VERSION: i32 = 130000;

/// Read the whole database `client` is connected to into a [`Model`].
///
/// The client must not be inside a transaction: this runs its own read-only one and ends it
/// (also on error), leaving the session as it found it. To read the same database more than
/// once, keep a [`Reader`] and call [`Reader::introspect`]: its prepared queries are reused.
pub async fn introspect(client: &Client) -> Result<Model, CatalogError> {
    Reader::new(client).introspect().await
}

impl Reader<'_> {
    /// [`introspect`] with this reader's prepared queries.
    pub async fn introspect(&self) -> Result<Model, CatalogError> {
        let client = self.client();
        // jit off: a catalog query over thousands of tables costs more than jit_above_cost,
        // and compiling it took longer than running it (2.2 s of the unmanaged-objects
        // query's 2.9 s at 2,000 tables); nothing here runs long enough to repay it.
        client
            .batch_execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                 SET LOCAL search_path = ''; SET LOCAL jit = off",
            )
            .await
            .map_err(|e| CatalogError::query("begin read-only transaction", e))?;
        let result = read_all(self).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = client
            .batch_execute(end)
            .await
            .map_err(|e| CatalogError::query("end read-only transaction", e));
        let model = result?;
        ended?;
        Ok(model)
    }
}

/// What every reader needs to know about the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Server {
    /// `server_version_num`, e.g. `150004`.
    pub version: i32,
}

/// Tables by `pg_class` oid, so that columns, constraints and indexes can find their table.
pub(crate) type TableOids = HashMap<u32, QualifiedName>;

async fn read_all(client: &Reader<'_>) -> Result<Model, CatalogError> {
    let server = server(client).await?;
    let mut model = Model {
        server_version: server.version,
        schemas: schemas::schemas(client).await?,
        extensions: schemas::extensions(client).await?,
        enums: types::enums(client).await?,
        domains: domains::domains(client).await?,
        composites: composites::composites(client).await?,
        ranges: ranges::ranges(client).await?,
        collations: collations::collations(client).await?,
        sequences: sequences::sequences(client).await?,
        ..Model::default()
    };
    let (tables, oids) = tables::tables(client).await?;
    model.tables = tables;
    columns::columns(client, &oids, &mut model.tables).await?;
    constraints::constraints(client, &oids, &mut model.tables).await?;
    indexes::indexes(client, server, &oids, &mut model.tables).await?;
    if client.reads_unmanaged {
        model.unmanaged = unmanaged::unmanaged(client, server).await?;
        model.distributed = citus::distributed(client).await?;
    }
    model.view_reads = views::view_reads(client).await?;
    model.views = views::views(client).await?;
    model.routines = routines::routines(client).await?;
    model.aggregates = aggregates::aggregates(client).await?;
    model.triggers = triggers::triggers(client).await?;
    model.depends = depend::depends(client, &model.triggers).await?;
    model.row_security = policies::row_security(client).await?;
    model.policies = policies::policies(client).await?;
    let policy_edges = policies::depends(client, &model.policies).await?;
    model.depends.extend(policy_edges);
    model.event_triggers = event_triggers::event_triggers(client).await?;
    model.acls = privileges::acls(client).await?;
    model.default_privileges = privileges::default_privileges(client).await?;
    model.owners = privileges::owners(client).await?;
    // Last: the row probes take ACCESS SHARE locks and may give up (see `stats`).
    stats::stats(client, &oids, &mut model.tables).await?;
    Ok(model)
}

async fn server(client: &Reader<'_>) -> Result<Server, CatalogError> {
    const WHAT: &str = "server version";
    let row = client
        .query_one(WHAT, "SELECT current_setting('server_version_num')::int4")
        .await?;
    let version: i32 = get(&row, 0, WHAT)?;
    if version < MIN_SERVER_VERSION {
        return Err(CatalogError::UnsupportedServer { version });
    }
    Ok(Server { version })
}

/// Read the column called `name` of a catalog row, naming the query in the error.
pub(crate) fn named<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    name: &str,
    what: &'static str,
) -> Result<T, CatalogError> {
    row.try_get(name).map_err(|e| CatalogError::query(what, e))
}

/// Read one column of a catalog row, naming the query in the error.
pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    idx: usize,
    what: &'static str,
) -> Result<T, CatalogError> {
    row.try_get(idx).map_err(|e| CatalogError::query(what, e))
}
