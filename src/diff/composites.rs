//! Composite types: created, dropped, or altered as a whole; the recipe works out which
//! `ALTER TYPE ... ATTRIBUTE` statements an alteration takes (see
//! `plan::recipes::composites`).

use super::{paired, Change};
use crate::model::Model;

pub fn diff_composites(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (_, old, new) in paired(&from.composites, &to.composites) {
        match (old, new) {
            (None, Some(new)) => changes.push(Change::CreateComposite {
                composite: new.clone(),
            }),
            (Some(old), None) => changes.push(Change::DropComposite {
                composite: old.clone(),
            }),
            (Some(old), Some(new)) if old != new => changes.push(Change::AlterComposite {
                from: old.clone(),
                to: new.clone(),
            }),
            _ => {}
        }
    }
}
