//! Citus's distributed tables, read from its metadata (`pg_dist_partition`) when the live
//! database has it. zdm does not distribute tables; it reads which are distributed so that a
//! plan never issues what Citus refuses on them (see `plan::citus`).

use std::collections::BTreeMap;

use super::Reader;
use super::{get, CatalogError};
use crate::model::{Distribution, QualifiedName};

pub(crate) async fn distributed(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, Distribution>, CatalogError> {
    const WHAT: &str = "Citus distributed tables";
    let present: bool = get(
        &client
            .query_one(
                WHAT,
                "SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL",
            )
            .await?,
        0,
        WHAT,
    )?;
    if !present {
        return Ok(BTreeMap::new());
    }
    // `partkey` is the distribution column as a serialised Var node (NULL for reference
    // tables): its `:varattno` is the column's number, read here without Citus's own
    // functions so that the query does not depend on their version.
    let sql = "SELECT n.nspname::text, c.relname::text, p.partmethod::text, a.attname::text
         FROM pg_catalog.pg_dist_partition p
         JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
           AND a.attnum = pg_catalog.substring(p.partkey, ':varattno ([0-9]+)')::int2";
    let mut tables = BTreeMap::new();
    for row in client.query(WHAT, sql).await? {
        let name = QualifiedName::new(get::<String>(&row, 0, WHAT)?, get::<String>(&row, 1, WHAT)?);
        let method: String = get(&row, 2, WHAT)?;
        let column: Option<String> = get(&row, 3, WHAT)?;
        tables.insert(
            name,
            Distribution {
                reference: method == "n",
                column,
            },
        );
    }
    Ok(tables)
}
