//! Triggers that keep a new column in step with writes by the old application, between
//! expand and contract. Their functions live in zdm's own schema, which diff ignores.

use crate::model::{Model, QualifiedName, Table};
use crate::plan::resource::Resource;
use crate::plan::{LockMode, Op, Phase, Step};
use crate::sql::{ddl, quote_ident};

use crate::plan::recipes::helper_name;
use crate::plan::recipes::indexes::mentions;

pub struct SyncTrigger {
    pub function: QualifiedName,
    pub trigger: String,
}

impl SyncTrigger {
    /// SQL that (re)creates the trigger function in schema `zdm` with `body` (the statements
    /// between BEGIN and END, each line ending in a newline) and fires it BEFORE INSERT OR
    /// UPDATE on every row of `table`. Safe to run again. The function's `search_path` is
    /// pinned: it runs as whoever writes the table, and what it calls must not depend on what
    /// that writer (or anyone who can create functions on its path) has put there.
    pub fn install_sql(&self, table: &QualifiedName, body: &str) -> String {
        self.install_sql_on(table, body, "BEFORE INSERT OR UPDATE")
    }

    /// [`SyncTrigger::install_sql`] firing on `events` (e.g. `AFTER INSERT OR UPDATE OR DELETE`).
    pub fn install_sql_on(&self, table: &QualifiedName, body: &str, events: &str) -> String {
        ddl::sync::install(&self.function, &self.trigger, table, body, events)
    }
}

pub fn derived_trigger_names(table: &QualifiedName, column: &str) -> SyncTrigger {
    SyncTrigger {
        function: QualifiedName::new(
            "zdm",
            helper_name("sync", &format!("{}_{}_{column}", table.schema, table.name)),
        ),
        trigger: helper_name("sync", column),
    }
}

/// Whether the live database has the sync trigger (it is listed among unmanaged objects).
pub fn trigger_exists(live: &Model, table: &QualifiedName, trigger: &str) -> bool {
    let suffix = quote_ident(trigger);
    live.unmanaged.iter().any(|o| {
        o.kind == "trigger" && o.name.starts_with(&table.to_string()) && o.name.ends_with(&suffix)
    })
}

/// The live columns an expression reads.
pub fn columns_read(live: Option<&Table>, expression: &str, except: &str) -> Vec<String> {
    live.into_iter()
        .flat_map(|t| &t.columns)
        .filter(|c| c.name != except && mentions(expression, &c.name))
        .map(|c| c.name.clone())
        .collect()
}

/// Expand: a BEFORE INSERT OR UPDATE trigger computing `column` from `expression` for rows
/// the old application writes. A value written into the column itself (by the new
/// application) is kept: INSERTs fill it only when NULL, UPDATEs recompute it only when the
/// old columns changed and the column did not.
pub fn create_derived(
    table: &QualifiedName,
    column: &str,
    expression: &str,
    sources: &[String],
) -> Step {
    let names = derived_trigger_names(table, column);
    let col = quote_ident(column);
    let sql = names.install_sql(table, &ddl::sync::derived_body(column, expression, sources));
    let mut uses = vec![Resource::Column(table.clone(), column.to_string())];
    uses.extend(
        sources
            .iter()
            .map(|c| Resource::Column(table.clone(), c.clone())),
    );
    Step::new(
        Phase::Expand,
        format!("keep {table}.{col} filled from {expression} while the old application writes"),
        sql,
    )
    .lock(LockMode::ShareRowExclusive, table)
    .uses(uses)
}

/// Contract: the old application is gone, so is its trigger (before its columns go).
pub fn drop_derived(table: &QualifiedName, column: &str, sources: &[String]) -> Step {
    let names = derived_trigger_names(table, column);
    names
        .drop_step(
            table,
            format!("drop the sync trigger of {table}.{}", quote_ident(column)),
            sources,
        )
        .op(Op::DropSyncTrigger {
            table: table.clone(),
            column: column.to_string(),
            sync_function: names.function.clone(),
        })
}

impl SyncTrigger {
    /// Contract: drop the trigger on `table` and its function, before the `sources` columns
    /// it reads go.
    pub fn drop_step(
        &self,
        table: &QualifiedName,
        description: String,
        sources: &[String],
    ) -> Step {
        Step::new(
            Phase::Contract,
            description,
            ddl::sync::drop(&self.trigger, table, &self.function),
        )
        .lock(LockMode::AccessExclusive, table)
        .uses(
            sources
                .iter()
                .map(|c| Resource::Column(table.clone(), c.clone())),
        )
    }
}
