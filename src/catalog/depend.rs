//! `pg_depend` (with `pg_rewrite` resolved to the view a rule belongs to) as edges between
//! [`ObjectId`]s: what each view and routine needs. Triggers' edges (table, function) come
//! from the trigger itself. PL/pgSQL bodies record nothing here; SQL-standard bodies
//! (`BEGIN ATOMIC`, PG14+) and SQL views do.

use super::Reader;

use super::filter::USER_SCHEMA;
use super::{named, CatalogError};
use crate::model::{Dependency, Kind, ObjectId, Trigger};

/// Objects an edge may start or end at, as `(classid, oid, kind, schema, name, args)`. A
/// relation's row type stands for the relation (a function returning `SETOF some_view`).
pub(crate) fn objects() -> String {
    format!(
        "SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid AS classid, c.oid,
                CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view'
                     WHEN 'c' THEN 'type' ELSE 'table' END AS kind,
                n.nspname::text AS schema, c.relname::text AS name, NULL::text AS args
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c') AND {USER_SCHEMA}
         UNION ALL
         SELECT 'pg_catalog.pg_type'::pg_catalog.regclass::oid, t.oid,
                CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view'
                     WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' ELSE 'type' END,
                n.nspname::text, COALESCE(c.relname, e.typname)::text, NULL::text
         FROM pg_catalog.pg_type t
         -- An array type stands for its element type.
         JOIN pg_catalog.pg_type e
           ON e.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem
                           ELSE t.oid END
         JOIN pg_catalog.pg_namespace n ON n.oid = e.typnamespace
         LEFT JOIN pg_catalog.pg_class c ON c.oid = e.typrelid
         WHERE (e.typtype IN ('e', 'd', 'r', 'm')
                OR (e.typtype = 'c' AND c.relkind IN ('r', 'p', 'v', 'm', 'c')))
           AND {USER_SCHEMA}
         UNION ALL
         SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::oid, p.oid,
                CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                     ELSE 'function' END,
                n.nspname::text, p.proname::text,
                pg_catalog.oidvectortypes(p.proargtypes)
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prokind IN ('f', 'w', 'p', 'a') AND {USER_SCHEMA}"
    )
}

pub(crate) async fn depends(
    client: &Reader<'_>,
    triggers: &std::collections::BTreeMap<String, Trigger>,
) -> Result<Vec<Dependency>, CatalogError> {
    const WHAT: &str = "dependencies";
    let sql = format!(
        "WITH objs AS ({}),
         src AS (
           SELECT CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                       THEN 'pg_catalog.pg_class'::pg_catalog.regclass::oid
                       ELSE d.classid END AS classid,
                  COALESCE(r.ev_class, d.objid) AS objid,
                  d.refclassid, d.refobjid, d.refobjsubid
           FROM pg_catalog.pg_depend d
           LEFT JOIN pg_catalog.pg_rewrite r
                  ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
           WHERE d.deptype = 'n'
             AND (d.classid IN ('pg_catalog.pg_rewrite'::pg_catalog.regclass,
                                'pg_catalog.pg_proc'::pg_catalog.regclass)
                  -- A composite type's attributes (not tables' columns: those are the
                  -- table layer's own).
                  OR (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND EXISTS (SELECT FROM pg_catalog.pg_class cc
                                  WHERE cc.oid = d.objid AND cc.relkind = 'c'))))
         SELECT DISTINCT a.kind AS a_kind, a.schema AS a_schema, a.name AS a_name,
                a.args AS a_args, b.kind AS b_kind, b.schema AS b_schema, b.name AS b_name,
                b.args AS b_args, att.attname::text AS b_column
         FROM src
         JOIN objs a ON a.classid = src.classid AND a.oid = src.objid
         JOIN objs b ON b.classid = src.refclassid AND b.oid = src.refobjid
         LEFT JOIN pg_catalog.pg_attribute att
                ON src.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND att.attrelid = src.refobjid AND att.attnum = src.refobjsubid
               AND src.refobjsubid > 0
         WHERE NOT (a.kind = b.kind AND a.schema = b.schema AND a.name = b.name
                    AND a.args IS NOT DISTINCT FROM b.args)
         ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
        objects()
    );
    let mut out = Vec::new();
    for row in client.query(WHAT, &sql).await? {
        let dependent = depend_id(
            &named::<String>(&row, "a_kind", WHAT)?,
            named(&row, "a_schema", WHAT)?,
            named(&row, "a_name", WHAT)?,
            named(&row, "a_args", WHAT)?,
        );
        let mut referenced = depend_id(
            &named::<String>(&row, "b_kind", WHAT)?,
            named(&row, "b_schema", WHAT)?,
            named(&row, "b_name", WHAT)?,
            named(&row, "b_args", WHAT)?,
        );
        if let Some(column) = named::<Option<String>>(&row, "b_column", WHAT)? {
            referenced = ObjectId::member(Kind::Column, &referenced.qualified(), column);
        }
        out.push(Dependency {
            dependent,
            referenced,
        });
    }
    for trigger in triggers.values() {
        for referenced in [
            ObjectId::new(Kind::Table, &trigger.table.schema, &trigger.table.name),
            trigger.function.clone(),
        ] {
            out.push(Dependency {
                dependent: trigger.id.clone(),
                referenced,
            });
        }
    }
    Ok(out)
}

pub(crate) fn depend_id(
    kind: &str,
    schema: String,
    name: String,
    args: Option<String>,
) -> ObjectId {
    let kind = match kind {
        "view" => Kind::View,
        "materialized_view" => Kind::MaterializedView,
        "type" => Kind::Type,
        "procedure" => Kind::Procedure,
        "aggregate" => Kind::Aggregate,
        "function" => Kind::Function,
        _ => Kind::Table,
    };
    ObjectId {
        args,
        ..ObjectId::new(kind, schema, name)
    }
}
