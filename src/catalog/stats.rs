//! `TableStats::has_rows`: an exact `EXISTS` probe per table, all in one round trip per batch
//! of tables, for the tables whose main fork is not empty (a table of zero blocks has no rows;
//! its size is read without planning a query on it, which at 2,000 tables took seconds).
//!
//! Only leaf tables are probed (`FROM ONLY`); a partitioned table has rows when any of its
//! partitions has. A table the session may not read, or whose rows row-level security may hide
//! from it, keeps the safe answer `has_rows = true`. The probes run with a short `lock_timeout`
//! (a pending ACCESS EXCLUSIVE lock must not stall introspection); if one times out, the
//! remaining tables keep `has_rows = true` too.

use std::collections::{BTreeMap, HashMap};

use super::Reader;
use tokio_postgres::error::SqlState;

use super::{get, CatalogError, TableOids};
use crate::model::{QualifiedName, Table, TableKind};
use crate::sql::quote_ident;

/// Tables per probe query.
const BATCH: usize = 500;

pub(crate) async fn stats(
    client: &Reader<'_>,
    oids: &TableOids,
    tables: &mut BTreeMap<QualifiedName, Table>,
) -> Result<(), CatalogError> {
    if oids.is_empty() {
        return Ok(());
    }
    let answers = has_rows(client, oids).await?;

    // Leaves first, then partitioned tables from their partitions (any depth).
    for (name, table) in tables.iter_mut() {
        if table.kind == TableKind::Regular {
            if let Some(&exists) = answers.get(name) {
                table.stats.has_rows = exists;
            }
        }
    }
    let mut children: HashMap<QualifiedName, Vec<QualifiedName>> = HashMap::new();
    for table in tables.values() {
        if let Some(of) = &table.partition_of {
            children
                .entry(of.parent.clone())
                .or_default()
                .push(table.name.clone());
        }
    }
    let partitioned: Vec<QualifiedName> = tables
        .values()
        .filter(|t| t.kind == TableKind::Partitioned)
        .map(|t| t.name.clone())
        .collect();
    for name in partitioned {
        let (has_rows, estimated) = aggregate(&name, tables, &children);
        if let Some(table) = tables.get_mut(&name) {
            table.stats.has_rows = has_rows;
            table.stats.estimated_rows = estimated;
        }
    }
    Ok(())
}

/// Which tables hold rows, for those the session can answer for (see the module comment);
/// a table missing from the answer keeps `has_rows = true`.
async fn has_rows(
    client: &Reader<'_>,
    oids: &TableOids,
) -> Result<HashMap<QualifiedName, bool>, CatalogError> {
    const WHAT: &str = "readable tables";
    // Which regular tables the probe can answer for: SELECT privilege, and row-level security
    // not hiding rows (off, or bypassed as superuser / BYPASSRLS / non-forced owner).
    let oid_list = oids
        .keys()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT c.oid, pg_catalog.pg_relation_size(c.oid) = 0
         FROM pg_catalog.pg_class c, pg_catalog.pg_roles r
         WHERE c.oid IN ({oid_list}) AND c.relkind = 'r' AND r.rolname = current_user
           AND pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE')
           AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
           AND (NOT c.relrowsecurity OR r.rolsuper OR r.rolbypassrls
                OR (NOT c.relforcerowsecurity AND pg_catalog.pg_has_role(c.relowner, 'USAGE')))"
    );
    // Reading a size takes the table's ACCESS SHARE lock, as the probes do: at most 2 s, or
    // the session's own lock_timeout when that is shorter (transaction-local).
    client
        .client()
        .batch_execute(
            "SELECT pg_catalog.set_config('lock_timeout',
                 CASE WHEN s.setting::int8 BETWEEN 1 AND 2000 THEN s.setting ELSE '2000' END,
                 true)
             FROM pg_catalog.pg_settings s WHERE s.name = 'lock_timeout'",
        )
        .await
        .map_err(|e| CatalogError::query("row probe settings", e))?;
    let rows = match client.query(WHAT, &sql).await {
        Ok(rows) => rows,
        Err(CatalogError::Query { source, .. }) if source.code().is_some_and(gives_up) => {
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let mut answers: HashMap<QualifiedName, bool> = HashMap::new();
    let mut probe: Vec<(u32, &QualifiedName)> = Vec::new();
    for row in rows {
        let oid: u32 = get(&row, 0, WHAT)?;
        let empty: bool = get(&row, 1, WHAT)?;
        match oids.get(&oid) {
            Some(name) if empty => {
                answers.insert(name.clone(), false);
            }
            Some(name) => probe.push((oid, name)),
            None => {}
        }
    }
    probe.sort_by(|a, b| a.1.cmp(b.1));
    probe_rows(client, oids, &probe, &mut answers).await?;
    Ok(answers)
}

/// The `EXISTS` probes of the non-empty tables, in batches, into `answers`.
async fn probe_rows(
    client: &Reader<'_>,
    oids: &TableOids,
    probe: &[(u32, &QualifiedName)],
    answers: &mut HashMap<QualifiedName, bool>,
) -> Result<(), CatalogError> {
    for batch in probe.chunks(BATCH) {
        let sql = batch
            .iter()
            .map(|(oid, name)| {
                format!(
                    "SELECT {oid}::oid, EXISTS (SELECT FROM ONLY {}.{})",
                    quote_ident(&name.schema),
                    quote_ident(&name.name)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        match client.client().query(&sql, &[]).await {
            Ok(rows) => {
                for row in rows {
                    let oid: u32 = get(&row, 0, "row probe")?;
                    let exists: bool = get(&row, 1, "row probe")?;
                    if let Some(name) = oids.get(&oid) {
                        answers.insert(name.clone(), exists);
                    }
                }
            }
            // Lock timeout, a privilege we failed to foresee, a statement timeout: the
            // transaction is aborted, but everything else is already read; the remaining tables
            // keep the safe `has_rows = true`.
            Err(e) if e.code().is_some_and(gives_up) => break,
            Err(e) => return Err(CatalogError::query("row probe", e)),
        }
    }
    Ok(())
}

fn gives_up(code: &SqlState) -> bool {
    [
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::INSUFFICIENT_PRIVILEGE,
        SqlState::QUERY_CANCELED,
    ]
    .contains(code)
}

/// `(has_rows, estimated_rows)` of a partitioned table from its leaf partitions.
fn aggregate(
    name: &QualifiedName,
    tables: &BTreeMap<QualifiedName, Table>,
    children: &HashMap<QualifiedName, Vec<QualifiedName>>,
) -> (bool, f64) {
    let mut has_rows = false;
    let mut estimated = -1.0f64;
    let mut stack = vec![name.clone()];
    while let Some(current) = stack.pop() {
        for child in children.get(&current).into_iter().flatten() {
            let Some(table) = tables.get(child) else {
                continue;
            };
            match table.kind {
                TableKind::Partitioned => stack.push(child.clone()),
                TableKind::Regular => {
                    has_rows |= table.stats.has_rows;
                    if table.stats.estimated_rows >= 0.0 {
                        estimated = estimated.max(0.0) + table.stats.estimated_rows;
                    }
                }
            }
        }
    }
    (has_rows, estimated)
}
