//! Turning "where the schema comes from" into a model: a live database is introspected
//! directly; schema files are parsed, loaded into a shadow database and introspected there,
//! by the same catalog code.

use std::path::PathBuf;
use thiserror::Error;

use crate::catalog::{introspect, CatalogError};
use crate::connect::{ConnectError, ConnectionTarget};
use crate::load::{load, LoadError};
use crate::model::Model;
use crate::parse::{parse_desired, DesiredSchema, ParseErrors};
use crate::shadow::{ShadowDatabase, ShadowError, ShadowSource};
use crate::source::{SourceError, SourceSet};

/// Where one side of a comparison comes from.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // made once per side; boxing would only add noise
pub enum SchemaSource {
    /// `.sql` files and directories of them.
    Files(Vec<PathBuf>),
    Database(ConnectionTarget),
}

impl SchemaSource {
    /// A database when it looks like a connection string (`postgres://...`, `host=...`),
    /// a path otherwise.
    pub fn parse(spec: &str) -> Result<SchemaSource, ConnectError> {
        if spec.contains("://") || spec.contains('=') {
            Ok(SchemaSource::Database(ConnectionTarget::parse(Some(spec))?))
        } else {
            Ok(SchemaSource::Files(vec![PathBuf::from(spec)]))
        }
    }
}

#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Parse(#[from] ParseErrors),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Shadow(#[from] ShadowError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// One side, read.
pub struct Side {
    pub model: Model,
    /// The parsed files, when the side came from files (annotations live there).
    pub desired: Option<DesiredSchema>,
    /// Things worth telling the user (shadow version mismatch, DO blocks, roles created...).
    pub notes: Vec<String>,
}

/// Read a live database.
pub async fn read_database(target: &ConnectionTarget) -> Result<Side, WorkspaceError> {
    let client = target.connect().await?;
    let model = introspect(&client).await?;
    Ok(Side {
        model,
        desired: None,
        notes: Vec::new(),
    })
}

/// Parse schema files, load them into a fresh shadow database and read that back.
pub async fn read_files(paths: &[PathBuf], shadow: &ShadowSource) -> Result<Side, WorkspaceError> {
    let (side, database) = open_files(paths, shadow).await?;
    let _ = database.close().await;
    Ok(side)
}

/// Like [`read_files`], but hands back the shadow database, still open, for questions only a
/// server can answer (see [`reconcile_equivalent_checks`]). The caller closes it.
pub async fn open_files(
    paths: &[PathBuf],
    shadow: &ShadowSource,
) -> Result<(Side, ShadowDatabase), WorkspaceError> {
    let sources = SourceSet::read(paths)?;
    let desired = parse_desired(sources)?;
    let database = ShadowDatabase::create(shadow.clone()).await?;
    let loaded = async {
        let report = load(database.client(), &desired).await?;
        let model = introspect(database.client()).await?;
        Ok::<_, WorkspaceError>((report, model))
    }
    .await;
    let (report, model) = match loaded {
        Ok(done) => done,
        Err(e) => {
            let _ = database.close().await;
            return Err(e);
        }
    };
    let mut notes: Vec<String> = database.warnings().to_vec();
    notes.extend(desired.notes.iter().cloned());
    notes.extend(report.notes.iter().cloned());
    Ok((
        Side {
            model,
            desired: Some(desired),
            notes,
        },
        database,
    ))
}

/// CHECK constraints whose catalog text differs between the two sides but which PostgreSQL
/// reads the same: `pg_get_constraintdef` is not a fixpoint (a `varchar IN (...)` list comes
/// back as `ARRAY[...]::text[]`, and once re-applied as `ARRAY[(...)::text, ...]`). Both texts
/// are applied to a scratch copy of the table in the shadow database and compared as
/// PostgreSQL renders them then; when they agree, the live text is taken as the desired one.
pub async fn reconcile_equivalent_checks(
    shadow: &tokio_postgres::Client,
    live: &mut Model,
    desired: &Model,
) -> Result<usize, WorkspaceError> {
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
) -> Result<Option<String>, WorkspaceError> {
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

pub async fn read(source: &SchemaSource, shadow: &ShadowSource) -> Result<Side, WorkspaceError> {
    match source {
        SchemaSource::Files(paths) => read_files(paths, shadow).await,
        SchemaSource::Database(target) => read_database(target).await,
    }
}

/// The plan transformations the desired files' `-- zdm:` annotations ask for.
pub fn transforms(desired: &DesiredSchema) -> Vec<crate::plan::Transform> {
    use crate::model::QualifiedName;
    use crate::parse::AnnotationKind;
    use crate::plan::Transform;
    desired
        .annotations
        .iter()
        .map(|a| match (&a.kind, &a.column) {
            (AnnotationKind::Backfill(expression), Some(column)) => Transform::Backfill {
                table: a.table.clone(),
                column: column.clone(),
                expression: expression.clone(),
            },
            (AnnotationKind::RenamedFrom(from), Some(column)) => Transform::RenameColumn {
                table: a.table.clone(),
                column: column.clone(),
                from: from.clone(),
            },
            (AnnotationKind::RenamedFrom(from), None) => Transform::RenameTable {
                table: a.table.clone(),
                from: QualifiedName::new(a.table.schema.clone(), from.clone()),
            },
            (AnnotationKind::Using(expression), column) => Transform::UsingType {
                table: a.table.clone(),
                column: column.clone().unwrap_or_default(),
                expression: expression.clone(),
            },
            (AnnotationKind::Backfill(expression), None) => Transform::Backfill {
                table: a.table.clone(),
                column: String::new(),
                expression: expression.clone(),
            },
        })
        .collect()
}
