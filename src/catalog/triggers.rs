//! Triggers: user triggers on tables, views and partitioned tables. Left out: internal ones
//! (foreign keys), a partition's clone of its parent's trigger (it comes with the parent) and
//! zdm's own `zdm_*` sync triggers (part of a migration under way, listed as unmanaged).

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{Kind, ObjectId, QualifiedName, Trigger};

/// The `WHERE` condition shared with the unmanaged list (which takes the complement).
pub(crate) const ZDM_TRIGGER: &str = "t.tgname LIKE 'zdm\\_%'";

pub(crate) async fn triggers(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, Trigger>, CatalogError> {
    const WHAT: &str = "triggers";
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table, t.tgname::text AS name,
                pg_catalog.pg_get_triggerdef(t.oid) AS definition,
                pn.nspname::text AS function_schema, p.proname::text AS function_name,
                pg_catalog.oidvectortypes(p.proargtypes) AS function_args,
                t.tgconstraint <> 0 AS constraint, t.tgenabled::text AS enabled,
                pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
         FROM pg_catalog.pg_trigger t
         JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
         JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
         WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND NOT ({ZDM_TRIGGER})
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let mut triggers = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let table = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "table", WHAT)?,
        );
        let name: String = named(&row, "name", WHAT)?;
        let function = QualifiedName::new(
            named::<String>(&row, "function_schema", WHAT)?,
            named::<String>(&row, "function_name", WHAT)?,
        );
        let id = ObjectId::member(Kind::Trigger, &table, name.clone());
        triggers.insert(
            id.to_string(),
            Trigger {
                id,
                table,
                name,
                definition: named(&row, "definition", WHAT)?,
                function: ObjectId::routine(
                    Kind::Function,
                    &function,
                    named::<String>(&row, "function_args", WHAT)?,
                ),
                constraint: named(&row, "constraint", WHAT)?,
                enabled: named(&row, "enabled", WHAT)?,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(triggers)
}
