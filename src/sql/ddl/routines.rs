//! DDL of functions and procedures. `pg_get_functiondef` already renders a complete
//! `CREATE OR REPLACE FUNCTION|PROCEDURE` statement, so creating and replacing run it as is.

use super::comment_on;
use crate::model::Routine;

/// Create or replace: the catalog's own statement.
pub fn create(routine: &Routine) -> String {
    let text = routine.definition.trim_end();
    if text.ends_with(';') {
        text.to_string()
    } else {
        format!("{text};")
    }
}

pub fn drop(routine: &Routine) -> String {
    format!("DROP {};", routine.id.sql())
}

pub fn comments(routine: &Routine) -> Vec<String> {
    routine
        .comment
        .iter()
        .map(|c| comment_on(&routine.id.sql(), Some(c)))
        .collect()
}

pub fn definition(routine: &Routine) -> String {
    let mut lines = vec![create(routine)];
    lines.extend(comments(routine));
    lines.join("\n")
}
