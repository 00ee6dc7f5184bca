//! Whether an ALTER COLUMN ... TYPE rewrites the table: from the live database's pg_cast when
//! `--db` was given, else from a small list of changes known to be binary-coercible when the
//! file itself created the column.

use super::rules::Context;
use super::summary::TypeSummary;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coercion {
    /// Binary-coercible (or a wider length/precision): catalog only, no rewrite.
    InPlace,
    Rewrite,
    /// The old type is unknown (offline, and not created in this file).
    Unknown,
}

pub fn type_change(
    cx: &Context,
    table: &str,
    column: &str,
    to: Option<&TypeSummary>,
    using: bool,
) -> Coercion {
    let Some(to) = to else {
        return Coercion::Unknown;
    };
    if using {
        // A USING expression is evaluated for every row.
        return Coercion::Rewrite;
    }
    if let Some(verdict) = cx
        .db
        .and_then(|db| db.type_change(table, column, &written(to)))
    {
        return if verdict {
            Coercion::InPlace
        } else {
            Coercion::Rewrite
        };
    }
    match cx
        .state
        .column_types
        .get(&(table.to_string(), column.to_string()))
    {
        Some((name, modifiers)) => {
            if known_in_place(name, modifiers, to) {
                Coercion::InPlace
            } else {
                Coercion::Rewrite
            }
        }
        None => Coercion::Unknown,
    }
}

/// The type as PostgreSQL's `to_regtype` reads it.
pub fn written(t: &TypeSummary) -> String {
    let mods: Vec<String> = t.modifiers.iter().map(i64::to_string).collect();
    let base = if mods.is_empty() {
        t.name.clone()
    } else {
        format!("{}({})", t.name, mods.join(","))
    };
    if t.array {
        format!("{base}[]")
    } else {
        base
    }
}

/// The binary-coercible changes of the recipes table: varchar(n) to varchar(m >= n) or
/// unbounded or text, text to varchar (unbounded), numeric(p,s) to numeric(q >= p, s) or
/// unbounded, the same type again, and varbit/bit lengths up.
pub fn known_in_place(from: &str, from_mods: &[i64], to: &TypeSummary) -> bool {
    if to.array {
        return false;
    }
    let wider = |to_mods: &[i64]| match (from_mods.first(), to_mods.first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => b >= a,
    };
    match (from, to.name.as_str()) {
        ("varchar", "varchar") => wider(&to.modifiers),
        ("varchar" | "text", "text") => true,
        ("text", "varchar") => to.modifiers.is_empty(),
        ("numeric", "numeric") => {
            to.modifiers.is_empty()
                || (wider(&to.modifiers) && from_mods.get(1) == to.modifiers.get(1))
        }
        ("varbit", "varbit") => wider(&to.modifiers),
        (a, b) => a == b && from_mods == to.modifiers.as_slice(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, modifiers: &[i64]) -> TypeSummary {
        TypeSummary {
            name: name.to_string(),
            modifiers: modifiers.to_vec(),
            array: false,
        }
    }

    #[test]
    fn widening_is_in_place_and_narrowing_is_not() {
        assert!(known_in_place("varchar", &[100], &t("varchar", &[200])));
        assert!(known_in_place("varchar", &[100], &t("text", &[])));
        assert!(!known_in_place("varchar", &[200], &t("varchar", &[100])));
        assert!(known_in_place("numeric", &[10, 2], &t("numeric", &[12, 2])));
        assert!(!known_in_place(
            "numeric",
            &[10, 2],
            &t("numeric", &[12, 3])
        ));
        assert!(!known_in_place("int4", &[], &t("int8", &[])));
    }
}
