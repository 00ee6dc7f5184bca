//! Asking the server how it resolves an expression: every function and operator bound once,
//! rendered with an empty `search_path` so that whatever is not in `pg_catalog` comes back
//! schema-qualified. zdm's sync trigger functions run with `search_path = pg_catalog,
//! pg_temp`; an expression taken from an annotation is put in them in this form, so a
//! function created later in a schema on the writer's path (a hostile `public.concat`) cannot
//! change what the trigger computes.
//!
//! Unqualified names resolve in `pg_catalog` first: a built-in stays the built-in even where
//! a schema on the default path holds a closer match. Only an expression that does not
//! resolve there (it calls a function of the application's own, unqualified) is resolved on
//! the session's path, and comes back naming that function's schema.

use tokio_postgres::Client;

use crate::model::QualifiedName;

const PROBE: &str = "zdm_resolve_probe";

/// `expression` (over the columns of `table`) as PostgreSQL resolves it, or `None` when it
/// cannot be rendered this way (e.g. it holds a subquery, which a CHECK may not).
pub async fn resolved_expression(
    client: &Client,
    table: &QualifiedName,
    expression: &str,
) -> Option<String> {
    for path in ["SET LOCAL search_path = pg_catalog, pg_temp;", ""] {
        if let Some(resolved) = resolve_on(client, table, expression, path).await {
            return Some(resolved);
        }
    }
    None
}

/// One attempt, with `path` (a `SET LOCAL search_path`, or nothing for the session's own).
async fn resolve_on(
    client: &Client,
    table: &QualifiedName,
    expression: &str,
    path: &str,
) -> Option<String> {
    // A CHECK on an empty temporary copy of the table: columns stay bare, names outside
    // pg_catalog come back qualified; nothing outside the rolled-back transaction changes.
    let script = format!(
        "BEGIN; {path} \
         CREATE TEMP TABLE {PROBE} (LIKE {table}); \
         ALTER TABLE pg_temp.{PROBE} ADD CONSTRAINT {PROBE} CHECK (({expression}) IS NOT NULL) NOT VALID; \
         SET LOCAL search_path = '';"
    );
    if client.batch_execute(&script).await.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
        return None;
    }
    let row = client
        .query_one(
            "SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint \
             WHERE conname = $1 AND conrelid = 'pg_temp.zdm_resolve_probe'::pg_catalog.regclass",
            &[&PROBE],
        )
        .await;
    let _ = client.batch_execute("ROLLBACK").await;
    let definition: String = row.ok()?.get(0);
    strip_probe(&definition)
}

/// `CHECK ((<expr>) IS NOT NULL) NOT VALID` -> `<expr>`.
fn strip_probe(definition: &str) -> Option<String> {
    let inner = definition
        .strip_prefix("CHECK ((")?
        .trim_end_matches(" NOT VALID")
        .strip_suffix(" IS NOT NULL))")?;
    Some(inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::strip_probe;

    #[test]
    fn the_probe_is_stripped_to_the_expression() {
        assert_eq!(
            strip_probe("CHECK ((concat(a, ' '::text, b) IS NOT NULL)) NOT VALID").as_deref(),
            Some("concat(a, ' '::text, b)")
        );
        assert_eq!(
            strip_probe("CHECK (((a + b) IS NOT NULL)) NOT VALID").as_deref(),
            Some("(a + b)")
        );
        assert_eq!(strip_probe("CHECK ((a > 0))"), None);
    }
}
