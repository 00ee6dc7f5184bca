//! Event triggers (`CREATE EVENT TRIGGER`): database-wide, not in a schema, created and
//! altered by superusers only.

use serde::{Deserialize, Serialize};

use super::QualifiedName;

/// `pg_event_trigger.evtenabled`: when the trigger fires (`session_replication_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTriggerEnabled {
    /// `O`: fires in `origin` and `local` mode (what `CREATE` makes).
    Origin,
    /// `D`: never fires.
    Disabled,
    /// `R`: fires in `replica` mode only.
    Replica,
    /// `A`: fires always.
    Always,
}

impl EventTriggerEnabled {
    pub fn from_catalog(code: &str) -> Option<Self> {
        Some(match code {
            "O" => EventTriggerEnabled::Origin,
            "D" => EventTriggerEnabled::Disabled,
            "R" => EventTriggerEnabled::Replica,
            "A" => EventTriggerEnabled::Always,
            _ => return None,
        })
    }

    /// The words after `ALTER EVENT TRIGGER name`.
    pub fn sql(self) -> &'static str {
        match self {
            EventTriggerEnabled::Origin => "ENABLE",
            EventTriggerEnabled::Disabled => "DISABLE",
            EventTriggerEnabled::Replica => "ENABLE REPLICA",
            EventTriggerEnabled::Always => "ENABLE ALWAYS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: String,
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop`, `table_rewrite`, `login` (17+).
    pub event: String,
    /// `WHEN TAG IN (...)` as PostgreSQL stores them (upper case), in the files' order: a
    /// new order is a re-create, so that the database is what the files build.
    pub tags: Vec<String>,
    /// The function (it takes no arguments and returns `event_trigger`).
    pub function: QualifiedName,
    pub enabled: EventTriggerEnabled,
    /// The live side's owner; on the desired side only when the files set it (`OWNER TO`):
    /// compared only then, like other owners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub comment: Option<String>,
}

impl EventTrigger {
    /// What `CREATE EVENT TRIGGER` fixes: a change of any of these is a drop and a create.
    pub fn same_definition(&self, other: &EventTrigger) -> bool {
        self.event == other.event && self.tags == other.tags && self.function == other.function
    }

    /// Everything but the name and what the files left unsaid (the owner): another name
    /// for such a trigger is a rename.
    pub fn same_but_name(&self, other: &EventTrigger) -> bool {
        self.same_definition(other)
            && self.enabled == other.enabled
            && self.comment == other.comment
    }

    /// Whether `live` differs from this desired trigger (the owner only when this one has it).
    pub fn differs_from(&self, live: &EventTrigger) -> bool {
        !self.same_but_name(live)
            || self.name != live.name
            || self
                .owner
                .as_ref()
                .is_some_and(|o| live.owner.as_ref() != Some(o))
    }
}
