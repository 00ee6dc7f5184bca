//! The query of a view as written in a file. `pg_get_viewdef` is not a fixpoint: a
//! `varchar IN (...)` list comes back as `ANY ((ARRAY[...])::text[])`, and that text, applied
//! again, is stored as `ANY (ARRAY[(...)::text, ...])`. Creating a view from its source makes
//! the live database hold what the desired files would build (as `parse::checks` does for
//! CHECK constraints).

use pg_query::{DeparseOptions, NodeEnum};

use super::refs::{qualify_range_var, Ctx};
use crate::model::QualifiedName;

/// A plain view's query as written in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSource {
    pub view: QualifiedName,
    /// The query, deparsed from the statement's parse tree (comments and layout gone).
    pub query: String,
}

/// The query of `node` when it is a `CREATE [OR REPLACE] VIEW` whose text means the same
/// whenever it runs. Left out: a view with a column list (the names live outside the query),
/// and a query with `*`, which PostgreSQL expands to the columns the table has when the view
/// is created (in a migration, possibly columns the desired table no longer has).
pub(crate) fn view_source(
    node: &NodeEnum,
    json: &serde_json::Value,
    ctx: &Ctx,
) -> Option<ViewSource> {
    let NodeEnum::ViewStmt(stmt) = node else {
        return None;
    };
    if !stmt.aliases.is_empty() || mentions_star(json) {
        return None;
    }
    let query = stmt.query.as_deref()?.node.as_ref()?;
    let NodeEnum::SelectStmt(select) = query else {
        return None;
    };
    let query = NodeEnum::SelectStmt(select.clone())
        .deparse(DeparseOptions::default())
        .ok()?;
    Some(ViewSource {
        view: qualify_range_var(stmt.view.as_ref()?, ctx),
        query,
    })
}

/// Whether the serialised parse tree holds an `A_Star` (`*` or `t.*`), anywhere.
fn mentions_star(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(key, value)| key == "A_Star" || key == "AStar" || mentions_star(value)),
        serde_json::Value::Array(items) => items.iter().any(mentions_star),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(sql: &str) -> Vec<(String, String)> {
        let parsed = pg_query::parse(sql, 0).unwrap();
        parsed
            .protobuf
            .stmts
            .iter()
            .filter_map(|s| s.stmt.as_ref()?.node.as_ref())
            .filter_map(|node| {
                let json = serde_json::to_value(node).unwrap();
                view_source(node, &json, &Ctx::new())
            })
            .map(|s| (s.view.to_string(), s.query))
            .collect()
    }

    #[test]
    fn plain_views_only() {
        assert_eq!(
            sources(
                "CREATE VIEW app.paid AS SELECT id AS order_id,
                    CASE WHEN status IN ('paid', 'done') THEN amount END AS paid -- why
                    FROM orders ORDER BY order_id;
                 CREATE VIEW every AS SELECT * FROM orders;
                 CREATE VIEW some_of AS SELECT o.* FROM orders o;
                 CREATE VIEW named (a) AS SELECT id FROM orders;"
            ),
            [(
                "app.paid".to_string(),
                "SELECT id AS order_id, CASE WHEN status IN ('paid', 'done') THEN amount END AS paid \
                 FROM orders ORDER BY order_id"
                    .to_string()
            )]
        );
    }
}
