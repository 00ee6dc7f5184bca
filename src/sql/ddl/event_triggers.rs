//! DDL of event triggers (database-wide; superusers only).

use super::comment_on;
use crate::model::{EventTrigger, EventTriggerEnabled};
use crate::sql::{quote_ident, quote_literal};

pub fn create(trigger: &EventTrigger) -> String {
    let when = if trigger.tags.is_empty() {
        String::new()
    } else {
        let tags: Vec<String> = trigger.tags.iter().map(|t| quote_literal(t)).collect();
        format!(" WHEN TAG IN ({})", tags.join(", "))
    };
    format!(
        "CREATE EVENT TRIGGER {} ON {}{when} EXECUTE FUNCTION {}();",
        quote_ident(&trigger.name),
        quote_ident(&trigger.event),
        trigger.function
    )
}

pub fn drop(name: &str) -> String {
    format!("DROP EVENT TRIGGER IF EXISTS {};", quote_ident(name))
}

pub fn rename(from: &str, to: &str) -> String {
    format!(
        "ALTER EVENT TRIGGER {} RENAME TO {};",
        quote_ident(from),
        quote_ident(to)
    )
}

pub fn set_enabled(name: &str, enabled: EventTriggerEnabled) -> String {
    format!(
        "ALTER EVENT TRIGGER {} {};",
        quote_ident(name),
        enabled.sql()
    )
}

pub fn set_owner(name: &str, owner: &str) -> String {
    format!(
        "ALTER EVENT TRIGGER {} OWNER TO {};",
        quote_ident(name),
        quote_ident(owner)
    )
}

pub fn comment(name: &str, comment: Option<&str>) -> String {
    comment_on(&format!("EVENT TRIGGER {}", quote_ident(name)), comment)
}

/// `CREATE` and what it cannot say (the enabled state unless the default, the owner the
/// files set, the comment): the text a dump writes and a create runs.
pub fn definition(trigger: &EventTrigger) -> String {
    let mut out = vec![create(trigger)];
    if trigger.enabled != EventTriggerEnabled::Origin {
        out.push(set_enabled(&trigger.name, trigger.enabled));
    }
    if let Some(owner) = &trigger.owner {
        out.push(set_owner(&trigger.name, owner));
    }
    if trigger.comment.is_some() {
        out.push(comment(&trigger.name, trigger.comment.as_deref()));
    }
    out.join("\n")
}
