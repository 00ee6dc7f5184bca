//! `changing-column-type`: ALTER COLUMN ... TYPE that rewrites the table.

use super::{Context, Held, Hit, Rule};
use crate::lint::coercion::Coercion;
use crate::lint::summary::{AlterAction, LockMode};

pub const RULE: Rule = Rule {
    id: "changing-column-type",
    title: "ALTER COLUMN ... TYPE that rewrites the table",
    why: "Changing a column's type rewrites the table and its indexes under ACCESS EXCLUSIVE, unless the change is binary-coercible (varchar(n) to varchar(m>n) or text, numeric(p,s) to numeric(q>p,s), ...). Without --db the old type is known only when this file created the column.",
    instead: "an in-place change only when binary-coercible; otherwise add a new column, keep it in sync with a trigger, backfill in batches, switch reads, drop the old column in contract",
    bad: "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);",
    good: "CREATE TABLE notes (body varchar(100));\nALTER TABLE notes ALTER COLUMN body TYPE varchar(200);",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let table = cx.statement.table.clone().unwrap_or_default();
    let (column, how) = cx.alter_actions().iter().find_map(|a| match a {
        AlterAction::AlterType { column, to, using } => {
            match super::super::coercion::type_change(cx, &table, column, to.as_ref(), *using) {
                Coercion::InPlace => None,
                how => Some((column.clone(), how)),
            }
        }
        _ => None,
    })?;
    let message = match how {
        Coercion::Unknown => format!("type change of {table}.{column} rewrites the table unless it is binary-coercible (its old type is not in this file; --db checks pg_cast)"),
        _ => format!("type change of {table}.{column} rewrites the table and its indexes"),
    };
    Some(Hit {
        message,
        lock: Some(LockMode::AccessExclusive),
        held: Held::Rewrite,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
