//! Views and materialized views, and which tables and columns they read: PostgreSQL refuses
//! to drop or retype a column or table a view reads, so the planner re-creates the view
//! around such a change (or, where it cannot, says so in a hazard naming the view).

use std::collections::BTreeMap;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::Reader;
use super::{get, named, CatalogError};
use crate::model::{Kind, ObjectId, QualifiedName, View, ViewColumn, ViewIndex, ViewRead};

pub(crate) async fn view_reads(client: &Reader<'_>) -> Result<Vec<ViewRead>, CatalogError> {
    const WHAT: &str = "view dependencies";
    // A view's rewrite rule depends on each column it reads (refobjsubid = attnum) and, for
    // `SELECT *` and the like, on the table as a whole (refobjsubid = 0).
    let sql = format!(
        "SELECT DISTINCT vn.nspname::text, v.relname::text, n.nspname::text, t.relname::text,
                a.attname::text
         FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
         JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
         JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
         JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
         LEFT JOIN pg_catalog.pg_attribute a
                ON a.attrelid = t.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
         WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
           AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.deptype = 'n' AND v.relkind IN ('v', 'm') AND t.relkind IN ('r', 'p')
           AND v.oid <> t.oid AND {USER_SCHEMA}
         ORDER BY 1, 2, 3, 4, 5"
    );
    client
        .query(WHAT, &sql)
        .await?
        .iter()
        .map(|row| {
            Ok(ViewRead {
                view: QualifiedName::new(
                    get::<String>(row, 0, WHAT)?,
                    get::<String>(row, 1, WHAT)?,
                ),
                table: QualifiedName::new(
                    get::<String>(row, 2, WHAT)?,
                    get::<String>(row, 3, WHAT)?,
                ),
                column: get(row, 4, WHAT)?,
            })
        })
        .collect()
}

/// Views and materialized views with their columns, options, comments and (materialized
/// only) indexes.
pub(crate) async fn views(client: &Reader<'_>) -> Result<BTreeMap<String, View>, CatalogError> {
    const WHAT: &str = "views";
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind = 'm' AS materialized,
                c.relispopulated AS populated,
                pg_catalog.pg_get_viewdef(c.oid) AS definition,
                COALESCE(c.reloptions::text[], '{{}}') AS options,
                pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
                ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                      ORDER BY a.attnum) AS column_names,
                ARRAY(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
                      FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                      ORDER BY a.attnum) AS column_types,
                ARRAY(SELECT pg_catalog.col_description(c.oid, a.attnum)
                      FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                      ORDER BY a.attnum) AS column_comments
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('v', 'm') AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let mut views = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        let kind = if named(&row, "materialized", WHAT)? {
            Kind::MaterializedView
        } else {
            Kind::View
        };
        let names: Vec<String> = named(&row, "column_names", WHAT)?;
        let types: Vec<String> = named(&row, "column_types", WHAT)?;
        let comments: Vec<Option<String>> = named(&row, "column_comments", WHAT)?;
        let columns = names
            .into_iter()
            .zip(types)
            .zip(comments)
            .map(|((name, data_type), comment)| ViewColumn {
                name,
                data_type,
                comment,
            })
            .collect();
        let definition: String = named(&row, "definition", WHAT)?;
        let id = ObjectId::new(kind, name.schema.clone(), name.name.clone());
        views.insert(
            id.to_string(),
            View {
                id,
                name,
                definition: definition.trim().trim_end_matches(';').to_string(),
                columns,
                options: named(&row, "options", WHAT)?,
                comment: named(&row, "comment", WHAT)?,
                populated: named(&row, "populated", WHAT)?,
                indexes: BTreeMap::new(),
                source: None,
            },
        );
    }
    view_indexes(client, &mut views).await?;
    Ok(views)
}

async fn view_indexes(
    client: &Reader<'_>,
    views: &mut BTreeMap<String, View>,
) -> Result<(), CatalogError> {
    const WHAT: &str = "materialized view indexes";
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS view, ic.relname::text AS name,
                pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
                pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'm' AND {USER_SCHEMA}"
    );
    for row in client.query(WHAT, &sql).await? {
        let view = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "view", WHAT)?,
        );
        let key = ObjectId::new(Kind::MaterializedView, view.schema, view.name).to_string();
        let Some(view) = views.get_mut(&key) else {
            continue;
        };
        let name: String = named(&row, "name", WHAT)?;
        view.indexes.insert(
            name.clone(),
            ViewIndex {
                name,
                definition: named(&row, "definition", WHAT)?,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(())
}
