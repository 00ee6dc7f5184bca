//! A backfill as one statement a person can run with psql: a `DO` block that fills the column
//! in keyset batches and commits after each (PostgreSQL 11+ allows `COMMIT` in a `DO` block
//! run outside a transaction block), so that no batch holds its row locks for long — the same
//! loop `zdm apply` runs, without its adaptive batch size or its ledger cursor.

use crate::plan::Backfill;
use crate::sql::{quote_ident, quote_ident_list};

/// The `DO` block that fills `backfill` in batches of `batch_size` rows, each under
/// `lock_timeout_ms`. Idempotent: only rows still lacking their value are written, so a
/// stopped run is simply run again.
pub fn backfill_do_block(backfill: &Backfill, batch_size: i64, lock_timeout_ms: u64) -> String {
    if let Some(copy) = &backfill.rows {
        // Not written yet: say so in the script rather than print a loop that does not copy.
        return format!(
            "-- the rows of {} are copied by `zdm apply --phase backfill` (a psql loop for row copies is not written yet)\n",
            copy.target
        );
    }
    let keys = quote_ident_list(&backfill.key);
    let vars: Vec<String> = (0..backfill.key.len()).map(|i| format!("k{i}")).collect();
    let declare: String = vars
        .iter()
        .zip(&backfill.key_types)
        .map(|(v, t)| format!("  {v} {t};\n"))
        .collect();
    let descending: Vec<String> = backfill
        .key
        .iter()
        .map(|k| format!("{} DESC", quote_ident(k)))
        .collect();
    let batch = |bound: &str, indent: &str| {
        format!(
            "{indent}WITH batch AS (SELECT {keys} FROM {table} WHERE ({keys}) {bound} ({vars}) ORDER BY {keys} LIMIT {batch_size}),\n\
             {indent}     updated AS (UPDATE {table} SET {col} = {expr} WHERE {col} IS NULL AND ({keys}) IN (SELECT {keys} FROM batch))\n\
             {indent}SELECT {keys} INTO {vars} FROM batch ORDER BY {desc} LIMIT 1;\n",
            table = backfill.table,
            col = quote_ident(&backfill.column),
            expr = backfill.expression,
            vars = vars.join(", "),
            desc = descending.join(", "),
        )
    };
    format!(
        "DO $zdm_backfill$\nDECLARE\n{declare}\
         \x20 zdm_search_path text := pg_catalog.current_setting('search_path');\n\
         BEGIN\n\
         \x20 PERFORM pg_catalog.set_config('lock_timeout', '{lock_timeout_ms}ms', false);\n\
         \x20 -- as in zdm's sync triggers, so that the expression resolves the same way\n\
         \x20 PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false);\n\
         \x20 -- the first key, then batches after the last key of the one before\n\
         \x20 SELECT {keys} INTO {vars} FROM {table} ORDER BY {keys} LIMIT 1;\n\
         \x20 IF FOUND THEN\n\
         {first}\
         \x20   COMMIT;\n\
         \x20   LOOP\n{rest}\
         \x20     EXIT WHEN NOT FOUND;\n\
         \x20     COMMIT;\n\
         \x20   END LOOP;\n\
         \x20 END IF;\n\
         \x20 PERFORM pg_catalog.set_config('search_path', zdm_search_path, false);\n\
         END\n$zdm_backfill$;\n",
        vars = vars.join(", "),
        table = backfill.table,
        first = batch(">=", "    "),
        rest = batch(">", "      "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QualifiedName;

    #[test]
    fn the_block_commits_per_batch_and_resumes_after_the_last_key() {
        let backfill = Backfill {
            table: QualifiedName::new("public", "users"),
            column: "display_name".into(),
            expression: "concat(first_name, ' ', last_name)".into(),
            key: vec!["id".into()],
            key_types: vec!["bigint".into()],
            pending_only_where: None,
            rows: None,
        };
        let block = backfill_do_block(&backfill, 500, 100);
        assert!(block.starts_with("DO $zdm_backfill$"));
        assert!(block.trim_end().ends_with("$zdm_backfill$;"));
        assert!(block.contains("k0 bigint;"));
        assert!(block.contains("WHERE (id) > (k0) ORDER BY id LIMIT 500"));
        assert!(block.contains("'lock_timeout', '100ms'"));
        assert_eq!(block.matches("COMMIT;").count(), 2);
    }
}
