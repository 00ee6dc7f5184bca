//! Everything user-defined that zdm sees but does not manage yet, as `(kind, name)` pairs, so
//! the CLI can say "not managed yet: 3 views (public.a, ...)". One query: a `UNION ALL` of one
//! branch per kind, each returning `(schema, parent, name, suffix)`; the display name is the
//! quoted, dot-joined non-null parts followed by the raw suffix (function arguments, ...).

use super::Reader;

use super::filter::{not_extension_member, not_internal, USER_SCHEMA};
use super::{get, CatalogError, Server};
use crate::model::UnmanagedObject;
use crate::sql::quote_ident;

/// Objects created by initdb have oids below this (`FirstNormalObjectId`).
const FIRST_USER_OID: u32 = 16384;

struct Branch {
    kind: &'static str,
    /// Oldest server version that has the catalog columns this branch reads.
    since: i32,
    /// `SELECT schema, parent, name, suffix FROM ...` (all text, nullable).
    sql: String,
}

fn branch(kind: &'static str, sql: String) -> Branch {
    Branch {
        kind,
        since: 0,
        sql,
    }
}

/// A relation (`pg_class c` + `pg_namespace n`) of the given relkinds in a user schema, not
/// part of an extension.
fn relations(relkinds: &str) -> String {
    format!(
        "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ({relkinds}) AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    )
}

/// `JOIN`s the relation `c` (of the given relkinds, in a user schema, not part of an
/// extension) that `relid` (e.g. `t.tgrelid`) points at, and starts the `WHERE` clause.
fn attached(relkinds: &str, relid: &str) -> String {
    format!(
        "pg_catalog.pg_class c ON c.oid = {relid}
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ({relkinds}) AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    )
}

/// An object in catalog `catalog` aliased `o` with namespace column `nscol`, in a user schema,
/// neither part of an extension nor an internal part of another object.
fn in_schema(catalog: &str, nscol: &str) -> String {
    format!(
        "pg_catalog.{catalog} o JOIN pg_catalog.pg_namespace n ON n.oid = o.{nscol}
         WHERE {USER_SCHEMA} AND {} AND {}",
        not_extension_member(catalog, "o.oid"),
        not_internal(catalog, "o.oid")
    )
}

/// A global (schema-less) object created after initdb, neither part of an extension nor an
/// internal part of another object.
fn global(catalog: &str) -> String {
    format!(
        "pg_catalog.{catalog} o WHERE o.oid >= {FIRST_USER_OID} AND {} AND {}",
        not_extension_member(catalog, "o.oid"),
        not_internal(catalog, "o.oid")
    )
}

/// Column setting `attr` is the column's own, not copied from the parent it inherits from.
fn not_from_parent(attr: &str) -> String {
    format!(
        "NOT EXISTS (SELECT FROM pg_catalog.pg_inherits inh
         JOIN pg_catalog.pg_attribute pa ON pa.attrelid = inh.inhparent AND pa.attname = a.attname
         WHERE inh.inhrelid = a.attrelid AND pa.{attr} IS NOT DISTINCT FROM a.{attr})"
    )
}

const MANAGED_TABLES: &str = "'r', 'p'";

