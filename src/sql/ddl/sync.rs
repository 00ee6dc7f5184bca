//! The sync triggers of the online recipes (renames, retypes, derived columns): a PL/pgSQL
//! function in zdm's own schema and the row trigger that runs it, plus the bodies the recipes
//! give it. Column names are given unquoted.

use crate::model::QualifiedName;
use crate::sql::quote_ident;

/// (Re)create `function` in schema `zdm` with `body` (the statements between BEGIN and END,
/// each line ending in a newline) and fire it on `events` for every row of `table`. Safe to
/// run again. The function's `search_path` is pinned: it runs as whoever writes the table, and
/// what it calls must not depend on what that writer (or anyone who can create functions on
/// its path) has put there.
pub fn install(
    function: &QualifiedName,
    trigger: &str,
    table: &QualifiedName,
    body: &str,
    events: &str,
) -> String {
    format!(
        "CREATE SCHEMA IF NOT EXISTS zdm;\n\
         CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql\n\
         \x20 SET search_path = pg_catalog, pg_temp AS $zdm$\n\
         BEGIN\n{body}END\n$zdm$;\n\
         {}\n\
         CREATE TRIGGER {trigger} {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();",
        drop_trigger(trigger, table),
        trigger = quote_ident(trigger),
    )
}

/// `DROP TRIGGER IF EXISTS`: zdm's triggers may be gone already (an interrupted run, or a
/// rehearsal's copy of the live schema, which has none of them).
pub fn drop_trigger(trigger: &str, table: &QualifiedName) -> String {
    format!(
        "DROP TRIGGER IF EXISTS {} ON {table};",
        quote_ident(trigger)
    )
}

pub fn drop_function(function: &QualifiedName) -> String {
    format!("DROP FUNCTION IF EXISTS {function}();")
}

/// The trigger, then its function.
pub fn drop(trigger: &str, table: &QualifiedName, function: &QualifiedName) -> String {
    format!(
        "{}\n{}",
        drop_trigger(trigger, table),
        drop_function(function)
    )
}

/// `column` computed from `expression` over the row being written.
fn compute(column: &str, expression: &str) -> String {
    format!(
        "SELECT {expression} INTO NEW.{} FROM (SELECT NEW.*) AS zdm_row;",
        quote_ident(column)
    )
}

/// A shadow column always computed from `expression` (a retype's new column).
pub fn computed_body(column: &str, expression: &str) -> String {
    format!("  {}\n  RETURN NEW;\n", compute(column, expression))
}

/// A derived column computed from `expression`, keeping a value written into it: an INSERT
/// fills it only when NULL, an UPDATE recomputes it only when one of the `sources` changed
/// and the column did not.
pub fn derived_body(column: &str, expression: &str, sources: &[String]) -> String {
    let col = quote_ident(column);
    let compute = compute(column, expression);
    let update_branch = if sources.is_empty() {
        String::new()
    } else {
        let row = |prefix: &str| {
            sources
                .iter()
                .map(|c| format!("{prefix}.{}", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "  ELSIF NEW.{col} IS NOT DISTINCT FROM OLD.{col}\n        AND ROW({}) IS DISTINCT FROM ROW({}) THEN\n    {compute}\n",
            row("NEW"),
            row("OLD")
        )
    };
    format!(
        "  IF TG_OP = 'INSERT' THEN\n    IF NEW.{col} IS NULL THEN\n      {compute}\n    END IF;\n{update_branch}  END IF;\n  RETURN NEW;\n"
    )
}

/// Two names of one column kept equal whichever application writes: an INSERT fills `new`
/// from `old` when `new` is NULL (the old application does not know it), `old` from `new`
/// otherwise; an UPDATE copies whichever column changed.
pub fn two_way_body(old: &str, new: &str) -> String {
    let (o, n) = (quote_ident(old), quote_ident(new));
    format!(
        "  IF TG_OP = 'INSERT' THEN\n    IF NEW.{n} IS NULL THEN\n      NEW.{n} := NEW.{o};\n    ELSE\n      NEW.{o} := NEW.{n};\n    END IF;\n  \
         ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN\n    NEW.{o} := NEW.{n};\n  \
         ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN\n    NEW.{n} := NEW.{o};\n  END IF;\n  RETURN NEW;\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_quote_columns() {
        assert_eq!(
            computed_body("New", "a::bigint"),
            "  SELECT a::bigint INTO NEW.\"New\" FROM (SELECT NEW.*) AS zdm_row;\n  RETURN NEW;\n"
        );
        let t = QualifiedName::new("public", "t");
        let f = QualifiedName::new("zdm", "f");
        assert_eq!(
            drop("trg", &t, &f),
            "DROP TRIGGER IF EXISTS trg ON public.t;\nDROP FUNCTION IF EXISTS zdm.f();"
        );
    }
}
