//! `multiple-exclusive-locks`: ACCESS EXCLUSIVE on several tables in one transaction.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::LockMode;

pub const RULE: Rule = Rule {
    id: "multiple-exclusive-locks",
    title: "ACCESS EXCLUSIVE on several tables in one transaction",
    why: "Each ACCESS EXCLUSIVE lock is held until the transaction ends: the first table stays locked while the next lock is waited for, and lock-order deadlocks become possible.",
    instead: "one table's change per transaction, each with lock_timeout",
    bad: "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE users ADD COLUMN note text;\nCOMMIT;",
    good: "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\nBEGIN;\nALTER TABLE users ADD COLUMN note text;\nCOMMIT;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.statement.lock != Some(LockMode::AccessExclusive) || cx.is_new_table() {
        return None;
    }
    let table = cx.statement.table.as_deref()?;
    let held = &cx.state.exclusive_tables_in_transaction;
    if held.is_empty() || held.iter().any(|t| t == table) {
        return None;
    }
    Some(Hit {
        message: format!(
            "ACCESS EXCLUSIVE on {table} while the transaction already holds it on {}",
            held.join(", ")
        ),
        lock: Some(LockMode::AccessExclusive),
        held: Held::UntilCommit,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
