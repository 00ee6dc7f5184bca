//! Row-level security: which tables have it enabled or forced, their policies, and what each
//! policy's expressions read (`pg_depend` edges from `pg_policy`). Expressions come from
//! `pg_get_expr` with the empty `search_path` of the read, so both sides compare as
//! PostgreSQL stores them.

use std::collections::BTreeMap;

use super::Reader;

use super::depend::{depend_id, objects};
use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{
    Dependency, Kind, ObjectId, Policy, PolicyCommand, QualifiedName, RowSecurity, PUBLIC_ROLE,
};

pub(crate) async fn row_security(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, RowSecurity>, CatalogError> {
    const WHAT: &str = "row level security";
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table,
                c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity)
           AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let mut out = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        out.insert(
            QualifiedName::new(
                named::<String>(&row, "schema", WHAT)?,
                named::<String>(&row, "table", WHAT)?,
            ),
            RowSecurity {
                enabled: named(&row, "enabled", WHAT)?,
                forced: named(&row, "forced", WHAT)?,
            },
        );
    }
    Ok(out)
}

/// The policies of tables in user schemas; `polroles` holds oid 0 for `PUBLIC`.
fn policies_sql() -> String {
    format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table, p.polname::text AS name,
                p.polpermissive AS permissive, p.polcmd::text AS command,
                ARRAY(SELECT CASE WHEN r = 0 THEN '{PUBLIC_ROLE}'
                                  ELSE pg_catalog.pg_get_userbyid(r)::text END
                      FROM pg_catalog.unnest(p.polroles) AS r ORDER BY 1) AS roles,
                pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
                pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
                pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
         FROM pg_catalog.pg_policy p
         JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    )
}

pub(crate) async fn policies(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, Policy>, CatalogError> {
    const WHAT: &str = "policies";
    let mut out = BTreeMap::new();
    for row in client.query(WHAT, &policies_sql()).await? {
        let table = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "table", WHAT)?,
        );
        let name: String = named(&row, "name", WHAT)?;
        let code: String = named(&row, "command", WHAT)?;
        let command = PolicyCommand::from_catalog(&code)
            .ok_or_else(|| CatalogError::unexpected(WHAT, format!("polcmd {code:?}")))?;
        let id = ObjectId::member(Kind::Policy, &table, name.clone());
        out.insert(
            id.to_string(),
            Policy {
                id,
                table,
                name,
                permissive: named(&row, "permissive", WHAT)?,
                command,
                roles: named(&row, "roles", WHAT)?,
                using: named(&row, "using", WHAT)?,
                with_check: named(&row, "with_check", WHAT)?,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(out)
}

/// What each policy needs: its table (an automatic dependency in `pg_depend`, so not read
/// from there), and the columns, relations, functions and types its expressions name.
pub(crate) async fn depends(
    client: &Reader<'_>,
    policies: &BTreeMap<String, Policy>,
) -> Result<Vec<Dependency>, CatalogError> {
    const WHAT: &str = "policy dependencies";
    let sql = format!(
        "WITH objs AS ({})
         SELECT DISTINCT n.nspname::text AS schema, c.relname::text AS table,
                p.polname::text AS policy, b.kind AS b_kind, b.schema AS b_schema,
                b.name AS b_name, b.args AS b_args, att.attname::text AS b_column
         FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_policy p ON p.oid = d.objid
         JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN objs b ON b.classid = d.refclassid AND b.oid = d.refobjid
         LEFT JOIN pg_catalog.pg_attribute att
                ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND att.attrelid = d.refobjid AND att.attnum = d.refobjsubid
               AND d.refobjsubid > 0
         WHERE d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.deptype = 'n'
         ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
        objects()
    );
    let mut out: Vec<Dependency> = policies
        .values()
        .map(|p| Dependency {
            dependent: p.id.clone(),
            referenced: ObjectId::new(Kind::Table, &p.table.schema, &p.table.name),
        })
        .collect();
    for row in client.query(WHAT, &sql).await? {
        let table = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "table", WHAT)?,
        );
        let dependent =
            ObjectId::member(Kind::Policy, &table, named::<String>(&row, "policy", WHAT)?);
        let mut referenced = depend_id(
            &named::<String>(&row, "b_kind", WHAT)?,
            named(&row, "b_schema", WHAT)?,
            named(&row, "b_name", WHAT)?,
            named(&row, "b_args", WHAT)?,
        );
        if let Some(column) = named::<Option<String>>(&row, "b_column", WHAT)? {
            referenced = ObjectId::member(Kind::Column, &referenced.qualified(), column);
        }
        if !out
            .iter()
            .any(|d| d.dependent == dependent && d.referenced == referenced)
        {
            out.push(Dependency {
                dependent,
                referenced,
            });
        }
    }
    Ok(out)
}
