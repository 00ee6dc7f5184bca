//! Functions and procedures (`prokind` `f`, `w`, `p`; aggregates are in `aggregates`), each with
//! PostgreSQL's own rendering of its whole definition.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, not_internal, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{Kind, ObjectId, QualifiedName, Routine};

pub(crate) async fn routines(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, Routine>, CatalogError> {
    const WHAT: &str = "functions";
    let sql = format!(
        "SELECT n.nspname::text AS schema, p.proname::text AS name, p.prokind = 'p' AS procedure,
                pg_catalog.oidvectortypes(p.proargtypes) AS identity,
                pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
                CASE WHEN p.prokind <> 'p' THEN pg_catalog.pg_get_function_result(p.oid) END
                    AS result,
                pg_catalog.pg_get_functiondef(p.oid) AS definition,
                pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_catalog.pg_proc p
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prokind IN ('f', 'w', 'p') AND {USER_SCHEMA} AND {} AND {}",
        not_extension_member("pg_proc", "p.oid"),
        not_internal("pg_proc", "p.oid")
    );
    let mut routines = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        let kind = if named(&row, "procedure", WHAT)? {
            Kind::Procedure
        } else {
            Kind::Function
        };
        let id = ObjectId::routine(kind, &name, named::<String>(&row, "identity", WHAT)?);
        let definition: String = named(&row, "definition", WHAT)?;
        routines.insert(
            id.to_string(),
            Routine {
                id,
                name,
                arguments: named(&row, "arguments", WHAT)?,
                result: named(&row, "result", WHAT)?,
                definition: definition.trim_end().to_string(),
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(routines)
}
