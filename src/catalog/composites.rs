//! Composite types: `pg_type.typtype = 'c'` whose relation is a `pg_class` of relkind `'c'`
//! (tables' and views' row types are their relations), with their attributes.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{Attribute, CompositeType, QualifiedName};

pub(crate) async fn composites(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, CompositeType>, CatalogError> {
    const WHAT: &str = "composite types";
    let sql = format!(
        "SELECT n.nspname::text AS schema, t.typname::text AS name,
                pg_catalog.obj_description(t.oid, 'pg_type') AS comment
         FROM pg_catalog.pg_type t
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
         WHERE t.typtype = 'c' AND c.relkind = 'c' AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_type", "t.oid")
    );
    let mut types = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        types.insert(
            name.clone(),
            CompositeType {
                name,
                attributes: Vec::new(),
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    attributes(client, &mut types).await?;
    Ok(types)
}

async fn attributes(
    client: &Reader<'_>,
    types: &mut BTreeMap<QualifiedName, CompositeType>,
) -> Result<(), CatalogError> {
    const WHAT: &str = "composite type attributes";
    // Collation only when it differs from the attribute type's, qualified like a column's.
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS type_name,
                a.attname::text AS name,
                pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
                CASE WHEN a.attcollation <> at.typcollation AND co.oid IS NOT NULL
                     THEN NULLIF(con.nspname::text, 'pg_catalog') END AS collation_schema,
                CASE WHEN a.attcollation <> at.typcollation THEN co.collname::text END
                    AS collation_name,
                pg_catalog.col_description(a.attrelid, a.attnum) AS comment
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
         LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace
         WHERE c.relkind = 'c' AND a.attnum > 0 AND NOT a.attisdropped AND {USER_SCHEMA}
         ORDER BY n.nspname, c.relname, a.attnum"
    );
    for row in client.query(WHAT, &sql).await? {
        let type_name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "type_name", WHAT)?,
        );
        let Some(composite) = types.get_mut(&type_name) else {
            continue;
        };
        let collation_schema: Option<String> = named(&row, "collation_schema", WHAT)?;
        let collation =
            named::<Option<String>>(&row, "collation_name", WHAT)?.map(
                |c| match collation_schema {
                    Some(schema) => QualifiedName::new(schema, c).to_string(),
                    None => crate::sql::quote_ident(&c),
                },
            );
        composite.attributes.push(Attribute {
            name: named(&row, "name", WHAT)?,
            data_type: named(&row, "data_type", WHAT)?,
            collation,
            comment: named(&row, "comment", WHAT)?,
        });
    }
    Ok(())
}
