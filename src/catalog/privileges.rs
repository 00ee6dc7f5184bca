//! Privileges: the ACL of every object that has one (`relacl`, `attacl`, `nspacl`, `proacl`,
//! `typacl`), default privileges (`pg_default_acl`) and owners. One query per catalog set,
//! each ACL exploded with `aclexplode` into comparable items (see `model::privilege`).

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::{Client, Row};

use super::Reader;

use super::filter::{not_extension_member, not_internal, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{
    Acl, DefaultAcl, DefaultAclObjects, Grantee, Kind, ObjectId, Privilege, QualifiedName,
};

/// Every object with an ACL as `(kind, schema, name, args, member, owner, acl, defaults)`.
/// Types: all user types but arrays and the row types of tables and views (those are
/// granted through their relation); domains come through this generic path too.
fn objects() -> String {
    format!(
        "SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'
                    WHEN 'm' THEN 'materialized_view' ELSE 'table' END AS kind,
                n.nspname::text AS schema, c.relname::text AS name, NULL::text AS args,
                NULL::text AS member, c.relowner AS owner, c.relacl AS acl,
                pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\",
                                      c.relowner) AS defaults
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {USER_SCHEMA} AND {rel_ext}
         UNION ALL
         SELECT 'column', n.nspname::text, c.relname::text, NULL, a.attname::text, c.relowner,
                a.attacl, NULL::pg_catalog.aclitem[]
         FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attacl IS NOT NULL AND {USER_SCHEMA} AND {rel_ext}
         UNION ALL
         SELECT 'schema', n.nspname::text, n.nspname::text, NULL, NULL, n.nspowner, n.nspacl,
                pg_catalog.acldefault('n', n.nspowner)
         FROM pg_catalog.pg_namespace n
         WHERE {USER_SCHEMA} AND {nsp_ext}
         UNION ALL
         SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                     ELSE 'function' END, n.nspname::text,
                p.proname::text, pg_catalog.oidvectortypes(p.proargtypes), NULL, p.proowner,
                p.proacl, pg_catalog.acldefault('f', p.proowner)
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prokind IN ('f', 'w', 'p', 'a') AND {USER_SCHEMA} AND {proc_ext} AND {proc_int}
         UNION ALL
         SELECT 'type', n.nspname::text, t.typname::text, NULL, NULL, t.typowner, t.typacl,
                pg_catalog.acldefault('T', t.typowner)
         FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE t.typcategory <> 'A' AND {USER_SCHEMA} AND {type_ext} AND {type_int}
           AND (t.typrelid = 0 OR EXISTS (SELECT FROM pg_catalog.pg_class tc
                                          WHERE tc.oid = t.typrelid AND tc.relkind = 'c'))",
        rel_ext = not_extension_member("pg_class", "c.oid"),
        nsp_ext = not_extension_member("pg_namespace", "n.oid"),
        proc_ext = not_extension_member("pg_proc", "p.oid"),
        proc_int = not_internal("pg_proc", "p.oid"),
        type_ext = not_extension_member("pg_type", "t.oid"),
        type_int = not_internal("pg_type", "t.oid"),
    )
}

/// The grantee of an exploded ACL item `a` on an object owned by `owner_expr`, as
/// `grantee_kind` (`public`, `owner`, `role`) and `grantee`.
fn grantee_columns(owner_expr: &str) -> String {
    format!(
        "CASE WHEN a.grantee = 0 THEN 'public' WHEN a.grantee = {owner_expr} THEN 'owner'
              ELSE 'role' END AS grantee_kind,
         pg_catalog.pg_get_userbyid(a.grantee)::text AS grantee"
    )
}

/// Each ACL item of the effective ACL (`effective`) and of the defaults, plus one row with
/// NULLs so that an object holding no privilege at all still shows up.
fn exploded(acl: &str, defaults: &str) -> String {
    format!(
        "LEFT JOIN LATERAL (
             SELECT true AS effective, e.* FROM pg_catalog.aclexplode(COALESCE({acl}, {defaults})) e
             UNION ALL
             SELECT false, d.* FROM pg_catalog.aclexplode({defaults}) d
         ) a ON true"
    )
}

pub(crate) async fn acls(client: &Reader<'_>) -> Result<BTreeMap<String, Acl>, CatalogError> {
    const WHAT: &str = "privileges";
    let sql = format!(
        "SELECT o.kind, o.schema, o.name, o.args, o.member,
                pg_catalog.pg_get_userbyid(o.owner)::text AS owner,
                a.effective, a.privilege_type::text AS privilege, a.is_grantable, {}
         FROM ({}) o {}",
        grantee_columns("o.owner"),
        objects(),
        exploded("o.acl", "o.defaults")
    );
    let mut acls: BTreeMap<String, Acl> = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let target = target(&row, WHAT)?;
        let acl = acls.entry(target.sql()).or_insert_with(|| Acl {
            target,
            privileges: BTreeSet::new(),
            defaults: BTreeSet::new(),
        });
        if let Some(privilege) = privilege(&row, WHAT)? {
            if named::<bool>(&row, "effective", WHAT)? {
                acl.privileges.insert(privilege);
            } else {
                acl.defaults.insert(privilege);
            }
        }
    }
    Ok(acls)
}

