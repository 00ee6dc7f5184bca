//! Columns, in `attnum` order.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError, TableOids};
use crate::model::{Column, Identity, IdentitySequence, QualifiedName, Table};

pub(crate) async fn columns(
    client: &Reader<'_>,
    oids: &TableOids,
    tables: &mut BTreeMap<QualifiedName, Table>,
) -> Result<(), CatalogError> {
    const WHAT: &str = "columns";
    // Collation only when it differs from the type's default; its schema is returned only when
    // it is not pg_catalog, matching how pg_get_indexdef / pg_get_constraintdef render it.
    let sql = format!(
        "SELECT a.attrelid, a.attname::text,
                pg_catalog.format_type(a.atttypid, a.atttypmod),
                a.attnotnull AND coalesce(nn.convalidated, true),
                pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
                a.attgenerated::text, a.attidentity::text,
                CASE WHEN a.attcollation <> t.typcollation AND co.oid IS NOT NULL
                     THEN NULLIF(con.nspname::text, 'pg_catalog') END,
                CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
                pg_catalog.col_description(a.attrelid, a.attnum),
                NOT a.attislocal,
                idn.nspname::text, idc.relname::text, ids.seqstart, ids.seqincrement,
                ids.seqmin, ids.seqmax, ids.seqcache, ids.seqcycle,
                nn.conname::text
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
         LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace
         -- An identity column's sequence depends on it internally ('i').
         LEFT JOIN pg_catalog.pg_depend idd
                ON idd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND idd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND idd.refobjid = a.attrelid AND idd.refobjsubid = a.attnum
               AND idd.deptype = 'i' AND a.attidentity <> ''
         -- PostgreSQL 18 keeps NOT NULL as a named constraint ('n'), possibly NOT VALID
         -- (attnotnull is already true then); before 18 there are no such rows.
         LEFT JOIN pg_catalog.pg_constraint nn
                ON nn.conrelid = a.attrelid AND nn.contype = 'n' AND nn.conkey[1] = a.attnum
         LEFT JOIN pg_catalog.pg_sequence ids ON ids.seqrelid = idd.objid
         LEFT JOIN pg_catalog.pg_class idc ON idc.oid = ids.seqrelid
         LEFT JOIN pg_catalog.pg_namespace idn ON idn.oid = idc.relnamespace
         WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
           AND {USER_SCHEMA} AND {}
         ORDER BY a.attrelid, a.attnum",
        not_extension_member("pg_class", "c.oid")
    );
    for row in client.query(WHAT, &sql).await? {
        let relid: u32 = get(&row, 0, WHAT)?;
        let Some(table) = oids.get(&relid).and_then(|name| tables.get_mut(name)) else {
            continue;
        };
        let expr: Option<String> = get(&row, 4, WHAT)?;
        let generated = get::<String>(&row, 5, WHAT)?;
        let virtual_generated = generated == "v";
        let (default, generated) = match generated.as_str() {
            "" => (expr, None),
            // 's' (stored) or, on 18+, 'v' (virtual).
            _ => (None, expr),
        };
        let identity = match get::<String>(&row, 6, WHAT)?.as_str() {
            "" => None,
            "a" => Some(Identity::Always),
            "d" => Some(Identity::ByDefault),
            other => {
                return Err(CatalogError::unexpected(
                    WHAT,
                    format!("attidentity {other:?}"),
                ))
            }
        };
        let collation_schema: Option<String> = get(&row, 7, WHAT)?;
        let collation_name: Option<String> = get(&row, 8, WHAT)?;
        let collation = collation_name.map(|name| match collation_schema {
            Some(schema) => QualifiedName::new(schema, name).to_string(),
            None => crate::sql::quote_ident(&name),
        });
        let identity_sequence = match identity {
            Some(_) => identity_sequence(&row)?,
            None => None,
        };
        table.columns.push(Column {
            name: get(&row, 1, WHAT)?,
            data_type: get(&row, 2, WHAT)?,
            not_null: get(&row, 3, WHAT)?,
            not_null_name: get(&row, 19, WHAT)?,
            default,
            identity,
            identity_sequence,
            generated,
            virtual_generated,
            collation,
            comment: get(&row, 9, WHAT)?,
            inherited: get(&row, 10, WHAT)?,
            overrides_parent: false,
        });
    }
    mark_partition_overrides(tables);
    Ok(())
}

/// Columns 11.. of the query above: the identity sequence, when there is one (a partition's
/// inherited identity column has none of its own).
fn identity_sequence(row: &tokio_postgres::Row) -> Result<Option<IdentitySequence>, CatalogError> {
    const WHAT: &str = "identity sequences";
    let (Some(schema), Some(name)) = (
        get::<Option<String>>(row, 11, WHAT)?,
        get::<Option<String>>(row, 12, WHAT)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(IdentitySequence {
        name: QualifiedName::new(schema, name),
        start: get(row, 13, WHAT)?,
        increment: get(row, 14, WHAT)?,
        min_value: get(row, 15, WHAT)?,
        max_value: get(row, 16, WHAT)?,
        cache: get(row, 17, WHAT)?,
        cycle: get(row, 18, WHAT)?,
    }))
}

/// Mark the inherited columns of partitions whose DEFAULT or NOT NULL differ from their
/// parent's: a partition's own settings, which its definition shows and the diff compares.
/// (A partition starts with copies of its parent's defaults and NOT NULLs, so equal values are
/// the parent's.)
fn mark_partition_overrides(tables: &mut BTreeMap<QualifiedName, Table>) {
    let parents: BTreeMap<QualifiedName, Vec<Column>> = tables
        .values()
        .filter_map(|t| t.partition_of.as_ref())
        .filter_map(|p| {
            let parent = tables.get(&p.parent)?;
            Some((p.parent.clone(), parent.columns.clone()))
        })
        .collect();
    for table in tables.values_mut() {
        let Some(parent) = table
            .partition_of
            .as_ref()
            .and_then(|p| parents.get(&p.parent))
        else {
            continue;
        };
        for column in table.columns.iter_mut().filter(|c| c.inherited) {
            if let Some(from_parent) = parent.iter().find(|p| p.name == column.name) {
                column.overrides_parent = column.default != from_parent.default
                    || (column.not_null && !from_parent.not_null);
            }
        }
    }
}
