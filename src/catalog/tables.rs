//! Tables: regular and partitioned, with partition key and bound, and the parents of an
//! inheritance child. Columns, constraints and
//! indexes are attached by their own readers, keyed by the oids returned here.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError, TableOids};
use crate::model::{PartitionOf, QualifiedName, ReplicaIdentity, Table, TableKind, TableStats};

pub(crate) async fn tables(
    client: &Reader<'_>,
) -> Result<(BTreeMap<QualifiedName, Table>, TableOids), CatalogError> {
    const WHAT: &str = "tables";
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
                c.relpersistence = 'u',
                CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
                pn.nspname::text, pc.relname::text,
                CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
                pg_catalog.obj_description(c.oid, 'pg_class'),
                c.reltuples::float8,
                c.relreplident::text,
                (SELECT ri.relname::text FROM pg_catalog.pg_index rx
                 JOIN pg_catalog.pg_class ri ON ri.oid = rx.indexrelid
                 WHERE rx.indrelid = c.oid AND rx.indisreplident),
                ARRAY(SELECT ip.nspname::text FROM pg_catalog.pg_inherits ii
                      JOIN pg_catalog.pg_class ic ON ic.oid = ii.inhparent
                      JOIN pg_catalog.pg_namespace ip ON ip.oid = ic.relnamespace
                      WHERE ii.inhrelid = c.oid AND NOT c.relispartition
                      ORDER BY ii.inhseqno),
                ARRAY(SELECT ic.relname::text FROM pg_catalog.pg_inherits ii
                      JOIN pg_catalog.pg_class ic ON ic.oid = ii.inhparent
                      WHERE ii.inhrelid = c.oid AND NOT c.relispartition
                      ORDER BY ii.inhseqno)
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
         LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
         LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let mut tables = BTreeMap::new();
    let mut oids = TableOids::new();
    for row in client.query(WHAT, &sql).await? {
        let oid: u32 = get(&row, 0, WHAT)?;
        let name = QualifiedName::new(get::<String>(&row, 1, WHAT)?, get::<String>(&row, 2, WHAT)?);
        let kind = match get::<String>(&row, 3, WHAT)?.as_str() {
            "r" => TableKind::Regular,
            "p" => TableKind::Partitioned,
            other => return Err(CatalogError::unexpected(WHAT, format!("relkind {other:?}"))),
        };
        let parent_schema: Option<String> = get(&row, 6, WHAT)?;
        let parent_name: Option<String> = get(&row, 7, WHAT)?;
        let bound: Option<String> = get(&row, 8, WHAT)?;
        let partition_of = match (parent_schema, parent_name, bound) {
            (Some(schema), Some(parent), Some(bound)) => Some(PartitionOf {
                parent: QualifiedName::new(schema, parent),
                bound,
            }),
            _ => None,
        };
        let replica_identity = match (
            get::<String>(&row, 11, WHAT)?.as_str(),
            get(&row, 12, WHAT)?,
        ) {
            ("f", _) => ReplicaIdentity::Full,
            ("n", _) => ReplicaIdentity::Nothing,
            ("i", Some(index)) => ReplicaIdentity::Index(index),
            // 'i' whose index is gone behaves as NOTHING; PostgreSQL resets it to 'd' then.
            _ => ReplicaIdentity::Default,
        };
        let parent_schemas: Vec<String> = get(&row, 13, WHAT)?;
        let parent_names: Vec<String> = get(&row, 14, WHAT)?;
        let inherits = parent_schemas
            .into_iter()
            .zip(parent_names)
            .map(|(schema, name)| QualifiedName::new(schema, name))
            .collect();
        let table = Table {
            name: name.clone(),
            kind,
            unlogged: get(&row, 4, WHAT)?,
            partition_key: get(&row, 5, WHAT)?,
            partition_of,
            inherits,
            columns: Vec::new(),
            constraints: BTreeMap::new(),
            indexes: BTreeMap::new(),
            comment: get(&row, 9, WHAT)?,
            replica_identity,
            stats: TableStats {
                estimated_rows: get(&row, 10, WHAT)?,
                // Filled by the row probe; until then assume the worst.
                has_rows: true,
            },
        };
        oids.insert(oid, name.clone());
        tables.insert(name, table);
    }
    Ok((tables, oids))
}
