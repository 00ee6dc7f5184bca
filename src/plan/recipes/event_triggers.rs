//! Event triggers. Created in expand (after their function), dropped in contract (before
//! it). What `ALTER EVENT TRIGGER` can change (name, enabled state, owner; the comment) is
//! changed in place; a new event, tag list or function is a drop and a create in one step,
//! so one short transaction: no DDL runs between them without the trigger.
//!
//! Only superusers may create or alter event triggers: a plan with such a step against a
//! live role that is not one is refused before anything runs (`workspace::event_triggers`).

use crate::model::{EventTrigger, Kind, ObjectId};
use crate::plan::resource::Resource;
use crate::plan::{Phase, Step};
use crate::sql::ddl::event_triggers as ddl;
use crate::sql::quote_ident;

fn function(trigger: &EventTrigger) -> Resource {
    Resource::Routine(ObjectId::routine(Kind::Function, &trigger.function, ""))
}

fn resource(trigger: &EventTrigger) -> Resource {
    Resource::EventTrigger(trigger.name.clone())
}

pub fn create(trigger: &EventTrigger) -> Step {
    Step::new(
        Phase::Expand,
        format!("create event trigger {}", quote_ident(&trigger.name)),
        ddl::definition(trigger),
    )
    .uses([function(trigger)])
    .creates([resource(trigger)])
}

pub fn drop(trigger: &EventTrigger) -> Step {
    Step::new(
        Phase::Contract,
        format!("drop event trigger {}", quote_ident(&trigger.name)),
        ddl::drop(&trigger.name),
    )
    .uses([function(trigger)])
    .drops([resource(trigger)])
}

pub fn alter(from: &EventTrigger, to: &EventTrigger) -> Step {
    let name = quote_ident(&to.name);
    if !to.same_definition(from) {
        let sql = [ddl::drop(&from.name), ddl::definition(to)].join("\n");
        let mut step = Step::new(
            Phase::Expand,
            format!("re-create event trigger {name} (event, tags or function changed)"),
            sql,
        )
        .uses([function(to)])
        .creates([resource(to)]);
        if from.function != to.function {
            // The old function may be dropped in contract only after this.
            step = step.uses([function(from)]);
        }
        return step;
    }
    let mut sql = Vec::new();
    if from.name != to.name {
        sql.push(ddl::rename(&from.name, &to.name));
    }
    if from.enabled != to.enabled {
        sql.push(ddl::set_enabled(&to.name, to.enabled));
    }
    if let Some(owner) = to
        .owner
        .as_ref()
        .filter(|o| from.owner.as_ref() != Some(*o))
    {
        sql.push(ddl::set_owner(&to.name, owner));
    }
    if from.comment != to.comment {
        sql.push(ddl::comment(&to.name, to.comment.as_deref()));
    }
    let mut step = Step::new(
        Phase::Expand,
        format!("alter event trigger {name}"),
        sql.join("\n"),
    )
    .uses([function(to)]);
    if from.name != to.name {
        step = step.drops([resource(from)]).creates([resource(to)]);
    } else {
        step = step.uses([resource(to)]);
    }
    step
}
