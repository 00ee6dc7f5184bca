//! Enum types. (Domains are in `domains`, composite types in `composites`, range types in
//! `ranges`.)

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError};
use crate::model::{EnumType, QualifiedName};

pub(crate) async fn enums(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, EnumType>, CatalogError> {
    const WHAT: &str = "enums";
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text,
                ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                      WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
                pg_catalog.obj_description(t.oid, 'pg_type')
         FROM pg_catalog.pg_type t
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE t.typtype = 'e' AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_type", "t.oid")
    );
    let mut enums = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(get::<String>(&row, 0, WHAT)?, get::<String>(&row, 1, WHAT)?);
        enums.insert(
            name.clone(),
            EnumType {
                name,
                labels: get(&row, 2, WHAT)?,
                comment: get(&row, 3, WHAT)?,
            },
        );
    }
    Ok(enums)
}
