//! Schemas and extensions.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError};
use crate::model::{Extension, Schema};

pub(crate) async fn schemas(client: &Reader<'_>) -> Result<BTreeMap<String, Schema>, CatalogError> {
    const WHAT: &str = "schemas";
    let sql = format!(
        "SELECT n.nspname::text, pg_catalog.obj_description(n.oid, 'pg_namespace')
         FROM pg_catalog.pg_namespace n
         WHERE {USER_SCHEMA} AND {}",
        not_extension_member("pg_namespace", "n.oid")
    );
    let mut schemas = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name: String = get(&row, 0, WHAT)?;
        let comment = get(&row, 1, WHAT)?;
        schemas.insert(name.clone(), Schema { name, comment });
    }
    Ok(schemas)
}

pub(crate) async fn extensions(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, Extension>, CatalogError> {
    const WHAT: &str = "extensions";
    let sql = "SELECT e.extname::text, n.nspname::text, e.extversion,
                (SELECT a.default_version FROM pg_catalog.pg_available_extensions a
                 WHERE a.name = e.extname)
         FROM pg_catalog.pg_extension e
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace";
    let mut extensions = BTreeMap::new();
    for row in client.query(WHAT, sql).await? {
        let name: String = get(&row, 0, WHAT)?;
        extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: get(&row, 1, WHAT)?,
                version: get(&row, 2, WHAT)?,
                version_pinned: false,
                default_version: get(&row, 3, WHAT)?,
            },
        );
    }
    Ok(extensions)
}
