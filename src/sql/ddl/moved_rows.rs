//! Rows moved into a new table by `-- zdm:backfill-from SELECT ...`: the query's parts, and the
//! SQL that keeps the new table in step (trigger body), copies it (keyset batch), asks whether
//! anything is left to copy, and checks the copy (counts, checksum, first differing keys).
//!
//! Supported shape, checked by `parse`: `SELECT <columns or aliased expressions> FROM <one
//! table> [[AS] alias] [WHERE <condition>]`, without subqueries: each target row is a function
//! of one source row, which is what a row trigger on the source can keep in step.

use serde::{Deserialize, Serialize};

use crate::model::QualifiedName;
use crate::sql::{quote_ident, quote_ident_list, quote_literal};

/// Where a table's rows come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSource {
    /// The query as written in the annotation.
    pub query: String,
    /// The one table it reads.
    pub source: QualifiedName,
    /// The name the select list and condition use for the source row (alias or table name).
    pub alias: String,
    /// The text between SELECT and FROM.
    pub select_list: String,
    /// The text after WHERE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub where_clause: Option<String>,
    /// The names of the query's output columns, in order.
    pub columns: Vec<String>,
    /// The source columns the query reads (for ordering the trigger's removal before them).
    pub reads: Vec<String>,
    /// The names of the functions it calls (an aggregate among them is refused at plan time:
    /// over one row in the trigger it computes something else than over the table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}

/// A row copy: the source query, where it goes and the target's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCopy {
    pub target: QualifiedName,
    pub target_key: Vec<String>,
    pub rows: RowSource,
}

impl RowCopy {
    fn columns(&self) -> String {
        quote_ident_list(&self.rows.columns)
    }

    fn key(&self) -> String {
        quote_ident_list(&self.target_key)
    }

    /// The query's rows computed from the one row `row` (`NEW` or `OLD` in a trigger).
    fn rows_of(&self, row: &str) -> String {
        format!(
            "SELECT {} FROM (SELECT {row}.*) AS {}{}",
            self.rows.select_list,
            quote_ident(&self.rows.alias),
            self.where_sql()
        )
    }

    fn where_sql(&self) -> String {
        self.rows
            .where_clause
            .as_ref()
            .map(|w| format!(" WHERE ({w})"))
            .unwrap_or_default()
    }

    /// `INSERT ... ON CONFLICT` tail: the newest write wins (`upsert`) or the row already
    /// there does (`DO NOTHING`, for the backfill, which may read an older version).
    fn on_conflict(&self, upsert: bool) -> String {
        let updates: Vec<String> = self
            .rows
            .columns
            .iter()
            .filter(|c| !self.target_key.contains(c))
            .map(|c| format!("{0} = EXCLUDED.{0}", quote_ident(c)))
            .collect();
        if !upsert || updates.is_empty() {
            format!("ON CONFLICT ({}) DO NOTHING", self.key())
        } else {
            format!(
                "ON CONFLICT ({}) DO UPDATE SET {}",
                self.key(),
                updates.join(", ")
            )
        }
    }

    /// The body of the row triggers on the source, attached twice: BEFORE UPDATE OR DELETE
    /// it removes the target rows whose key goes away (before the source row changes, so
    /// that a foreign key from the target to the source, whose checks fire before any AFTER
    /// trigger named `zdm_*`, finds no row left behind); AFTER INSERT OR UPDATE it upserts the
    /// new row's target rows by the target's primary key. Running it twice changes nothing.
    pub fn trigger_body(&self) -> String {
        let target = &self.target;
        let key = self.key();
        let old = self.rows_of("OLD");
        let new = self.rows_of("NEW");
        format!(
            "  IF TG_WHEN = 'BEFORE' THEN\n\
             \x20   IF TG_OP = 'DELETE' THEN\n\
             \x20     DELETE FROM {target} WHERE ({key}) IN (SELECT {key} FROM ({old}) AS zdm_old);\n\
             \x20     RETURN OLD;\n\
             \x20   END IF;\n\
             \x20   DELETE FROM {target} WHERE ({key}) IN (SELECT {key} FROM ({old}) AS zdm_old)\n\
             \x20     AND ({key}) NOT IN (SELECT {key} FROM ({new}) AS zdm_new);\n\
             \x20   RETURN NEW;\n\
             \x20 END IF;\n\
             \x20 INSERT INTO {target} ({cols}) {new}\n\
             \x20   {conflict};\n\
             \x20 RETURN NULL;\n",
            cols = self.columns(),
            conflict = self.on_conflict(true),
        )
    }

    /// One backfill batch after `lower` (a `WHERE` on the source key, or empty): the batch's
    /// source rows are locked `FOR SHARE` so that the old application cannot delete or change
    /// one between this copy reading it and committing (its trigger would find nothing to
    /// delete and the copy would leave a stale row); rows are read from the locked versions.
    /// Returns (rows copied, rows scanned, last key as text...).
    pub fn batch_sql(&self, source_key: &[String], lower: &str, size: i64) -> String {
        let source = &self.rows.source;
        let keys = quote_ident_list(source_key);
        let alias = quote_ident(&self.rows.alias);
        let descending: Vec<String> = source_key
            .iter()
            .map(|k| format!("{} DESC", quote_ident(k)))
            .collect();
        let last: Vec<String> = source_key
            .iter()
            .map(|k| format!("last.{}::text", quote_ident(k)))
            .collect();
        format!(
            "WITH batch AS (SELECT * FROM {source} {lower} ORDER BY {keys} LIMIT {size} FOR SHARE), \
             copied AS (INSERT INTO {target} ({cols}) SELECT {list} FROM batch AS {alias}{where_sql} {conflict} RETURNING 1) \
             SELECT (SELECT count(*) FROM copied), (SELECT count(*) FROM batch), {last} \
             FROM (SELECT {keys} FROM batch ORDER BY {desc} LIMIT 1) AS last",
            target = self.target,
            cols = self.columns(),
            list = self.rows.select_list,
            where_sql = self.where_sql(),
            conflict = self.on_conflict(false),
            last = last.join(", "),
            desc = descending.join(", "),
        )
    }

