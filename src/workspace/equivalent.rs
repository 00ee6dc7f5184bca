//! Definitions whose catalog text differs between the two sides although PostgreSQL reads
//! them the same. PostgreSQL's deparsers (`pg_get_constraintdef`, `pg_get_viewdef`) are not
//! fixpoints: a `varchar IN (...)` list comes back as `ANY ((ARRAY[...])::text[])`, and once
//! that is applied again as `ANY (ARRAY[(...)::text, ...])`. An object zdm created from the
//! desired text would otherwise differ from it forever. Both texts are applied to a scratch
//! object in the shadow database and compared as PostgreSQL renders them then; when they
//! agree, the live text is taken as the desired one.

use serde::{Deserialize, Serialize};

use crate::model::{Model, QualifiedName};

/// Reconcile equivalent CHECK constraints and view queries; returns how many were.
pub async fn reconcile_equivalent(
    shadow: &tokio_postgres::Client,
    live: &mut Model,
    desired: &Model,
) -> Result<usize, super::WorkspaceError> {
    let found = candidates(live, desired);
    let same = decide(shadow, &found).await?;
    Ok(apply(live, &found, &same))
}

/// A live definition that differs in text from the desired one: a question for the shadow.
/// Serialisable: the answers are cached (see `workspace::cached`), keyed by the questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub object: CandidateObject,
    pub live: String,
    pub desired: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CandidateObject {
    Check {
        table: QualifiedName,
        constraint: String,
    },
    View(String),
}

/// The CHECK constraints and views present on both sides whose texts differ.
pub fn candidates(live: &Model, desired: &Model) -> Vec<Candidate> {
    use crate::model::ConstraintKind;
    let mut found = Vec::new();
    for (name, desired_table) in &desired.tables {
        let Some(live_table) = live.tables.get(name) else {
            continue;
        };
        for (constraint_name, wanted) in &desired_table.constraints {
            let Some(have) = live_table.constraints.get(constraint_name) else {
                continue;
            };
            if have.kind == ConstraintKind::Check
                && wanted.kind == ConstraintKind::Check
                && have.definition != wanted.definition
            {
                found.push(Candidate {
                    object: CandidateObject::Check {
                        table: name.clone(),
                        constraint: constraint_name.clone(),
                    },
                    live: have.definition.clone(),
                    desired: wanted.definition.clone(),
                });
            }
        }
    }
    for (key, wanted) in &desired.views {
        if let Some(have) = live
            .views
            .get(key)
            .filter(|h| h.definition != wanted.definition)
        {
            found.push(Candidate {
                object: CandidateObject::View(key.clone()),
                live: have.definition.clone(),
                desired: wanted.definition.clone(),
            });
        }
    }
    found
}

/// For each candidate, whether PostgreSQL reads both texts the same (asked of the shadow
/// database holding the desired schema).
pub async fn decide(
    shadow: &tokio_postgres::Client,
    candidates: &[Candidate],
) -> Result<Vec<bool>, super::WorkspaceError> {
    let mut same = Vec::with_capacity(candidates.len());
    for c in candidates {
        let equal = match &c.object {
            CandidateObject::Check { table, .. } => {
                canonical_check(shadow, table, &c.live).await?
                    == canonical_check(shadow, table, &c.desired).await?
            }
            CandidateObject::View(_) => {
                let canonical = canonical_query(shadow, &c.live).await?;
                canonical.is_some() && canonical == canonical_query(shadow, &c.desired).await?
            }
        };
        same.push(equal);
    }
    Ok(same)
}

/// Take the desired text as the live one wherever `same` says they agree; returns how many.
pub fn apply(live: &mut Model, candidates: &[Candidate], same: &[bool]) -> usize {
    let mut reconciled = 0;
    for (c, _) in candidates.iter().zip(same).filter(|(_, s)| **s) {
        let slot = match &c.object {
            CandidateObject::Check { table, constraint } => live
                .tables
                .get_mut(table)
                .and_then(|t| t.constraints.get_mut(constraint))
                .map(|k| &mut k.definition),
            CandidateObject::View(key) => live.views.get_mut(key).map(|v| &mut v.definition),
        };
        if let Some(definition) = slot.filter(|d| **d == c.live) {
            *definition = c.desired.clone();
            reconciled += 1;
        }
    }
    reconciled
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
