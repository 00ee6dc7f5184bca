//! Range types: created, dropped, or altered as a whole (a new definition is a re-creation,
//! see `plan::recipes::ranges`; a new comment is set in place).

use super::{paired, Change};
use crate::model::Model;

pub fn diff_ranges(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (_, old, new) in paired(&from.ranges, &to.ranges) {
        match (old, new) {
            (None, Some(new)) => changes.push(Change::CreateRange { range: new.clone() }),
            (Some(old), None) => changes.push(Change::DropRange { range: old.clone() }),
            (Some(old), Some(new)) if old != new => changes.push(Change::AlterRange {
                from: old.clone(),
                to: new.clone(),
            }),
            _ => {}
        }
    }
}
