//! `disallowed-unique-constraint`: ADD UNIQUE / PRIMARY KEY without USING INDEX.

use super::{display, Context, Held, Hit, Rule};
use crate::lint::summary::{ConstraintKind, LockMode};

pub const RULE: Rule = Rule {
    id: "disallowed-unique-constraint",
    title: "ADD UNIQUE / PRIMARY KEY without USING INDEX",
    why: "ADD CONSTRAINT ... UNIQUE or PRIMARY KEY builds its index under ACCESS EXCLUSIVE: no reads or writes for the whole build.",
    instead: "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE/PRIMARY KEY USING INDEX (a brief lock)",
    bad: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
    good: "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.is_new_table() {
        return None;
    }
    let c = cx.added_constraints().into_iter().find(|c| {
        matches!(c.kind, ConstraintKind::Unique | ConstraintKind::PrimaryKey) && !c.using_index
    })?;
    Some(Hit {
        message: format!(
            "constraint {} builds its index on {} under ACCESS EXCLUSIVE",
            display(&c.name),
            cx.table()
        ),
        lock: Some(LockMode::AccessExclusive),
        held: Held::IndexBuild,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
