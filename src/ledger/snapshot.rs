//! The schema as zdm left it: after every apply run, the live schema's model is kept in
//! `zdm.schema_after`, so that `zdm status` can tell changes made outside zdm (by hand, by
//! another tool) from the ones zdm made: whatever differs from the last snapshot was not zdm.

use std::time::SystemTime;

use super::{Ledger, LedgerError};
use crate::model::Model;

/// How many snapshots are kept (the newest is the one compared against; a few more help a
/// person reading the ledger after an incident).
const KEEP: i64 = 5;

/// The schema zdm left after one of its runs (without table statistics: they are not
/// serialised, and the diff never compares them).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub plan_id: i64,
    pub taken_at: SystemTime,
    pub model: Model,
}

impl Ledger<'_> {
    /// Keep `model` as the schema run `plan_id` left behind.
    pub async fn record_schema(&self, plan_id: i64, model: &Model) -> Result<(), LedgerError> {
        let json = serde_json::to_value(model).expect("a model always serialises");
        self.client
            .execute(
                "INSERT INTO zdm.schema_after (plan_id, model) VALUES ($1, $2) \
                 ON CONFLICT (plan_id) DO UPDATE SET model = EXCLUDED.model, taken_at = now()",
                &[&plan_id, &json],
            )
            .await?;
        self.client
            .execute(
                "DELETE FROM zdm.schema_after WHERE plan_id NOT IN \
                 (SELECT plan_id FROM zdm.schema_after ORDER BY taken_at DESC LIMIT $1)",
                &[&KEEP],
            )
            .await?;
        Ok(())
    }

    /// The newest snapshot, if any run recorded one (ledgers older than snapshots have none).
    pub async fn last_schema(&self) -> Result<Option<Snapshot>, LedgerError> {
        let table = self
            .client
            .query_one("SELECT to_regclass('zdm.schema_after') IS NOT NULL", &[])
            .await?;
        if !table.get::<_, bool>(0) {
            return Ok(None);
        }
        let row = self
            .client
            .query_opt(
                "SELECT plan_id, taken_at, model FROM zdm.schema_after \
                 ORDER BY taken_at DESC LIMIT 1",
                &[],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let model: serde_json::Value = row.get(2);
        // A snapshot an older zdm wrote in a shape this one cannot read is no snapshot.
        let Ok(model) = serde_json::from_value::<Model>(model) else {
            return Ok(None);
        };
        Ok(Some(Snapshot {
            plan_id: row.get(0),
            taken_at: row.get(1),
            model,
        }))
    }
}
