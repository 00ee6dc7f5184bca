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
    let sources = SourceSet::read(paths)?;
    let desired = parse_desired(sources)?;
    let database = ShadowDatabase::create(shadow.clone()).await?;
    let loaded = async {
        let report = load(database.client(), &desired).await?;
        let model = introspect(database.client()).await?;
        Ok::<_, WorkspaceError>((report, model))
    }
    .await;
    let mut notes: Vec<String> = database.warnings().to_vec();
    let _ = database.close().await;
    let (report, model) = loaded?;
    notes.extend(desired.notes.iter().cloned());
    notes.extend(report.notes.iter().cloned());
    Ok(Side {
        model,
        desired: Some(desired),
        notes,
    })
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
