//! Turning "where the schema comes from" into a model: a live database is introspected
//! directly; schema files are parsed, loaded into a shadow database and introspected there,
//! by the same catalog code.

pub mod cached;
mod casts;
pub mod equivalent;
mod moved_rows;

pub use equivalent::reconcile_equivalent;
mod enum_values;
mod event_triggers;
mod roles;

pub use enum_values::check_removed_enum_values;
pub use event_triggers::check_event_triggers;
pub use roles::check_roles;

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
#[allow(clippy::large_enum_variant)] // built once per side; boxing buys nothing
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
    /// A plan the live role has not the rights for.
    #[error("{0}")]
    Refused(String),
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
    read_client(&target.connect().await?).await
}

/// Read the live database a session is connected to.
pub async fn read_client(client: &tokio_postgres::Client) -> Result<Side, WorkspaceError> {
    let model = introspect(client).await?;
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
/// server can answer (see [`reconcile_equivalent`]). The caller closes it.
pub async fn open_files(
    paths: &[PathBuf],
    shadow: &ShadowSource,
) -> Result<(Side, ShadowDatabase), WorkspaceError> {
    let desired = parse_files(paths)?;
    let (model, notes, database) = load_desired(&desired, shadow).await?;
    Ok((
        Side {
            model,
            desired: Some(desired),
            notes,
        },
        database,
    ))
}

/// Read and parse schema files (no server needed).
// The workspace's one error type, as its async functions return (boxing it for this one
// function alone would buy nothing).
#[allow(clippy::result_large_err)]
pub fn parse_files(paths: &[PathBuf]) -> Result<DesiredSchema, WorkspaceError> {
    let sources = SourceSet::read(paths)?;
    Ok(parse_desired(sources)?)
}

/// Load parsed files into a fresh shadow database and read the model back, with the notes
/// for the user; the database stays open for the caller to close.
pub async fn load_desired(
    desired: &DesiredSchema,
    shadow: &ShadowSource,
) -> Result<(Model, Vec<String>, ShadowDatabase), WorkspaceError> {
    let database = ShadowDatabase::create(shadow.clone()).await?;
    let loaded = async {
        let report = load(database.client(), desired).await?;
        let mut model = introspect(database.client()).await?;
        // Owners are compared only where the files set them (`OWNER TO`, `AUTHORIZATION`):
        // everything else belongs to the role that loaded the files.
        let loader = crate::catalog::current_role(database.client()).await?;
        model.owners.retain(|key, owner| {
            *owner != loader && !(key == "SCHEMA public" && owner == "pg_database_owner")
        });
        for trigger in model.event_triggers.values_mut() {
            if trigger.owner.as_ref() == Some(&loader) {
                trigger.owner = None;
            }
        }
        Ok::<_, WorkspaceError>((report, model))
    }
    .await;
    let (report, mut model) = match loaded {
        Ok(done) => done,
        Err(e) => {
            let _ = database.close().await;
            return Err(e);
        }
    };
    attach_check_sources(&mut model, desired);
    attach_view_sources(&mut model, desired);
    for name in crate::parse::pinned_extension_versions(&desired.statements) {
        if let Some(extension) = model.extensions.get_mut(&name) {
            extension.version_pinned = true;
        }
    }
    let mut notes: Vec<String> = database.warnings().to_vec();
    // The load report carries the parsed schema's notes and its own.
    notes.extend(report.notes.iter().cloned());
    Ok((model, notes, database))
}

/// Give each desired CHECK constraint the text it was written with, for zdm to add it by (see
/// `parse::CheckSource`).
fn attach_check_sources(model: &mut Model, desired: &DesiredSchema) {
    use crate::model::ConstraintKind;
    for check in desired.statements.iter().flat_map(|s| &s.checks) {
        let Some(constraint) = model
            .tables
            .get_mut(&check.table)
            .and_then(|t| t.constraints.get_mut(&check.name))
            .filter(|c| c.kind == ConstraintKind::Check && !c.inherited)
        else {
            continue;
        };
        let no_inherit = if constraint.definition.ends_with(" NO INHERIT") {
            " NO INHERIT"
        } else {
            ""
        };
        constraint.source = Some(format!("CHECK ({}){no_inherit}", check.expression));
    }
}

/// Give each desired plain view the query it was written with (the last statement that
/// defines it), for zdm to create it by (see `parse::ViewSource`).
fn attach_view_sources(model: &mut Model, desired: &DesiredSchema) {
    use crate::model::{Kind, ObjectId};
    for source in desired
        .statements
        .iter()
        .filter_map(|s| s.view_source.as_ref())
    {
        let id = ObjectId::new(
            Kind::View,
            source.view.schema.clone(),
            source.view.name.clone(),
        );
        if let Some(view) = model.views.get_mut(&id.to_string()) {
            view.source = Some(source.query.clone());
        }
    }
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
        .filter_map(|a| {
            Some(match (&a.kind, &a.column) {
                // Rows, not a transformation of the plan (see `crate::data`).
                (AnnotationKind::Data, _) => return None,
                (AnnotationKind::BackfillFrom(rows), _) => Transform::BackfillFrom {
                    table: a.table.clone(),
                    rows: rows.clone(),
                },
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
        })
        .collect()
}

/// The annotations' expressions as the live database resolves them (see `catalog::resolve`),
/// for zdm's sync triggers and backfills; one it cannot render that way is kept as written.
pub async fn resolve_transform_expressions(
    client: &tokio_postgres::Client,
    live: &Model,
    transforms: &mut [crate::plan::Transform],
) {
    use crate::plan::Transform;
    for transform in transforms {
        let (Transform::Backfill {
            table, expression, ..
        }
        | Transform::UsingType {
            table, expression, ..
        }) = transform
        else {
            continue;
        };
        if !live.tables.contains_key(table) {
            continue;
        }
        if let Some(resolved) =
            crate::catalog::resolve::resolved_expression(client, table, expression).await
        {
            *expression = resolved;
        }
    }
}

/// Check the desired files' annotations against the live database: every column they name
/// exists in the live table, and every expression type-checks against it (`PREPARE`d, never
/// run). Annotations whose work is already done (the renamed column exists and the old one
/// is gone, the derived column exists) are not checked: their expressions may name columns
/// that are gone by now. Errors point at the annotation (file:line:col).
pub async fn check_annotations(
    client: &tokio_postgres::Client,
    live: &Model,
    desired_model: &Model,
    desired: &DesiredSchema,
) -> Result<(), WorkspaceError> {
    use crate::model::QualifiedName;
    use crate::parse::{AnnotationKind, ParseError, ParseErrorKind};
    use crate::sql::quote_ident;

    let sources = &desired.sources;
    let mut errors = Vec::new();
    let mut push = |span: crate::source::Span, message: String, help: Option<&str>| {
        let mut diagnostic = sources.diagnostic(span, message);
        if let Some(h) = help {
            diagnostic = diagnostic.with_help(h);
        }
        errors.push(ParseError {
            kind: ParseErrorKind::Annotation,
            span,
            diagnostic,
        });
    };
    // Where the annotation's argument starts (for carets under the name or expression).
    let argument_span = |a: &crate::parse::Annotation, argument: &str| {
        let text = sources.text(a.span);
        let at = text
            .rfind(argument)
            .map_or(a.span.start, |i| a.span.start + i);
        crate::source::Span::new(a.span.file, at, at + argument.len())
    };
    let table_renamed_from = |table: &QualifiedName| {
        desired
            .annotations
            .iter()
            .find_map(|a| match (&a.kind, &a.column) {
                (AnnotationKind::RenamedFrom(from), None) if &a.table == table => {
                    Some(QualifiedName::new(table.schema.clone(), from.clone()))
                }
                _ => None,
            })
    };
    for a in &desired.annotations {
        let live_table = live
            .tables
            .get(&a.table)
            .or_else(|| table_renamed_from(&a.table).and_then(|from| live.tables.get(&from)));
        let Some(column) = &a.column else {
            if let AnnotationKind::RenamedFrom(from) = &a.kind {
                let old = QualifiedName::new(a.table.schema.clone(), from.clone());
                if !live.tables.contains_key(&a.table) && !live.tables.contains_key(&old) {
                    push(
                        argument_span(a, from),
                        format!(
                            "`zdm:renamed-from` names table {old}, which does not exist in the live database (nor does {})",
                            a.table
                        ),
                        Some("remove the annotation if the table is new"),
                    );
                }
            }
            continue;
        };
        let Some(table) = live_table else {
            push(
                a.span,
                format!(
                    "annotation on {}.{}: table {} does not exist in the live database",
                    a.table,
                    quote_ident(column),
                    a.table
                ),
                Some("annotations describe how to get from the live table to this one; remove it for a new table"),
            );
            continue;
        };
        let has = |c: &str| table.column(c).is_some();
        let (expression, sql) = match &a.kind {
            AnnotationKind::Data | AnnotationKind::BackfillFrom(_) => continue,
            AnnotationKind::RenamedFrom(from) => {
                if !has(from) && !has(column) {
                    push(
                        argument_span(a, from),
                        format!(
                            "`zdm:renamed-from` names column {}, which does not exist in the live table {}",
                            quote_ident(from),
                            table.name
                        ),
                        None,
                    );
                }
                continue;
            }
            AnnotationKind::Backfill(expression) => {
                if has(column) {
                    continue;
                }
                (
                    expression,
                    format!("SELECT ({expression}) FROM {} LIMIT 0", table.name),
                )
            }
            AnnotationKind::Using(expression) => {
                let Some(live_column) = table.column(column) else {
                    push(
                        a.span,
                        format!(
                            "`zdm:using` is on column {}, which does not exist in the live table {}",
                            quote_ident(column),
                            table.name
                        ),
                        Some("a type conversion needs the column to exist; for a new column use `zdm:backfill`"),
                    );
                    continue;
                };
                let wanted = desired_model
                    .tables
                    .get(&a.table)
                    .and_then(|t| t.column(column))
                    .map(|c| c.data_type.clone());
                match wanted {
                    Some(t) if t != live_column.data_type => (
                        expression,
                        format!("SELECT ({expression})::{t} FROM {} LIMIT 0", table.name),
                    ),
                    _ => continue,
                }
            }
        };
        if let Err(e) = client.prepare(&sql).await {
            let span = argument_span(a, expression);
            let (message, at) = match e.as_db_error() {
                Some(db) => {
                    let offset = match db.position() {
                        Some(tokio_postgres::error::ErrorPosition::Original(p)) => {
                            let chars = (*p as usize).saturating_sub(1 + "SELECT (".len());
                            let within = crate::source::char_to_byte_offset(expression, chars);
                            (within < expression.len()).then_some(within)
                        }
                        _ => None,
                    };
                    (db.message().to_string(), span.start + offset.unwrap_or(0))
                }
                None => (e.to_string(), span.start),
            };
            let kind = match &a.kind {
                AnnotationKind::Backfill(_) => "backfill",
                _ => "using",
            };
            push(
                crate::source::Span::new(a.span.file, at, at),
                format!(
                    "`zdm:{kind}` expression does not type-check against the live table {}: {message}",
                    table.name
                ),
                None,
            );
        }
    }
    casts::check_type_changes(client, live, desired_model, desired, &mut errors).await;
    moved_rows::check(client, live, desired_model, desired, &mut errors).await;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WorkspaceError::Parse(ParseErrors(errors)))
    }
}
