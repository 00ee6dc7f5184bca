//! `adding-field-with-volatile-default`: ADD COLUMN with a volatile default (or a stored generated column).

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{DefaultKind, LockMode};

pub const RULE: Rule = Rule {
    id: "adding-field-with-volatile-default",
    title: "ADD COLUMN with a volatile default (or a stored generated column)",
    why: "Since PostgreSQL 11 a constant default is stored in the catalog, but a volatile one (gen_random_uuid(), random(), clock_timestamp(), nextval) or a STORED generated column is computed for every row: the whole table is rewritten under ACCESS EXCLUSIVE.",
    instead: "add the column without a default (or with a constant one), SET DEFAULT for new rows, then backfill existing rows in batches",
    bad: "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    good: "ALTER TABLE users ADD COLUMN token uuid;\nALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.is_new_table() {
        return None;
    }
    let column = cx
        .added_columns()
        .into_iter()
        .find(|c| c.default == Some(DefaultKind::Volatile) || c.generated_stored)?;
    Some(Hit {
        message: format!(
            "column {} of {} is computed for every existing row: the table is rewritten",
            column.name,
            cx.table()
        ),
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
