//! Range types: `pg_type.typtype = 'r'` with their `pg_range` row. The multirange type
//! (`rngmultitypid`, PostgreSQL 14+) is read through `to_jsonb` of the row, so that the query
//! also runs on 13.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{QualifiedName, RangeType};

pub(crate) async fn ranges(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, RangeType>, CatalogError> {
    const WHAT: &str = "range types";
    // Functions, operator classes and collations outside `pg_catalog` come out qualified:
    // the catalog is read with an empty search_path.
    let sql = format!(
        "SELECT n.nspname::text AS schema, t.typname::text AS name,
                pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
                CASE WHEN NOT opc.opcdefault THEN
                     CASE WHEN opn.nspname = 'pg_catalog'
                          THEN pg_catalog.quote_ident(opc.opcname)
                          ELSE pg_catalog.quote_ident(opn.nspname) || '.'
                               || pg_catalog.quote_ident(opc.opcname) END END AS opclass,
                CASE WHEN r.rngcollation <> st.typcollation AND co.oid IS NOT NULL THEN
                     CASE WHEN con.nspname = 'pg_catalog'
                          THEN pg_catalog.quote_ident(co.collname)
                          ELSE pg_catalog.quote_ident(con.nspname) || '.'
                               || pg_catalog.quote_ident(co.collname) END END AS collation,
                NULLIF(r.rngcanonical, 0)::pg_catalog.regproc::text AS canonical,
                NULLIF(r.rngsubdiff, 0)::pg_catalog.regproc::text AS subtype_diff,
                mn.nspname::text AS multirange_schema, m.typname::text AS multirange_name,
                pg_catalog.obj_description(t.oid, 'pg_type') AS comment
         FROM pg_catalog.pg_type t
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
         JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
         JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
         JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = r.rngcollation
         LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace
         LEFT JOIN pg_catalog.pg_type m
                ON m.oid = (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid
         LEFT JOIN pg_catalog.pg_namespace mn ON mn.oid = m.typnamespace
         WHERE t.typtype = 'r' AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_type", "t.oid")
    );
    let mut out = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        let multirange = match (
            named::<Option<String>>(&row, "multirange_schema", WHAT)?,
            named::<Option<String>>(&row, "multirange_name", WHAT)?,
        ) {
            (Some(schema), Some(name)) => Some(QualifiedName::new(schema, name)),
            _ => None,
        };
        out.insert(
            name.clone(),
            RangeType {
                name,
                subtype: named(&row, "subtype", WHAT)?,
                subtype_opclass: named(&row, "opclass", WHAT)?,
                collation: named(&row, "collation", WHAT)?,
                canonical: named(&row, "canonical", WHAT)?,
                subtype_diff: named(&row, "subtype_diff", WHAT)?,
                multirange,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(out)
}
