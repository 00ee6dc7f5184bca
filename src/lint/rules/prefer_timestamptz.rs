//! `prefer-timestamptz`: timestamp without time zone columns.

use super::{style_hit, Context, Hit, Rule};

pub const RULE: Rule = Rule {
    id: "prefer-timestamptz",
    title: "timestamp without time zone columns",
    why: "timestamp without time zone stores wall-clock time with no zone: values from servers or sessions in different zones do not compare.",
    instead: "timestamptz",
    bad: "CREATE TABLE events (at timestamp);",
    good: "CREATE TABLE events (at timestamptz);",
    style: true,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let column = cx
        .new_columns()
        .into_iter()
        .find(|c| c.type_name.as_ref().is_some_and(|t| t.name == "timestamp"))?;
    Some(style_hit(format!(
        "column {} is timestamp without time zone",
        column.name
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
