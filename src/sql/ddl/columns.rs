//! Column statements the recipes run: add, drop, rename, defaults, the clauses of one
//! `ALTER TABLE` that changes a column's attributes (type, identity, NOT NULL), and the batched
//! `UPDATE` of a backfill. Column names are given unquoted; every function quotes them.

use crate::model::{Column, Identity, IdentitySequence, QualifiedName};
use crate::sql::{quote_ident, quote_ident_list};

pub fn add(table: &QualifiedName, column: &Column) -> String {
    format!(
        "ALTER TABLE {table} ADD COLUMN {};",
        super::column_definition(table, column)
    )
}

/// `ONLY` leaves the column to the children that keep it as their own.
pub fn drop(table: &QualifiedName, column: &str, only: bool) -> String {
    let only = if only { "ONLY " } else { "" };
    format!(
        "ALTER TABLE {only}{table} DROP COLUMN {};",
        quote_ident(column)
    )
}

/// Drop and add again in one statement (a generated column whose expression changed).
pub fn recreate(table: &QualifiedName, column: &Column) -> String {
    format!(
        "ALTER TABLE {table} DROP COLUMN {}, ADD COLUMN {};",
        quote_ident(&column.name),
        super::column_definition(table, column)
    )
}

pub fn rename(table: &QualifiedName, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {table} RENAME COLUMN {} TO {};",
        quote_ident(from),
        quote_ident(to)
    )
}

pub fn set_default(table: &QualifiedName, column: &str, default: &str) -> String {
    alter(table, &[clause::set_default(column, default)])
}

pub fn drop_default(table: &QualifiedName, column: &str) -> String {
    alter(table, &[clause::drop_default(column)])
}

/// A stored generated column becomes a plain one and keeps its values.
pub fn drop_expression(table: &QualifiedName, column: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} DROP EXPRESSION;",
        quote_ident(column)
    )
}

/// A new type through text I/O (between user-defined types such as enums there is no cast).
pub fn retype_via_text(table: &QualifiedName, column: &str, data_type: &str) -> String {
    let col = quote_ident(column);
    format!(
        "ALTER TABLE {table} ALTER COLUMN {col} TYPE {data_type} USING {col}::text::{data_type};"
    )
}

/// One `ALTER TABLE` applying `clauses` (from [`clause`]) together, under one lock.
pub fn alter(table: &QualifiedName, clauses: &[String]) -> String {
    format!("ALTER TABLE {table} {};", clauses.join(", "))
}

/// The `UPDATE` a backfill runs per keyset batch: rows that already hold a value (written by
/// the new application) are left alone. The batch is a placeholder the applier fills in.
pub fn backfill_batch(
    table: &QualifiedName,
    column: &str,
    expression: &str,
    key: &[String],
) -> String {
    let col = quote_ident(column);
    let key_list = quote_ident_list(key);
    format!(
        "UPDATE {table} SET {col} = {expression} WHERE {col} IS NULL AND ({key_list}) IN (<next batch of {key_list}>);"
    )
}

/// The clauses of an `ALTER TABLE` that changes columns (joined by [`alter`]).
pub mod clause {
    use super::*;

    pub fn drop_column(column: &str) -> String {
        format!("DROP COLUMN {}", quote_ident(column))
    }

    pub fn drop_default(column: &str) -> String {
        format!("ALTER COLUMN {} DROP DEFAULT", quote_ident(column))
    }

    pub fn set_default(column: &str, default: &str) -> String {
        format!("ALTER COLUMN {} SET DEFAULT {default}", quote_ident(column))
    }

    pub fn drop_identity(column: &str) -> String {
        format!("ALTER COLUMN {} DROP IDENTITY", quote_ident(column))
    }

    pub fn drop_not_null(column: &str) -> String {
        format!("ALTER COLUMN {} DROP NOT NULL", quote_ident(column))
    }

