//! Index statements: `pg_get_indexdef` text re-targeted (another name, `CONCURRENTLY`), and
//! drops.

use crate::model::QualifiedName;
use crate::sql::quote_ident;

/// Rewrite `pg_get_indexdef` output (`CREATE [UNIQUE] INDEX name ON ...`) with another name
/// and, optionally, `CONCURRENTLY`.
pub fn index_sql(definition: &str, name: &str, concurrently: bool) -> String {
    let (prefix, rest) = if let Some(rest) = definition.strip_prefix("CREATE UNIQUE INDEX ") {
        ("CREATE UNIQUE INDEX", rest)
    } else if let Some(rest) = definition.strip_prefix("CREATE INDEX ") {
        ("CREATE INDEX", rest)
    } else {
        return format!("{definition};");
    };
    // pg_get_indexdef says `ON ONLY` for a partitioned table's index; run as is, that would
    // build an invalid index without its partitions' indexes.
    let after_name = skip_identifier(rest);
    let after_name = match after_name.strip_prefix(" ON ONLY ") {
        Some(tail) => format!(" ON {tail}"),
        None => after_name.to_string(),
    };
    let concurrently = if concurrently { " CONCURRENTLY" } else { "" };
    format!("{prefix}{concurrently} {}{after_name};", quote_ident(name))
}

/// The text after a leading (possibly quoted) identifier.
fn skip_identifier(text: &str) -> &str {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().map(|(_, c)| *c) == Some('"') {
                    chars.next();
                    continue;
                }
                return &quoted[i + 1..];
            }
        }
        ""
    } else {
        text.find(' ').map_or("", |i| &text[i..])
    }
}

/// `DROP INDEX [CONCURRENTLY IF EXISTS] index`: a concurrent drop may be retried after an
/// interrupted run that already dropped it.
pub fn drop(index: &QualifiedName, concurrently: bool) -> String {
    if concurrently {
        format!("DROP INDEX CONCURRENTLY IF EXISTS {index};")
    } else {
        format!("DROP INDEX {index};")
    }
}

/// `ALTER INDEX parent ATTACH PARTITION part`. Run again for a part already attached, it
/// changes nothing but makes PostgreSQL check again whether every partition has its part
/// (the parent index turns valid then).
pub fn attach_partition(parent: &QualifiedName, part: &QualifiedName) -> String {
    format!("ALTER INDEX {parent} ATTACH PARTITION {part};")
}

/// `ALTER INDEX index RENAME TO new_name` (an index stays in its schema).
pub fn rename(index: &QualifiedName, new_name: &str) -> String {
    format!("ALTER INDEX {index} RENAME TO {};", quote_ident(new_name))
}

/// An index definition on `relation` with `rest` (`USING method (...) ...`) taken from
/// another relation's, under a placeholder name that [`index_sql`] replaces.
pub fn on_relation(unique: bool, relation: &QualifiedName, rest: &str) -> String {
    let unique = if unique { "UNIQUE " } else { "" };
    format!("CREATE {unique}INDEX x ON {relation} {rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_and_makes_concurrent() {
        assert_eq!(
            index_sql(
                "CREATE UNIQUE INDEX \"Odd \"\" name\" ON public.t USING btree (a)",
                "zdm_new_x",
                true
            ),
            "CREATE UNIQUE INDEX CONCURRENTLY zdm_new_x ON public.t USING btree (a);"
        );
        assert_eq!(
            index_sql("CREATE INDEX i ON public.t USING btree (a)", "i", false),
            "CREATE INDEX i ON public.t USING btree (a);"
        );
    }
}
