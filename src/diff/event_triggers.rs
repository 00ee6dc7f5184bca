//! Event triggers: created, dropped, or altered in place (enabled state, owner, comment,
//! name) or re-created (event, tags or function changed).
//!
//! Unlike tables, an event trigger holds no data, so a rename is inferred: a live trigger
//! the files lack and a desired one the database lacks that are otherwise the same (and the
//! only such pair) are one trigger renamed. A drop in contract and a create in expand would
//! instead leave both firing in between.

use super::Change;
use crate::model::{EventTrigger, Model};

pub fn diff_event_triggers(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    let mut dropped: Vec<&EventTrigger> = from
        .event_triggers
        .values()
        .filter(|t| !to.event_triggers.contains_key(&t.name))
        .collect();
    for new in to.event_triggers.values() {
        match from.event_triggers.get(&new.name) {
            Some(old) if new.differs_from(old) => changes.push(Change::AlterEventTrigger {
                from: old.clone(),
                to: new.clone(),
            }),
            Some(_) => {}
            None => match renamed_from(&dropped, to, new) {
                Some(i) => changes.push(Change::AlterEventTrigger {
                    from: dropped.remove(i).clone(),
                    to: new.clone(),
                }),
                None => changes.push(Change::CreateEventTrigger {
                    trigger: new.clone(),
                }),
            },
        }
    }
    for old in dropped {
        changes.push(Change::DropEventTrigger {
            trigger: old.clone(),
        });
    }
}

/// The one dropped trigger that `new` is a rename of: the same but for the name, and no other
/// new trigger is the same too.
fn renamed_from(dropped: &[&EventTrigger], to: &Model, new: &EventTrigger) -> Option<usize> {
    let candidates: Vec<usize> = (0..dropped.len())
        .filter(|&i| new.same_but_name(dropped[i]))
        .collect();
    let twins = to
        .event_triggers
        .values()
        .filter(|t| t.same_but_name(new))
        .count();
    match candidates.as_slice() {
        [only] if twins == 1 => Some(*only),
        _ => None,
    }
}
