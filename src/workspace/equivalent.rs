//! Definitions whose catalog text differs between the two sides although PostgreSQL reads
//! them the same. PostgreSQL's deparsers (`pg_get_constraintdef`, `pg_get_viewdef`) are not
//! fixpoints: a `varchar IN (...)` list comes back as `ANY ((ARRAY[...])::text[])`, and once
//! that is applied again as `ANY (ARRAY[(...)::text, ...])`. An object zdm created from the
//! desired text would otherwise differ from it forever. Both texts are applied to a scratch
//! object in the shadow database and compared as PostgreSQL renders them then; when they
//! agree, the live text is taken as the desired one.

use crate::model::Model;

/// Reconcile equivalent CHECK constraints and view queries; returns how many were.
pub async fn reconcile_equivalent(
    shadow: &tokio_postgres::Client,
    live: &mut Model,
    desired: &Model,
) -> Result<usize, super::WorkspaceError> {
    Ok(reconcile_equivalent_checks(shadow, live, desired).await?
        + reconcile_equivalent_views(shadow, live, desired).await?)
}

/// CHECK constraints whose catalog text differs between the two sides but which PostgreSQL
/// reads the same: `pg_get_constraintdef` is not a fixpoint (a `varchar IN (...)` list comes
/// back as `ARRAY[...]::text[]`, and once re-applied as `ARRAY[(...)::text, ...]`). Both texts
/// are applied to a scratch copy of the table in the shadow database and compared as
/// PostgreSQL renders them then; when they agree, the live text is taken as the desired one.
async fn reconcile_equivalent_checks(
    shadow: &tokio_postgres::Client,
    live: &mut Model,
    desired: &Model,
) -> Result<usize, super::WorkspaceError> {
    use crate::model::ConstraintKind;
    let mut reconciled = 0;
    for (name, desired_table) in &desired.tables {
        let Some(live_table) = live.tables.get_mut(name) else {
            continue;
        };
        for (constraint_name, wanted) in &desired_table.constraints {
            let Some(have) = live_table.constraints.get_mut(constraint_name) else {
                continue;
            };
            if have.kind != ConstraintKind::Check
                || wanted.kind != ConstraintKind::Check
                || have.definition == wanted.definition
            {
                continue;
            }
            if canonical_check(shadow, name, &have.definition).await?
                == canonical_check(shadow, name, &wanted.definition).await?
            {
                have.definition = wanted.definition.clone();
                reconciled += 1;
            }
        }
    }
    Ok(reconciled)
}

/// How PostgreSQL renders `definition` once applied to a copy of `table` (None if it does not
/// apply there).
async fn canonical_check(
    shadow: &tokio_postgres::Client,
    table: &crate::model::QualifiedName,
    definition: &str,
) -> Result<Option<String>, super::WorkspaceError> {
    let script = format!(
        "BEGIN; SET LOCAL search_path = ''; \
         CREATE TEMP TABLE zdm_probe (LIKE {table}); \
         ALTER TABLE pg_temp.zdm_probe ADD CONSTRAINT zdm_probe_check {definition} NOT VALID;"
    );
    if shadow.batch_execute(&script).await.is_err() {
        let _ = shadow.batch_execute("ROLLBACK").await;
        return Ok(None);
    }
    let row = shadow
        .query_one(
            "SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint \
             WHERE conname = 'zdm_probe_check' AND conrelid = 'pg_temp.zdm_probe'::regclass",
            &[],
        )
        .await;
    let _ = shadow.batch_execute("ROLLBACK").await;
    Ok(row.ok().map(|r| r.get(0)))
}

/// Views and materialized views (see the module comment).
async fn reconcile_equivalent_views(
    shadow: &tokio_postgres::Client,
    live: &mut Model,
    desired: &Model,
) -> Result<usize, super::WorkspaceError> {
    let mut reconciled = 0;
    for (key, wanted) in &desired.views {
        let Some(have) = live.views.get_mut(key) else {
            continue;
        };
        if have.definition == wanted.definition {
            continue;
        }
        let canonical = canonical_query(shadow, &have.definition).await?;
        if canonical.is_some() && canonical == canonical_query(shadow, &wanted.definition).await? {
            have.definition = wanted.definition.clone();
            reconciled += 1;
        }
    }
    Ok(reconciled)
}

/// How PostgreSQL renders the view query `definition` once applied to a scratch view (None if
/// it does not apply there).
async fn canonical_query(
    shadow: &tokio_postgres::Client,
    definition: &str,
) -> Result<Option<String>, super::WorkspaceError> {
    let script =
        format!("BEGIN; SET LOCAL search_path = ''; CREATE TEMP VIEW zdm_probe AS {definition};");
    if shadow.batch_execute(&script).await.is_err() {
        let _ = shadow.batch_execute("ROLLBACK").await;
        return Ok(None);
    }
    let row = shadow
        .query_one(
            "SELECT pg_catalog.pg_get_viewdef('pg_temp.zdm_probe'::pg_catalog.regclass)",
            &[],
        )
        .await;
    let _ = shadow.batch_execute("ROLLBACK").await;
    Ok(row.ok().map(|r| r.get(0)))
}
