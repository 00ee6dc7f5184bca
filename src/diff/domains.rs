//! Domains: created, dropped, or altered as a whole; the recipe works out which `ALTER
//! DOMAIN` statements an alteration takes (see `plan::recipes::domains`).

use super::{paired, Change};
use crate::model::Model;

pub fn diff_domains(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (_, old, new) in paired(&from.domains, &to.domains) {
        match (old, new) {
            (None, Some(new)) => changes.push(Change::CreateDomain {
                domain: new.clone(),
            }),
            (Some(old), None) => changes.push(Change::DropDomain {
                domain: old.clone(),
            }),
            (Some(old), Some(new)) if old != new => changes.push(Change::AlterDomain {
                from: old.clone(),
                to: new.clone(),
            }),
            _ => {}
        }
    }
}
