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
/// under ACCESS EXCLUSIVE so no one sees it detached), the NOT NULL constraints of the given
/// columns renamed while the partition stands alone, then `ATTACH PARTITION` under the same
/// bound.
pub fn detach_and_attach(
    parent: &QualifiedName,
    partition: &QualifiedName,
    bound: &str,
    not_null_names: &[(String, String)],
) -> Vec<String> {
    let mut sql = vec![format!(
        "ALTER TABLE {parent} DETACH PARTITION {partition};"
    )];
    sql.extend(
        not_null_names
            .iter()
            .map(|(column, name)| rename_not_null(partition, column, name)),
    );
    sql.push(format!(
        "ALTER TABLE {parent} ATTACH PARTITION {partition} {bound};"
    ));
    sql
}

/// Give `column`'s NOT NULL constraint the name `name`, whatever it is called now: found by
/// its column when the statement runs, so that the same step serves the live database and the
/// copy a plan is rehearsed on, whose names zdm cannot always reproduce.
fn rename_not_null(table: &QualifiedName, column: &str, name: &str) -> String {
    let relation = quote_literal(&table.to_string());
    let statement = quote_literal(&format!("ALTER TABLE {table} RENAME CONSTRAINT %I TO %I"));
    let (column, name) = (quote_literal(column), quote_literal(name));
    format!(
        "DO $zdm$ DECLARE current name; BEGIN \
         SELECT c.conname INTO current FROM pg_catalog.pg_constraint c \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.conrelid = {relation}::pg_catalog.regclass AND c.contype = 'n' AND a.attname = {column}; \
         IF current IS DISTINCT FROM {name} THEN \
         EXECUTE pg_catalog.format({statement}, current, {name}); END IF; END $zdm$;"
    )
}
