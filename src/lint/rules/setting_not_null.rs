//! `setting-not-null`: ALTER COLUMN ... SET NOT NULL.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{AlterAction, LockMode};

pub const RULE: Rule = Rule {
    id: "setting-not-null",
    title: "ALTER COLUMN ... SET NOT NULL",
    why: "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE to prove there is no NULL, unless a validated CHECK (c IS NOT NULL) already proves it (PostgreSQL 12+).",
    instead: "ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c_nn (SHARE UPDATE EXCLUSIVE); then SET NOT NULL (no scan) and drop the check",
    bad: "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    good: "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.is_new_table() {
        return None;
    }
    let table = cx.statement.table.clone().unwrap_or_default();
    let column = cx.alter_actions().iter().find_map(|a| match a {
        AlterAction::SetNotNull { column }
            if !cx
                .state
                .proven_not_null
                .contains(&(table.clone(), column.clone())) =>
        {
            Some(column.clone())
        }
        _ => None,
    })?;
    Some(Hit {
        message: format!("SET NOT NULL on {table}.{column} scans the table under ACCESS EXCLUSIVE"),
        lock: Some(LockMode::AccessExclusive),
        held: Held::Scan,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