fn branches() -> Vec<Branch> {
    let rel = "n.nspname::text, NULL::text, c.relname::text, NULL::text";
    let rel_child = |child: &str| format!("n.nspname::text, c.relname::text, {child}, NULL::text");
    let obj = |name: &str| format!("n.nspname::text, NULL::text, {name}, NULL::text");
    let glob = |name: &str| format!("NULL::text, NULL::text, {name}, NULL::text");
    let tables = relations(MANAGED_TABLES);
    let columns = format!(
        "pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ({MANAGED_TABLES}) AND a.attnum > 0 AND NOT a.attisdropped
           AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let column = rel_child("a.attname::text");
    let mut b = vec![
        // Relations other than tables, sequences, views and materialized views.
        branch(
            "foreign table",
            format!("SELECT {rel} FROM {}", relations("'f'")),
        ),
        // Things attached to relations (of any kind). Of the triggers, only zdm's own sync
        // triggers: the planner looks for them here.
        branch(
            "trigger",
            format!(
                "SELECT n.nspname::text, c.relname::text, t.tgname::text, NULL::text
                 FROM pg_catalog.pg_trigger t JOIN {}
                  AND NOT t.tgisinternal AND t.tgparentid = 0 AND {}",
                attached("'r', 'p', 'v', 'm', 'f'", "t.tgrelid"),
                super::triggers::ZDM_TRIGGER
            ),
        ),
        branch(
            "rule",
            format!(
                "SELECT n.nspname::text, c.relname::text, r.rulename::text, NULL::text
                 FROM pg_catalog.pg_rewrite r JOIN {}
                  AND r.rulename <> '_RETURN'",
                attached("'r', 'p', 'v', 'm', 'f'", "r.ev_class")
            ),
        ),
        // Types other than enums, domains, composite and range types (array and multirange
        // types come with their element / range type).
        branch(
            "type",
            format!(
                "SELECT {} FROM {} AND o.typtype IN ('b', 'p')
                   AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = o.oid)",
                obj("o.typname::text"),
                in_schema("pg_type", "typnamespace")
            ),
        ),
        // Other schema objects.
        branch(
            "conversion",
            format!(
                "SELECT {} FROM {}",
                obj("o.conname::text"),
                in_schema("pg_conversion", "connamespace")
            ),
        ),
        branch(
            "operator",
            format!(
                "SELECT n.nspname::text, NULL::text, NULL::text,
                        o.oprname || '(' || pg_catalog.format_type(o.oprleft, NULL) || ', '
                        || pg_catalog.format_type(o.oprright, NULL) || ')'
                 FROM {}",
                in_schema("pg_operator", "oprnamespace")
            ),
        ),
        branch(
            "operator class",
            format!(
                "SELECT {} FROM {}",
                obj("o.opcname::text"),
                in_schema("pg_opclass", "opcnamespace")
            ),
        ),
        branch(
            "operator family",
            format!(
                "SELECT {} FROM {}",
                obj("o.opfname::text"),
                in_schema("pg_opfamily", "opfnamespace")
            ),
        ),
        branch(
            "statistics",
            format!(
                "SELECT {} FROM {}",
                obj("o.stxname::text"),
                in_schema("pg_statistic_ext", "stxnamespace")
            ),
        ),
        branch(
            "text search configuration",
            format!(
                "SELECT {} FROM {}",
                obj("o.cfgname::text"),
                in_schema("pg_ts_config", "cfgnamespace")
            ),
        ),
        branch(
            "text search dictionary",
            format!(
                "SELECT {} FROM {}",
                obj("o.dictname::text"),
                in_schema("pg_ts_dict", "dictnamespace")
            ),
        ),
        branch(
            "text search parser",
            format!(
                "SELECT {} FROM {}",
                obj("o.prsname::text"),
                in_schema("pg_ts_parser", "prsnamespace")
            ),
        ),
        branch(
            "text search template",
            format!(
                "SELECT {} FROM {}",
                obj("o.tmplname::text"),
                in_schema("pg_ts_template", "tmplnamespace")
            ),
        ),
        // Database-wide objects.
        branch(
            "publication",
            format!(
                "SELECT {} FROM {}",
                glob("o.pubname::text"),
                global("pg_publication")
            ),
        ),
        branch(
            "subscription",
            format!(
                "SELECT {} FROM pg_catalog.pg_subscription o
                 WHERE o.subdbid = (SELECT oid FROM pg_catalog.pg_database
                                    WHERE datname = pg_catalog.current_database())",
                glob("o.subname::text")
            ),
        ),
        branch(
            "foreign data wrapper",
            format!(
                "SELECT {} FROM {}",
                glob("o.fdwname::text"),
                global("pg_foreign_data_wrapper")
            ),
        ),
        branch(
            "server",
            format!(
                "SELECT {} FROM {}",
                glob("o.srvname::text"),
                global("pg_foreign_server")
            ),
        ),
        branch(
            "user mapping",
            "SELECT NULL::text, NULL::text, o.usename::text,
                    ' on server ' || pg_catalog.quote_ident(o.srvname)
             FROM pg_catalog.pg_user_mappings o"
                .to_string(),
        ),
        branch(
            "cast",
            format!(
                "SELECT NULL::text, NULL::text, NULL::text,
                        '(' || pg_catalog.format_type(o.castsource, NULL) || ' AS '
                        || pg_catalog.format_type(o.casttarget, NULL) || ')'
                 FROM {}",
                global("pg_cast")
            ),
        ),
        branch(
            "language",
            format!(
                "SELECT {} FROM {}",
                glob("o.lanname::text"),
                global("pg_language")
            ),
        ),
        branch(
            "access method",
            format!("SELECT {} FROM {}", glob("o.amname::text"), global("pg_am")),
        ),
        branch(
            "transform",
            format!(
                "SELECT NULL::text, NULL::text, NULL::text,
                        'FOR ' || pg_catalog.format_type(o.trftype, NULL) || ' LANGUAGE '
                        || (SELECT l.lanname FROM pg_catalog.pg_language l WHERE l.oid = o.trflang)
                 FROM {}",
                global("pg_transform")
            ),
        ),
        // Settings of managed tables, columns and indexes that the model does not express.
        branch(
            "storage parameters",
            format!(
                "SELECT {rel} FROM {} AND c.reloptions IS NOT NULL",
                relations("'r', 'p', 'S'")
            ),
        ),
        branch(
            "typed table",
            format!("SELECT {rel} FROM {tables} AND c.reloftype <> 0"),
        ),
        branch(
            "table access method",
            format!(
                "SELECT {rel} FROM {tables} AND c.relam <> 0
                   AND (SELECT am.amname FROM pg_catalog.pg_am am WHERE am.oid = c.relam) <> 'heap'"
            ),
        ),
        branch(
            "tablespace",
            format!("SELECT {rel} FROM {tables} AND c.reltablespace <> 0"),
        ),
        branch(
            "tablespace",
            format!(
                "SELECT n.nspname::text, c.relname::text, ic.relname::text, NULL::text
                 FROM pg_catalog.pg_index i
                 JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                 JOIN {} AND ic.reltablespace <> 0",
                attached(MANAGED_TABLES, "i.indrelid")
            ),
        ),
        branch(
            "cluster",
            format!(
                "SELECT n.nspname::text, c.relname::text, ic.relname::text, NULL::text
                 FROM pg_catalog.pg_index i
                 JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                 JOIN {} AND i.indisclustered",
                attached(MANAGED_TABLES, "i.indrelid")
            ),
        ),
        branch(
            // The index behind a constraint is not in the model (the constraint is), so a
            // comment on it has nowhere to go.
            "comment",
            format!(
                "SELECT n.nspname::text, c.relname::text, ic.relname::text, NULL::text
                 FROM pg_catalog.pg_index i
                 JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                 JOIN {}
                  AND pg_catalog.obj_description(i.indexrelid, 'pg_class') IS NOT NULL
                  AND EXISTS (SELECT FROM pg_catalog.pg_constraint con
                              WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                AND con.contype IN ('p', 'u', 'x'))",
                attached(MANAGED_TABLES, "i.indrelid")
            ),
        ),
        branch(
            "column statistics",
            // -1 (PG13-16) or NULL (PG17+) is the default.
            format!(
                "SELECT {column} FROM {columns} AND a.attstattarget >= 0 AND {}",
                not_from_parent("attstattarget")
            ),
        ),
        branch(
            "index statistics",
            format!(
                "SELECT n.nspname::text, c.relname::text, ic.relname::text, NULL::text
                 FROM pg_catalog.pg_index i
                 JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                 JOIN {}
                  AND EXISTS (SELECT FROM pg_catalog.pg_attribute ia
                              WHERE ia.attrelid = i.indexrelid AND ia.attstattarget >= 0)",
                attached(MANAGED_TABLES, "i.indrelid")
            ),
        ),
        branch(
            "column storage",
            format!(
                "SELECT {column} FROM {columns}
                   AND a.attstorage <> (SELECT t.typstorage FROM pg_catalog.pg_type t
                                        WHERE t.oid = a.atttypid)
                   AND {}",
                not_from_parent("attstorage")
            ),
        ),
        branch(
            "column options",
            format!(
                "SELECT {column} FROM {columns} AND a.attoptions IS NOT NULL AND {}",
                not_from_parent("attoptions")
            ),
        ),
    ];
    b.push(Branch {
        kind: "column compression",
        since: 140000,
        sql: format!(
            "SELECT {column} FROM {columns} AND a.attcompression::text <> '' AND {}",
            not_from_parent("attcompression")
        ),
    });
    b.push(Branch {
        kind: "unlogged sequence",
        since: 150000,
        sql: format!(
            // Not the sequence of a serial / identity column of an unlogged table (PG15+ makes
            // those unlogged too).
            "SELECT {rel} FROM {} AND c.relpersistence = 'u'
               AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_depend d
                 JOIN pg_catalog.pg_class owner ON owner.oid = d.refobjid
                 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND d.deptype IN ('a', 'i') AND owner.relpersistence = 'u')",
            relations("'S'")
        ),
    });
    b
}

pub(crate) async fn unmanaged(
    client: &Reader<'_>,
    server: Server,
) -> Result<Vec<UnmanagedObject>, CatalogError> {
    const WHAT: &str = "unmanaged objects";
    let sql = branches()
        .into_iter()
        .filter(|b| server.version >= b.since)
        .map(|b| {
            format!(
                "SELECT '{}'::text, * FROM ({}) AS _",
                b.kind,
                b.sql.replace('\n', " ")
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n");
    let mut objects = Vec::new();
    for row in client.query(WHAT, &sql).await? {
        let kind: String = get(&row, 0, WHAT)?;
        let parts = [
            get::<Option<String>>(&row, 1, WHAT)?,
            get::<Option<String>>(&row, 2, WHAT)?,
            get::<Option<String>>(&row, 3, WHAT)?,
        ];
        let suffix: Option<String> = get(&row, 4, WHAT)?;
        let mut name = parts
            .iter()
            .flatten()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(".");
        name.push_str(suffix.as_deref().unwrap_or(""));
        objects.push(UnmanagedObject { kind, name });
    }
    objects.sort();
    objects.dedup();
    Ok(objects)
}
