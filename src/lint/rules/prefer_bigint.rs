//! `prefer-bigint`: integer columns (prefer bigint).

use super::{style_hit, Context, Hit, Rule};

pub const RULE: Rule = Rule {
    id: "prefer-bigint",
    title: "integer columns (prefer bigint)",
    why: "A 32-bit integer key runs out at 2.1 billion, and widening it later rewrites the table.",
    instead: "bigint (or bigserial / an identity column on bigint)",
    bad: "CREATE TABLE events (id integer PRIMARY KEY);",
    good: "CREATE TABLE events (id bigint PRIMARY KEY);",
    style: true,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let column = cx.new_columns().into_iter().find(|c| {
        c.type_name.as_ref().is_some_and(|t| {
            !t.array
                && matches!(
                    t.name.as_str(),
                    "int4" | "int2" | "serial" | "serial4" | "smallserial" | "serial2"
                )
        })
    })?;
    Some(style_hit(format!(
        "column {} is a 32-bit or smaller integer",
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