    /// Whether a row of the query is missing from the target (by key).
    pub fn pending_sql(&self) -> String {
        format!(
            "SELECT EXISTS (SELECT {key} FROM ({query}) AS zdm_q EXCEPT SELECT {key} FROM {target})",
            key = self.key(),
            query = self.rows.query,
            target = self.target,
        )
    }

    /// A DO block that fails, naming the first differing keys, unless the target holds
    /// exactly the query's rows: counts and an md5 over the copied columns (in key order)
    /// agree. One statement, so both sides are read in one snapshot while the old
    /// application writes (its trigger changes both in the same transaction).
    pub fn check_sql(&self) -> String {
        let cols = self.columns();
        let key = self.key();
        let text = |side: &str| {
            let parts: Vec<String> = self
                .target_key
                .iter()
                .map(|k| format!("{side}.{}::text", quote_ident(k)))
                .collect();
            format!("concat_ws(', ', {})", parts.join(", "))
        };
        let join: Vec<String> = self
            .target_key
            .iter()
            .map(|k| format!("s.{0} = t.{0}", quote_ident(k)))
            .collect();
        let first = self
            .target_key
            .first()
            .map(|k| quote_ident(k))
            .unwrap_or_default();
        format!(
            "DO $zdm$\nDECLARE r record;\nBEGIN\n\
             \x20 WITH s AS (SELECT {cols} FROM ({query}) AS zdm_q), t AS (SELECT {cols} FROM {target})\n\
             \x20 SELECT (SELECT count(*) FROM s) AS s_rows, (SELECT count(*) FROM t) AS t_rows,\n\
             \x20   (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY {key}), '')) FROM s AS x) AS s_sum,\n\
             \x20   (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY {key}), '')) FROM t AS x) AS t_sum,\n\
             \x20   (SELECT string_agg(k, '; ') FROM (SELECT coalesce({s_key}, {t_key}) AS k FROM s FULL JOIN t ON {join}\n\
             \x20      WHERE s.{first} IS NULL OR t.{first} IS NULL OR s::text <> t::text ORDER BY 1 LIMIT 5) AS d) AS keys\n\
             \x20 INTO r;\n\
             \x20 IF r.s_rows <> r.t_rows OR r.s_sum <> r.t_sum THEN\n\
             \x20   RAISE EXCEPTION 'the rows of % differ from its zdm:backfill-from query: % rows vs % from the query, checksum % vs %; first differing keys ({key_names}): %',\n\
             \x20     {target_lit}, r.t_rows, r.s_rows, r.t_sum, r.s_sum, r.keys;\n\
             \x20 END IF;\nEND\n$zdm$;",
            query = self.rows.query,
            target = self.target,
            s_key = text("s"),
            t_key = text("t"),
            join = join.join(" AND "),
            key_names = self.target_key.join(", ").replace('\'', "''"),
            target_lit = quote_literal(&self.target.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy() -> RowCopy {
        RowCopy {
            target: QualifiedName::new("public", "addresses"),
            target_key: vec!["user_id".into()],
            rows: RowSource {
                query: "SELECT id AS user_id, street FROM users WHERE street IS NOT NULL".into(),
                source: QualifiedName::new("public", "users"),
                alias: "users".into(),
                select_list: "id AS user_id, street".into(),
                where_clause: Some("street IS NOT NULL".into()),
                columns: vec!["user_id".into(), "street".into()],
                reads: vec!["id".into(), "street".into()],
                functions: Vec::new(),
            },
        }
    }

    #[test]
    fn the_trigger_upserts_by_the_target_key_and_deletes_old_keys() {
        let body = copy().trigger_body();
        assert!(body.contains("INSERT INTO public.addresses (user_id, street) SELECT id AS user_id, street FROM (SELECT NEW.*) AS users WHERE (street IS NOT NULL)"));
        assert!(body.contains("ON CONFLICT (user_id) DO UPDATE SET street = EXCLUDED.street"));
        assert!(body.contains("DELETE FROM public.addresses WHERE (user_id) IN (SELECT user_id FROM (SELECT id AS user_id, street FROM (SELECT OLD.*)"));
    }

    #[test]
    fn a_batch_locks_its_source_rows_and_never_overwrites() {
        let sql = copy().batch_sql(&["id".into()], "WHERE (id) > ('5'::bigint)", 100);
        assert!(sql.contains(
            "FROM public.users WHERE (id) > ('5'::bigint) ORDER BY id LIMIT 100 FOR SHARE"
        ));
        assert!(sql.contains(
            "FROM batch AS users WHERE (street IS NOT NULL) ON CONFLICT (user_id) DO NOTHING"
        ));
    }
}