/// Owners of the objects that have ACLs (columns aside: they have their table's).
pub(crate) async fn owners(client: &Reader<'_>) -> Result<BTreeMap<String, String>, CatalogError> {
    const WHAT: &str = "owners";
    let sql = format!(
        "SELECT o.kind, o.schema, o.name, o.args, o.member,
                pg_catalog.pg_get_userbyid(o.owner)::text AS owner
         FROM ({}) o WHERE o.kind <> 'column'",
        objects()
    );
    let mut owners = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        owners.insert(target(&row, WHAT)?.sql(), named(&row, "owner", WHAT)?);
    }
    Ok(owners)
}

fn target(row: &Row, what: &'static str) -> Result<ObjectId, CatalogError> {
    let kind = match named::<String>(row, "kind", what)?.as_str() {
        "table" => Kind::Table,
        "view" => Kind::View,
        "materialized_view" => Kind::MaterializedView,
        "sequence" => Kind::Sequence,
        "column" => Kind::Column,
        "schema" => Kind::Schema,
        "function" => Kind::Function,
        "procedure" => Kind::Procedure,
        "aggregate" => Kind::Aggregate,
        _ => Kind::Type,
    };
    let name = QualifiedName::new(
        named::<String>(row, "schema", what)?,
        named::<String>(row, "name", what)?,
    );
    Ok(match kind {
        Kind::Schema => ObjectId::schema(name.schema),
        Kind::Column => ObjectId::member(kind, &name, named::<String>(row, "member", what)?),
        Kind::Function | Kind::Procedure | Kind::Aggregate => {
            ObjectId::routine(kind, &name, named::<String>(row, "args", what)?)
        }
        _ => ObjectId::new(kind, name.schema, name.name),
    })
}

/// The privilege of an exploded ACL row, `None` on the placeholder row of an empty ACL.
fn privilege(row: &Row, what: &'static str) -> Result<Option<Privilege>, CatalogError> {
    let Some(privilege) = named::<Option<String>>(row, "privilege", what)? else {
        return Ok(None);
    };
    let grantee = match named::<String>(row, "grantee_kind", what)?.as_str() {
        "public" => Grantee::Public,
        "owner" => Grantee::Owner,
        _ => Grantee::Role(named(row, "grantee", what)?),
    };
    Ok(Some(Privilege {
        grantee,
        privilege,
        grantable: named(row, "is_grantable", what)?,
    }))
}

pub(crate) async fn default_privileges(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, DefaultAcl>, CatalogError> {
    const WHAT: &str = "default privileges";
    // An entry for every schema replaces the built-in defaults; one `IN SCHEMA` adds to them.
    let sql = format!(
        "SELECT CASE WHEN o.defaclrole = (SELECT oid FROM pg_catalog.pg_roles
                                          WHERE rolname = current_user)
                     THEN NULL ELSE pg_catalog.pg_get_userbyid(o.defaclrole)::text END AS role,
                dn.nspname::text AS schema, o.defaclobjtype::text AS objects,
                a.effective, a.privilege_type::text AS privilege, a.is_grantable, {}
         FROM pg_catalog.pg_default_acl o
         LEFT JOIN pg_catalog.pg_namespace dn ON dn.oid = o.defaclnamespace
         {}",
        grantee_columns("o.defaclrole"),
        exploded(
            "o.defaclacl",
            "CASE WHEN o.defaclnamespace = 0
                  THEN pg_catalog.acldefault(o.defaclobjtype, o.defaclrole) END"
        )
    );
    let mut entries: BTreeMap<String, DefaultAcl> = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let code: String = named(&row, "objects", WHAT)?;
        let Some(objects) = DefaultAclObjects::from_catalog(&code) else {
            continue;
        };
        let entry = DefaultAcl {
            role: named(&row, "role", WHAT)?,
            schema: named(&row, "schema", WHAT)?,
            objects,
            privileges: BTreeSet::new(),
            defaults: BTreeSet::new(),
        };
        let entry = entries.entry(entry.key()).or_insert(entry);
        if let Some(privilege) = privilege(&row, WHAT)? {
            if named::<bool>(&row, "effective", WHAT)? {
                entry.privileges.insert(privilege);
            } else {
                entry.defaults.insert(privilege);
            }
        }
    }
    Ok(entries)
}

/// The role the session reads (and, in the shadow database, loaded the files) as.
pub async fn current_role(client: &Client) -> Result<String, CatalogError> {
    const WHAT: &str = "current role";
    let row = client
        .query_one("SELECT current_user::text", &[])
        .await
        .map_err(|e| CatalogError::query(WHAT, e))?;
    super::get(&row, 0, WHAT)
}

/// Every role of the cluster (roles are cluster-wide: a database cannot tell which it "has").
pub async fn role_names(client: &Client) -> Result<BTreeSet<String>, CatalogError> {
    const WHAT: &str = "roles";
    let rows = client
        .query("SELECT rolname::text FROM pg_catalog.pg_roles", &[])
        .await
        .map_err(|e| CatalogError::query(WHAT, e))?;
    rows.iter().map(|r| super::get(r, 0, WHAT)).collect()
}
