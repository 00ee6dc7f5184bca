//! Event triggers (`pg_event_trigger`): database-wide, readable by every role. Those an
//! extension created are its own and left out.

use std::collections::BTreeMap;

use super::filter::not_extension_member;
use super::Reader;
use super::{named, CatalogError};
use crate::model::{EventTrigger, EventTriggerEnabled, QualifiedName};

pub(crate) async fn event_triggers(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, EventTrigger>, CatalogError> {
    const WHAT: &str = "event triggers";
    let sql = format!(
        "SELECT e.evtname::text AS name, e.evtevent::text AS event,
                e.evttags::text[] AS tags,
                n.nspname::text AS function_schema, p.proname::text AS function_name,
                e.evtenabled::text AS enabled,
                pg_catalog.pg_get_userbyid(e.evtowner)::text AS owner,
                pg_catalog.obj_description(e.oid, 'pg_event_trigger') AS comment
         FROM pg_catalog.pg_event_trigger e
         JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE {}",
        not_extension_member("pg_event_trigger", "e.oid")
    );
    let mut out = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name: String = named(&row, "name", WHAT)?;
        let code: String = named(&row, "enabled", WHAT)?;
        let enabled = EventTriggerEnabled::from_catalog(&code)
            .ok_or_else(|| CatalogError::unexpected(WHAT, format!("evtenabled {code:?}")))?;
        out.insert(
            name.clone(),
            EventTrigger {
                name,
                event: named(&row, "event", WHAT)?,
                tags: named::<Option<Vec<String>>>(&row, "tags", WHAT)?.unwrap_or_default(),
                function: QualifiedName::new(
                    named::<String>(&row, "function_schema", WHAT)?,
                    named::<String>(&row, "function_name", WHAT)?,
                ),
                enabled,
                owner: Some(named(&row, "owner", WHAT)?),
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(out)
}

/// Whether the connected role may create and alter event triggers: superusers only, on
/// every major zdm supports (13 to 18).
pub async fn can_manage(client: &tokio_postgres::Client) -> Result<bool, CatalogError> {
    const WHAT: &str = "superuser";
    let row = client
        .query_one(
            "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(|e| CatalogError::query(WHAT, e))?;
    super::get(&row, 0, WHAT)
}
