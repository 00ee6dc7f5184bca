//! Collations: created, dropped, or altered (a comment, or a new definition, which the
//! recipe re-creates).

use super::{paired, Change};
use crate::model::Model;

pub fn diff_collations(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (_, old, new) in paired(&from.collations, &to.collations) {
        match (old, new) {
            (None, Some(new)) => changes.push(Change::CreateCollation {
                collation: new.clone(),
            }),
            (Some(old), None) => changes.push(Change::DropCollation {
                collation: old.clone(),
            }),
            (Some(old), Some(new)) if old != new => changes.push(Change::AlterCollation {
                from: old.clone(),
                to: new.clone(),
            }),
            _ => {}
        }
    }
}
