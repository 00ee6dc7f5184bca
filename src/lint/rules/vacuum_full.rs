//! `vacuum-full`: VACUUM FULL.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "vacuum-full",
    title: "VACUUM FULL",
    why: "VACUUM FULL rewrites the whole table under ACCESS EXCLUSIVE: no reads or writes until it ends.",
    instead: "plain VACUUM (no blocking lock), or pg_repack / pg_squeeze to compact a table online",
    bad: "VACUUM FULL orders;",
    good: "VACUUM (ANALYZE) orders;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::VacuumFull) {
        return None;
    }
    Some(Hit {
        message: format!("VACUUM FULL rewrites {} under ACCESS EXCLUSIVE", cx.table()),
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
