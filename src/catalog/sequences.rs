//! Sequences, with the column that owns them (`serial`). Identity sequences are part of their
//! column and excluded here.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError};
use crate::model::{ColumnRef, QualifiedName, Sequence};

pub(crate) async fn sequences(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, Sequence>, CatalogError> {
    const WHAT: &str = "sequences";
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text,
                pg_catalog.format_type(s.seqtypid, NULL),
                s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                own_n.nspname::text, own_c.relname::text, own_a.attname::text,
                pg_catalog.obj_description(c.oid, 'pg_class')
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
         LEFT JOIN pg_catalog.pg_depend d
                ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.refobjsubid > 0 AND d.deptype = 'a'
         LEFT JOIN pg_catalog.pg_class own_c ON own_c.oid = d.refobjid
         LEFT JOIN pg_catalog.pg_namespace own_n ON own_n.oid = own_c.relnamespace
         LEFT JOIN pg_catalog.pg_attribute own_a
                ON own_a.attrelid = d.refobjid AND own_a.attnum = d.refobjsubid
         WHERE c.relkind = 'S' AND {USER_SCHEMA} AND {}
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend idd
                           WHERE idd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                             AND idd.objid = c.oid AND idd.deptype = 'i')",
        not_extension_member("pg_class", "c.oid")
    );
    let mut sequences = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(get::<String>(&row, 0, WHAT)?, get::<String>(&row, 1, WHAT)?);
        let owner_schema: Option<String> = get(&row, 9, WHAT)?;
        let owner_table: Option<String> = get(&row, 10, WHAT)?;
        let owner_column: Option<String> = get(&row, 11, WHAT)?;
        let owned_by = match (owner_schema, owner_table, owner_column) {
            (Some(schema), Some(table), Some(column)) => Some(ColumnRef {
                table: QualifiedName::new(schema, table),
                column,
            }),
            _ => None,
        };
        sequences.insert(
            name.clone(),
            Sequence {
                name,
                data_type: get(&row, 2, WHAT)?,
                start: get(&row, 3, WHAT)?,
                increment: get(&row, 4, WHAT)?,
                min_value: get(&row, 5, WHAT)?,
                max_value: get(&row, 6, WHAT)?,
                cache: get(&row, 7, WHAT)?,
                cycle: get(&row, 8, WHAT)?,
                owned_by,
                comment: get(&row, 12, WHAT)?,
            },
        );
    }
    Ok(sequences)
}
