//! `constraint-missing-not-valid`: ADD CONSTRAINT CHECK / FOREIGN KEY validated in the same step.

use super::{display, Context, Held, Hit, Rule};
use crate::lint::summary::{ConstraintKind, LockMode};

pub const RULE: Rule = Rule {
    id: "constraint-missing-not-valid",
    title: "ADD CONSTRAINT CHECK / FOREIGN KEY validated in the same step",
    why: "Adding a CHECK scans the table under ACCESS EXCLUSIVE; adding a FOREIGN KEY (also inline REFERENCES on a new column) scans it under SHARE ROW EXCLUSIVE on both tables, blocking their writes.",
    instead: "ADD CONSTRAINT ... NOT VALID (brief lock, no scan), then ALTER TABLE ... VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on)",
    bad: "ALTER TABLE orders ADD CONSTRAINT orders_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);",
    good: "ALTER TABLE orders ADD CONSTRAINT orders_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_org_fk;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.is_new_table() {
        return None;
    }
    let c = cx.added_constraints().into_iter().find(|c| {
        matches!(c.kind, ConstraintKind::Check | ConstraintKind::ForeignKey) && !c.not_valid
    })?;
    let (what, lock) = match c.kind {
        ConstraintKind::Check => ("CHECK", LockMode::AccessExclusive),
        _ => ("FOREIGN KEY", LockMode::ShareRowExclusive),
    };
    Some(Hit {
        message: format!(
            "{what} constraint {} on {} is validated as it is added",
            display(&c.name),
            cx.table()
        ),
        lock: Some(lock),
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
