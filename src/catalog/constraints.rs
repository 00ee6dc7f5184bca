//! Table constraints: primary key, unique, check, foreign key, exclusion. NOT NULL is a column
//! property (`Column::not_null`), so PG18's `contype = 'n'` rows are skipped; constraint
//! triggers (`'t'`) are listed as unmanaged triggers.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError, TableOids};
use crate::model::{
    Constraint, ConstraintKind, FkAction, FkMatch, ForeignKey, QualifiedName, Table,
};

pub(crate) async fn constraints(
    client: &Reader<'_>,
    oids: &TableOids,
    tables: &mut BTreeMap<QualifiedName, Table>,
) -> Result<(), CatalogError> {
    const WHAT: &str = "constraints";
    // A foreign key that references a partitioned table gets one extra, internal pg_constraint
    // row per referenced partition on the *same* referencing table (conparentid pointing at a
    // constraint of that same table): those are implementation detail and skipped. Clones on
    // partitions (parent constraint on the parent table) are kept, with `inherited`.
    let sql = format!(
        "SELECT con.conrelid, con.conname::text, con.contype::text,
                pg_catalog.pg_get_constraintdef(con.oid),
                ARRAY(SELECT a.attname::text
                      FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_catalog.pg_attribute a
                        ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                      ORDER BY k.ord),
                con.convalidated, con.condeferrable, con.condeferred,
                fn.nspname::text, fc.relname::text,
                ARRAY(SELECT a.attname::text
                      FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_catalog.pg_attribute a
                        ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                      ORDER BY k.ord),
                con.confupdtype::text, con.confdeltype::text, con.confmatchtype::text,
                CASE WHEN con.contype IN ('p', 'u', 'x') THEN ic.relname::text END,
                NOT con.conislocal,
                pg_catalog.obj_description(con.oid, 'pg_constraint'),
                CASE WHEN con.contype IN ('p', 'u', 'x') THEN pg_catalog.pg_get_indexdef(con.conindid) END,
                CASE WHEN con.contype = 'f' THEN ic.relname::text END
         FROM pg_catalog.pg_constraint con
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
         LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
         LEFT JOIN pg_catalog.pg_class ic ON ic.oid = con.conindid
         WHERE c.relkind IN ('r', 'p') AND con.contype IN ('p', 'u', 'c', 'f', 'x')
           AND {USER_SCHEMA} AND {}
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint pcon
                           WHERE pcon.oid = con.conparentid AND pcon.conrelid = con.conrelid)",
        not_extension_member("pg_class", "c.oid")
    );
    for row in client.query(WHAT, &sql).await? {
        let relid: u32 = get(&row, 0, WHAT)?;
        let Some(table) = oids.get(&relid).and_then(|name| tables.get_mut(name)) else {
            continue;
        };
        let name: String = get(&row, 1, WHAT)?;
        let kind = match get::<String>(&row, 2, WHAT)?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            "x" => ConstraintKind::Exclusion,
            other => return Err(CatalogError::unexpected(WHAT, format!("contype {other:?}"))),
        };
        let mut definition: String = get(&row, 3, WHAT)?;
        if let Some(stripped) = definition.strip_suffix(" NOT VALID") {
            definition.truncate(stripped.len());
        }
        let foreign_key = if kind == ConstraintKind::ForeignKey {
            let schema: Option<String> = get(&row, 8, WHAT)?;
            let referenced: Option<String> = get(&row, 9, WHAT)?;
            let (Some(schema), Some(referenced)) = (schema, referenced) else {
                return Err(CatalogError::unexpected(
                    WHAT,
                    format!("foreign key {name} without a referenced table"),
                ));
            };
            Some(ForeignKey {
                referenced_table: QualifiedName::new(schema, referenced),
                referenced_columns: get(&row, 10, WHAT)?,
                on_update: fk_action(&get::<String>(&row, 11, WHAT)?)?,
                on_delete: fk_action(&get::<String>(&row, 12, WHAT)?)?,
                match_type: fk_match(&get::<String>(&row, 13, WHAT)?)?,
                referenced_index: get(&row, 18, WHAT)?,
            })
        } else {
            None
        };
        table.constraints.insert(
            name.clone(),
            Constraint {
                name,
                kind,
                definition,
                columns: get(&row, 4, WHAT)?,
                validated: get(&row, 5, WHAT)?,
                deferrable: get(&row, 6, WHAT)?,
                initially_deferred: get(&row, 7, WHAT)?,
                foreign_key,
                index: get(&row, 14, WHAT)?,
                inherited: get(&row, 15, WHAT)?,
                comment: get(&row, 16, WHAT)?,
                index_definition: get(&row, 17, WHAT)?,
                source: None,
            },
        );
    }
    Ok(())
}

fn fk_action(code: &str) -> Result<FkAction, CatalogError> {
    Ok(match code {
        "a" => FkAction::NoAction,
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        other => {
            return Err(CatalogError::unexpected(
                "constraints",
                format!("foreign key action {other:?}"),
            ))
        }
    })
}

fn fk_match(code: &str) -> Result<FkMatch, CatalogError> {
    Ok(match code {
        "s" => FkMatch::Simple,
        "f" => FkMatch::Full,
        "p" => FkMatch::Partial,
        other => {
            return Err(CatalogError::unexpected(
                "constraints",
                format!("foreign key match type {other:?}"),
            ))
        }
    })
}
