//! `lock-timeout-missing`: a blocking lock without lock_timeout set before it.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::LockMode;

pub const RULE: Rule = Rule {
    id: "lock-timeout-missing",
    title: "a blocking lock without lock_timeout set before it",
    why: "A statement waiting for a lock that conflicts with writes (SHARE and stronger) makes every later query on the table queue behind it; without lock_timeout it waits as long as the longest running transaction.",
    instead: "SET lock_timeout = '100ms' (or SET LOCAL inside the transaction) before the statement, and retry when it times out",
    bad: "ALTER TABLE users ADD COLUMN nickname text;",
    good: "SET lock_timeout = '100ms';\nALTER TABLE users ADD COLUMN nickname text;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let lock = cx.statement.lock?;
    if lock < LockMode::Share || cx.state.lock_timeout_set() || cx.is_new_table() {
        return None;
    }
    Some(Hit {
        message: format!(
            "{} on {} is requested with no lock_timeout set",
            lock.as_str(),
            cx.table()
        ),
        lock: Some(lock),
        held: Held::Briefly,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
