//! Indexes that stand on their own: not the index behind a PRIMARY KEY / UNIQUE / EXCLUDE
//! constraint (part of the constraint) and not a partition's copy of a parent index.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{get, CatalogError, Server, TableOids};
use crate::model::{Index, PartitionIndex, QualifiedName, Table};

pub(crate) async fn indexes(
    client: &Reader<'_>,
    server: Server,
    oids: &TableOids,
    tables: &mut BTreeMap<QualifiedName, Table>,
) -> Result<(), CatalogError> {
    const WHAT: &str = "indexes";
    let nulls_not_distinct = if server.version >= 150000 {
        "i.indnullsnotdistinct"
    } else {
        "false"
    };
    // The partitions' indexes attached to this one, as three parallel arrays.
    let children = |what: &str| {
        format!(
            "ARRAY(SELECT {what}
                   FROM pg_catalog.pg_inherits ih
                   JOIN pg_catalog.pg_index cx ON cx.indexrelid = ih.inhrelid
                   JOIN pg_catalog.pg_class ci ON ci.oid = cx.indexrelid
                   JOIN pg_catalog.pg_class ct ON ct.oid = cx.indrelid
                   JOIN pg_catalog.pg_namespace cn ON cn.oid = ct.relnamespace
                   WHERE ih.inhparent = i.indexrelid ORDER BY ci.oid)"
        )
    };
    let (children_schema, children_table, children_index) = (
        children("cn.nspname::text"),
        children("ct.relname::text"),
        children("ci.relname::text"),
    );
    let sql = format!(
        "SELECT i.indrelid, ic.relname::text, i.indisunique, am.amname::text,
                ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
                      FROM pg_catalog.generate_series(1, i.indnkeyatts) k ORDER BY k),
                ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
                      FROM pg_catalog.generate_series(i.indnkeyatts + 1, i.indnatts) k ORDER BY k),
                pg_catalog.pg_get_expr(i.indpred, i.indrelid),
                {nulls_not_distinct},
                pg_catalog.pg_get_indexdef(i.indexrelid),
                i.indisvalid,
                pg_catalog.obj_description(i.indexrelid, 'pg_class'),
                {children_schema}, {children_table}, {children_index}
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_catalog.pg_am am ON am.oid = ic.relam
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMA} AND {}
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint con
                           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                             AND con.contype IN ('p', 'u', 'x'))
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits inh
                           WHERE inh.inhrelid = i.indexrelid)",
        not_extension_member("pg_class", "c.oid")
    );
    for row in client.query(WHAT, &sql).await? {
        let relid: u32 = get(&row, 0, WHAT)?;
        let Some(table) = oids.get(&relid).and_then(|name| tables.get_mut(name)) else {
            continue;
        };
        let name: String = get(&row, 1, WHAT)?;
        let bare_keys: Vec<String> = get(&row, 4, WHAT)?;
        let definition: String = get(&row, 8, WHAT)?;
        // pg_get_indexdef(oid, k, true) renders the bare column or expression only; the
        // opclass, collation and ordering of each key are in the full definition's key list.
        let key_expressions = match key_list(&definition) {
            Some(keys) if keys.len() == bare_keys.len() => keys,
            _ => bare_keys,
        };
        table.indexes.insert(
            name.clone(),
            Index {
                name,
                unique: get(&row, 2, WHAT)?,
                method: get(&row, 3, WHAT)?,
                key_expressions,
                include: get(&row, 5, WHAT)?,
                predicate: get(&row, 6, WHAT)?,
                nulls_not_distinct: get(&row, 7, WHAT)?,
                definition,
                valid: get(&row, 9, WHAT)?,
                comment: get(&row, 10, WHAT)?,
                partitions: partition_indexes(&row)?,
            },
        );
    }
    Ok(())
}

/// Columns 11-13: the partitions' indexes attached to this one.
fn partition_indexes(row: &tokio_postgres::Row) -> Result<Vec<PartitionIndex>, CatalogError> {
    const WHAT: &str = "partition indexes";
    let schemas: Vec<String> = get(row, 11, WHAT)?;
    let tables: Vec<String> = get(row, 12, WHAT)?;
    let names: Vec<String> = get(row, 13, WHAT)?;
    Ok(schemas
        .into_iter()
        .zip(tables)
        .zip(names)
        .map(|((schema, table), name)| PartitionIndex {
            table: QualifiedName::new(schema, table),
            name,
        })
        .collect())
}

/// The items of the first parenthesised list of a `CREATE INDEX` statement as
/// `pg_get_indexdef` renders it (`... USING btree (a DESC, lower(b) text_pattern_ops)`):
/// split at top-level commas, aware of quoted identifiers and string literals.
pub(crate) fn key_list(definition: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = definition.chars().peekable();
    let mut started = false;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                // Copy the quoted run; a doubled quote stays inside it. Backslashes only
                // escape in E'' strings, which PostgreSQL renders as E'...'.
                let escaped = c == '\'' && current.ends_with(['E', 'e']);
                if started {
                    current.push(c);
                }
                loop {
                    let q = chars.next()?;
                    if started {
                        current.push(q);
                    }
                    if escaped && q == '\\' {
                        let next = chars.next()?;
                        if started {
                            current.push(next);
                        }
                    } else if q == c {
                        if chars.peek() == Some(&c) {
                            let next = chars.next()?;
                            if started {
                                current.push(next);
                            }
                        } else {
                            break;
                        }
                    }
                }
            }
            '(' => {
                if started {
                    current.push(c);
                } else {
                    started = true;
                }
                depth += 1;
            }
            ')' if started => {
                depth -= 1;
                if depth == 0 {
                    items.push(current.trim().to_string());
                    return Some(items);
                }
                current.push(c);
            }
            ',' if started && depth == 1 => {
                items.push(current.trim().to_string());
                current.clear();
            }
            _ if started => current.push(c),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::key_list;

    #[test]
    fn splits_key_list() {
        assert_eq!(
            key_list("CREATE INDEX i ON public.t USING btree (a DESC, lower(b) text_pattern_ops) INCLUDE (c)"),
            Some(vec!["a DESC".into(), "lower(b) text_pattern_ops".into()])
        );
        assert_eq!(
            key_list(
                r#"CREATE INDEX "a(b" ON public."t,(" USING gist ("x,)" COLLATE "C", (f(',)''', 2)))"#
            ),
            Some(vec![r#""x,)" COLLATE "C""#.into(), "(f(',)''', 2))".into()])
        );
        assert_eq!(
            key_list(r"CREATE INDEX i ON public.t USING btree ((c = E'\')x'))"),
            Some(vec![r"(c = E'\')x')".into()])
        );
        assert_eq!(key_list("CREATE INDEX i ON public.t USING btree (a"), None);
    }
}
