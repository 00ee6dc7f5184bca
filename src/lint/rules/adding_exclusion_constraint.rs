//! `adding-exclusion-constraint`: ADD CONSTRAINT ... EXCLUDE.

use super::{display, Context, Held, Hit, Rule};
use crate::lint::summary::{ConstraintKind, LockMode};

pub const RULE: Rule = Rule {
    id: "adding-exclusion-constraint",
    title: "ADD CONSTRAINT ... EXCLUDE",
    why: "An exclusion constraint builds its index and checks every row under ACCESS EXCLUSIVE, and cannot be added NOT VALID or USING INDEX.",
    instead: "create the table with the constraint, or enforce it in a trigger; on an existing large table there is no online way",
    bad: "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);",
    good: "CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.is_new_table() {
        return None;
    }
    let c = cx
        .added_constraints()
        .into_iter()
        .find(|c| c.kind == ConstraintKind::Exclude)?;
    Some(Hit {
        message: format!(
            "exclusion constraint {} on {} builds and checks under ACCESS EXCLUSIVE",
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
