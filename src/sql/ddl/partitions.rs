//! Statements that take a partition out of its parent and put it back in one transaction
//! (PostgreSQL 18: the only DDL that turns a partition's NOT NULL constraints back into
//! inherited-only ones, see `plan::recipes::partition_relink`).

use crate::model::QualifiedName;
use crate::sql::{quote_ident, quote_literal};

/// A `CHECK` holding the partition's own partition constraint, `NOT VALID`: once validated,
/// `ATTACH PARTITION` finds its bound proven and does not scan the partition. The expression
/// is read from the server when the statement runs (`pg_get_partition_constraintdef`), so it
/// is the one `ATTACH` compares with.
pub fn add_bound_check_not_valid(partition: &QualifiedName, check: &str) -> String {
    let table = quote_literal(&partition.to_string());
    let format = quote_literal(&format!(
        "ALTER TABLE {partition} ADD CONSTRAINT {} CHECK (%s) NOT VALID",
        quote_ident(check)
    ));
    format!(
        "DO $zdm$ BEGIN EXECUTE pg_catalog.format({format}, \
         pg_catalog.pg_get_partition_constraintdef({table}::pg_catalog.regclass)); END $zdm$;"
    )
}

/// `DETACH PARTITION` (not concurrently: in the caller's transaction, which holds the parent
/// under ACCESS EXCLUSIVE so no one sees it detached), the given constraint renames while the
/// partition stands alone, then `ATTACH PARTITION` under the same bound.
pub fn detach_and_attach(
    parent: &QualifiedName,
    partition: &QualifiedName,
    bound: &str,
    renames: &[(String, String)],
) -> Vec<String> {
    let mut sql = vec![format!(
        "ALTER TABLE {parent} DETACH PARTITION {partition};"
    )];
    sql.extend(
        renames
            .iter()
            .map(|(from, to)| super::tables::rename_constraint(partition, from, to)),
    );
    sql.push(format!(
        "ALTER TABLE {parent} ATTACH PARTITION {partition} {bound};"
    ));
    sql
}