    /// `TYPE` alone (binary-coercible: no rewrite), or with `COLLATE` and `USING`.
    pub fn set_type(
        column: &str,
        data_type: &str,
        collation: Option<&str>,
        using: Option<&str>,
    ) -> String {
        let col = quote_ident(column);
        match using {
            None => format!("ALTER COLUMN {col} TYPE {data_type}"),
            Some(using) => {
                let collate = collation
                    .map(|c| format!(" COLLATE {c}"))
                    .unwrap_or_default();
                format!("ALTER COLUMN {col} TYPE {data_type}{collate} USING {using}")
            }
        }
    }

    /// The `USING` expression when none is annotated: a plain cast, or through text when
    /// either type is user-defined (`schema.type`), since between those there is no cast.
    pub fn default_using(column: &str, from_type: &str, to_type: &str) -> String {
        let col = quote_ident(column);
        if from_type.contains('.') || to_type.contains('.') {
            format!("{col}::text::{to_type}")
        } else {
            format!("{col}::{to_type}")
        }
    }

    pub fn add_identity(
        column: &str,
        identity: Identity,
        sequence: Option<&IdentitySequence>,
    ) -> String {
        let options = sequence
            .map(|s| format!(" ({})", crate::sql::ddl::identity_options(s)))
            .unwrap_or_default();
        format!(
            "ALTER COLUMN {} ADD GENERATED {} AS IDENTITY{options}",
            quote_ident(column),
            crate::sql::ddl::identity_kind(identity)
        )
    }

    /// `ALTER COLUMN c SET ... SET ...`: the options from [`identity_changes`].
    pub fn alter_identity(column: &str, options: &[String]) -> String {
        format!("ALTER COLUMN {} {}", quote_ident(column), options.join(" "))
    }

    /// The `SET` options that take an identity column from `before` to `kind` and from the
    /// sequence options `old` to `new`, then `RESTART` (at the new START) when asked.
    pub fn identity_changes(
        before: Identity,
        kind: Identity,
        sequences: Option<(&IdentitySequence, &IdentitySequence)>,
        restart: bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if before != kind {
            out.push(format!(
                "SET GENERATED {}",
                crate::sql::ddl::identity_kind(kind)
            ));
        }
        let Some((old, new)) = sequences else {
            return out;
        };
        if old.increment != new.increment {
            out.push(format!("SET INCREMENT BY {}", new.increment));
        }
        if old.min_value != new.min_value {
            out.push(format!("SET MINVALUE {}", new.min_value));
        }
        if old.max_value != new.max_value {
            out.push(format!("SET MAXVALUE {}", new.max_value));
        }
        if old.start != new.start {
            out.push(format!("SET START WITH {}", new.start));
        }
        if old.cache != new.cache {
            out.push(format!("SET CACHE {}", new.cache));
        }
        if old.cycle != new.cycle {
            let cycle = if new.cycle {
                "SET CYCLE"
            } else {
                "SET NO CYCLE"
            };
            out.push(cycle.to_string());
        }
        if restart {
            out.push("RESTART".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        let t = QualifiedName::new("public", "Odd t");
        assert_eq!(
            drop(&t, "A", true),
            "ALTER TABLE ONLY public.\"Odd t\" DROP COLUMN \"A\";"
        );
        assert_eq!(
            alter(
                &t,
                &[clause::drop_default("a"), clause::set_default("a", "1")]
            ),
            "ALTER TABLE public.\"Odd t\" ALTER COLUMN a DROP DEFAULT, ALTER COLUMN a SET DEFAULT 1;"
        );
        assert_eq!(
            clause::set_type("a", "bigint", Some("\"C\""), Some("a::bigint")),
            "ALTER COLUMN a TYPE bigint COLLATE \"C\" USING a::bigint"
        );
        assert_eq!(
            backfill_batch(&t, "b", "a * 2", &["id".to_string()]),
            "UPDATE public.\"Odd t\" SET b = a * 2 WHERE b IS NULL AND (id) IN (<next batch of id>);"
        );
    }
}
