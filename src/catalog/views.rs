//! Which views and materialized views read which tables and columns. zdm does not manage
//! views, but it must know them: PostgreSQL refuses to drop a column or table a view reads, so
//! a plan that drops one carries a hazard naming the view.

use super::filter::USER_SCHEMA;
use super::{get, query, CatalogError};
use crate::model::{QualifiedName, ViewRead};
use tokio_postgres::Client;

pub(crate) async fn view_reads(client: &Client) -> Result<Vec<ViewRead>, CatalogError> {
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
    query(client, WHAT, &sql)
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
